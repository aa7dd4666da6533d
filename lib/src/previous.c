#define _POSIX_C_SOURCE 200809L
/* A previous result, and carrying its cluster ids and names over to a new
 * clustering by overlap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/previous.h"
#include "io_impl.h"
#include "util_impl.h"

struct mc_previous {
    size_t n;
    mc_label_map *paths;  /* path -> row id (first appearance) */
    size_t *row_of;       /* path id -> row, SIZE_MAX - 1 when the path repeats */
    int64_t *cluster;     /* per row */
    char **person;        /* per row, NULL or a string */
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
    free(p->cluster);
    for (size_t i = 0; p->person && i < p->n; i++) free(p->person[i]);
    free(p->person);
    free(p->name_ids);
    free(p->names);
    free(p);
}

size_t mc_previous_n(const mc_previous_t *p) { return p ? p->n : 0; }
size_t mc_previous_n_clusters(const mc_previous_t *p) { return p ? p->n_clusters : 0; }

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

const char *mc_previous_cluster_name(const mc_previous_t *p, int64_t id)
{
    if (!p || !p->n_names) return NULL;
    const int64_t *hit = bsearch(&id, p->name_ids, p->n_names, sizeof *hit, cmp_i64);
    return hit ? p->names[hit - p->name_ids] : NULL;
}

static int grow(void **ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 1024;
    while (nc < need) nc *= 2;
    void *q = realloc(*ptr, nc * size);
    if (!q) return -1;
    *ptr = q;
    *cap = nc;
    return 0;
}

mc_status mc_previous_read_csv(const char *path, mc_previous_t **out)
{
    mc_clear_error();
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_previous_read_csv");
    *out = NULL;
    mc_previous_t *p = calloc(1, sizeof *p);
    if (!p) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_csv_records r;
    mc_status st = mc_csv_open(&r, path, ',');
    if (st != MC_OK) {
        free(p);
        return st;
    }
    size_t cap_c = 0, cap_p = 0, cap_r = 0;
    int64_t *ids = NULL;
    int rc = mc_csv_next(&r, &st);
    if (rc < 0) goto done;
    if (rc == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: empty file (expected a result CSV with path and cluster columns)", path);
        goto done;
    }
    size_t nf = r.nf, col_path = SIZE_MAX, col_cluster = SIZE_MAX, col_person = SIZE_MAX;
    for (size_t f = 0; f < r.nf; f++) {
        const char *h = mc_csv_field(&r, f);
        if (strcmp(h, "path") == 0) col_path = f;
        if (strcmp(h, "cluster") == 0) col_cluster = f;
        if (strcmp(h, "person") == 0) col_person = f;
    }
    if (col_path == SIZE_MAX || col_cluster == SIZE_MAX) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: line 1: the header needs 'path' and 'cluster' columns", path);
        goto done;
    }
    if (!(p->paths = mc_label_map_new())) goto nomem;
    while ((rc = mc_csv_next(&r, &st)) == 1) {
        unsigned long long line = (unsigned long long)r.line;
        if (r.nf != nf) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: %zu fields, the header has %zu", path, line, r.nf, nf);
            goto done;
        }
        const char *cs = mc_csv_field(&r, col_cluster);
        int64_t cl;
        if (mc_parse_int64(cs, strlen(cs), &cl) != 0) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: cluster '%s' is not an integer", path, line, cs);
            goto done;
        }
        if (cl < 0) cl = -1;
        if (grow((void **)&p->cluster, &cap_c, p->n + 1, sizeof *p->cluster) ||
            grow((void **)&p->person, &cap_p, p->n + 1, sizeof *p->person))
            goto nomem;
        p->cluster[p->n] = cl;
        p->person[p->n] = NULL;
        if (col_person != SIZE_MAX && *mc_csv_field(&r, col_person) && cl >= 0 &&
            !(p->person[p->n] = strdup(mc_csv_field(&r, col_person))))
            goto nomem;
        const char *fp = mc_csv_field(&r, col_path);
        size_t before = mc_label_map_count(p->paths);
        int64_t id = mc_label_map_id(p->paths, fp, strlen(fp));
        if (id < 0 || grow((void **)&p->row_of, &cap_r, (size_t)id + 1, sizeof *p->row_of)) goto nomem;
        p->row_of[id] = (size_t)id == before ? p->n : SIZE_MAX - 1;
        p->n++;
    }
    if (rc < 0) goto done;
    /* Distinct clusters, the largest id and the names. */
    ids = mc_malloc_array(p->n + 1, sizeof *ids);
    if (!ids) goto nomem;
    size_t m = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->cluster[i] >= 0) ids[m++] = p->cluster[i];
    qsort(ids, m, sizeof *ids, cmp_i64);
    p->max_id = -1;
    for (size_t i = 0; i < m; i++)
        if (i == 0 || ids[i] != ids[i - 1]) p->n_clusters++;
    if (m) p->max_id = ids[m - 1];
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
        qsort(pairs, named, 2 * sizeof *pairs, cmp_i64); /* by cluster; any row of it will do */
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
    st = MC_OK;
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    mc_csv_close(&r);
    free(ids);
    if (st == MC_OK)
        *out = p;
    else
        mc_previous_free(p);
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

static int cmp_pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
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
    const int64_t *hit = bsearch(&v, ids, n, sizeof *ids, cmp_i64);
    return hit ? (size_t)(hit - ids) : SIZE_MAX;
}

static size_t unique_sorted(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_i64);
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
    qsort(pairs, np, 2 * sizeof *pairs, cmp_pair);
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
