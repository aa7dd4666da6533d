/* The "HNSW<M>" index: hnswlib's hierarchical navigable small-world graph
 * (through lib/hnsw/hnsw_shim.cpp), built by inserting the candidates in
 * parallel and searched for every face in parallel.
 *
 * What decides the result: each face's layer comes from a hash of the seed
 * and its position, never from the insertion order; the faces on the upper
 * layers (about 1 in M) are inserted first, one by one in order, so the
 * hierarchy is the same for any thread count; the faces of layer 0 are then
 * inserted by all threads at once. A face inserted at the same time as
 * another may or may not see it, so with more than one thread the base
 * layer's links, and with them many graph rows on hard data, vary from run
 * to run. With
 * n_threads 1 the graph is a function of the faces and the seed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knn_hnsw_shim.h"
#include "knn_impl.h"
#include "util_impl.h"

size_t mc_knn_auto_ef_construction(size_t k)
{
    size_t e = 2 * (k + 1);
    return e > 128 ? e : 128;
}

size_t mc_knn_auto_hnsw_ef_search(size_t k)
{
    size_t e = 4 * (k + 1);
    return e > 128 ? e : 128;
}

/* The layer of the face at position a: -ln(u) / ln(M), u uniform in (0, 1]
 * from a hash of (seed, a), as hnswlib draws it, but independent of order. */
static int hnsw_level(uint64_t seed, size_t a, double mult)
{
    uint64_t s = seed ^ (0x9e3779b97f4a7c15ULL * ((uint64_t)a + 1));
    uint64_t r = mc_splitmix64(&s);
    double u = ((double)(r >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double l = -log(u) * mult;
    return l > 30.0 ? 30 : (int)l;
}

static mc_status hnsw_fail(int rc, const char *what, const char *msg)
{
    return mc_fail(rc == MC_HNSW_NOMEM ? MC_ERR_NOMEM : MC_ERR_INVALID_ARG, "hnswlib, %s: %s", what,
                   msg);
}

/* The first failure of a parallel loop: its code and hnswlib's message are
 * kept, and *failed is set to flag so that the other threads stop. */
#define HNSW_ERR_LEN 256
static void keep_first_failure(int r, const char *e, int *frc, char *ferr, int *failed, int flag)
{
#pragma omp critical(mc_hnsw_err)
    if (!*frc) {
        *frc = r;
        memcpy(ferr, e, HNSW_ERR_LEN);
    }
    (void)flag; /* GCC 12 misses the read inside the atomic write below */
#pragma omp atomic write
    *failed = flag;
}

mc_status mc_knn_hnsw(const float *x, size_t n, size_t d, const size_t *cand, size_t m,
                      const mc_knn_params *par, size_t M, mc_knn_graph_t *g, mc_knn_info *info)
{
    size_t k = par->k, kk = k + 1;
    size_t efc = par->ef_construction ? par->ef_construction : mc_knn_auto_ef_construction(k);
    size_t efs = par->ef_search ? par->ef_search : mc_knn_auto_hnsw_ef_search(k);
    if (efs < kk) efs = kk;
    int nt = mc_knn_threads(par->n_threads);
    char err[256] = "";
    mc_hnsw *h = NULL;
    double t0 = mc_knn_now();
    int rc = mc_hnsw_new(d, m, M, efc, &h, err, sizeof err);
    if (rc) return hnsw_fail(rc, "creating the index", err);
    mc_status st = MC_OK;
    int *level = mc_malloc_array(m, sizeof *level);
    if (!level) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the layers of %zu faces", m);
        goto done;
    }
    double mult = 1.0 / log((double)M);
    for (size_t a = 0; a < m; a++) level[a] = hnsw_level(par->seed, a, mult);

    /* the upper layers, in order, one thread */
    size_t added = 0;
    for (size_t a = 0; a < m; a++) {
        if (level[a] == 0) continue;
        rc = mc_hnsw_add(h, x + (cand ? cand[a] : a) * d, a, level[a], err, sizeof err);
        if (rc) {
            st = hnsw_fail(rc, "adding faces", err);
            goto done;
        }
        added++;
    }
    if (mc_progress_stop(par->progress, par->progress_data, "add", added, m)) {
        st = mc_cancelled("add");
        goto done;
    }

    /* layer 0, every thread; once cancelled, the remaining faces are skipped */
    int failed = 0, frc = 0, cancelled = 0;
    char ferr[HNSW_ERR_LEN] = "";
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64)
    for (ptrdiff_t ai = 0; ai < (ptrdiff_t)m; ai++) {
        size_t a = (size_t)ai;
        int f, c;
#pragma omp atomic read
        f = failed;
#pragma omp atomic read
        c = cancelled;
        if (f || c || level[a] != 0) continue;
        char e[HNSW_ERR_LEN];
        int r = mc_hnsw_add(h, x + (cand ? cand[a] : a) * d, a, 0, e, sizeof e);
        if (r) keep_first_failure(r, e, &frc, ferr, &failed, 1);
        size_t now;
#pragma omp atomic capture
        now = ++added;
        if (omp_get_thread_num() == 0 && now % 4096 == 0 &&
            mc_progress_stop(par->progress, par->progress_data, "add", now, m)) {
#pragma omp atomic write
            cancelled = 1;
        }
    }
    if (failed) {
        st = hnsw_fail(frc, "adding faces", ferr);
        goto done;
    }
    if (cancelled || mc_progress_stop(par->progress, par->progress_data, "add", m, m)) {
        st = mc_cancelled("add");
        goto done;
    }
    double t1 = mc_knn_now();

    /* every face's row: k + 1 found, the face itself dropped */
    mc_hnsw_set_ef(h, efs);
    int64_t *gids = mc_knn_graph_ids_mut(g);
    float *gsims = mc_knn_graph_sims_mut(g);
    size_t done_rows = 0;
#pragma omp parallel num_threads(nt)
    {
        int64_t *ri = mc_malloc_array(kk, sizeof *ri);
        float *rs = mc_malloc_array(kk, sizeof *rs);
        if (mc_knn_omp_all_ok(ri && rs, &failed)) {
#pragma omp for schedule(dynamic, 256)
            for (ptrdiff_t ii = 0; ii < (ptrdiff_t)n; ii++) {
                size_t i = (size_t)ii;
                int f, stop;
#pragma omp atomic read
                f = failed;
#pragma omp atomic read
                stop = cancelled;
                if (f || stop) continue;
                char e[HNSW_ERR_LEN];
                int r = mc_hnsw_search(h, x + i * d, kk, ri, rs, e, sizeof e);
                if (r) {
                    keep_first_failure(r, e, &frc, ferr, &failed, 2);
                    continue;
                }
                if (cand)
                    for (size_t c = 0; c < kk; c++)
                        if (ri[c] >= 0) ri[c] = (int64_t)cand[ri[c]];
                size_t self = kk - 1;
                for (size_t c = 0; c < kk; c++)
                    if (ri[c] == (int64_t)i) {
                        self = c;
                        break;
                    }
                int64_t *gi = gids + i * k;
                float *gs = gsims + i * k;
                for (size_t c = 0, o = 0; c < kk; c++) {
                    if (c == self) continue;
                    gi[o] = ri[c];
                    gs[o] = ri[c] < 0 ? -INFINITY : mc_knn_clamp_cos(rs[c]);
                    o++;
                }
                mc_knn_sort_row(gi, gs, k);
                size_t now;
#pragma omp atomic capture
                now = ++done_rows;
                if (omp_get_thread_num() == 0 && now % 4096 == 0 &&
                    mc_progress_stop(par->progress, par->progress_data, "search", now, n)) {
#pragma omp atomic write
                    cancelled = 1;
                }
            }
        }
        free(ri);
        free(rs);
    }
    if (failed == 1) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for search buffers");
        goto done;
    }
    if (failed) {
        st = hnsw_fail(frc, "searching", ferr);
        goto done;
    }
    if (cancelled || mc_progress_stop(par->progress, par->progress_data, "search", n, n)) {
        st = mc_cancelled("search");
        goto done;
    }
    if (info) {
        info->ef_search = efs;
        info->ef_construction = efc;
        info->t_add = t1 - t0;
        info->t_search = mc_knn_now() - t1;
    }

done:
    free(level);
    mc_hnsw_free(h);
    return st;
}
