/* Quality-aware Chinese whispers on a k-NN graph (rules in cw.h).
 *
 * 1. Keep the graph edges with similarity >= threshold whose both ends pass
 *    the noise gate, read in both directions, as a symmetric CSR adjacency
 *    (rows sorted, duplicates merged keeping the larger similarity), built
 *    exactly as dbscan.c builds its eps-adjacency.
 * 2. Core = passes the noise gate and quality >= core gate. Each core row is
 *    then cut down, in place, to its core neighbours: only core-core edges
 *    vote. The rows of the other faces stay whole for step 4.
 * 3. Chinese whispers among the core faces: sequential label updates in a
 *    random order per round (Fisher-Yates over a private splitmix64 stream),
 *    the heaviest label of the neighbourhood winning, ties to the smallest
 *    label. Labels are face indices, so a dense accumulator indexed by label
 *    counts a neighbourhood in O(degree) with no map.
 * 4. Each non-core face that passes the noise gate joins the cluster of its
 *    most similar core neighbour (ties: lowest index), so it can never bridge
 *    two clusters.
 * Building is O(N k log k); each round is O(N k). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/cw.h"
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

/* splitmix64 (Steele, Lea, Flood 2014): tiny, full-period, and local to the
 * call, so runs never share or disturb a generator. */
static uint64_t sm64_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void shuffle(uint32_t *a, size_t m, uint64_t *rng)
{
    /* The modulo bias is below m / 2^64: irrelevant for a visiting order, and
     * plain arithmetic keeps the stream identical on every platform. */
    for (size_t i = m; i > 1; i--) {
        size_t r = (size_t)(sm64_next(rng) % (uint64_t)i);
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
    size_t n = mc_knn_graph_n(g), k = mc_knn_graph_k(g);
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    if (!(par.threshold >= -1.0 && par.threshold <= 1.0))
        return mc_fail(MC_ERR_INVALID_ARG, "threshold = %g is outside [-1, 1] (cosine similarity)",
                       par.threshold);
    if (par.iterations < 1) return mc_fail(MC_ERR_INVALID_ARG, "iterations must be at least 1");
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
    uint8_t *kept = mc_malloc_array(n, 1); /* passes the noise gate */
    uint8_t *core = mc_malloc_array(n, 1);
    size_t *start = mc_calloc_array(n + 1, sizeof *start);
    size_t *fill = mc_calloc_array(n, sizeof *fill);
    uint32_t *lab = mc_malloc_array(n, sizeof *lab);
    uint32_t *order = mc_malloc_array(n, sizeof *order);
    double *acc = mc_calloc_array(n, sizeof *acc); /* weight per label; all zero between faces */
    uint8_t *seen = mc_calloc_array(n, 1);         /* label met in this neighbourhood */
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    uint8_t *roles = mc_malloc_array(n, 1);
    edge *adj = NULL;
    uint32_t *touched = NULL;
    if (!kept || !core || !start || !fill || !lab || !order || !acc || !seen || !labels || !roles) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for Chinese whispers on %zu faces", n);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) kept[i] = !quality || (double)quality[i] >= noise_q;

    /* 1. symmetric threshold adjacency among kept faces */
    for (size_t i = 0; i < n; i++) {
        if (!kept[i]) continue;
        for (size_t c = 0; c < k; c++) {
            int64_t j = ids[i * k + c];
            if (j < 0 || (size_t)j == i || !kept[j]) continue;
            if ((double)sims[i * k + c] < par.threshold) break; /* rows are sorted */
            start[i + 1]++;
            start[j + 1]++;
        }
    }
    for (size_t i = 0; i < n; i++) start[i + 1] += start[i];
    adj = mc_malloc_array(start[n], sizeof *adj);
    if (!adj && start[n] > 0) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for %zu edges", start[n]);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (!kept[i]) continue;
        for (size_t c = 0; c < k; c++) {
            int64_t j = ids[i * k + c];
            if (j < 0 || (size_t)j == i || !kept[j]) continue;
            float s = sims[i * k + c];
            if ((double)s < par.threshold) break;
            adj[start[i] + fill[i]++] = (edge){(uint32_t)j, s};
            adj[start[j] + fill[j]++] = (edge){(uint32_t)i, s};
        }
    }
    /* 2. core faces, then sort each row and merge duplicates (an edge seen
     * from both ends); core rows keep their core neighbours only. */
    for (size_t i = 0; i < n; i++) core[i] = kept[i] && (!quality || (double)quality[i] >= core_q);
    long long nn = (long long)n;
#pragma omp parallel for schedule(dynamic, 256) num_threads(par.n_threads > 0 ? par.n_threads : omp_get_num_procs())
    for (long long ii = 0; ii < nn; ii++) {
        size_t i = (size_t)ii, b = start[i], len = fill[i], o = 0;
        qsort(adj + b, len, sizeof *adj, cmp_edge);
        for (size_t c = 0; c < len; c++)
            if ((o == 0 || adj[b + o - 1].j != adj[b + c].j) && (!core[i] || core[adj[b + c].j]))
                adj[b + o++] = adj[b + c];
        fill[i] = o;
    }

    /* 3. Chinese whispers among the core faces. Only faces with a core
     * neighbour can change label, so only they are visited. */
    size_t m = 0, max_deg = 0;
    for (size_t i = 0; i < n; i++) {
        lab[i] = (uint32_t)i;
        if (core[i] && fill[i] > 0) {
            order[m++] = (uint32_t)i;
            if (fill[i] > max_deg) max_deg = fill[i];
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
            const edge *row = adj + start[i];
            size_t nt = 0;
            /* Summed in row order (by neighbour index), so equal totals come
             * out bit-identical and the tie rule decides, not the rounding. */
            for (size_t c = 0; c < fill[i]; c++) {
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
    for (size_t i = 0; i < n; i++) {
        if (core[i]) {
            labels[i] = lab[i];
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
                labels[i] = lab[ed->j];
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
    free(lab);
    free(order);
    free(acc);
    free(seen);
    free(labels);
    free(roles);
    free(adj);
    free(touched);
    return st;
}
