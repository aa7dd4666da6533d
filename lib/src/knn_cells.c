/* Approximate k-NN by k-means cells searched with sgemm: the "Cells<nlist>"
 * index.
 *
 * An inverted-file search (IVF) visits, for each query, the nprobe cells
 * nearest to it; FAISS's IndexIVFFlat scans those cells one query at a time,
 * which is bound by memory bandwidth, and its cells are only as balanced as
 * the data. Here the cells are spherical k-means cells of the candidate faces
 * (the faces that may be neighbours, e.g. the good ones, whose identities
 * spread evenly over the sphere), and the search turns around: the queries
 * are taken in fixed chunks, and within a chunk each cell is multiplied, by
 * one sgemm, with all the chunk's queries that visit it. That runs at
 * matrix-product speed, like the exact search, on nprobe/nlist of its work.
 *
 * Determinism: the chunks, the order of the cells and the composition of each
 * product do not depend on the thread count, and the per-row top-k keeps the
 * same set in any order of arrival, so neither does the graph. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "knn_impl.h"
#include "util_impl.h"

#define CELLS_ITERS 10     /* k-means rounds */
#define CELLS_CHUNK 32768  /* queries per chunk at most; the size depends on N only, see above */
#define CELLS_QB 1024      /* queries per sgemm */
#define CELLS_DB 4096      /* cell members (or centroids) per sgemm */

/* The p nearest of L centroids to each of nr contiguous rows xb, sorted by
 * decreasing similarity into (hs, hi) rows of p; scratch holds
 * nr x min(L, CELLS_DB) floats, cnt nr. */
static void nearest_cells(const float *xb, size_t nr, size_t d, const float *cent, size_t L,
                          size_t p, float *scratch, float *hs, int64_t *hi, size_t *cnt)
{
    memset(cnt, 0, nr * sizeof *cnt);
    for (size_t c0 = 0; c0 < L; c0 += CELLS_DB) {
        size_t nc = L - c0 < CELLS_DB ? L - c0 : CELLS_DB;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nr, (blasint)nc, (blasint)d,
                    1.0f, xb, (blasint)d, cent + c0 * d, (blasint)d, 0.0f, scratch, (blasint)nc);
        for (size_t r = 0; r < nr; r++)
            cnt[r] = mc_knn_push_row(scratch + r * nc, nc, NULL, c0, SIZE_MAX, p, hs + r * p,
                                     hi + r * p, cnt[r]);
    }
    for (size_t r = 0; r < nr; r++) mc_knn_sort_row(hi + r * p, hs + r * p, p);
}

/* Per-thread buffers for nearest_cells over blocks of CELLS_QB rows. */
typedef struct {
    float *scratch, *hs;
    int64_t *hi;
    size_t *cnt;
} cells_buf;

static int cells_buf_alloc(cells_buf *b, size_t L, size_t p)
{
    size_t nc = L < CELLS_DB ? L : CELLS_DB;
    b->scratch = mc_malloc_array(CELLS_QB * nc, sizeof *b->scratch);
    b->hs = mc_malloc_array(CELLS_QB * p, sizeof *b->hs);
    b->hi = mc_malloc_array(CELLS_QB * p, sizeof *b->hi);
    b->cnt = mc_malloc_array(CELLS_QB, sizeof *b->cnt);
    return b->scratch && b->hs && b->hi && b->cnt;
}

static void cells_buf_free(cells_buf *b)
{
    free(b->scratch);
    free(b->hs);
    free(b->hi);
    free(b->cnt);
}

/* The p nearest cells of each of the nr contiguous rows xb, into cells
 * (nr x p, nearest first) and, when best is not NULL, the similarity to the
 * nearest into best. Parallel over blocks; single-threaded sgemm in each.
 * Returns 0 when out of memory. */
static int assign_rows(const float *xb, size_t nr, size_t d, const float *cent, size_t L, size_t p,
                       uint32_t *cells, float *best, const mc_knn_params *par, const char *phase)
{
    int failed = 0;
    size_t nblocks = (nr + CELLS_QB - 1) / CELLS_QB, done = 0;
#pragma omp parallel
    {
        cells_buf b;
        if (!cells_buf_alloc(&b, L, p)) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        int f;
#pragma omp atomic read
        f = failed;
        if (!f) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t bi = 0; bi < (ptrdiff_t)nblocks; bi++) {
                size_t r0 = (size_t)bi * CELLS_QB;
                size_t m = nr - r0 < CELLS_QB ? nr - r0 : CELLS_QB;
                nearest_cells(xb + r0 * d, m, d, cent, L, p, b.scratch, b.hs, b.hi, b.cnt);
                for (size_t r = 0; r < m; r++) {
                    for (size_t a = 0; a < p; a++) cells[(r0 + r) * p + a] = (uint32_t)b.hi[r * p + a];
                    if (best) best[r0 + r] = b.hs[r * p];
                }
                if (phase && par->progress) {
                    size_t now_done;
#pragma omp atomic capture
                    now_done = done += m;
                    if (omp_get_thread_num() == 0)
                        par->progress(par->progress_data, phase, now_done, nr);
                }
            }
        }
        cells_buf_free(&b);
    }
    return !failed;
}

static int cmp_worst(const void *a, const void *b, void *ctx)
{
    const float *bs = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (bs[i] != bs[j]) return bs[i] < bs[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Insertion sort of idx[0..n) by cmp_worst; n is the number of empty cells,
 * a handful. */
static void sort_worst(size_t *idx, size_t n, const float *best)
{
    for (size_t a = 1; a < n; a++) {
        size_t v = idx[a], b = a;
        while (b > 0 && cmp_worst(&v, &idx[b - 1], (void *)best) < 0) {
            idx[b] = idx[b - 1];
            b--;
        }
        idx[b] = v;
    }
}

/* Spherical k-means of the t sample rows sx into L unit centroids (cent,
 * L x d), started from the first L rows. A cell left empty is re-seeded with
 * the sample row farthest from its own centroid (the next farthest for the
 * next empty cell). Returns 0 when out of memory. */
static int train_cells(const float *sx, size_t t, size_t d, size_t L, float *cent,
                       const mc_knn_params *par)
{
    uint32_t *asg = mc_malloc_array(t, sizeof *asg);
    float *best = mc_malloc_array(t, sizeof *best);
    double *sum = mc_malloc_array(L * d, sizeof *sum);
    size_t *count = mc_malloc_array(L, sizeof *count);
    size_t *order = NULL;
    int ok = asg && best && sum && count;
    if (ok) memcpy(cent, sx, L * d * sizeof *cent);
    for (int it = 0; ok && it < CELLS_ITERS; it++) {
        if (!(ok = assign_rows(sx, t, d, cent, L, 1, asg, best, par, NULL))) break;
        memset(sum, 0, L * d * sizeof *sum);
        memset(count, 0, L * sizeof *count);
        for (size_t r = 0; r < t; r++) {
            double *sc = sum + (size_t)asg[r] * d;
            const float *xr = sx + r * d;
            for (size_t j = 0; j < d; j++) sc[j] += xr[j];
            count[asg[r]]++;
        }
        size_t empty = 0;
        for (size_t c = 0; c < L; c++) {
            if (count[c] == 0) {
                empty++;
                continue;
            }
            double nn = 0.0;
            for (size_t j = 0; j < d; j++) nn += sum[c * d + j] * sum[c * d + j];
            double inv = nn > 0.0 ? 1.0 / sqrt(nn) : 0.0;
            for (size_t j = 0; j < d; j++) cent[c * d + j] = (float)(sum[c * d + j] * inv);
        }
        if (empty) {
            /* the `empty` sample rows farthest from their centroids */
            if (!order && !(order = mc_malloc_array(t, sizeof *order))) {
                ok = 0;
                break;
            }
            size_t kept = 0;
            for (size_t r = 0; r < t; r++) {
                if (kept < empty) {
                    order[kept++] = r;
                    sort_worst(order, kept, best);
                } else if (cmp_worst(&r, &order[empty - 1], best) < 0) {
                    order[empty - 1] = r;
                    sort_worst(order, kept, best);
                }
            }
            size_t e = 0;
            for (size_t c = 0; c < L; c++)
                if (count[c] == 0) memcpy(cent + c * d, sx + order[e++] * d, d * sizeof *cent);
        }
        if (par->progress) par->progress(par->progress_data, "train", (uint64_t)it + 1, CELLS_ITERS);
    }
    free(asg);
    free(best);
    free(sum);
    free(count);
    free(order);
    return ok;
}

/* One chunk of queries q0..q0+nq: each cell times the chunk's queries that
 * visit it. */
typedef struct {
    size_t *cstart; /* L + 1 */
    uint32_t *cq;   /* nq * p local query indices, grouped by cell */
    size_t *qids;   /* CELLS_QB face ids of a query block */
    float *qbuf, *dbuf, *scratch;
    size_t *cnt; /* CELLS_CHUNK heap counts */
} chunk_buf;

static void search_chunk(const float *x, size_t d, const uint32_t *probes, size_t p, size_t L,
                         const size_t *lstart, const size_t *lids, size_t k, size_t q0, size_t nq,
                         chunk_buf *b, mc_knn_graph_t *g)
{
    int64_t *gid = mc_knn_graph_ids_mut(g);
    float *gsim = mc_knn_graph_sims_mut(g);
    memset(b->cstart, 0, (L + 1) * sizeof *b->cstart);
    for (size_t r = 0; r < nq; r++)
        for (size_t a = 0; a < p; a++) b->cstart[probes[(q0 + r) * p + a] + 1]++;
    for (size_t c = 0; c < L; c++) b->cstart[c + 1] += b->cstart[c];
    /* fill in query order; cstart[c] walks to the start of cell c + 1 */
    for (size_t r = 0; r < nq; r++)
        for (size_t a = 0; a < p; a++) b->cq[b->cstart[probes[(q0 + r) * p + a]]++] = (uint32_t)r;
    for (size_t c = L; c > 0; c--) b->cstart[c] = b->cstart[c - 1];
    b->cstart[0] = 0;
    memset(b->cnt, 0, nq * sizeof *b->cnt);

    for (size_t c = 0; c < L; c++) {
        size_t qa = b->cstart[c], qe = b->cstart[c + 1];
        size_t la = lstart[c], le = lstart[c + 1];
        if (qa == qe || la == le) continue;
        for (size_t q = qa; q < qe; q += CELLS_QB) {
            size_t mq = qe - q < CELLS_QB ? qe - q : CELLS_QB;
            for (size_t r = 0; r < mq; r++) b->qids[r] = q0 + b->cq[q + r];
            mc_knn_gather_rows(x, d, b->qids, mq, b->qbuf);
            for (size_t l = la; l < le; l += CELLS_DB) {
                size_t ml = le - l < CELLS_DB ? le - l : CELLS_DB;
                mc_knn_gather_rows(x, d, lids + l, ml, b->dbuf);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)mq, (blasint)ml,
                            (blasint)d, 1.0f, b->qbuf, (blasint)d, b->dbuf, (blasint)d, 0.0f,
                            b->scratch, (blasint)ml);
                for (size_t r = 0; r < mq; r++) {
                    size_t i = b->qids[r], lr = i - q0;
                    b->cnt[lr] = mc_knn_push_row(b->scratch + r * ml, ml, lids + l, 0, i, k,
                                                 gsim + i * k, gid + i * k, b->cnt[lr]);
                }
            }
        }
    }
    for (size_t r = 0; r < nq; r++) mc_knn_finish_row(g, q0 + r, b->cnt[r]);
}

mc_status mc_knn_cells(const float *x, size_t n, size_t d, const size_t *cand, size_t m,
                       const mc_knn_params *par, size_t nlist, mc_knn_graph_t *g,
                       mc_knn_info *info)
{
    size_t L = nlist, k = par->k;
    if (L == 0 || L > m)
        return mc_fail(MC_ERR_INVALID_ARG, "index Cells%zu needs 1 to %zu cells (one face each at least)",
                       L, m);
    if (L > UINT32_MAX) return mc_fail(MC_ERR_INVALID_ARG, "index Cells%zu: too many cells", L);
    size_t p = par->nprobe ? par->nprobe : mc_knn_auto_cells_nprobe(L);
    if (p > L) p = L;
    size_t t = par->train_size;
    if (t == 0) {
        t = 64 * L;
        if (t < 10000) t = 10000;
    }
    if (t > m) t = m;
    if (t < L)
        return mc_fail(MC_ERR_INVALID_ARG, "index Cells%zu: %zu faces are too few to train %zu cells",
                       L, t, L);
    if (info) {
        info->nprobe = p;
        info->train_size = t;
    }

    mc_status st = MC_OK;
    double t0 = mc_knn_now(), t1 = t0, t2 = t0;
    float *cent = mc_malloc_array(L * d, sizeof *cent);
    size_t *rows = mc_knn_sample_rows(cand, m, t, par->seed);
    float *sx = mc_malloc_array(t * d, sizeof *sx);
    uint32_t *probes = NULL;
    size_t *lstart = NULL, *lids = NULL;
    int saved_blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
    if (!cent || !rows || !sx) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for training %zu cells on %zu faces", L, t);
        goto done;
    }
    mc_knn_gather_rows(x, d, rows, t, sx);
    free(rows);
    rows = NULL;
    if (!train_cells(sx, t, d, L, cent, par)) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for training %zu cells on %zu faces", L, t);
        goto done;
    }
    free(sx);
    sx = NULL;
    t1 = mc_knn_now();

    /* every face's p nearest cells; a candidate lives in its nearest */
    if (n > SIZE_MAX / p || !(probes = mc_malloc_array(n * p, sizeof *probes)) ||
        !(lstart = calloc(L + 1, sizeof *lstart)) || !(lids = mc_malloc_array(m, sizeof *lids))) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the cells of %zu faces (%zu each)", n, p);
        goto done;
    }
    if (!assign_rows(x, n, d, cent, L, p, probes, NULL, par, "add")) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for assigning faces to cells");
        goto done;
    }
    for (size_t a = 0; a < m; a++) lstart[probes[(cand ? cand[a] : a) * p] + 1]++;
    for (size_t c = 0; c < L; c++) lstart[c + 1] += lstart[c];
    for (size_t a = 0; a < m; a++) {
        size_t id = cand ? cand[a] : a;
        lids[lstart[probes[id * p]]++] = id;
    }
    for (size_t c = L; c > 0; c--) lstart[c] = lstart[c - 1];
    lstart[0] = 0;
    if (info) {
        double pairs = 0.0;
        for (size_t i = 0; i < n * p; i++) pairs += (double)(lstart[probes[i] + 1] - lstart[probes[i]]);
        info->scan_frac = pairs / ((double)n * (double)m);
    }
    t2 = mc_knn_now();

    /* at least 64 chunks to share among the threads, of 1024 queries at least */
    size_t chunk = (n + 63) / 64;
    if (chunk < CELLS_QB) chunk = CELLS_QB;
    if (chunk > CELLS_CHUNK) chunk = CELLS_CHUNK;
    size_t nchunks = (n + chunk - 1) / chunk, done = 0;
    int failed = 0;
#pragma omp parallel
    {
        chunk_buf b;
        b.cstart = mc_malloc_array(L + 1, sizeof *b.cstart);
        b.cq = mc_malloc_array(chunk * p, sizeof *b.cq);
        b.qids = mc_malloc_array(CELLS_QB, sizeof *b.qids);
        b.qbuf = mc_malloc_array((size_t)CELLS_QB * d, sizeof *b.qbuf);
        b.dbuf = mc_malloc_array((size_t)CELLS_DB * d, sizeof *b.dbuf);
        b.scratch = mc_malloc_array((size_t)CELLS_QB * CELLS_DB, sizeof *b.scratch);
        b.cnt = mc_malloc_array(chunk, sizeof *b.cnt);
        if (!b.cstart || !b.cq || !b.qids || !b.qbuf || !b.dbuf || !b.scratch || !b.cnt) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp barrier
        int f;
#pragma omp atomic read
        f = failed;
        if (!f) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t ci = 0; ci < (ptrdiff_t)nchunks; ci++) {
                size_t q0 = (size_t)ci * chunk;
                size_t nq = n - q0 < chunk ? n - q0 : chunk;
                search_chunk(x, d, probes, p, L, lstart, lids, k, q0, nq, &b, g);
                size_t now_done;
#pragma omp atomic capture
                now_done = done += nq;
                if (par->progress && omp_get_thread_num() == 0)
                    par->progress(par->progress_data, "search", now_done, n);
            }
        }
        free(b.cstart);
        free(b.cq);
        free(b.qids);
        free(b.qbuf);
        free(b.dbuf);
        free(b.scratch);
        free(b.cnt);
    }
    if (failed) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for search buffers");
        goto done;
    }
    if (par->progress) par->progress(par->progress_data, "search", n, n);

done:
    openblas_set_num_threads(saved_blas);
    if (info) {
        info->t_train = t1 - t0;
        info->t_add = t2 - t1;
        info->t_search = mc_knn_now() - t2;
    }
    free(cent);
    free(rows);
    free(sx);
    free(probes);
    free(lstart);
    free(lids);
    return st;
}
