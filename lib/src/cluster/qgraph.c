/* The quality-gated similarity graph (qgraph_impl.h). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/clustering.h"
#include "qgraph_impl.h"
#include "util_impl.h"

static int cmp_edge(const void *a, const void *b)
{
    const mc_edge *x = a, *y = b;
    if (x->j != y->j) return x->j < y->j ? -1 : 1;
    return (x->s < y->s) - (x->s > y->s); /* larger similarity first */
}

void mc_qgraph_free(mc_qgraph *q)
{
    if (!q) return;
    free(q->kept);
    free(q->core_ok);
    free(q->start);
    free(q->deg);
    free(q->adj);
    memset(q, 0, sizeof *q);
}

mc_status mc_qgraph_build(const mc_knn_graph_t *g, const float *quality, const mc_threshold *core,
                          const mc_threshold *noise, double max_dist, int n_threads,
                          mc_qgraph *out)
{
    memset(out, 0, sizeof *out);
    size_t n = mc_knn_graph_n(g), k = mc_knn_graph_k(g);
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    if (n > UINT32_MAX) return mc_fail(MC_ERR_INVALID_ARG, "more than 2^32-1 faces");
    if ((core->kind != MC_THRESH_OFF || noise->kind != MC_THRESH_OFF) && !quality)
        return mc_fail(MC_ERR_INVALID_ARG, "quality gates are set but no quality was given");
    out->n = n;
    out->core_q = mc_threshold_resolve(core, quality, n);
    out->noise_q = mc_threshold_resolve(noise, quality, n);
    if (isnan(out->core_q) || isnan(out->noise_q))
        return mc_fail(MC_ERR_NOMEM, "cannot resolve quality gates");
    out->kept = mc_malloc_array(n, 1);
    out->core_ok = mc_malloc_array(n, 1);
    out->start = mc_calloc_array(n + 1, sizeof *out->start);
    out->deg = mc_calloc_array(n, sizeof *out->deg);
    if (!out->kept || !out->core_ok || !out->start || !out->deg) goto nomem;
    for (size_t i = 0; i < n; i++) {
        out->kept[i] = !quality || (double)quality[i] >= out->noise_q;
        out->core_ok[i] = out->kept[i] && (!quality || (double)quality[i] >= out->core_q);
    }
    /* Count, then fill, each edge at both ends. The test is on the distance,
     * as DBSCAN states it: 1 - s <= eps. Rows of the k-NN graph are sorted,
     * so a row stops at its first edge beyond the radius. */
    size_t *start = out->start, *deg = out->deg;
    for (size_t i = 0; i < n; i++) {
        if (!out->kept[i]) continue;
        for (size_t c = 0; c < k; c++) {
            int64_t j = ids[i * k + c];
            if (j < 0 || (size_t)j == i || !out->kept[j]) continue;
            if (1.0 - (double)sims[i * k + c] > max_dist) break;
            start[i + 1]++;
            start[j + 1]++;
        }
    }
    for (size_t i = 0; i < n; i++) start[i + 1] += start[i];
    out->adj = mc_malloc_array(start[n], sizeof *out->adj);
    if (!out->adj && start[n] > 0) goto nomem;
    mc_edge *adj = out->adj;
    for (size_t i = 0; i < n; i++) {
        if (!out->kept[i]) continue;
        for (size_t c = 0; c < k; c++) {
            int64_t j = ids[i * k + c];
            if (j < 0 || (size_t)j == i || !out->kept[j]) continue;
            float s = sims[i * k + c];
            if (1.0 - (double)s > max_dist) break;
            adj[start[i] + deg[i]++] = (mc_edge){(uint32_t)j, s};
            adj[start[j] + deg[j]++] = (mc_edge){(uint32_t)i, s};
        }
    }
    long long nn = (long long)n;
#pragma omp parallel for schedule(dynamic, 256) num_threads(n_threads > 0 ? n_threads : omp_get_num_procs())
    for (long long ii = 0; ii < nn; ii++) {
        size_t i = (size_t)ii, b = start[i], len = deg[i], o = 0;
        qsort(adj + b, len, sizeof *adj, cmp_edge);
        for (size_t c = 0; c < len; c++)
            if (o == 0 || adj[b + o - 1].j != adj[b + c].j) adj[b + o++] = adj[b + c];
        deg[i] = o;
    }
    return MC_OK;
nomem:
    mc_qgraph_free(out);
    return mc_fail(MC_ERR_NOMEM, "out of memory for the similarity graph of %zu faces", n);
}

void mc_qgraph_attach(const mc_qgraph *q, const uint8_t *core, const int64_t *core_label,
                      double min_sim, int64_t *labels, uint8_t *roles)
{
    for (size_t i = 0; i < q->n; i++) {
        if (core[i]) {
            labels[i] = core_label[i];
            roles[i] = MC_ROLE_CORE;
            continue;
        }
        labels[i] = -1;
        roles[i] = MC_ROLE_NOISE;
        if (!q->kept[i]) continue;
        float best = -INFINITY;
        const mc_edge *row = q->adj + q->start[i];
        for (size_t c = 0; c < q->deg[i]; c++) {
            if (core[row[c].j] && row[c].s > best && (double)row[c].s >= min_sim) {
                /* rows sorted by index: the first maximum wins */
                best = row[c].s;
                labels[i] = core_label[row[c].j];
                roles[i] = MC_ROLE_BORDER;
            }
        }
    }
}
