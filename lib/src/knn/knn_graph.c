/* The k-NN graph object: N rows of k (id, similarity), the canonical order
 * checked and restored for graphs made elsewhere (files, callers). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/knn.h"
#include "knn_impl.h"
#include "util_impl.h"

struct mc_knn_graph {
    size_t n, k;
    int64_t *ids;
    float *sims;
};

static mc_status graph_alloc(size_t n, size_t k, mc_knn_graph_t **out)
{
    mc_knn_graph_t *g = calloc(1, sizeof *g);
    if (!g) return mc_fail(MC_ERR_NOMEM, "out of memory for a k-NN graph");
    g->n = n;
    g->k = k;
    if (n != 0 && k > SIZE_MAX / n) {
        free(g);
        return mc_fail(MC_ERR_NOMEM, "k-NN graph of %zu x %zu is too large", n, k);
    }
    g->ids = mc_malloc_array(n * k, sizeof *g->ids);
    g->sims = mc_malloc_array(n * k, sizeof *g->sims);
    if (!g->ids || !g->sims) {
        mc_knn_graph_free(g);
        return mc_fail(MC_ERR_NOMEM, "out of memory for a k-NN graph of %zu x %zu", n, k);
    }
    *out = g;
    return MC_OK;
}

mc_status mc_knn_graph_alloc(size_t n, size_t k, mc_knn_graph_t **out)
{
    if (!out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument");
    *out = NULL;
    if (n == 0 || k == 0) return mc_fail(MC_ERR_INVALID_ARG, "empty graph (n = %zu, k = %zu)", n, k);
    return graph_alloc(n, k, out);
}

int64_t *mc_knn_graph_ids_mut(mc_knn_graph_t *g) { return g ? g->ids : NULL; }
float *mc_knn_graph_sims_mut(mc_knn_graph_t *g) { return g ? g->sims : NULL; }

mc_status mc_knn_graph_finish(mc_knn_graph_t *g)
{
    if (!g) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument");
    size_t n = g->n, k = g->k;
    for (size_t i = 0; i < n * k; i++) {
        int64_t id = g->ids[i];
        if (id < -1 || id >= (int64_t)n || (id >= 0 && !isfinite(g->sims[i])))
            return mc_fail(MC_ERR_BAD_DATA, "graph row %zu: neighbour %lld or its similarity is invalid",
                           i / k, (long long)id);
        if (id < 0) g->sims[i] = -INFINITY;
    }
    for (size_t i = 0; i < n; i++) mc_knn_sort_row(g->ids + i * k, g->sims + i * k, k);
    return MC_OK;
}

mc_status mc_knn_graph_new(size_t n, size_t k, const int64_t *ids, const float *sims,
                           mc_knn_graph_t **out)
{
    mc_clear_error();
    if (!ids || !sims || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument");
    *out = NULL;
    mc_knn_graph_t *g = NULL;
    mc_status st = mc_knn_graph_alloc(n, k, &g);
    if (st != MC_OK) return st;
    memcpy(g->ids, ids, n * k * sizeof *ids);
    memcpy(g->sims, sims, n * k * sizeof *sims);
    if ((st = mc_knn_graph_finish(g)) != MC_OK) {
        mc_knn_graph_free(g);
        return st;
    }
    *out = g;
    return MC_OK;
}

void mc_knn_graph_free(mc_knn_graph_t *g)
{
    if (!g) return;
    free(g->ids);
    free(g->sims);
    free(g);
}

size_t mc_knn_graph_n(const mc_knn_graph_t *g) { return g ? g->n : 0; }
size_t mc_knn_graph_k(const mc_knn_graph_t *g) { return g ? g->k : 0; }
const int64_t *mc_knn_graph_ids(const mc_knn_graph_t *g) { return g ? g->ids : NULL; }
const float *mc_knn_graph_sims(const mc_knn_graph_t *g) { return g ? g->sims : NULL; }
