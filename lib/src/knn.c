/* k-NN graph: exact by blocked sgemm, or approximate through the FAISS C API
 * index factory. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>

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
    p.block_size = 1024;
    p.n_threads = 0;
    p.seed = 1;
    return p;
}

void mc_knn_auto_index(size_t n, char *buf, size_t size)
{
    if (!buf || size == 0) return;
    if (n <= MC_KNN_AUTO_EXACT_MAX) snprintf(buf, size, "Flat");
    else snprintf(buf, size, "Cells%zu", mc_knn_auto_cells(n));
}

size_t mc_knn_auto_nprobe(size_t nlist)
{
    size_t np = nlist / 32;
    if (np < 16) np = 16;
    if (np > nlist) np = nlist;
    return np;
}

double mc_knn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
void mc_knn_sort_row(int64_t *ids, float *sims, size_t k)
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

/* ---- FAISS index_factory search ------------------------------------------ */

/* nlist of an "IVF<nlist>..." spec, 0 when the spec has no IVF stage. */
static size_t spec_nlist(const char *spec)
{
    const char *p = strstr(spec, "IVF");
    if (!p) return 0;
    p += 3;
    size_t v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (size_t)(*p++ - '0');
    return v;
}

/* A seeded sample of t of the m candidates (all faces when cand is NULL),
 * without replacement (partial Fisher-Yates), into out[0..t). NULL when out
 * of memory. */
size_t *mc_knn_sample_rows(const size_t *cand, size_t m, size_t t, uint64_t seed)
{
    size_t *rows = mc_malloc_array(m, sizeof *rows);
    if (!rows) return NULL;
    for (size_t i = 0; i < m; i++) rows[i] = i;
    uint64_t s = seed;
    for (size_t i = 0; i < t; i++) {
        size_t j = i + (size_t)(mc_splitmix64(&s) % (uint64_t)(m - i));
        size_t tmp = rows[i];
        rows[i] = rows[j];
        rows[j] = tmp;
    }
    if (cand)
        for (size_t i = 0; i < t; i++) rows[i] = cand[rows[i]];
    return rows;
}

static mc_status knn_faiss(const float *x, size_t n, size_t d, const size_t *cand, size_t nc,
                           const mc_knn_params *par, const char *spec, mc_knn_graph_t *g,
                           mc_knn_info *info)
{
    size_t k = par->k, kk = k + 1;
    size_t bs = par->block_size < n ? par->block_size : n;
    FaissIndex *index = NULL;
    FaissParameterSpace *ps = NULL;
    float *bd = mc_malloc_array(bs * kk, sizeof *bd);
    int64_t *bi = mc_malloc_array(bs * kk, sizeof *bi);
    size_t *rows = NULL;
    float *tbuf = NULL;
    mc_status st = MC_OK;
    double t0 = mc_knn_now();

    if (!bd || !bi) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for search buffers");
        goto done;
    }
    if (faiss_index_factory(&index, (int)d, spec, METRIC_INNER_PRODUCT) != 0) {
        const char *msg = faiss_get_last_error();
        st = mc_fail(MC_ERR_INVALID_ARG, "index \"%s\" is not a FAISS index_factory description: %s",
                     spec, msg ? msg : "unknown error");
        goto done;
    }
    size_t nlist = spec_nlist(spec);
    if (!faiss_Index_is_trained(index)) {
        size_t m = par->train_size;
        if (m == 0) {
            m = nlist ? 64 * nlist : 65536;
            if (m < 10000) m = 10000;
        }
        if (m > nc) m = nc;
        if (nlist && m < nlist) {
            st = mc_fail(MC_ERR_INVALID_ARG,
                         "index \"%s\" has %zu lists but only %zu faces to train them on", spec,
                         nlist, m);
            goto done;
        }
        rows = mc_knn_sample_rows(cand, nc, m, par->seed);
        tbuf = mc_malloc_array(m * d, sizeof *tbuf);
        if (!rows || !tbuf) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory for a training sample of %zu faces", m);
            goto done;
        }
        mc_knn_gather_rows(x, d, rows, m, tbuf);
        free(rows);
        rows = NULL;
        if (par->progress) par->progress(par->progress_data, "train", 0, m);
        if (faiss_Index_train(index, (idx_t)m, tbuf) != 0) {
            st = faiss_fail("training the index");
            goto done;
        }
        if (par->progress) par->progress(par->progress_data, "train", m, m);
        free(tbuf);
        tbuf = NULL;
        if (info) info->train_size = m;
    }
    double t1 = mc_knn_now();
    const size_t add_block = 65536;
    if (cand && !(tbuf = mc_malloc_array(add_block < nc ? add_block : nc, d * sizeof *tbuf))) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for an add buffer");
        goto done;
    }
    for (size_t a0 = 0; a0 < nc; a0 += add_block) {
        size_t na = nc - a0 < add_block ? nc - a0 : add_block;
        const float *xa = x + a0 * d;
        if (cand) {
            mc_knn_gather_rows(x, d, cand + a0, na, tbuf);
            xa = tbuf;
        }
        if (faiss_Index_add(index, (idx_t)na, xa) != 0) {
            st = faiss_fail("adding vectors");
            goto done;
        }
        if (par->progress) par->progress(par->progress_data, "add", a0 + na, nc);
    }
    free(tbuf);
    tbuf = NULL;
    double t2 = mc_knn_now();
    if (nlist || strstr(spec, "HNSW")) {
        if (faiss_ParameterSpace_new(&ps) != 0) {
            st = faiss_fail("creating a parameter space");
            goto done;
        }
    }
    if (nlist) {
        size_t np = par->nprobe ? par->nprobe : mc_knn_auto_nprobe(nlist);
        if (np > nlist) np = nlist;
        if (faiss_ParameterSpace_set_index_parameter(ps, index, "nprobe", (double)np) != 0) {
            st = faiss_fail("setting nprobe");
            goto done;
        }
        if (info) info->nprobe = np;
    }
    if (strstr(spec, "HNSW")) {
        size_t ef = par->ef_search ? par->ef_search : (2 * kk > 64 ? 2 * kk : 64);
        if (faiss_ParameterSpace_set_index_parameter(ps, index, "efSearch", (double)ef) != 0) {
            st = faiss_fail("setting efSearch");
            goto done;
        }
        if (info) info->ef_search = ef;
    }
    for (size_t b0 = 0; b0 < n; b0 += bs) {
        size_t nb = n - b0 < bs ? n - b0 : bs;
        if (faiss_Index_search(index, (idx_t)nb, x + b0 * d, (idx_t)kk, bd, bi) != 0) {
            st = faiss_fail("searching");
            goto done;
        }
        for (size_t r = 0; r < nb; r++) {
            size_t i = b0 + r;
            int64_t *ri = bi + r * kk;
            /* index positions to face ids */
            if (cand)
                for (size_t c = 0; c < kk; c++)
                    if (ri[c] >= 0) ri[c] = (int64_t)cand[ri[c]];
            const float *rd = bd + r * kk;
            int64_t *gi = g->ids + i * k;
            float *gs = g->sims + i * k;
            /* Drop the face itself; with exact duplicates it need not come
             * first, and an approximate index may miss it, in which case the
             * (k+1)-th neighbour is dropped instead. */
            size_t self = kk - 1;
            for (size_t c = 0; c < kk; c++)
                if (ri[c] == (int64_t)i) {
                    self = c;
                    break;
                }
            size_t o = 0;
            for (size_t c = 0; c < kk; c++) {
                if (c == self) continue;
                gi[o] = ri[c];
                gs[o] = ri[c] < 0 ? -INFINITY : mc_knn_clamp_cos(rd[c]);
                o++;
            }
            mc_knn_sort_row(gi, gs, k);
        }
        if (par->progress) par->progress(par->progress_data, "search", b0 + nb, n);
    }
    if (info) {
        info->t_train = t1 - t0;
        info->t_add = t2 - t1;
        info->t_search = mc_knn_now() - t2;
    }

done:
    if (ps) faiss_ParameterSpace_free(ps);
    if (index) faiss_Index_free(index);
    free(bd);
    free(bi);
    free(rows);
    free(tbuf);
    return st;
}

/* "Cells" (1, *nlist 0 = automatic) or "Cells<nlist>" (1); 0 for any other
 * spec; -1 for a malformed Cells spec. */
static int parse_cells(const char *spec, size_t *nlist)
{
    if (strncmp(spec, "Cells", 5) != 0) return 0;
    const char *p = spec + 5;
    size_t v = 0;
    if (!*p) {
        *nlist = 0;
        return 1;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000) return -1;
        v = v * 10 + (size_t)(*p - '0');
    }
    if (v == 0) return -1;
    *nlist = v;
    return 1;
}

size_t mc_knn_auto_cells(size_t m)
{
    size_t L = 1;
    while (L < 65536 && 2.0 * (double)L * (double)L < (double)m) L *= 2;
    return L;
}

size_t mc_knn_auto_cells_nprobe(size_t nlist)
{
    size_t np = nlist / 8;
    if (np < 8) np = 8;
    return np < nlist ? np : nlist;
}

mc_status mc_knn_graph_build(const mc_embeddings_t *e, const mc_knn_params *p,
                             mc_knn_graph_t **out)
{
    return mc_knn_graph_build_ex(e, p, out, NULL);
}

mc_status mc_knn_graph_build_ex(const mc_embeddings_t *e, const mc_knn_params *p,
                                mc_knn_graph_t **out, mc_knn_info *info)
{
    mc_clear_error();
    if (!e || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_graph_build");
    *out = NULL;
    if (info) memset(info, 0, sizeof *info);
    mc_knn_params par = p ? *p : mc_knn_params_default();
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    if (par.k == 0) return mc_fail(MC_ERR_INVALID_ARG, "k must be at least 1");
    if (par.k >= n)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "k = %zu neighbours needs more than %zu faces (k must be < N)", par.k, n);
    mc_status mst = mc_check_memory(NULL, "the k-NN graph", n, par.k, sizeof(int64_t) + sizeof(float));
    if (mst != MC_OK) return mst;
    if (par.block_size == 0) par.block_size = 1024;
    char spec[64];
    if (!par.index || !par.index[0] || strcmp(par.index, "auto") == 0)
        mc_knn_auto_index(n, spec, sizeof spec);
    else if (strlen(par.index) >= sizeof spec)
        return mc_fail(MC_ERR_INVALID_ARG, "index description \"%.40s...\" is too long (max %zu)",
                       par.index, sizeof spec - 1);
    else
        snprintf(spec, sizeof spec, "%s", par.index);
    int exact = strcmp(spec, "Flat") == 0;
    size_t cells = 0;
    int is_cells = parse_cells(spec, &cells);
    if (is_cells < 0)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "index \"%s\": expected Cells or Cells<nlist>, nlist a positive number",
                       spec);

    /* the faces that may be neighbours */
    size_t *cand = NULL, nc = n;
    if (par.candidates) {
        nc = 0;
        for (size_t i = 0; i < n; i++) nc += par.candidates[i] != 0;
        if (nc == 0) return mc_fail(MC_ERR_INVALID_ARG, "no face may be a neighbour (empty candidate set)");
        if (nc < n) {
            if (!(cand = mc_malloc_array(nc, sizeof *cand)))
                return mc_fail(MC_ERR_NOMEM, "out of memory for the candidate list");
            size_t a = 0;
            for (size_t i = 0; i < n; i++)
                if (par.candidates[i]) cand[a++] = i;
        }
    }
    if (is_cells && cells == 0) cells = mc_knn_auto_cells(nc);
    if (is_cells) snprintf(spec, sizeof spec, "Cells%zu", cells);
    if (info) {
        snprintf(info->index, sizeof info->index, "%s", spec);
        info->exact = exact;
        info->n_candidates = nc;
        info->scan_frac = exact ? 1.0 : 0.0;
    }
    if (par.log) {
        char msg[200];
        snprintf(msg, sizeof msg, "knn: index %s%s for %zu faces, %zu of them candidates", spec,
                 exact ? " (exact)" : "", n, nc);
        par.log(par.user_data, msg);
    }

    mc_knn_graph_t *g = NULL;
    mc_status st = graph_alloc(n, par.k, &g);
    if (st != MC_OK) {
        free(cand);
        return st;
    }

    double t0 = mc_knn_now();
    const float *x = mc_embeddings_directions(e);
    if (exact) {
        mc_knn_exact_job j = {x, n, x, n, cand, nc, d, par.k, 0, par.block_size, 0, 1,
                              par.n_threads, par.progress, par.progress_data};
        st = mc_knn_exact_search(&j, g->ids, g->sims);
    } else if (is_cells) {
        st = mc_knn_cells(x, n, d, cand, nc, &par, cells, g, info);
    } else {
        /* FAISS starts its own OpenMP regions, which take the calling
         * thread's nthreads-var: set it for this call only (it belongs to
         * this thread alone) */
        int saved_omp = omp_get_max_threads();
        if (par.n_threads > 0) omp_set_num_threads(par.n_threads);
        st = knn_faiss(x, n, d, cand, nc, &par, spec, g, info);
        if (par.n_threads > 0) omp_set_num_threads(saved_omp);
    }
    free(cand);
    if (info && exact) info->t_search = mc_knn_now() - t0;
    if (st != MC_OK) {
        mc_knn_graph_free(g);
        return st;
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
