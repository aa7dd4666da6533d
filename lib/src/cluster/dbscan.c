/* Quality-aware DBSCAN on a k-NN graph (rules in dbscan.h).
 *
 * 1. The graph edges within eps whose both ends pass the noise gate, read in
 *    both directions (mc_qgraph_build, shared with Chinese whispers).
 * 2. Core = quality >= core gate and 1 + degree >= min_samples.
 * 3. Union-find over core-core edges gives the clusters; the partition is
 *    unique whatever the order of unions.
 * 4. Each non-core face that passes the noise gate joins the cluster of its
 *    most similar core neighbour (mc_qgraph_attach), so it can never bridge
 *    two clusters.
 * Every pass is O(N k) apart from the per-row sorts (O(N k log k)). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/dbscan.h"
#include "qgraph_impl.h"
#include "util_impl.h"

mc_dbscan_params mc_dbscan_params_default(void)
{
    mc_dbscan_params p;
    memset(&p, 0, sizeof p);
    p.eps = 0.5;
    /* Chosen for robustness across the bundled sample and two real sets (README,
     * Results): the same values do well on all three at their natural eps. The
     * noise gate is off by default: the core gate already keeps poor faces
     * from seeding or linking clusters, and demoting them as well cost BCubed
     * recall on every labelled set measured. */
    p.min_samples = 3;
    p.core_quality.kind = MC_THRESH_PERCENTILE;
    p.core_quality.value = 30.0;
    p.noise_quality = mc_threshold_off();
    p.n_threads = 0;
    return p;
}

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a == b) return;
    /* The smaller index becomes the root: deterministic, and the root is the
     * cluster's first member. */
    if (a < b)
        parent[b] = a;
    else
        parent[a] = b;
}

mc_status mc_dbscan_run(const mc_knn_graph_t *g, const float *quality, const mc_dbscan_params *p,
                        mc_clustering_t **out, double *out_core_q, double *out_noise_q)
{
    mc_clear_error();
    if (!g || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_dbscan_run");
    *out = NULL;
    mc_dbscan_params par = p ? *p : mc_dbscan_params_default();
    size_t n = mc_knn_graph_n(g), k = mc_knn_graph_k(g);
    if (!(par.eps >= 0.0 && par.eps <= 2.0))
        return mc_fail(MC_ERR_INVALID_ARG, "eps = %g is outside [0, 2] (cosine distance)", par.eps);
    if (par.min_samples < 1) return mc_fail(MC_ERR_INVALID_ARG, "min_samples must be at least 1");
    if (par.min_samples > k + 1)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "min_samples = %zu exceeds k + 1 = %zu: raise k or lower min_samples",
                       par.min_samples, k + 1);
    mc_qgraph q;
    mc_status st = mc_qgraph_build(g, quality, &par.core_quality, &par.noise_quality, par.eps,
                                   par.n_threads, &q);
    if (st != MC_OK) return st;
    if (out_core_q) *out_core_q = q.core_q;
    if (out_noise_q) *out_noise_q = q.noise_q;

    uint8_t *core = mc_malloc_array(n, 1);
    uint32_t *parent = mc_malloc_array(n, sizeof *parent);
    int64_t *root = mc_malloc_array(n, sizeof *root);
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    uint8_t *roles = mc_malloc_array(n, 1);
    if (!core || !parent || !root || !labels || !roles) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for DBSCAN on %zu faces", n);
        goto cleanup;
    }
    /* core faces: good enough, and dense enough (self included) */
    for (size_t i = 0; i < n; i++) core[i] = q.core_ok[i] && 1 + q.deg[i] >= par.min_samples;

    /* clusters of core faces: the partition does not depend on union order */
    for (size_t i = 0; i < n; i++) parent[i] = (uint32_t)i;
    for (size_t i = 0; i < n; i++) {
        if (!core[i]) continue;
        const mc_edge *row = q.adj + q.start[i];
        for (size_t c = 0; c < q.deg[i]; c++)
            if (core[row[c].j]) uf_union(parent, (uint32_t)i, row[c].j);
    }
    for (size_t i = 0; i < n; i++) root[i] = core[i] ? (int64_t)uf_find(parent, (uint32_t)i) : -1;
    mc_qgraph_attach(&q, core, root, -INFINITY, labels, roles);
    st = mc_clustering_new(n, labels, roles, out);

cleanup:
    mc_qgraph_free(&q);
    free(core);
    free(parent);
    free(root);
    free(labels);
    free(roles);
    return st;
}
