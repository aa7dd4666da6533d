/* One shard of the exact k-NN graph: the rows of a contiguous slice of the
 * faces, searched against all of them with the very sgemm calls the
 * one-process search makes, so that joined parts are the graph bit for bit
 * (knn_shard.h). The part files and their merge live in knn_io.c. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/knn_shard.h"
#include "knn_impl.h"
#include "util_impl.h"

struct mc_knn_part {
    size_t n, k, shard, n_shards, first, rows;
    int64_t *ids;
    float *sims;
};

mc_status mc_knn_shard_rows(size_t n, size_t shard, size_t n_shards, size_t *out_first,
                            size_t *out_rows)
{
    if (!out_first || !out_rows) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_shard_rows");
    *out_first = *out_rows = 0;
    if (n_shards == 0 || n_shards > n)
        return mc_fail(MC_ERR_INVALID_ARG, "%zu shards of %zu faces: give 1 to %zu shards", n_shards,
                       n, n);
    if (shard >= n_shards)
        return mc_fail(MC_ERR_INVALID_ARG, "shard %zu of %zu: shards are numbered 0 to %zu", shard,
                       n_shards, n_shards - 1);
    /* floor(I n / N) without overflowing I n: n = a N + b */
    size_t a = n / n_shards, b = n % n_shards;
    size_t lo = shard * a + shard * b / n_shards;
    size_t hi = (shard + 1) * a + (shard + 1) * b / n_shards;
    *out_first = lo;
    *out_rows = hi - lo;
    return MC_OK;
}

static mc_status part_alloc(size_t n, size_t k, size_t shard, size_t n_shards, size_t first,
                            size_t rows, mc_knn_part_t **out)
{
    *out = NULL;
    mc_knn_part_t *pt = calloc(1, sizeof *pt);
    if (!pt) return mc_fail(MC_ERR_NOMEM, "out of memory for a k-NN graph part");
    pt->n = n;
    pt->k = k;
    pt->shard = shard;
    pt->n_shards = n_shards;
    pt->first = first;
    pt->rows = rows;
    if (rows != 0 && k > SIZE_MAX / rows) {
        free(pt);
        return mc_fail(MC_ERR_NOMEM, "k-NN graph part of %zu x %zu is too large", rows, k);
    }
    pt->ids = mc_malloc_array(rows * k, sizeof *pt->ids);
    pt->sims = mc_malloc_array(rows * k, sizeof *pt->sims);
    if (!pt->ids || !pt->sims) {
        mc_knn_part_free(pt);
        return mc_fail(MC_ERR_NOMEM, "out of memory for a k-NN graph part of %zu x %zu", rows, k);
    }
    *out = pt;
    return MC_OK;
}

mc_status mc_knn_part_build(const mc_embeddings_t *e, const mc_knn_params *p, size_t shard,
                            size_t n_shards, mc_knn_part_t **out, mc_knn_info *info)
{
    mc_clear_error();
    if (!e || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_part_build");
    *out = NULL;
    if (info) memset(info, 0, sizeof *info);
    mc_knn_params par = p ? *p : mc_knn_params_default();
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    if (par.k == 0) return mc_fail(MC_ERR_INVALID_ARG, "k must be at least 1");
    if (par.k >= n)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "k = %zu neighbours needs more than %zu faces (k must be < N)", par.k, n);
    size_t first = 0, rows = 0;
    mc_status st = mc_knn_shard_rows(n, shard, n_shards, &first, &rows);
    if (st != MC_OK) return st;
    char spec[64];
    if (!par.index || !par.index[0] || strcmp(par.index, "auto") == 0)
        mc_knn_auto_index_dim(n, mc_embeddings_dim(e), spec, sizeof spec);
    else
        snprintf(spec, sizeof spec, "%s", par.index);
    int int8 = strcmp(spec, "Int8") == 0;
    if (strcmp(spec, "Flat") != 0 && !int8)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "index %s%s%s: a sharded search supports only the exhaustive indexes Flat "
                       "and Int8 (an "
                       "approximate index's rows depend on its training and on which faces are "
                       "searched together)",
                       par.index && par.index[0] ? "" : "auto = ", spec,
                       par.index && par.index[0] ? "" : " for this many faces");
    if (par.block_size == 0) par.block_size = 1024;

    size_t *cand = NULL, nc = n;
    if ((st = mc_knn_candidate_list(par.candidates, n, &cand, &nc)) != MC_OK) return st;
    /* Flat: the one-process search's query blocks that overlap the shard,
     * whole: each sgemm then sees the same operands as there, whatever the
     * BLAS kernel does with a block's size or a row's place in it. Int8:
     * exactly the shard's rows (a block of one), since its integer products
     * and each row's re-ranking do not depend on the rows searched beside
     * it. */
    size_t qb;
    if (int8)
        qb = 1;
    else
        qb = par.block_size < n ? par.block_size : n;
    size_t q0 = first / qb * qb, q1 = ((first + rows - 1) / qb + 1) * qb;
    if (q1 > n) q1 = n;
    size_t nq = q1 - q0;
    if ((st = mc_check_memory(NULL, "the k-NN graph part", nq, par.k,
                              sizeof(int64_t) + sizeof(float))) != MC_OK) {
        free(cand);
        return st;
    }
    mc_knn_part_t *pt = NULL;
    int64_t *ids = NULL;
    float *sims = NULL;
    if ((st = part_alloc(n, par.k, shard, n_shards, first, rows, &pt)) != MC_OK) goto done;
    if (nq == rows) {
        ids = pt->ids;
        sims = pt->sims;
    } else if (!(ids = mc_malloc_array(nq * par.k, sizeof *ids)) ||
               !(sims = mc_malloc_array(nq * par.k, sizeof *sims))) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for %zu x %zu rows of the k-NN graph", nq, par.k);
        goto done;
    }
    if (par.log) {
        char msg[200];
        snprintf(msg, sizeof msg, "knn: shard %zu of %zu, rows %zu to %zu of %zu, index %s",
                 shard, n_shards, first, first + rows - 1, n,
                 int8 ? "Int8 (8-bit exhaustive, re-ranked)" : "Flat (exact)");
        par.log(par.user_data, msg);
    }
    double t0 = mc_knn_now();
    const float *x = mc_embeddings_directions(e);
    mc_knn_exact_job j = {x + q0 * d, nq, x, n, cand, nc, d, par.k, q0, par.block_size, 0, 1,
                          par.n_threads, par.progress, par.progress_data};
    if ((st = int8 ? mc_knn_int8_search(&j, ids, sims) : mc_knn_exact_search(&j, ids, sims)) !=
        MC_OK)
        goto done;
    if (nq != rows) {
        memcpy(pt->ids, ids + (first - q0) * par.k, rows * par.k * sizeof *ids);
        memcpy(pt->sims, sims + (first - q0) * par.k, rows * par.k * sizeof *sims);
    }
    if (info) {
        snprintf(info->index, sizeof info->index, "%s", int8 ? "Int8" : "Flat");
        info->exact = !int8;
        info->n_candidates = nc;
        info->scan_frac = 1.0;
        info->t_search = mc_knn_now() - t0;
    }
done:
    if (ids != (pt ? pt->ids : NULL)) free(ids);
    if (sims != (pt ? pt->sims : NULL)) free(sims);
    free(cand);
    if (st != MC_OK) {
        mc_knn_part_free(pt);
        return st;
    }
    *out = pt;
    return MC_OK;
}

void mc_knn_part_free(mc_knn_part_t *part)
{
    if (!part) return;
    free(part->ids);
    free(part->sims);
    free(part);
}

size_t mc_knn_part_n(const mc_knn_part_t *part) { return part ? part->n : 0; }
size_t mc_knn_part_k(const mc_knn_part_t *part) { return part ? part->k : 0; }
size_t mc_knn_part_shard(const mc_knn_part_t *part) { return part ? part->shard : 0; }
size_t mc_knn_part_n_shards(const mc_knn_part_t *part) { return part ? part->n_shards : 0; }
size_t mc_knn_part_first_row(const mc_knn_part_t *part) { return part ? part->first : 0; }
size_t mc_knn_part_rows(const mc_knn_part_t *part) { return part ? part->rows : 0; }
const int64_t *mc_knn_part_ids(const mc_knn_part_t *part) { return part ? part->ids : NULL; }
const float *mc_knn_part_sims(const mc_knn_part_t *part) { return part ? part->sims : NULL; }
