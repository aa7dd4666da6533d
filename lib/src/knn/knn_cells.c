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

/* (similarity, cell) pairs ordered best first: higher similarity, then the
 * lower cell number, a total order, so the selection is deterministic. */
typedef struct {
    float s;
    uint32_t c;
} cell_sim;

static int better(cell_sim a, cell_sim b) { return a.s > b.s || (a.s == b.s && a.c < b.c); }

/* Moves the p best of v[0..n) to v[0..p) (in no order): quickselect with a
 * median-of-three pivot. */
static void select_best(cell_sim *v, size_t n, size_t p)
{
    size_t lo = 0, hi = n; /* the boundary p lies in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        cell_sim a = v[lo], b = v[mid], c = v[hi - 1], piv;
        if (better(a, b)) piv = better(b, c) ? b : (better(a, c) ? c : a);
        else piv = better(a, c) ? a : (better(b, c) ? c : b);
        /* three-way partition: better than piv | equal to piv | worse */
        size_t i = lo, lt = lo, gt = hi;
        while (i < gt) {
            if (better(v[i], piv)) {
                cell_sim t = v[i];
                v[i++] = v[lt];
                v[lt++] = t;
            } else if (better(piv, v[i])) {
                cell_sim t = v[i];
                v[i] = v[--gt];
                v[gt] = t;
            } else {
                i++;
            }
        }
        if (p <= lt) hi = lt;
        else if (p >= gt) lo = gt;
        else return;
    }
}

static int cmp_cell_sim(const void *a, const void *b)
{
    cell_sim x = *(const cell_sim *)a, y = *(const cell_sim *)b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

/* The p nearest of L centroids to each of nr contiguous rows xb, best first,
 * into cells (nr x p) and, when best is not NULL, the similarity to the
 * nearest into best. scratch holds nr x L floats, v L pairs. */
static void nearest_cells(const float *xb, size_t nr, size_t d, const float *cent, size_t L,
                          size_t p, float *scratch, cell_sim *v, uint32_t *cells, float *best)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nr, (blasint)L, (blasint)d, 1.0f,
                xb, (blasint)d, cent, (blasint)d, 0.0f, scratch, (blasint)L);
    for (size_t r = 0; r < nr; r++) {
        const float *row = scratch + r * L;
        if (p == 1) { /* k-means rounds: the nearest, the lower number on a tie */
            size_t bc = 0;
            for (size_t c = 1; c < L; c++)
                if (row[c] > row[bc]) bc = c;
            cells[r] = (uint32_t)bc;
            if (best) best[r] = row[bc];
            continue;
        }
        /* Select among the values at or above a floor: the (2 p ns / L)-th
         * best of a strided sample of ns values, which about 2p of the row
         * reach; when fewer than p do, among all of them. */
        size_t m = 0;
        float floor_s = -INFINITY;
        if (L >= 8 * p && L >= 256) {
            size_t ns = 4 * p, stride = L / ns;
            for (size_t a = 0; a < ns; a++) v[a] = (cell_sim){row[a * stride], (uint32_t)(a * stride)};
            size_t rank = 2 * p * ns / L;
            if (rank < 1) rank = 1;
            select_best(v, ns, rank);
            floor_s = v[0].s;
            for (size_t a = 1; a < rank; a++)
                if (v[a].s < floor_s) floor_s = v[a].s;
        }
        for (size_t c = 0; c < L; c++)
            if (row[c] >= floor_s) v[m++] = (cell_sim){row[c], (uint32_t)c};
        if (m < p) { /* the floor was too high: take every value */
            m = 0;
            for (size_t c = 0; c < L; c++) v[m++] = (cell_sim){row[c], (uint32_t)c};
        }
        select_best(v, m, p);
        qsort(v, p, sizeof *v, cmp_cell_sim);
        for (size_t a = 0; a < p; a++) cells[r * p + a] = v[a].c;
        if (best) best[r] = v[0].s;
    }
}

/* Rows per sgemm when assigning to cells: the scratch is CELLS_AB x L floats. */
#define CELLS_AB MC_KNN_CELLS_AB

/* The p nearest cells of each of the nr contiguous rows xb, into cells
 * (nr x p, nearest first) and, when best is not NULL, the similarity to the
 * nearest into best. Parallel over blocks; single-threaded sgemm in each.
 * Reports progress as phase unless it is NULL. Returns MC_OK,
 * MC_ERR_NOMEM (no detail: the caller words it) or MC_ERR_CANCELLED. */
static mc_status assign_rows(const float *xb, size_t nr, size_t d, const float *cent, size_t L,
                             size_t p, uint32_t *cells, float *best, const mc_knn_params *par,
                             const char *phase)
{
    int failed = 0, cancelled = 0;
    size_t nblocks = (nr + CELLS_AB - 1) / CELLS_AB, done = 0;
#pragma omp parallel num_threads(mc_knn_threads(par->n_threads))
    {
        float *scratch = mc_malloc_array((size_t)CELLS_AB * L, sizeof *scratch);
        cell_sim *v = mc_malloc_array(L, sizeof *v);
        if (mc_knn_omp_all_ok(scratch && v, &failed)) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t bi = 0; bi < (ptrdiff_t)nblocks; bi++) {
                if (mc_knn_block_skip(&cancelled)) continue;
                size_t r0 = (size_t)bi * CELLS_AB;
                size_t m = nr - r0 < CELLS_AB ? nr - r0 : CELLS_AB;
                nearest_cells(xb + r0 * d, m, d, cent, L, p, scratch, v, cells + r0 * p,
                              best ? best + r0 : NULL);
                if (phase && par->progress)
                    mc_knn_block_done(&done, m, nr, phase, par->progress, par->progress_data,
                                      &cancelled);
            }
        }
        free(scratch);
        free(v);
    }
    if (failed) return MC_ERR_NOMEM;
    return cancelled ? mc_cancelled(phase) : MC_OK;
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
 * next empty cell). Returns MC_OK, MC_ERR_NOMEM (no detail) or
 * MC_ERR_CANCELLED. */
static mc_status train_cells(const float *sx, size_t t, size_t d, size_t L, float *cent,
                             const mc_knn_params *par)
{
    uint32_t *asg = mc_malloc_array(t, sizeof *asg);
    float *best = mc_malloc_array(t, sizeof *best);
    double *sum = mc_malloc_array(L * d, sizeof *sum);
    size_t *count = mc_malloc_array(L, sizeof *count);
    size_t *order = NULL;
    mc_status st = asg && best && sum && count ? MC_OK : MC_ERR_NOMEM;
    if (st == MC_OK) memcpy(cent, sx, L * d * sizeof *cent);
    for (int it = 0; st == MC_OK && it < CELLS_ITERS; it++) {
        if ((st = assign_rows(sx, t, d, cent, L, 1, asg, best, par, NULL)) != MC_OK) break;
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
                st = MC_ERR_NOMEM;
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
        /* in face assignments, t a round */
        if (mc_progress_stop(par->progress, par->progress_data, "train", ((uint64_t)it + 1) * t,
                             (uint64_t)CELLS_ITERS * t))
            st = mc_cancelled("train");
    }
    free(asg);
    free(best);
    free(sum);
    free(count);
    free(order);
    return st;
}

mc_status mc_knn_cells_assign(const float *xb, size_t nr, size_t d, const float *cent, size_t L,
                              size_t p, uint32_t *cells, const mc_knn_params *par)
{
    mc_knn_blas_serial();
    mc_status st = assign_rows(xb, nr, d, cent, L, p, cells, NULL, par, NULL);
    if (st == MC_ERR_NOMEM) st = mc_fail(MC_ERR_NOMEM, "out of memory for assigning faces to cells");
    return st;
}

mc_status mc_knn_cells_train(const float *sx, size_t t, size_t d, size_t L, float *cent,
                             const mc_knn_params *par)
{
    mc_knn_blas_serial();
    mc_status st = train_cells(sx, t, d, L, cent, par);
    if (st == MC_ERR_NOMEM)
        st = mc_fail(MC_ERR_NOMEM, "out of memory for training %zu cells on %zu faces", L, t);
    return st;
}

mc_status mc_knn_cells_plan_make(size_t n, size_t m, const mc_knn_params *par, size_t nlist,
                                 mc_knn_cells_plan *out)
{
    size_t L = nlist;
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
    /* at least 64 chunks to share among the threads, of 1024 queries at least */
    size_t chunk = (n + 63) / 64;
    if (chunk < CELLS_QB) chunk = CELLS_QB;
    if (chunk > CELLS_CHUNK) chunk = CELLS_CHUNK;
    out->L = L;
    out->p = p;
    out->t = t;
    out->chunk = chunk;
    return MC_OK;
}

void mc_knn_cells_group(const uint32_t *probes, size_t nq, size_t p, size_t L, size_t c0,
                        size_t c1, size_t *cstart, uint32_t *cq)
{
    memset(cstart, 0, (L + 1) * sizeof *cstart);
    for (size_t r = 0; r < nq; r++)
        for (size_t a = 0; a < p; a++) {
            uint32_t c = probes[r * p + a];
            if (c >= c0 && c < c1) cstart[c + 1]++;
        }
    for (size_t c = 0; c < L; c++) cstart[c + 1] += cstart[c];
    /* fill in query order; cstart[c] walks to the start of cell c + 1 */
    for (size_t r = 0; r < nq; r++)
        for (size_t a = 0; a < p; a++) {
            uint32_t c = probes[r * p + a];
            if (c >= c0 && c < c1) cq[cstart[c]++] = (uint32_t)r;
        }
    for (size_t c = L; c > 0; c--) cstart[c] = cstart[c - 1];
    cstart[0] = 0;
}

struct mc_knn_cells_scratch {
    size_t *qrow, *qid; /* CELLS_QB rows and ids of a query block */
    float *qbuf, *dbuf, *scratch;
};

mc_knn_cells_scratch *mc_knn_cells_scratch_new(size_t d)
{
    mc_knn_cells_scratch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->qrow = mc_malloc_array(CELLS_QB, sizeof *b->qrow);
    b->qid = mc_malloc_array(CELLS_QB, sizeof *b->qid);
    b->qbuf = mc_malloc_array((size_t)CELLS_QB * d, sizeof *b->qbuf);
    b->dbuf = mc_malloc_array((size_t)CELLS_DB * d, sizeof *b->dbuf);
    b->scratch = mc_malloc_array((size_t)CELLS_QB * CELLS_DB, sizeof *b->scratch);
    if (!b->qrow || !b->qid || !b->qbuf || !b->dbuf || !b->scratch) {
        mc_knn_cells_scratch_free(b);
        return NULL;
    }
    return b;
}

void mc_knn_cells_scratch_free(mc_knn_cells_scratch *b)
{
    if (!b) return;
    free(b->qrow);
    free(b->qid);
    free(b->qbuf);
    free(b->dbuf);
    free(b->scratch);
    free(b);
}

/* Each cell of [c0, c1) times the queries that visit it: the same sgemm
 * calls, with the same operands in the same order, whichever process makes
 * them -- the queries of a cell in blocks of CELLS_QB from its first, its
 * members in blocks of CELLS_DB from its first. */
void mc_knn_cells_products(const mc_knn_cells_scan *s, mc_knn_cells_scratch *b, size_t *cnt,
                           float *hs, int64_t *hi)
{
    size_t d = s->d, k = s->k;
    for (size_t c = s->c0; c < s->c1; c++) {
        size_t qa = s->cstart[c], qe = s->cstart[c + 1];
        size_t la = s->lstart[c] - s->mbase, le = s->lstart[c + 1] - s->mbase;
        if (qa == qe || la == le) continue;
        for (size_t q = qa; q < qe; q += CELLS_QB) {
            size_t mq = qe - q < CELLS_QB ? qe - q : CELLS_QB;
            for (size_t r = 0; r < mq; r++) {
                size_t lr = s->cq[q + r];
                b->qrow[r] = s->qbase + lr;
                b->qid[r] = s->qid ? s->qid[lr] : s->qbase + lr;
            }
            mc_knn_gather_rows(s->xq, d, b->qrow, mq, b->qbuf);
            for (size_t l = la; l < le; l += CELLS_DB) {
                size_t ml = le - l < CELLS_DB ? le - l : CELLS_DB;
                if (s->mrow) mc_knn_gather_rows(s->xm, d, s->mrow + l, ml, b->dbuf);
                else memcpy(b->dbuf, s->xm + l * d, ml * d * sizeof *b->dbuf);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)mq, (blasint)ml,
                            (blasint)d, 1.0f, b->qbuf, (blasint)d, b->dbuf, (blasint)d, 0.0f,
                            b->scratch, (blasint)ml);
                for (size_t r = 0; r < mq; r++) {
                    size_t row = b->qrow[r], lr = row - s->qbase;
                    cnt[lr] = mc_knn_push_row(b->scratch + r * ml, ml, s->mid + l, 0, b->qid[r], k,
                                              hs + row * k, hi + row * k, cnt[lr]);
                }
            }
        }
    }
}

/* One chunk of queries q0..q0+nq: each cell times the chunk's queries that
 * visit it. */
static void search_chunk(const float *x, size_t d, const uint32_t *probes, size_t p, size_t L,
                         const size_t *lstart, const size_t *lids, size_t k, size_t q0, size_t nq,
                         size_t *cstart, uint32_t *cq, size_t *cnt, mc_knn_cells_scratch *b,
                         mc_knn_graph_t *g)
{
    int64_t *gid = mc_knn_graph_ids_mut(g);
    float *gsim = mc_knn_graph_sims_mut(g);
    mc_knn_cells_group(probes + q0 * p, nq, p, L, 0, L, cstart, cq);
    memset(cnt, 0, nq * sizeof *cnt);
    mc_knn_cells_scan s = {d, k, x, q0, NULL, cstart, cq, x, lids, lids, lstart, 0, 0, L};
    mc_knn_cells_products(&s, b, cnt, gsim, gid);
    for (size_t r = 0; r < nq; r++)
        mc_knn_finish_row(gid + (q0 + r) * k, gsim + (q0 + r) * k, k, cnt[r], 1);
}

mc_status mc_knn_cells(const float *x, size_t n, size_t d, const size_t *cand, size_t m,
                       const mc_knn_params *par, size_t nlist, mc_knn_graph_t *g,
                       mc_knn_info *info)
{
    size_t k = par->k;
    mc_knn_cells_plan plan;
    mc_status st = mc_knn_cells_plan_make(n, m, par, nlist, &plan);
    if (st != MC_OK) return st;
    size_t L = plan.L, p = plan.p, t = plan.t;
    if (info) {
        info->nprobe = p;
        info->train_size = t;
    }

    double t0 = mc_knn_now(), t1 = t0, t2 = t0;
    float *cent = mc_malloc_array(L * d, sizeof *cent);
    size_t *rows = mc_knn_sample_rows(cand, m, t, par->seed);
    float *sx = mc_malloc_array(t * d, sizeof *sx);
    uint32_t *probes = NULL;
    size_t *lstart = NULL, *lids = NULL;
    mc_knn_blas_serial();
    if (!cent || !rows || !sx) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for training %zu cells on %zu faces", L, t);
        goto done;
    }
    mc_knn_gather_rows(x, d, rows, t, sx);
    free(rows);
    rows = NULL;
    if ((st = mc_knn_cells_train(sx, t, d, L, cent, par)) != MC_OK) goto done;
    free(sx);
    sx = NULL;
    t1 = mc_knn_now();

    /* every face's p nearest cells; a candidate lives in its nearest */
    if (n > SIZE_MAX / p || !(probes = mc_malloc_array(n * p, sizeof *probes)) ||
        !(lstart = calloc(L + 1, sizeof *lstart)) || !(lids = mc_malloc_array(m, sizeof *lids))) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the cells of %zu faces (%zu each)", n, p);
        goto done;
    }
    if ((st = assign_rows(x, n, d, cent, L, p, probes, NULL, par, "add")) != MC_OK) {
        if (st == MC_ERR_NOMEM) st = mc_fail(MC_ERR_NOMEM, "out of memory for assigning faces to cells");
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

    size_t chunk = plan.chunk;
    size_t nchunks = (n + chunk - 1) / chunk, done = 0;
    int failed = 0, cancelled = 0;
#pragma omp parallel num_threads(mc_knn_threads(par->n_threads))
    {
        size_t *cstart = mc_malloc_array(L + 1, sizeof *cstart);
        uint32_t *cq = mc_malloc_array(chunk * p, sizeof *cq);
        size_t *cnt = mc_malloc_array(chunk, sizeof *cnt);
        mc_knn_cells_scratch *b = mc_knn_cells_scratch_new(d);
        if (mc_knn_omp_all_ok(cstart && cq && cnt && b, &failed)) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t ci = 0; ci < (ptrdiff_t)nchunks; ci++) {
                if (mc_knn_block_skip(&cancelled)) continue;
                size_t q0 = (size_t)ci * chunk;
                size_t nq = n - q0 < chunk ? n - q0 : chunk;
                search_chunk(x, d, probes, p, L, lstart, lids, k, q0, nq, cstart, cq, cnt, b, g);
                mc_knn_block_done(&done, nq, n, "search", par->progress,
                                  par->progress_data, &cancelled);
            }
        }
        free(cstart);
        free(cq);
        free(cnt);
        mc_knn_cells_scratch_free(b);
    }
    if (failed) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for search buffers");
        goto done;
    }
    st = mc_knn_search_end(cancelled, n, par->progress, par->progress_data);

done:
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
