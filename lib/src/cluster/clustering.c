#define _POSIX_C_SOURCE 200809L
/* Clustering results: renumbering, roles, counts and cluster names. The
 * result files (CSV and HDF5, written and read) are result_io.c's. */
#include <stdlib.h>
#include <string.h>

#include "confidence_impl.h"
#include "magclust/clustering.h"
#include "util_impl.h"

struct mc_clustering {
    size_t n, n_clusters, n_noise;
    size_t role_count[4];
    int64_t *labels;
    uint8_t *roles;
    char **names; /* n_clusters, or NULL */
    float *sim, *margin; /* n each, or NULL before mc_clustering_score() */
    int64_t *rep;        /* n_clusters (+1), with sim */
};

const char *mc_role_name(mc_role r)
{
    switch (r) {
    case MC_ROLE_CORE: return "core";
    case MC_ROLE_BORDER: return "border";
    case MC_ROLE_NOISE: return "noise";
    case MC_ROLE_UNASSIGNED: return "unassigned";
    }
    return "unknown";
}

typedef struct {
    size_t run;   /* index of the run of equal labels in the sorted pairs */
    size_t first; /* smallest member index */
    size_t size;
} cluster_info;

static int cmp_pairs(const void *a, const void *b)
{
    const size_t *x = a, *y = b; /* (label, index) */
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

static int cmp_cluster_info(const void *a, const void *b)
{
    const cluster_info *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

mc_status mc_clustering_new(size_t n, const int64_t *labels, const uint8_t *roles,
                            mc_clustering_t **out)
{
    mc_clear_error();
    if (!labels || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_clustering_new");
    *out = NULL;
    if (n == 0) return mc_fail(MC_ERR_INVALID_ARG, "a clustering needs at least one face");
    mc_status st = MC_OK;
    mc_clustering_t *c = calloc(1, sizeof *c);
    size_t *pairs = mc_malloc_array(n, 2 * sizeof *pairs);
    size_t *run_start = mc_malloc_array(n + 1, sizeof *run_start);
    cluster_info *info = mc_malloc_array(n, sizeof *info);
    if (!c || !pairs || !run_start || !info) goto nomem;
    c->n = n;
    c->labels = mc_malloc_array(n, sizeof *c->labels);
    c->roles = mc_malloc_array(n, 1);
    if (!c->labels || !c->roles) goto nomem;

    /* Group members by label (sort by label, then index), measure each run,
     * order the runs by decreasing size then first member: that order is the
     * new numbering. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        c->labels[i] = -1;
        if (labels[i] < 0) continue;
        pairs[2 * m] = (size_t)labels[i];
        pairs[2 * m + 1] = i;
        m++;
    }
    qsort(pairs, m, 2 * sizeof *pairs, cmp_pairs);
    size_t nc = 0;
    for (size_t a = 0; a < m;) {
        size_t b = a;
        while (b < m && pairs[2 * b] == pairs[2 * a]) b++;
        run_start[nc] = a;
        info[nc] = (cluster_info){nc, pairs[2 * a + 1], b - a};
        nc++;
        a = b;
    }
    run_start[nc] = m;
    qsort(info, nc, sizeof *info, cmp_cluster_info);
    for (size_t id = 0; id < nc; id++) {
        size_t r = info[id].run;
        for (size_t p = run_start[r]; p < run_start[r + 1]; p++)
            c->labels[pairs[2 * p + 1]] = (int64_t)id;
    }
    c->n_clusters = nc;
    for (size_t i = 0; i < n; i++) {
        uint8_t r;
        if (c->labels[i] < 0)
            r = MC_ROLE_NOISE;
        else if (roles && roles[i] <= MC_ROLE_BORDER)
            r = roles[i];
        else
            r = MC_ROLE_CORE;
        c->roles[i] = r;
        c->role_count[r]++;
        if (c->labels[i] < 0) c->n_noise++;
    }
    *out = c;
    c = NULL;
    goto cleanup;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory for a clustering of %zu faces", n);
cleanup:
    mc_clustering_free(c);
    free(pairs);
    free(run_start);
    free(info);
    return st;
}

mc_status mc_clustering_new_keep_ids(size_t n, const int64_t *labels, const uint8_t *roles,
                                     mc_clustering_t **out)
{
    mc_clear_error();
    if (!labels || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_clustering_new_keep_ids");
    *out = NULL;
    if (n == 0) return mc_fail(MC_ERR_INVALID_ARG, "a clustering needs at least one face");
    mc_clustering_t *c = calloc(1, sizeof *c);
    if (c) {
        c->labels = mc_malloc_array(n, sizeof *c->labels);
        c->roles = mc_malloc_array(n, 1);
    }
    if (!c || !c->labels || !c->roles) {
        mc_clustering_free(c);
        return mc_fail(MC_ERR_NOMEM, "out of memory for a clustering of %zu faces", n);
    }
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        int64_t l = labels[i] < 0 ? -1 : labels[i];
        uint8_t r;
        if (l < 0) r = roles && roles[i] == MC_ROLE_UNASSIGNED ? MC_ROLE_UNASSIGNED : MC_ROLE_NOISE;
        else r = roles && roles[i] <= MC_ROLE_BORDER ? roles[i] : MC_ROLE_CORE;
        c->labels[i] = l;
        c->roles[i] = r;
        c->role_count[r]++;
        if (l < 0) c->n_noise++;
        else if ((size_t)l + 1 > c->n_clusters) c->n_clusters = (size_t)l + 1;
    }
    *out = c;
    return MC_OK;
}

void mc_clustering_free(mc_clustering_t *c)
{
    if (!c) return;
    free(c->labels);
    free(c->roles);
    for (size_t k = 0; c->names && k < c->n_clusters; k++) free(c->names[k]);
    free(c->names);
    free(c->sim);
    free(c->margin);
    free(c->rep);
    free(c);
}

size_t mc_clustering_n(const mc_clustering_t *c) { return c ? c->n : 0; }
size_t mc_clustering_n_clusters(const mc_clustering_t *c) { return c ? c->n_clusters : 0; }
size_t mc_clustering_n_noise(const mc_clustering_t *c) { return c ? c->n_noise : 0; }
size_t mc_clustering_n_role(const mc_clustering_t *c, mc_role r)
{
    return c && (unsigned)r < 4 ? c->role_count[r] : 0;
}
const int64_t *mc_clustering_labels(const mc_clustering_t *c) { return c ? c->labels : NULL; }
const uint8_t *mc_clustering_roles(const mc_clustering_t *c) { return c ? c->roles : NULL; }

mc_status mc_clustering_set_names(mc_clustering_t *c, const char *const *names)
{
    mc_clear_error();
    if (!c || !names) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_clustering_set_names");
    char **copy = calloc(c->n_clusters + 1, sizeof *copy);
    if (!copy) return mc_fail(MC_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < c->n_clusters; k++) {
        if (names[k] && !(copy[k] = strdup(names[k]))) {
            for (size_t j = 0; j < k; j++) free(copy[j]);
            free(copy);
            return mc_fail(MC_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t k = 0; c->names && k < c->n_clusters; k++) free(c->names[k]);
    free(c->names);
    c->names = copy;
    return MC_OK;
}

const char *mc_clustering_name(const mc_clustering_t *c, int64_t id)
{
    if (!c || !c->names || id < 0 || (size_t)id >= c->n_clusters) return NULL;
    return c->names[id];
}

int mc_clustering_has_names(const mc_clustering_t *c) { return c && c->names; }

void mc_clustering_take_confidence(mc_clustering_t *c, float *sim, float *margin, int64_t *rep)
{
    free(c->sim);
    free(c->margin);
    free(c->rep);
    c->sim = sim;
    c->margin = margin;
    c->rep = rep;
}

int mc_clustering_has_confidence(const mc_clustering_t *c) { return c && c->sim; }
const float *mc_clustering_similarities(const mc_clustering_t *c) { return c ? c->sim : NULL; }
const float *mc_clustering_margins(const mc_clustering_t *c) { return c ? c->margin : NULL; }

int64_t mc_clustering_representative(const mc_clustering_t *c, int64_t id)
{
    if (!c || !c->rep || id < 0 || (size_t)id >= c->n_clusters) return -1;
    return c->rep[id];
}
