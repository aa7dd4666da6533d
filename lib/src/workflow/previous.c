#define _POSIX_C_SOURCE 200809L
/* A previous result, and carrying its cluster ids and names over to a new
 * clustering by overlap. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/clustering.h"
#include "magclust/previous.h"
#include "io_impl.h"
#include "result_impl.h"
#include "util_impl.h"

struct mc_previous {
    size_t n;
    mc_label_map *paths;  /* path -> row id (first appearance) */
    size_t *row_of;       /* path id -> row, SIZE_MAX - 1 when the path repeats */
    size_t *path_id;      /* per row */
    int64_t *cluster;     /* per row */
    char **person;        /* per row, NULL or a string */
    char **path;          /* per row (pointers to the map's copies) */
    int8_t *role;         /* per row, -1 unknown */
    float *quality;       /* per row, NAN unknown */
    float *similarity;    /* per row, NAN unknown */
    float *margin;        /* per row, NAN unknown */
    int8_t *representative; /* per row, -1 unknown */
    char *quality_name;   /* NULL: unknown */
    size_t n_clusters;
    int64_t max_id;
    int64_t *name_ids;    /* sorted cluster ids with a name */
    const char **names;   /* their names */
    size_t n_names;
};

void mc_previous_free(mc_previous_t *p)
{
    if (!p) return;
    mc_label_map_free(p->paths);
    free(p->row_of);
    free(p->path_id);
    free(p->cluster);
    free(p->path);
    free(p->role);
    free(p->quality);
    free(p->similarity);
    free(p->margin);
    free(p->representative);
    free(p->quality_name);
    for (size_t i = 0; p->person && i < p->n; i++) free(p->person[i]);
    free(p->person);
    free(p->name_ids);
    free(p->names);
    free(p);
}

size_t mc_previous_n(const mc_previous_t *p) { return p ? p->n : 0; }
const char *mc_previous_path(const mc_previous_t *p, size_t i) { return p && i < p->n ? p->path[i] : NULL; }
int64_t mc_previous_cluster(const mc_previous_t *p, size_t i) { return p && i < p->n ? p->cluster[i] : -1; }
int mc_previous_role(const mc_previous_t *p, size_t i) { return p && i < p->n ? p->role[i] : -1; }
float mc_previous_quality(const mc_previous_t *p, size_t i) { return p && i < p->n ? p->quality[i] : NAN; }
float mc_previous_similarity(const mc_previous_t *p, size_t i) { return p && i < p->n ? p->similarity[i] : NAN; }
float mc_previous_margin(const mc_previous_t *p, size_t i) { return p && i < p->n ? p->margin[i] : NAN; }
int mc_previous_representative(const mc_previous_t *p, size_t i) { return p && i < p->n ? p->representative[i] : -1; }
const char *mc_previous_person(const mc_previous_t *p, size_t i) { return p && i < p->n ? p->person[i] : NULL; }
const char *mc_previous_quality_name(const mc_previous_t *p) { return p ? p->quality_name : NULL; }
size_t mc_previous_n_clusters(const mc_previous_t *p) { return p ? p->n_clusters : 0; }

const char *mc_previous_cluster_name(const mc_previous_t *p, int64_t id)
{
    if (!p || !p->n_names) return NULL;
    const int64_t *hit = bsearch(&id, p->name_ids, p->n_names, sizeof *hit, mc_cmp_i64);
    return hit ? p->names[hit - p->name_ids] : NULL;
}

static mc_status finish(mc_previous_t *p, const char *file);

/* Row i's path: its id in the path map, and whether it is the path's first
 * row (a repeated path matches no current face). */
static int add_path(mc_previous_t *p, size_t i, const char *s, size_t *cap_r)
{
    size_t before = mc_label_map_count(p->paths);
    int64_t id = mc_label_map_id(p->paths, s, strlen(s));
    if (id < 0 || mc_grow_array((void **)&p->row_of, cap_r, (size_t)id + 1, sizeof *p->row_of))
        return -1;
    p->row_of[id] = (size_t)id == before ? i : SIZE_MAX - 1;
    p->path_id[i] = (size_t)id; /* the path pointer is taken once the map is complete */
    return 0;
}

mc_status mc_previous_read_csv(const char *path, mc_previous_t **out)
{
    mc_clear_error();
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_previous_read_csv");
    *out = NULL;
    mc_previous_t *p = calloc(1, sizeof *p);
    if (!p) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_result_csv r;
    mc_status st = mc_result_csv_open(&r, path, 1, SIZE_MAX);
    if (st != MC_OK) {
        free(p);
        return st;
    }
    size_t cap_c = 0, cap_p = 0, cap_r = 0, cap_x = 0, cap_y = 0, cap_z = 0, cap_w = 0;
    size_t cap_s = 0, cap_m = 0, cap_v = 0;
    if (!(p->paths = mc_label_map_new())) goto nomem;
    mc_result_row row;
    int got;
    while ((got = mc_result_csv_next(&r, &row, &st)) == 1) {
        int64_t cl = row.cluster < 0 ? -1 : row.cluster;
        if (mc_grow_array((void **)&p->cluster, &cap_c, p->n + 1, sizeof *p->cluster) ||
            mc_grow_array((void **)&p->person, &cap_p, p->n + 1, sizeof *p->person) ||
            mc_grow_array((void **)&p->role, &cap_x, p->n + 1, sizeof *p->role) ||
            mc_grow_array((void **)&p->quality, &cap_y, p->n + 1, sizeof *p->quality) ||
            mc_grow_array((void **)&p->path, &cap_z, p->n + 1, sizeof *p->path) ||
            mc_grow_array((void **)&p->path_id, &cap_w, p->n + 1, sizeof *p->path_id) ||
            mc_grow_array((void **)&p->similarity, &cap_s, p->n + 1, sizeof *p->similarity) ||
            mc_grow_array((void **)&p->margin, &cap_m, p->n + 1, sizeof *p->margin) ||
            mc_grow_array((void **)&p->representative, &cap_v, p->n + 1, sizeof *p->representative))
            goto nomem;
        p->cluster[p->n] = cl;
        p->person[p->n] = NULL;
        p->role[p->n] = (int8_t)row.role;
        p->quality[p->n] = row.quality;
        p->similarity[p->n] = row.similarity;
        p->margin[p->n] = row.margin;
        p->representative[p->n] = (int8_t)row.representative;
        if (row.person && *row.person && cl >= 0 && !(p->person[p->n] = strdup(row.person)))
            goto nomem;
        if (add_path(p, p->n, row.path, &cap_r) != 0) goto nomem;
        p->n++;
    }
    if (got < 0) goto done;
    st = finish(p, path);
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    mc_result_csv_close(&r);
    if (st == MC_OK)
        *out = p;
    else
        mc_previous_free(p);
    return st;
}

/* After the rows: the path of each row, the distinct clusters, the largest
 * id and the names. */
static mc_status finish(mc_previous_t *p, const char *file)
{
    mc_status st = MC_OK;
    int64_t *ids = NULL;
    const char *const *names = mc_label_map_names(p->paths);
    for (size_t i = 0; i < p->n; i++) p->path[i] = (char *)names[p->path_id[i]];
    /* Distinct clusters, the largest id and the names. */
    ids = mc_malloc_array(p->n + 1, sizeof *ids);
    if (!ids) goto nomem;
    size_t m = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->cluster[i] >= 0) ids[m++] = p->cluster[i];
    qsort(ids, m, sizeof *ids, mc_cmp_i64);
    p->max_id = -1;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || ids[i] != ids[i - 1]) p->n_clusters++;
    if (m) p->max_id = ids[m - 1];
    /* The new result keeps these ids, and its per-cluster tables (names,
     * counts, a model's means) are indexed by id: an id of 4e9 meant
     * gigabytes whatever the memory limit, one near 2^63 an overflow. */
    if (p->max_id > (int64_t)INT32_MAX - (int64_t)p->n - 1) {
        free(ids);
        return mc_fail(MC_ERR_BAD_DATA, "%s: cluster id %lld is too large (ids must stay below 2^31 - %zu); "
                       "renumber the previous result", file, (long long)p->max_id, p->n + 1);
    }
    if (p->max_id >= 0 &&
        (st = mc_check_memory(file, "the per-cluster tables of its cluster ids", (uint64_t)p->max_id + p->n + 1, 1,
                              64)) != MC_OK) {
        free(ids);
        return st;
    }
    size_t named = 0;
    for (size_t i = 0; i < p->n; i++) named += p->person[i] != NULL;
    if (named) {
        int64_t *pairs = mc_malloc_array(named, 2 * sizeof *pairs);
        if (!pairs) goto nomem;
        size_t k = 0;
        for (size_t i = 0; i < p->n; i++)
            if (p->person[i]) {
                pairs[2 * k] = p->cluster[i];
                pairs[2 * k + 1] = (int64_t)i;
                k++;
            }
        qsort(pairs, named, 2 * sizeof *pairs, mc_cmp_i64); /* by cluster; any row of it will do */
        p->name_ids = mc_malloc_array(named, sizeof *p->name_ids);
        p->names = mc_malloc_array(named, sizeof *p->names);
        if (!p->name_ids || !p->names) {
            free(pairs);
            goto nomem;
        }
        for (size_t i = 0; i < named; i++) {
            if (p->n_names && p->name_ids[p->n_names - 1] == pairs[2 * i]) continue;
            p->name_ids[p->n_names] = pairs[2 * i];
            p->names[p->n_names++] = p->person[pairs[2 * i + 1]];
        }
        free(pairs);
    }
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    free(ids);
    return st;
}

mc_status mc_previous_lookup(const mc_previous_t *p, size_t n, const char *const *paths,
                             int64_t *out_cluster, const char **out_person, size_t *out_found)
{
    mc_clear_error();
    if (!p || !paths || !out_cluster) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_previous_lookup");
    size_t found = 0, known = mc_label_map_count(p->paths);
    for (size_t i = 0; i < n; i++) {
        out_cluster[i] = -1;
        if (out_person) out_person[i] = NULL;
        const char *s = paths[i] ? paths[i] : "";
        int64_t id = mc_label_map_find(p->paths, s, strlen(s));
        if (id < 0 || (size_t)id >= known || p->row_of[id] == SIZE_MAX - 1) continue;
        size_t row = p->row_of[id];
        found++;
        out_cluster[i] = p->cluster[row];
        if (out_person) out_person[i] = p->person[row];
    }
    if (out_found) *out_found = found;
    return MC_OK;
}

typedef struct {
    int64_t nw, old;
    size_t count;
} overlap;

static int cmp_overlap(const void *a, const void *b)
{
    const overlap *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    if (x->nw != y->nw) return x->nw < y->nw ? -1 : 1;
    return (x->old > y->old) - (x->old < y->old);
}

/* Index of v in the sorted ids, or SIZE_MAX. */
static size_t find_id(const int64_t *ids, size_t n, int64_t v)
{
    const int64_t *hit = bsearch(&v, ids, n, sizeof *ids, mc_cmp_i64);
    return hit ? (size_t)(hit - ids) : SIZE_MAX;
}

static size_t unique_sorted(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, mc_cmp_i64);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || v[i] != v[m - 1]) v[m++] = v[i];
    return m;
}

mc_status mc_previous_carry(const mc_previous_t *p, size_t n, const int64_t *prev_cluster,
                            const int64_t *labels, int64_t *out_labels, mc_carry_stats *out_stats)
{
    mc_clear_error();
    mc_carry_stats dummy;
    mc_carry_stats *stats = out_stats ? out_stats : &dummy;
    memset(stats, 0, sizeof *stats);
    if (!p || !prev_cluster || !labels || !out_labels)
        return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_previous_carry");
    mc_status st = MC_OK;
    int64_t *pairs = mc_malloc_array(n + 1, 2 * sizeof *pairs);
    int64_t *new_ids = mc_malloc_array(n + 1, sizeof *new_ids);
    int64_t *old_ids = mc_malloc_array(p->n + 1, sizeof *old_ids);
    overlap *ov = mc_malloc_array(n + 1, sizeof *ov);
    int64_t *map = NULL;
    size_t *dom_new = NULL, *dom_old = NULL, *cnt_new = NULL, *cnt_old = NULL, *best_new = NULL,
           *best_old = NULL;
    uint8_t *old_used = NULL;
    if (!pairs || !new_ids || !old_ids || !ov) goto nomem;
    size_t nn = 0, no = 0, np = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] >= 0) new_ids[nn++] = labels[i];
        if (labels[i] >= 0 && prev_cluster[i] >= 0) {
            pairs[2 * np] = labels[i];
            pairs[2 * np + 1] = prev_cluster[i];
            np++;
        }
    }
    for (size_t i = 0; i < p->n; i++)
        if (p->cluster[i] >= 0) old_ids[no++] = p->cluster[i];
    nn = unique_sorted(new_ids, nn);
    no = unique_sorted(old_ids, no);
    qsort(pairs, np, 2 * sizeof *pairs, mc_cmp_i64_pair);
    size_t nov = 0;
    for (size_t i = 0; i < np;) {
        size_t j = i;
        while (j < np && pairs[2 * j] == pairs[2 * i] && pairs[2 * j + 1] == pairs[2 * i + 1]) j++;
        ov[nov++] = (overlap){pairs[2 * i], pairs[2 * i + 1], j - i};
        i = j;
    }
    /* Dominant partners both ways (ties: the first in id order, since the
     * overlaps are sorted by id before the count sort below). */
    dom_new = mc_malloc_array(no + 1, sizeof *dom_new);  /* old -> new index */
    dom_old = mc_malloc_array(nn + 1, sizeof *dom_old);  /* new -> old index */
    best_new = calloc(no + 1, sizeof *best_new);
    best_old = calloc(nn + 1, sizeof *best_old);
    cnt_new = calloc(nn + 1, sizeof *cnt_new);           /* old clusters dominated into each new */
    cnt_old = calloc(no + 1, sizeof *cnt_old);
    map = mc_malloc_array(nn + 1, sizeof *map);
    old_used = calloc(no + 1, 1);
    if (!dom_new || !dom_old || !best_new || !best_old || !cnt_new || !cnt_old || !map || !old_used) goto nomem;
    for (size_t o = 0; o < no; o++) dom_new[o] = SIZE_MAX;
    for (size_t c = 0; c < nn; c++) dom_old[c] = SIZE_MAX, map[c] = -1;
    for (size_t k = 0; k < nov; k++) {
        size_t c = find_id(new_ids, nn, ov[k].nw), o = find_id(old_ids, no, ov[k].old);
        if (c == SIZE_MAX || o == SIZE_MAX) continue;
        if (ov[k].count > best_new[o]) best_new[o] = ov[k].count, dom_new[o] = c;
        if (ov[k].count > best_old[c]) best_old[c] = ov[k].count, dom_old[c] = o;
    }
    for (size_t o = 0; o < no; o++)
        if (dom_new[o] != SIZE_MAX) cnt_new[dom_new[o]]++;
    for (size_t c = 0; c < nn; c++)
        if (dom_old[c] != SIZE_MAX) cnt_old[dom_old[c]]++;
    qsort(ov, nov, sizeof *ov, cmp_overlap);
    for (size_t k = 0; k < nov; k++) {
        size_t c = find_id(new_ids, nn, ov[k].nw), o = find_id(old_ids, no, ov[k].old);
        if (c == SIZE_MAX || o == SIZE_MAX || map[c] >= 0 || old_used[o]) continue;
        map[c] = ov[k].old;
        old_used[o] = 1;
        stats->carried++;
        if (dom_new[o] == c && dom_old[c] == o && cnt_new[c] == 1 && cnt_old[o] == 1) stats->kept++;
    }
    int64_t next = p->max_id + 1;
    for (size_t c = 0; c < nn; c++) {
        if (cnt_new[c] >= 2) stats->merged++;
        if (dom_old[c] == SIZE_MAX) stats->added++;
        if (map[c] < 0) map[c] = next++;
    }
    for (size_t o = 0; o < no; o++) {
        if (cnt_old[o] >= 2) stats->split++;
        if (dom_new[o] == SIZE_MAX) stats->gone++;
    }
    for (size_t i = 0; i < n; i++)
        out_labels[i] = labels[i] >= 0 ? map[find_id(new_ids, nn, labels[i])] : labels[i];
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    free(pairs);
    free(new_ids);
    free(old_ids);
    free(ov);
    free(map);
    free(dom_new);
    free(dom_old);
    free(cnt_new);
    free(cnt_old);
    free(best_new);
    free(best_old);
    free(old_used);
    return st;
}

mc_status mc_previous_read_h5(const char *path, mc_previous_t **out)
{
    mc_clear_error();
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_previous_read_h5");
    *out = NULL;
    mc_result_h5 t;
    mc_status st = mc_result_read_h5(path, &t);
    if (st != MC_OK) return st;
    mc_previous_t *p = calloc(1, sizeof *p);
    if (!p) goto nomem;
    size_t n = t.n;
    /* the per-row arrays are the reader's */
    p->n = n;
    p->cluster = t.cluster;
    p->role = t.role;
    p->quality = t.quality;
    p->similarity = t.similarity;
    p->margin = t.margin;
    p->representative = t.representative;
    p->quality_name = t.quality_name;
    t.cluster = NULL;
    t.role = NULL;
    t.quality = NULL;
    t.similarity = t.margin = NULL;
    t.representative = NULL;
    t.quality_name = NULL;
    p->person = calloc(n + 1, sizeof *p->person);
    p->path = mc_malloc_array(n + 1, sizeof *p->path);
    p->path_id = mc_malloc_array(n + 1, sizeof *p->path_id);
    if (!p->person || !p->path || !p->path_id || !(p->paths = mc_label_map_new())) goto nomem;
    size_t cap_r = 0;
    for (size_t i = 0; i < n; i++) {
        if (p->cluster[i] < 0) p->cluster[i] = -1;
        if (add_path(p, i, t.paths[i] ? t.paths[i] : "", &cap_r) != 0) goto nomem;
        if (t.persons && t.persons[i] && t.persons[i][0] && p->cluster[i] >= 0 &&
            !(p->person[i] = strdup(t.persons[i])))
            goto nomem;
    }
    st = finish(p, path);
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    mc_result_h5_free(&t);
    if (st == MC_OK)
        *out = p;
    else
        mc_previous_free(p);
    return st;
}

mc_status mc_previous_read(const char *path, mc_previous_t **out)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && (strcmp(dot, ".h5") == 0 || strcmp(dot, ".hdf5") == 0)) return mc_previous_read_h5(path, out);
    return mc_previous_read_csv(path, out);
}
