/* Exact k-NN graph with FAISS's IndexFlatIP through the FAISS C API. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>

#include "magclust/knn.h"
#include "knn_impl.h"
#include "util_impl.h"

struct mc_knn_graph {
    size_t n, k;
    int64_t *ids;
    float *sims;
};

mc_knn_params mc_knn_params_default(void)
{
    mc_knn_params p;
    memset(&p, 0, sizeof p);
    p.k = 30;
    p.block_size = 4096;
    p.n_threads = 0;
    return p;
}

static mc_status faiss_fail(const char *what)
{
    const char *msg = faiss_get_last_error();
    return mc_fail(MC_ERR_FAISS, "%s: %s", what, msg ? msg : "unknown FAISS error");
}

/* Canonical row order: similarity descending, then id ascending, -1 last.
 * FAISS already sorts by similarity; this fixes the order of exact ties so the
 * graph does not depend on how the search was split across threads. k is
 * small, so insertion sort. */
static void sort_row(int64_t *ids, float *sims, size_t k)
{
    for (size_t a = 1; a < k; a++) {
        int64_t id = ids[a];
        float s = sims[a];
        size_t b = a;
        while (b > 0) {
            int64_t pid = ids[b - 1];
            float ps = sims[b - 1];
            int before;
            if (id < 0) before = 0;
            else if (pid < 0) before = 1;
            else before = s > ps || (s == ps && id < pid);
            if (!before) break;
            ids[b] = pid;
            sims[b] = ps;
            b--;
        }
        ids[b] = id;
        sims[b] = s;
    }
}

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

mc_status mc_knn_graph_build(const mc_embeddings_t *e, const mc_knn_params *p,
                             mc_knn_graph_t **out)
{
    mc_clear_error();
    if (!e || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_graph_build");
    *out = NULL;
    mc_knn_params par = p ? *p : mc_knn_params_default();
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    if (par.k == 0) return mc_fail(MC_ERR_INVALID_ARG, "k must be at least 1");
    if (par.k >= n)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "k = %zu neighbours needs more than %zu faces (k must be < N)", par.k, n);
    if (par.block_size == 0) par.block_size = 4096;
    const float *x = mc_embeddings_directions(e);
    size_t k = par.k, kk = k + 1;

    mc_knn_graph_t *g = NULL;
    mc_status st = graph_alloc(n, k, &g);
    if (st != MC_OK) return st;

    size_t bs = par.block_size < n ? par.block_size : n;
    float *bd = mc_malloc_array(bs * kk, sizeof *bd);
    int64_t *bi = mc_malloc_array(bs * kk, sizeof *bi);
    FaissIndexFlatIP *index = NULL;
    /* omp_set_num_threads sets the calling thread's nthreads-var only, which
     * FAISS's parallel regions started from this thread inherit; it is
     * restored below, so other threads of the caller are unaffected. */
    int saved_threads = omp_get_max_threads();
    if (par.n_threads > 0) omp_set_num_threads(par.n_threads);

    if (!bd || !bi) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for search buffers");
        goto cleanup;
    }
    if (faiss_IndexFlatIP_new_with(&index, (idx_t)d) != 0) {
        st = faiss_fail("creating IndexFlatIP");
        goto cleanup;
    }
    if (faiss_Index_add((FaissIndex *)index, (idx_t)n, x) != 0) {
        st = faiss_fail("adding vectors");
        goto cleanup;
    }
    for (size_t b0 = 0; b0 < n; b0 += bs) {
        size_t nb = n - b0 < bs ? n - b0 : bs;
        if (faiss_Index_search((const FaissIndex *)index, (idx_t)nb, x + b0 * d, (idx_t)kk, bd,
                               bi) != 0) {
            st = faiss_fail("searching");
            goto cleanup;
        }
        for (size_t r = 0; r < nb; r++) {
            size_t i = b0 + r;
            const int64_t *ri = bi + r * kk;
            const float *rd = bd + r * kk;
            int64_t *gi = g->ids + i * k;
            float *gs = g->sims + i * k;
            /* Drop the face itself; with exact duplicates it need not come
             * first, and with more than k duplicates it may be absent, in
             * which case the (k+1)-th neighbour is dropped instead. */
            size_t self = kk - 1;
            for (size_t c = 0; c < kk; c++)
                if (ri[c] == (int64_t)i) {
                    self = c;
                    break;
                }
            size_t o = 0;
            for (size_t c = 0; c < kk; c++) {
                if (c == self) continue;
                float s = rd[c];
                /* Unit vectors: rounding can push the product just past 1. */
                if (s > 1.0f) s = 1.0f;
                if (s < -1.0f) s = -1.0f;
                gi[o] = ri[c];
                gs[o] = ri[c] < 0 ? -INFINITY : s;
                o++;
            }
            sort_row(gi, gs, k);
        }
        if (par.log) {
            char msg[96];
            snprintf(msg, sizeof msg, "knn: %zu / %zu queries", b0 + nb, n);
            par.log(par.user_data, msg);
        }
    }
    *out = g;
    g = NULL;
    st = MC_OK;

cleanup:
    if (par.n_threads > 0) omp_set_num_threads(saved_threads);
    if (index) faiss_Index_free((FaissIndex *)index);
    free(bd);
    free(bi);
    mc_knn_graph_free(g);
    return st;
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
    for (size_t i = 0; i < n; i++) sort_row(g->ids + i * k, g->sims + i * k, k);
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
