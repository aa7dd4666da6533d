/* Quality-aware Chinese whispers on a k-NN graph (rules in cw.h).
 *
 * 1. The graph edges with similarity >= threshold whose both ends pass the
 *    noise gate, read in both directions (mc_qgraph_build, shared with DBSCAN).
 * 2. Core = passes the noise gate and quality >= core gate. Each core row is
 *    then cut down, in place, to its core neighbours: only core-core edges
 *    vote. The rows of the other faces stay whole for step 4.
 * 3. Chinese whispers among the core faces: sequential label updates in a
 *    random order per round (Fisher-Yates over a private splitmix64 stream),
 *    the heaviest label of the neighbourhood winning, ties to the smallest
 *    label. Labels are face indices, so a dense accumulator indexed by label
 *    counts a neighbourhood in O(degree) with no map.
 * 4. Each non-core face that passes the noise gate joins the cluster of its
 *    most similar core neighbour (mc_qgraph_attach), so it can never bridge
 *    two clusters.
 * Building is O(N k log k); each round is O(N k). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/cw.h"
#include "qgraph_impl.h"
#include "util_impl.h"

mc_cw_params mc_cw_params_default(void)
{
    mc_cw_params p;
    memset(&p, 0, sizeof p);
    p.threshold = 0.5;
    p.iterations = 100; /* dlib's default */
    p.seed = 1;
    /* The same gates as mc_dbscan_params_default(), for the same reasons. */
    p.core_quality.kind = MC_THRESH_PERCENTILE;
    p.core_quality.value = 30.0;
    p.noise_quality = mc_threshold_off();
    p.n_threads = 0;
    return p;
}

static void shuffle(uint32_t *a, size_t m, uint64_t *rng)
{
    /* The modulo bias is below m / 2^64: irrelevant for a visiting order, and
     * plain arithmetic keeps the stream identical on every platform. */
    for (size_t i = m; i > 1; i--) {
        size_t r = (size_t)(mc_splitmix64(rng) % (uint64_t)i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[r];
        a[r] = t;
    }
}

mc_status mc_cw_run(const mc_knn_graph_t *g, const float *quality, const mc_cw_params *p,
                    mc_clustering_t **out, double *out_core_q, double *out_noise_q)
{
    mc_clear_error();
    if (!g || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_cw_run");
    *out = NULL;
    mc_cw_params par = p ? *p : mc_cw_params_default();
    size_t n = mc_knn_graph_n(g);
    if (!(par.threshold >= -1.0 && par.threshold <= 1.0))
        return mc_fail(MC_ERR_INVALID_ARG, "threshold = %g is outside [-1, 1] (cosine similarity)",
                       par.threshold);
    if (par.iterations < 1) return mc_fail(MC_ERR_INVALID_ARG, "iterations must be at least 1");
    /* 1. the gated graph, shared with DBSCAN: an edge within the radius
     * 1 - threshold is an edge of at least `threshold` similarity. */
    mc_qgraph q;
    mc_status st = mc_qgraph_build(g, quality, &par.core_quality, &par.noise_quality,
                                   1.0 - par.threshold, par.n_threads, &q);
    if (st != MC_OK) return st;
    if (out_core_q) *out_core_q = q.core_q;
    if (out_noise_q) *out_noise_q = q.noise_q;

    const uint8_t *core = q.core_ok;
    uint32_t *lab = mc_malloc_array(n, sizeof *lab);
    int64_t *core_label = mc_malloc_array(n, sizeof *core_label);
    uint32_t *order = mc_malloc_array(n, sizeof *order);
    double *acc = mc_calloc_array(n, sizeof *acc); /* weight per label; all zero between faces */
    uint8_t *seen = mc_calloc_array(n, 1);         /* label met in this neighbourhood */
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    uint8_t *roles = mc_malloc_array(n, 1);
    uint32_t *touched = NULL;
    if (!lab || !core_label || !order || !acc || !seen || !labels || !roles) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for Chinese whispers on %zu faces", n);
        goto cleanup;
    }
    /* 2. core rows keep their core neighbours only: only core-core edges
     * vote. The other rows stay whole, for the attachment in step 4. */
    for (size_t i = 0; i < n; i++) {
        if (!core[i]) continue;
        mc_edge *row = q.adj + q.start[i];
        size_t o = 0;
        for (size_t c = 0; c < q.deg[i]; c++)
            if (core[row[c].j]) row[o++] = row[c];
        q.deg[i] = o;
    }

    /* 3. Chinese whispers among the core faces. Only faces with a core
     * neighbour can change label, so only they are visited. */
    size_t m = 0, max_deg = 0;
    for (size_t i = 0; i < n; i++) {
        lab[i] = (uint32_t)i;
        if (core[i] && q.deg[i] > 0) {
            order[m++] = (uint32_t)i;
            if (q.deg[i] > max_deg) max_deg = q.deg[i];
        }
    }
    touched = mc_malloc_array(max_deg > 0 ? max_deg : 1, sizeof *touched);
    if (!touched) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for Chinese whispers on %zu faces", n);
        goto cleanup;
    }
    uint64_t rng = par.seed;
    for (size_t round = 0; round < par.iterations; round++) {
        size_t changed = 0;
        shuffle(order, m, &rng);
        for (size_t t = 0; t < m; t++) {
            uint32_t i = order[t];
            const mc_edge *row = q.adj + q.start[i];
            size_t nt = 0;
            /* Summed in row order (by neighbour index), so equal totals come
             * out bit-identical and the tie rule decides, not the rounding. */
            for (size_t c = 0; c < q.deg[i]; c++) {
                uint32_t l = lab[row[c].j];
                if (!seen[l]) {
                    seen[l] = 1;
                    touched[nt++] = l;
                }
                acc[l] += (double)row[c].s;
            }
            uint32_t best = lab[i];
            double best_w = -INFINITY;
            for (size_t c = 0; c < nt; c++) {
                uint32_t l = touched[c];
                if (acc[l] > best_w || (acc[l] == best_w && l < best)) {
                    best_w = acc[l];
                    best = l;
                }
                acc[l] = 0.0;
                seen[l] = 0;
            }
            if (best != lab[i]) {
                lab[i] = best;
                changed++;
            }
        }
        if (changed == 0) break; /* a fixed point: no later round could move a label */
    }

    /* 4. labels, border attachment, roles */
    for (size_t i = 0; i < n; i++) core_label[i] = lab[i];
    mc_qgraph_attach(&q, core, core_label, -INFINITY, labels, roles);
    st = mc_clustering_new(n, labels, roles, out);

cleanup:
    mc_qgraph_free(&q);
    free(lab);
    free(core_label);
    free(order);
    free(acc);
    free(seen);
    free(labels);
    free(roles);
    free(touched);
    return st;
}
