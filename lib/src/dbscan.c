/* Quality-aware DBSCAN on a k-NN graph (rules in dbscan.h).
 *
 * 1. Keep the graph edges within eps whose both ends pass the noise gate, read
 *    in both directions, as a symmetric CSR adjacency (rows sorted, duplicates
 *    merged keeping the larger similarity, so the result does not depend on
 *    which direction FAISS rounded higher).
 * 2. Core = quality >= core gate and 1 + degree >= min_samples.
 * 3. Union-find over core-core edges gives the clusters; the partition is
 *    unique whatever the order of unions.
 * 4. Each non-core face that passes the noise gate joins the cluster of its
 *    most similar core neighbour (ties: lowest index), so it can never bridge
 *    two clusters.
 * Every pass is O(N k) apart from the per-row sorts (O(N k log k)). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/dbscan.h"
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

typedef struct {
    uint32_t j;
    float s;
} edge;

static int cmp_edge(const void *a, const void *b)
{
    const edge *x = a, *y = b;
    if (x->j != y->j) return x->j < y->j ? -1 : 1;
    return (x->s < y->s) - (x->s > y->s); /* larger similarity first */
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
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    if (!(par.eps >= 0.0 && par.eps <= 2.0))
        return mc_fail(MC_ERR_INVALID_ARG, "eps = %g is outside [0, 2] (cosine distance)", par.eps);
    if (par.min_samples < 1) return mc_fail(MC_ERR_INVALID_ARG, "min_samples must be at least 1");
    if (par.min_samples > k + 1)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "min_samples = %zu exceeds k + 1 = %zu: raise k or lower min_samples",
                       par.min_samples, k + 1);
    if (n > UINT32_MAX) return mc_fail(MC_ERR_INVALID_ARG, "more than 2^32-1 faces");
    int gated = par.core_quality.kind != MC_THRESH_OFF || par.noise_quality.kind != MC_THRESH_OFF;
    if (gated && !quality)
        return mc_fail(MC_ERR_INVALID_ARG, "quality gates are set but no quality was given");
    double core_q = mc_threshold_resolve(&par.core_quality, quality, n);
    double noise_q = mc_threshold_resolve(&par.noise_quality, quality, n);
    if (isnan(core_q) || isnan(noise_q)) return mc_fail(MC_ERR_NOMEM, "cannot resolve quality gates");
    if (out_core_q) *out_core_q = core_q;
    if (out_noise_q) *out_noise_q = noise_q;

    mc_status st = MC_OK;
    uint8_t *kept = mc_malloc_array(n, 1);  /* passes the noise gate */
    uint8_t *core = mc_calloc_array(n, 1);
    size_t *start = mc_calloc_array(n + 1, sizeof *start);
    size_t *fill = mc_calloc_array(n, sizeof *fill);
    uint32_t *parent = mc_malloc_array(n, sizeof *parent);
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    uint8_t *roles = mc_malloc_array(n, 1);
    edge *adj = NULL;
    if (!kept || !core || !start || !fill || !parent || !labels || !roles) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for DBSCAN on %zu faces", n);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) kept[i] = !quality || (double)quality[i] >= noise_q;

    /* 1. symmetric eps-adjacency among kept faces. The test is on the
     * distance, as DBSCAN states it: 1 - s <= eps. */
    for (size_t i = 0; i < n; i++) {
        if (!kept[i]) continue;
        for (size_t c = 0; c < k; c++) {
            int64_t j = ids[i * k + c];
            if (j < 0 || (size_t)j == i || !kept[j]) continue;
            if (1.0 - (double)sims[i * k + c] > par.eps) break; /* rows are sorted */
            start[i + 1]++;
            start[j + 1]++;
        }
    }
    for (size_t i = 0; i < n; i++) start[i + 1] += start[i];
    adj = mc_malloc_array(start[n], sizeof *adj);
    if (!adj && start[n] > 0) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for %zu eps-edges", start[n]);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (!kept[i]) continue;
        for (size_t c = 0; c < k; c++) {
            int64_t j = ids[i * k + c];
            if (j < 0 || (size_t)j == i || !kept[j]) continue;
            float s = sims[i * k + c];
            if (1.0 - (double)s > par.eps) break;
            adj[start[i] + fill[i]++] = (edge){(uint32_t)j, s};
            adj[start[j] + fill[j]++] = (edge){(uint32_t)i, s};
        }
    }
    /* Sort each row and merge duplicates (an edge seen from both ends). */
    long long nn = (long long)n;
#pragma omp parallel for schedule(dynamic, 256) num_threads(par.n_threads > 0 ? par.n_threads : omp_get_num_procs())
    for (long long ii = 0; ii < nn; ii++) {
        size_t i = (size_t)ii, b = start[i], len = fill[i], o = 0;
        qsort(adj + b, len, sizeof *adj, cmp_edge);
        for (size_t c = 0; c < len; c++)
            if (o == 0 || adj[b + o - 1].j != adj[b + c].j) adj[b + o++] = adj[b + c];
        fill[i] = o;
    }

    /* 2. core faces */
    for (size_t i = 0; i < n; i++)
        core[i] = kept[i] && (!quality || (double)quality[i] >= core_q) &&
                  1 + fill[i] >= par.min_samples;

    /* 3. clusters of core faces */
    for (size_t i = 0; i < n; i++) parent[i] = (uint32_t)i;
    for (size_t i = 0; i < n; i++) {
        if (!core[i]) continue;
        for (size_t c = 0; c < fill[i]; c++) {
            uint32_t j = adj[start[i] + c].j;
            if (core[j]) uf_union(parent, (uint32_t)i, j);
        }
    }

    /* 4. labels, border attachment, roles */
    for (size_t i = 0; i < n; i++) {
        if (core[i]) {
            labels[i] = uf_find(parent, (uint32_t)i);
            roles[i] = MC_ROLE_CORE;
            continue;
        }
        labels[i] = -1;
        roles[i] = MC_ROLE_NOISE;
        if (!kept[i]) continue;
        float best = -INFINITY;
        for (size_t c = 0; c < fill[i]; c++) {
            const edge *ed = &adj[start[i] + c];
            if (core[ed->j] && ed->s > best) { /* rows sorted by index: first max wins */
                best = ed->s;
                labels[i] = uf_find(parent, ed->j);
                roles[i] = MC_ROLE_BORDER;
            }
        }
    }
    st = mc_clustering_new(n, labels, roles, out);

cleanup:
    free(kept);
    free(core);
    free(start);
    free(fill);
    free(parent);
    free(labels);
    free(roles);
    free(adj);
    return st;
}
