/* Approximate k-NN rows through the FAISS C API: any index_factory
 * string, trained on a seeded sample, searched in blocks. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>

#include "knn_impl.h"
#include "util_impl.h"

static mc_status faiss_fail(const char *what)
{
    const char *msg = faiss_get_last_error();
    return mc_fail(MC_ERR_FAISS, "%s: %s", what, msg ? msg : "unknown FAISS error");
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

size_t mc_knn_auto_nprobe(size_t nlist)
{
    size_t np = nlist / 32;
    if (np < 16) np = 16;
    if (np > nlist) np = nlist;
    return np;
}

/* The factory string to build: every product-quantizer stage "PQ<m>" or
 * "PQ<m>x<bits>" gets FAISS's "np" suffix unless it has it. Without it
 * FAISS also runs polysemous training (simulated annealing over the codes,
 * about a minute whatever the number of faces) for a Hamming pre-filter this
 * search never uses. Returns 0, or -1 when out does not hold the result. */
int mc_knn_faiss_spec(const char *spec, char *out, size_t size)
{
    size_t o = 0;
    for (const char *t = spec; *t;) {
        const char *e = strchr(t, ',');
        size_t len = e ? (size_t)(e - t) : strlen(t);
        int pq = len > 2 && t[0] == 'P' && t[1] == 'Q' && t[2] >= '0' && t[2] <= '9';
        for (size_t i = 2; pq && i < len; i++)
            if (!((t[i] >= '0' && t[i] <= '9') || t[i] == 'x')) pq = 0; /* "np" or other suffix */
        int w = snprintf(out + o, size - o, "%.*s%s%s", (int)len, t, pq ? "np" : "", e ? "," : "");
        if (w < 0 || (size_t)w >= size - o) return -1;
        o += (size_t)w;
        t += len + (e != NULL);
    }
    return 0;
}

mc_status mc_knn_faiss(const float *x, size_t n, size_t d, const size_t *cand, size_t nc,
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
    char built[96];
    if (mc_knn_faiss_spec(spec, built, sizeof built) != 0) {
        st = mc_fail(MC_ERR_INVALID_ARG, "index \"%s\" is too long", spec);
        goto done;
    }
    if (faiss_index_factory(&index, (int)d, built, METRIC_INNER_PRODUCT) != 0) {
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
        if (mc_progress_stop(par->progress, par->progress_data, "train", 0, m)) {
            st = mc_cancelled("train");
            goto done;
        }
        if (faiss_Index_train(index, (idx_t)m, tbuf) != 0) {
            st = faiss_fail("training the index");
            goto done;
        }
        free(tbuf);
        tbuf = NULL;
        if (mc_progress_stop(par->progress, par->progress_data, "train", m, m)) {
            st = mc_cancelled("train");
            goto done;
        }
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
        if (mc_progress_stop(par->progress, par->progress_data, "add", a0 + na, nc)) {
            st = mc_cancelled("add");
            goto done;
        }
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
            int64_t *gi = mc_knn_graph_ids_mut(g) + i * k;
            float *gs = mc_knn_graph_sims_mut(g) + i * k;
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
        if (mc_progress_stop(par->progress, par->progress_data, "search", b0 + nb, n)) {
            st = mc_cancelled("search");
            goto done;
        }
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

