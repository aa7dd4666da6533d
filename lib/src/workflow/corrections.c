#define _POSIX_C_SOURCE 200809L
/* A user's corrections file (mc_corrections_read) into a constraint set. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/constraints.h"
#include "constraints_impl.h"
#include "util_impl.h"

/* ---- corrections file ----------------------------------------------------- */

typedef struct {
    size_t face, face2;   /* face2: SIZE_MAX for a two-field line */
    int neg;              /* !NAME / !ID / different */
    int is_id;
    int64_t prev;         /* the previous cluster it refers to, or -1 */
    char *name;           /* NAME (not for ids or pairs) */
    uint64_t line;
} correction;

static int is_integer_text(const char *s, int64_t *out)
{
    if (!*s) return 0;
    const char *p = s + (*s == '-');
    if (!*p) return 0;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return 0;
    return mc_parse_int64(s, strlen(s), out) == 0;
}

static int strieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

mc_status mc_corrections_read(mc_constraints_t *c, const char *file, const char *const *paths,
                              const float *quality, const int64_t *prev_cluster,
                              const char *const *prev_person, mc_corrections_info *out_info)
{
    mc_clear_error();
    mc_corrections_info dummy;
    mc_corrections_info *info = out_info ? out_info : &dummy;
    memset(info, 0, sizeof *info);
    if (!c || !file || !paths) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_corrections_read");
    size_t n = c->n;
    mc_status st = MC_OK;
    mc_label_map *pmap = mc_label_map_new(), *prev_names = NULL;
    size_t *face_of = mc_malloc_array(n, sizeof *face_of);
    correction *cs = NULL;
    size_t n_cs = 0, cs_cap = 0;
    int64_t *by_prev = NULL, *negs = NULL, *name_prev = NULL; /* (prev, face) sorted; (prev, face) of !lines */
    size_t n_by_prev = 0, n_negs = 0;
    mc_csv_records r;
    int open = 0;
    char src[512];
    if (!pmap || !face_of) goto nomem;
    /* Each distinct path once; SIZE_MAX - 1 marks a path several faces share. */
    for (size_t i = 0; i < n; i++) face_of[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i] ? paths[i] : "";
        int64_t id = mc_label_map_id(pmap, p, strlen(p));
        if (id < 0) goto nomem;
        face_of[id] = face_of[id] == SIZE_MAX ? i : SIZE_MAX - 1;
    }
    size_t n_paths = mc_label_map_count(pmap);

    if ((st = mc_csv_open(&r, file, ',')) != MC_OK) goto done;
    open = 1;
    r.loose = 1;
    int rc, first = 1;
    while ((rc = mc_csv_next(&r, &st)) == 1) {
        unsigned long long line = (unsigned long long)r.line;
        if (first && r.nf >= 2 && strieq(mc_csv_field(&r, 0), r.nf == 2 ? "path" : "path_a")) {
            first = 0;
            continue;
        }
        first = 0;
        if (r.nf != 2 && r.nf != 3) {
            st = mc_fail(MC_ERR_BAD_DATA,
                         "%s: line %llu: %zu fields; expected path,person or path_a,path_b,same|different",
                         file, line, r.nf);
            goto done;
        }
        correction x = {SIZE_MAX, SIZE_MAX, 0, 0, -1, NULL, r.line};
        size_t want = r.nf == 3 ? 2 : 1;
        int unknown = 0;
        for (size_t f = 0; f < want; f++) {
            const char *p = mc_csv_text(&r, f);
            if (!*p) {
                st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: empty path", file, line);
                goto done;
            }
            int64_t id = mc_label_map_find(pmap, p, strlen(p));
            if (id < 0 || (size_t)id >= n_paths) {
                unknown = 1;
                continue;
            }
            if (face_of[id] == SIZE_MAX - 1) {
                st = mc_fail(MC_ERR_BAD_DATA,
                             "%s: line %llu: path '%s' is more than one face of the input; a correction needs a unique path",
                             file, line, p);
                goto done;
            }
            if (f == 0)
                x.face = face_of[id];
            else
                x.face2 = face_of[id];
        }
        if (r.nf == 3) {
            const char *rel = mc_csv_field(&r, 2);
            if (strieq(rel, "same"))
                x.neg = 0;
            else if (strieq(rel, "different"))
                x.neg = 1;
            else {
                st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: relation '%s' is not 'same' or 'different'",
                             file, line, rel);
                goto done;
            }
        } else {
            const char *v = mc_csv_text(&r, 1);
            x.neg = v[0] == '!';
            if (x.neg) v++;
            while (*v == ' ') v++;
            if (!*v) {
                st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: no person or cluster after the path", file, line);
                goto done;
            }
            int64_t id;
            if (is_integer_text(v, &id)) {
                if (!prev_cluster) {
                    st = mc_fail(MC_ERR_BAD_DATA,
                                 "%s: line %llu: '%s' is a cluster id; cluster ids refer to a previous result (give --previous OLD.csv)",
                                 file, line, v);
                    goto done;
                }
                x.is_id = 1;
                x.prev = id;
            } else if (!(x.name = strdup(v))) {
                goto nomem;
            }
        }
        info->lines++;
        if (unknown) {
            info->unknown++;
            free(x.name);
            continue;
        }
        if (mc_grow_array((void **)&cs, &cs_cap, n_cs + 1, sizeof *cs) != 0) {
            free(x.name);
            goto nomem;
        }
        cs[n_cs++] = x;
    }
    if (rc < 0) goto done;

    /* The previous result: faces by previous cluster (best quality first),
     * and the cluster each previous person name was on. */
    if (prev_cluster) {
        by_prev = mc_malloc_array(n + 1, 2 * sizeof *by_prev);
        if (!by_prev) goto nomem;
        for (size_t i = 0; i < n; i++)
            if (prev_cluster[i] >= 0) {
                by_prev[2 * n_by_prev] = prev_cluster[i];
                by_prev[2 * n_by_prev + 1] = (int64_t)i;
                n_by_prev++;
            }
        qsort(by_prev, n_by_prev, 2 * sizeof *by_prev, mc_cmp_i64_pair);
        if (prev_person) {
            prev_names = mc_label_map_new();
            if (!prev_names) goto nomem;
            name_prev = mc_malloc_array(n + 1, sizeof *name_prev);
            if (!name_prev) goto nomem;
            for (size_t i = 0; i < n; i++) {
                const char *p = prev_person[i];
                if (!p || !*p || prev_cluster[i] < 0) continue;
                size_t before = mc_label_map_count(prev_names);
                int64_t id = mc_label_map_id(prev_names, p, strlen(p));
                if (id < 0) goto nomem;
                if ((size_t)id == before) name_prev[id] = prev_cluster[i]; /* first row of the name */
            }
            for (size_t k = 0; k < n_cs; k++) {
                if (!cs[k].name) continue;
                int64_t id = mc_label_map_find(prev_names, cs[k].name, strlen(cs[k].name));
                if (id >= 0) cs[k].prev = name_prev[id];
            }
        }
        negs = mc_malloc_array(n_cs + 1, 2 * sizeof *negs);
        if (!negs) goto nomem;
        for (size_t k = 0; k < n_cs; k++)
            if (cs[k].face2 == SIZE_MAX && cs[k].neg && cs[k].prev >= 0) {
                negs[2 * n_negs] = cs[k].prev;
                negs[2 * n_negs + 1] = (int64_t)cs[k].face;
                n_negs++;
            }
        qsort(negs, n_negs, 2 * sizeof *negs, mc_cmp_i64_pair);
    }

    for (size_t k = 0; k < n_cs; k++) {
        correction *x = &cs[k];
        snprintf(src, sizeof src, "%s: line %llu", file, (unsigned long long)x->line);
        if (x->face2 != SIZE_MAX) {
            if (x->neg) {
                if (x->face == x->face2) {
                    st = mc_fail(MC_ERR_BAD_DATA, "%s: a face cannot be a different person from itself", src);
                    goto done;
                }
                st = mc_constraints_add_different(c, x->face, x->face2, src);
                info->different++;
            } else {
                st = x->face == x->face2 ? MC_OK : mc_constraints_add_same(c, x->face, x->face2, src);
                info->same++;
            }
            if (st != MC_OK) goto done;
            continue;
        }
        if (x->name) {
            st = x->neg ? mc_constraints_add_not_name(c, x->face, x->name, src)
                        : mc_constraints_add_name(c, x->face, x->name, src);
            if (st != MC_OK) goto done;
        }
        if (x->neg)
            info->not_named++;
        else
            info->named++;
        if (x->prev < 0 || !by_prev) continue;
        /* The previous cluster's faces, except those marked not it. */
        int64_t key[2] = {x->prev, -1};
        size_t lo = 0, hi = n_by_prev;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (mc_cmp_i64_pair(&by_prev[2 * mid], key) < 0) lo = mid + 1; else hi = mid;
        }
        size_t best = SIZE_MAX;
        for (size_t p = lo; p < n_by_prev && by_prev[2 * p] == x->prev; p++) {
            size_t m = (size_t)by_prev[2 * p + 1];
            int64_t mk[2] = {x->prev, (int64_t)m};
            if (n_negs && bsearch(mk, negs, n_negs, 2 * sizeof *negs, mc_cmp_i64_pair)) continue;
            if (m == x->face) continue;
            if (x->neg) {
                if ((st = mc_constraints_add_different(c, x->face, m, src)) != MC_OK) goto done;
            } else if (best == SIZE_MAX || (quality && quality[m] > quality[best])) {
                best = m;
            }
        }
        if (!x->neg && best != SIZE_MAX && (st = mc_constraints_add_same(c, x->face, best, src)) != MC_OK)
            goto done;
    }
    st = MC_OK;
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    if (open) mc_csv_close(&r);
    for (size_t k = 0; k < n_cs; k++) free(cs[k].name);
    free(cs);
    free(face_of);
    mc_label_map_free(pmap);
    mc_label_map_free(prev_names);
    free(by_prev);
    free(negs);
    free(name_prev);
    return st;
}
