/* Exact top-k search by blocked sgemm: the parallel driver that both the
 * k-NN graph (knn_build.c) and a model's assignment (model.c) use, and the
 * threading rules every search shares. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "knn_impl.h"
#include "util_impl.h"

/* Columns of the data per sgemm (MC_KNN_EXACT_DB_BLOCK, knn_impl.h): with
 * block_size queries the scratch is block_size * 4096 floats (16 MiB at the
 * default 1024). */
#define EXACT_DB_BLOCK MC_KNN_EXACT_DB_BLOCK

int mc_knn_threads(int n_threads) { return n_threads > 0 ? n_threads : omp_get_max_threads(); }

/* The library runs sgemm only inside its own OpenMP regions, one call per
 * thread, so BLAS must not start threads of its own there. OpenBLAS built
 * for OpenMP already runs single-threaded inside a parallel region; the
 * pthreads build has one process-wide count, set to 1 here once and never
 * changed back (saving and restoring it around each call raced between
 * threads that search at the same time). */
static void blas_serial_init(void)
{
    if (openblas_get_parallel() != 2) openblas_set_num_threads(1);
}

void mc_knn_blas_serial(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, blas_serial_init);
}

int mc_knn_omp_all_ok(int ok, int *failed)
{
    if (!ok) {
#pragma omp atomic write
        *failed = 1;
    }
#pragma omp barrier
    int f;
#pragma omp atomic read
    f = *failed;
    return !f;
}

int mc_knn_block_skip(int *cancelled)
{
    int c;
#pragma omp atomic read
    c = *cancelled;
    return c;
}

void mc_knn_block_done(size_t *done, size_t nq, size_t n, const char *phase,
                       mc_progress_fn progress, void *progress_data, int *cancelled)
{
    size_t now_done;
#pragma omp atomic capture
    now_done = *done += nq;
    if (omp_get_thread_num() == 0 && mc_progress_stop(progress, progress_data, phase, now_done, n)) {
#pragma omp atomic write
        *cancelled = 1;
    }
}

mc_status mc_knn_search_end(int cancelled, size_t n, mc_progress_fn progress, void *progress_data)
{
    if (cancelled || mc_progress_stop(progress, progress_data, "search", n, n))
        return mc_cancelled("search");
    return MC_OK;
}

/* Query rows q0..q0+nq pushed into their heaps (cnt: the block's counts)
 * from blocks of db data columns: one single-threaded sgemm per block into
 * scratch, then each row's heap. The columns are all data rows, read in
 * place, their ids counted from b_base, or the m rows cand lists, gathered
 * block by block into dbuf. */
static void exact_push(const mc_knn_exact_job *j, size_t q0, size_t nq, size_t db, size_t b_base,
                       float *scratch, float *dbuf, size_t *cnt, int64_t *ids, float *sims)
{
    size_t d = j->d, k = j->k, m = j->cand ? j->m : j->nb;
    for (size_t d0 = 0; d0 < m; d0 += db) {
        size_t nd = m - d0 < db ? m - d0 : db;
        const float *xd = j->xb + d0 * d;
        if (j->cand) {
            mc_knn_gather_rows(j->xb, d, j->cand + d0, nd, dbuf);
            xd = dbuf;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nq, (blasint)nd, (blasint)d,
                    1.0f, j->xq + q0 * d, (blasint)d, xd, (blasint)d, 0.0f, scratch, (blasint)nd);
        for (size_t r = 0; r < nq; r++) {
            size_t i = q0 + r, self = j->self_base == SIZE_MAX ? SIZE_MAX : j->self_base + i;
            cnt[r] = mc_knn_push_row(scratch + r * nd, nd, j->cand ? j->cand + d0 : NULL,
                                     b_base + d0, self, k, sims + i * k, ids + i * k, cnt[r]);
        }
    }
}

/* Rows q0..q0+nq of the result: their heaps over every data block, then
 * the canonical rows. */
static void exact_block(const mc_knn_exact_job *j, size_t q0, size_t nq, size_t db, float *scratch,
                        float *dbuf, size_t *cnt, int64_t *ids, float *sims)
{
    size_t k = j->k;
    memset(cnt, 0, nq * sizeof *cnt);
    exact_push(j, q0, nq, db, 0, scratch, dbuf, cnt, ids, sims);
    for (size_t r = 0; r < nq; r++)
        mc_knn_finish_row(ids + (q0 + r) * k, sims + (q0 + r) * k, k, cnt[r], j->clamp);
}

mc_status mc_knn_exact_push(const mc_knn_exact_job *j, size_t qb, size_t b_base, size_t *cnt,
                            int64_t *ids, float *sims)
{
    size_t n = j->nq, m = j->nb;
    if (n == 0 || m == 0) return MC_OK;
    size_t db = EXACT_DB_BLOCK < m ? EXACT_DB_BLOCK : m;
    size_t nblocks = (n + qb - 1) / qb;
    int failed = 0;
    mc_knn_blas_serial();
#pragma omp parallel num_threads(mc_knn_threads(j->n_threads))
    {
        float *scratch = mc_malloc_array(qb * db, sizeof *scratch);
        if (mc_knn_omp_all_ok(scratch != NULL, &failed)) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t b = 0; b < (ptrdiff_t)nblocks; b++) {
                size_t q0 = (size_t)b * qb;
                size_t nq = n - q0 < qb ? n - q0 : qb;
                exact_push(j, q0, nq, db, b_base, scratch, NULL, cnt + q0, ids, sims);
            }
        }
        free(scratch);
    }
    if (failed)
        return mc_fail(MC_ERR_NOMEM, "out of memory for search buffers (%zu x %zu floats a thread)",
                       qb, db);
    return MC_OK;
}

/* Each thread takes whole query blocks and runs its own single-threaded
 * sgemm: OpenBLAS's and OpenMP's thread pools never spin against each other
 * on the same cores, and a row's similarities come from the same kernel
 * whatever the thread count, so the result does not depend on it. */
mc_status mc_knn_exact_search(const mc_knn_exact_job *j, int64_t *ids, float *sims)
{
    size_t n = j->nq, d = j->d, m = j->cand ? j->m : j->nb;
    if (n == 0) return MC_OK;
    size_t qb = j->block_size && j->block_size < n ? j->block_size : n;
    size_t db = j->db_block ? j->db_block : EXACT_DB_BLOCK;
    if (db > m) db = m ? m : 1;
    size_t nblocks = (n + qb - 1) / qb;
    int failed = 0, cancelled = 0;
    size_t done = 0;
    mc_knn_blas_serial();
#pragma omp parallel num_threads(mc_knn_threads(j->n_threads))
    {
        float *scratch = mc_malloc_array(qb * db, sizeof *scratch);
        float *dbuf = j->cand ? mc_malloc_array(db * d, sizeof *dbuf) : NULL;
        size_t *cnt = mc_malloc_array(qb, sizeof *cnt);
        if (mc_knn_omp_all_ok(scratch && cnt && (!j->cand || dbuf), &failed)) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t b = 0; b < (ptrdiff_t)nblocks; b++) {
                if (mc_knn_block_skip(&cancelled)) continue;
                size_t q0 = (size_t)b * qb;
                size_t nq = n - q0 < qb ? n - q0 : qb;
                exact_block(j, q0, nq, db, scratch, dbuf, cnt, ids, sims);
                mc_knn_block_done(&done, nq, n, "search", j->progress,
                                  j->progress_data, &cancelled);
            }
        }
        free(scratch);
        free(dbuf);
        free(cnt);
    }
    if (failed)
        return mc_fail(MC_ERR_NOMEM, "out of memory for search buffers (%zu x %zu floats a thread)",
                       qb, db);
    return mc_knn_search_end(cancelled, n, j->progress, j->progress_data);
}
