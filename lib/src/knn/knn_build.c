/* The k-NN graph of a set of faces: the parameters, the automatic index
 * choice, the candidate set, and the dispatch to the exact search
 * (knn_exact.c), the 8-bit exhaustive one (knn_int8.c), our Cells index (knn_cells.c), hnswlib (knn_hnsw.c) or
 * FAISS (knn_faiss.c). */
#define _POSIX_C_SOURCE 200809L
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/knn.h"
#include "knn_impl.h"
#include "util_impl.h"

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
    mc_knn_auto_index_dim(n, 0, buf, size);
}

void mc_knn_auto_index_dim(size_t n, size_t d, char *buf, size_t size)
{
    mc_knn_auto_index_for(n, d, mc_knn_int8_fast(), buf, size);
}

void mc_knn_auto_index_for(size_t n, size_t d, int fast, char *buf, size_t size)
{
    if (!buf || size == 0) return;
    size_t pd = n <= MC_KNN_AUTO_PCA256_MAX ? 256 : 128;
    if (n <= MC_KNN_AUTO_FLAT_MAX || (n <= MC_KNN_AUTO_EXACT_MAX && !fast))
        snprintf(buf, size, "Flat");
    else if (n <= MC_KNN_AUTO_EXACT_MAX || (fast && d != 0 && d <= pd))
        snprintf(buf, size, "Int8");
    else if (fast)
        snprintf(buf, size, "PCA%zu,Int8", pd);
    else snprintf(buf, size, "Cells%zu", mc_knn_auto_cells(n));
}

int mc_knn_parse_cells(const char *spec, size_t *nlist)
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

/* "PCA<d>,Int8" (1) with d >= 4; 0 for a spec not starting "PCA<digit>"
 * (FAISS's "PCA64,IVF..." is FAISS's); -1 for a malformed one. */
static int parse_pca(const char *spec, size_t *dim)
{
    if (strncmp(spec, "PCA", 3) != 0 || spec[3] < '0' || spec[3] > '9') return 0;
    const char *p = spec + 3;
    size_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (size_t)(*p - '0');
        if (v > 1000000) return -1;
    }
    if (strncmp(p, ",Int8", 5) != 0) return 0;
    if (p[5] != '\0' || v < 4) return -1;
    *dim = v;
    return 1;
}

/* "HNSW" (1, *M 32) or "HNSW<M>" (1) with M in [2, 256]; 0 for any other
 * spec (a FAISS one such as "HNSW32,Flat"); -1 for a malformed HNSW spec. */
static int parse_hnsw(const char *spec, size_t *M)
{
    if (strncmp(spec, "HNSW", 4) != 0) return 0;
    const char *p = spec + 4;
    size_t v = 0;
    if (!*p) {
        *M = 32;
        return 1;
    }
    for (const char *c = p; *c; c++)
        if (*c < '0' || *c > '9') return *c == ',' || *c == '_' ? 0 : -1;
    for (; *p; p++) {
        v = v * 10 + (size_t)(*p - '0');
        if (v > 256) return -1;
    }
    if (v < 2) return -1;
    *M = v;
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

mc_status mc_knn_candidate_list(const uint8_t *flags, size_t n, size_t **out_cand, size_t *out_nc)
{
    *out_cand = NULL;
    *out_nc = n;
    if (!flags) return MC_OK;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) nc += flags[i] != 0;
    if (nc == 0) return mc_fail(MC_ERR_INVALID_ARG, "no face may be a neighbour (empty candidate set)");
    *out_nc = nc;
    if (nc == n) return MC_OK;
    size_t *cand = mc_malloc_array(nc, sizeof *cand);
    if (!cand) return mc_fail(MC_ERR_NOMEM, "out of memory for the candidate list");
    size_t a = 0;
    for (size_t i = 0; i < n; i++)
        if (flags[i]) cand[a++] = i;
    *out_cand = cand;
    return MC_OK;
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
        mc_knn_auto_index_dim(n, d, spec, sizeof spec);
    else if (strlen(par.index) >= sizeof spec)
        return mc_fail(MC_ERR_INVALID_ARG, "index description \"%.40s...\" is too long (max %zu)",
                       par.index, sizeof spec - 1);
    else
        snprintf(spec, sizeof spec, "%s", par.index);
    int exact = strcmp(spec, "Flat") == 0;
    int is_int8 = strcmp(spec, "Int8") == 0;
    size_t pca_dim = 0;
    int is_pca = parse_pca(spec, &pca_dim);
    if (is_pca < 0 || (is_pca && pca_dim >= d))
        return mc_fail(MC_ERR_INVALID_ARG,
                       "index \"%s\": expected PCA<d>,Int8 with d from 4 to the dimension - 1 (%zu)",
                       spec, d - 1);
    if (is_pca) is_int8 = 1;
    size_t cells = 0;
    int is_cells = mc_knn_parse_cells(spec, &cells);
    if (is_cells < 0)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "index \"%s\": expected Cells or Cells<nlist>, nlist a positive number",
                       spec);

    /* the faces that may be neighbours */
    size_t *cand = NULL, nc = n;
    mc_status cst = mc_knn_candidate_list(par.candidates, n, &cand, &nc);
    if (cst != MC_OK) return cst;
    size_t hnsw_m = 0;
    int is_hnsw = parse_hnsw(spec, &hnsw_m);
    if (is_hnsw < 0) {
        free(cand);
        return mc_fail(MC_ERR_INVALID_ARG,
                       "index \"%s\": expected HNSW or HNSW<M>, M from 2 to 256 links a face "
                       "(FAISS's HNSW: \"HNSW<M>,Flat\")",
                       spec);
    }
    if (is_hnsw) snprintf(spec, sizeof spec, "HNSW%zu", hnsw_m);
    if (is_cells && cells == 0) cells = mc_knn_auto_cells(nc);
    if (is_cells) snprintf(spec, sizeof spec, "Cells%zu", cells);
    if (info) {
        snprintf(info->index, sizeof info->index, "%s", spec);
        info->exact = exact;
        info->n_candidates = nc;
        info->scan_frac = exact || is_int8 ? 1.0 : 0.0;
    }
    if (par.log) {
        char msg[200];
        snprintf(msg, sizeof msg, "knn: index %s%s for %zu faces, %zu of them candidates", spec,
                 exact ? " (exact)" : is_int8 ? " (8-bit exhaustive, re-ranked)" : "", n, nc);
        par.log(par.user_data, msg);
    }

    mc_knn_graph_t *g = NULL;
    mc_status st = mc_knn_graph_alloc(n, par.k, &g);
    if (st != MC_OK) {
        free(cand);
        return st;
    }

    double t0 = mc_knn_now();
    const float *x = mc_embeddings_directions(e);
    if (exact) {
        mc_knn_exact_job j = {x, n, x, n, cand, nc, d, par.k, 0, par.block_size, 0, 1,
                              par.n_threads, par.progress, par.progress_data};
        st = mc_knn_exact_search(&j, mc_knn_graph_ids_mut(g), mc_knn_graph_sims_mut(g));
    } else if (is_int8) {
        mc_knn_exact_job j = {x, n, x, n, cand, nc, d, par.k, 0, 0, 0, 1,
                              par.n_threads, par.progress, par.progress_data};
        float *w = NULL;
        if (is_pca) {
            size_t ts = 0;
            st = mc_knn_pca_basis(x, d, cand, nc, pca_dim, par.seed, &w, &ts);
            if (info) {
                info->train_size = ts;
                info->t_train = mc_knn_now() - t0;
            }
        }
        if (st == MC_OK)
            st = mc_knn_int8_search_ex(&j, w, pca_dim, mc_knn_pca_candidates(par.k),
                                       mc_knn_graph_ids_mut(g), mc_knn_graph_sims_mut(g));
        free(w);
    } else if (is_cells) {
        st = mc_knn_cells(x, n, d, cand, nc, &par, cells, g, info);
    } else if (is_hnsw) {
        st = mc_knn_hnsw(x, n, d, cand, nc, &par, hnsw_m, g, info);
    } else {
        /* FAISS starts its own OpenMP regions, which take the calling
         * thread's nthreads-var: set it for this call only (it belongs to
         * this thread alone) */
        int saved_omp = omp_get_max_threads();
        if (par.n_threads > 0) omp_set_num_threads(par.n_threads);
        st = mc_knn_faiss(x, n, d, cand, nc, &par, spec, g, info);
        if (par.n_threads > 0) omp_set_num_threads(saved_omp);
    }
    free(cand);
    if (info && (exact || is_int8)) info->t_search = mc_knn_now() - t0 - info->t_train;
    if (st != MC_OK) {
        mc_knn_graph_free(g);
        return st;
    }
    *out = g;
    return MC_OK;
}

