/* k-NN graph: exact by blocked sgemm, or approximate through the FAISS C API
 * index factory. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
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
    if (n <= MC_KNN_AUTO_EXACT_MAX) {
        snprintf(buf, size, "Flat");
        return;
    }
    double target = 4.0 * sqrt((double)n);
    size_t nlist = 64;
    while (nlist < 65536 && (double)nlist * 1.4142135623730951 < target) nlist *= 2;
    snprintf(buf, size, "IVF%zu,Flat", nlist);
}

size_t mc_knn_auto_nprobe(size_t nlist)
{
    size_t np = nlist / 32;
    if (np < 16) np = 16;
    if (np > nlist) np = nlist;
    return np;
}

static double mc_now(void)
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

/* ---- exact search: blocked sgemm + per-row top-k ------------------------ */

/* Columns of the data per sgemm; with block_size queries the scratch is
 * block_size * EXACT_DB_BLOCK floats (16 MiB at the default 1024). */
#define EXACT_DB_BLOCK 4096

/* Unit vectors: rounding can push an inner product just past +-1. */
static float clamp_cos(float s) { return s > 1.0f ? 1.0f : s < -1.0f ? -1.0f : s; }

/* Row heaps: the root is the worst kept neighbour, "worse" meaning a lower
 * similarity or, at equal similarity, a larger id, so that ties keep the
 * smaller ids as the canonical order requires. */
static int worse(float sa, int64_t ia, float sb, int64_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static void heap_swap(float *hs, int64_t *hi, size_t a, size_t b)
{
    float ts = hs[a];
    int64_t ti = hi[a];
    hs[a] = hs[b];
    hi[a] = hi[b];
    hs[b] = ts;
    hi[b] = ti;
}

static void heap_sift_down(float *hs, int64_t *hi, size_t n, size_t r)
{
    for (;;) {
        size_t c = 2 * r + 1;
        if (c >= n) break;
        if (c + 1 < n && worse(hs[c + 1], hi[c + 1], hs[c], hi[c])) c++;
        if (!worse(hs[c], hi[c], hs[r], hi[r])) break;
        heap_swap(hs, hi, r, c);
        r = c;
    }
}

static void heap_push(float *hs, int64_t *hi, size_t *cnt, size_t k, float s, int64_t id)
{
    size_t n = *cnt;
    if (n < k) {
        size_t c = n;
        hs[c] = s;
        hi[c] = id;
        while (c > 0) {
            size_t par = (c - 1) / 2;
            if (!worse(hs[c], hi[c], hs[par], hi[par])) break;
            heap_swap(hs, hi, c, par);
            c = par;
        }
        *cnt = n + 1;
        return;
    }
    if (!worse(hs[0], hi[0], s, id)) return;
    hs[0] = s;
    hi[0] = id;
    heap_sift_down(hs, hi, k, 0);
}

/* Rows q0..q0+nq of the graph from data blocks of db columns: one
 * single-threaded sgemm per block into scratch, then each row's heap. */
static void exact_block(const float *x, size_t n, size_t d, size_t k, size_t q0, size_t nq,
                        size_t db, float *scratch, size_t *cnt, mc_knn_graph_t *g)
{
    memset(cnt, 0, nq * sizeof *cnt);
    for (size_t d0 = 0; d0 < n; d0 += db) {
        size_t nd = n - d0 < db ? n - d0 : db;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nq, (blasint)nd, (blasint)d,
                    1.0f, x + q0 * d, (blasint)d, x + d0 * d, (blasint)d, 0.0f, scratch,
                    (blasint)nd);
        for (size_t r = 0; r < nq; r++) {
            size_t i = q0 + r;
            const float *row = scratch + r * nd;
            float *hs = g->sims + i * k;
            int64_t *hi = g->ids + i * k;
            size_t c = cnt[r];
            /* Fill, then only candidates at or above the current worst. */
            size_t j = 0;
            for (; j < nd && c < k; j++)
                if (d0 + j != i) heap_push(hs, hi, &c, k, row[j], (int64_t)(d0 + j));
            float floor_s = c == k ? hs[0] : -INFINITY;
            for (; j < nd; j++) {
                if (row[j] < floor_s || d0 + j == i) continue;
                heap_push(hs, hi, &c, k, row[j], (int64_t)(d0 + j));
                floor_s = hs[0];
            }
            cnt[r] = c;
        }
    }
    for (size_t r = 0; r < nq; r++) {
        size_t i = q0 + r;
        float *gs = g->sims + i * k;
        int64_t *gi = g->ids + i * k;
        for (size_t c = 0; c < k; c++) {
            if (c >= cnt[r]) {
                gi[c] = -1;
                gs[c] = -INFINITY;
                continue;
            }
            gs[c] = clamp_cos(gs[c]);
        }
        sort_row(gi, gs, k);
    }
}

/* Each thread takes whole query blocks and runs its own single-threaded
 * sgemm: OpenBLAS's and OpenMP's thread pools never spin against each other
 * on the same cores, and a row's similarities come from the same kernel
 * whatever the thread count, so the graph does not depend on it. */
static mc_status knn_exact(const float *x, size_t n, size_t d, const mc_knn_params *par,
                           mc_knn_graph_t *g)
{
    size_t k = par->k;
    size_t qb = par->block_size < n ? par->block_size : n;
    size_t db = EXACT_DB_BLOCK < n ? EXACT_DB_BLOCK : n;
    size_t nblocks = (n + qb - 1) / qb;
    int failed = 0;
    size_t done = 0;
    int saved_blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel
    {
        float *scratch = mc_malloc_array(qb * db, sizeof *scratch);
        size_t *cnt = mc_malloc_array(qb, sizeof *cnt);
        if (!scratch || !cnt) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        int f;
#pragma omp atomic read
        f = failed;
        if (!f) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t b = 0; b < (ptrdiff_t)nblocks; b++) {
                size_t q0 = (size_t)b * qb;
                size_t nq = n - q0 < qb ? n - q0 : qb;
                exact_block(x, n, d, k, q0, nq, db, scratch, cnt, g);
                size_t now_done;
#pragma omp atomic capture
                now_done = done += nq;
                if (par->progress && omp_get_thread_num() == 0)
                    par->progress(par->progress_data, "search", now_done, n);
            }
        }
        free(scratch);
        free(cnt);
    }
    openblas_set_num_threads(saved_blas);
    if (failed)
        return mc_fail(MC_ERR_NOMEM, "out of memory for search buffers (%zu x %zu floats a thread)",
                       qb, db);
    if (par->progress) par->progress(par->progress_data, "search", n, n);
    return MC_OK;
}

/* ---- FAISS index_factory search ------------------------------------------ */

/* Copy rows r0.. of the sample (an index list) into buf. */
static void gather_rows(const float *x, size_t d, const size_t *rows, size_t m, float *buf)
{
    for (size_t a = 0; a < m; a++) memcpy(buf + a * d, x + rows[a] * d, d * sizeof *buf);
}

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

static mc_status knn_faiss(const float *x, size_t n, size_t d, const mc_knn_params *par,
                           const char *spec, mc_knn_graph_t *g, mc_knn_info *info)
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
    double t0 = mc_now();

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
        if (m > n) m = n;
        if (nlist && m < nlist) {
            st = mc_fail(MC_ERR_INVALID_ARG,
                         "index \"%s\" has %zu lists but only %zu faces to train them on", spec,
                         nlist, m);
            goto done;
        }
        /* A seeded sample without replacement: partial Fisher-Yates. */
        rows = mc_malloc_array(n, sizeof *rows);
        tbuf = mc_malloc_array(m * d, sizeof *tbuf);
        if (!rows || !tbuf) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory for a training sample of %zu faces", m);
            goto done;
        }
        for (size_t i = 0; i < n; i++) rows[i] = i;
        uint64_t s = par->seed;
        for (size_t i = 0; i < m; i++) {
            size_t j = i + (size_t)(mc_splitmix64(&s) % (uint64_t)(n - i));
            size_t t = rows[i];
            rows[i] = rows[j];
            rows[j] = t;
        }
        gather_rows(x, d, rows, m, tbuf);
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
    double t1 = mc_now();
    const size_t add_block = 65536;
    for (size_t a0 = 0; a0 < n; a0 += add_block) {
        size_t na = n - a0 < add_block ? n - a0 : add_block;
        if (faiss_Index_add(index, (idx_t)na, x + a0 * d) != 0) {
            st = faiss_fail("adding vectors");
            goto done;
        }
        if (par->progress) par->progress(par->progress_data, "add", a0 + na, n);
    }
    double t2 = mc_now();
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
            const int64_t *ri = bi + r * kk;
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
                gs[o] = ri[c] < 0 ? -INFINITY : clamp_cos(rd[c]);
                o++;
            }
            sort_row(gi, gs, k);
        }
        if (par->progress) par->progress(par->progress_data, "search", b0 + nb, n);
    }
    if (info) {
        info->t_train = t1 - t0;
        info->t_add = t2 - t1;
        info->t_search = mc_now() - t2;
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
    if (info) {
        snprintf(info->index, sizeof info->index, "%s", spec);
        info->exact = exact;
    }
    if (par.log) {
        char msg[160];
        snprintf(msg, sizeof msg, "knn: index %s%s for %zu faces", spec,
                 exact ? " (exact)" : "", n);
        par.log(par.user_data, msg);
    }

    mc_knn_graph_t *g = NULL;
    mc_status st = graph_alloc(n, par.k, &g);
    if (st != MC_OK) return st;

    /* omp_set_num_threads sets the calling thread's nthreads-var only, which
     * the parallel regions started from this thread inherit; OpenBLAS has a
     * process-wide count. Both are restored below. */
    int saved_omp = omp_get_max_threads();
    int saved_blas = openblas_get_num_threads();
    if (par.n_threads > 0) {
        omp_set_num_threads(par.n_threads);
        openblas_set_num_threads(par.n_threads);
    }
    double t0 = mc_now();
    if (exact)
        st = knn_exact(mc_embeddings_directions(e), n, d, &par, g);
    else
        st = knn_faiss(mc_embeddings_directions(e), n, d, &par, spec, g, info);
    if (info && exact) info->t_search = mc_now() - t0;
    if (par.n_threads > 0) {
        omp_set_num_threads(saved_omp);
        openblas_set_num_threads(saved_blas);
    }
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
