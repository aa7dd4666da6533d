/**
 * @file knn.h
 * @brief Exact k-nearest-neighbour graph over unit directions (FAISS IndexFlatIP).
 *
 * @code
 * mc_knn_params kp = mc_knn_params_default();
 * kp.k = 30;
 * mc_knn_graph_t *g = NULL;
 * if (mc_knn_graph_build(e, &kp, &g) != MC_OK) return 1;
 * const int64_t *ids = mc_knn_graph_ids(g);    // n*k, -1 padded
 * const float *sims = mc_knn_graph_sims(g);    // n*k cosine similarities
 * mc_knn_graph_free(g);
 * @endcode
 *
 * Row i lists the k faces most similar to face i, itself excluded, sorted by
 * decreasing similarity and, among equal similarities, by increasing id, so a
 * graph does not depend on the thread count. Thread safety: a built graph is
 * immutable; its getters may run concurrently.
 */
#ifndef MAGCLUST_KNN_H
#define MAGCLUST_KNN_H

#include <stddef.h>
#include <stdint.h>

#include "embeddings.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque k-NN graph: N rows of k (id, similarity) pairs. */
typedef struct mc_knn_graph mc_knn_graph_t;

/** Parameters of the k-NN search. */
typedef struct {
    size_t k;           /**< neighbours per face, self excluded; 1 <= k < N. Default 30. */
    size_t block_size;  /**< queries per FAISS call; bounds scratch memory to block*(k+1)*12 bytes. Default 4096. */
    int n_threads;      /**< OpenMP threads for the search; <= 0 means all cores. Default 0. */
    mc_log_fn log;      /**< optional progress messages */
    void *user_data;    /**< passed to log */
} mc_knn_params;

/** @brief Defaults: k = 30, block_size = 4096, all cores, no log. */
MC_API mc_knn_params mc_knn_params_default(void);

/**
 * @brief Exact inner-product search of every face against all faces.
 * @param e    embeddings (directions are used; not retained).
 * @param p    parameters; NULL for the defaults.
 * @param out  receives a new graph owned by the caller.
 * @return MC_OK, MC_ERR_INVALID_ARG (k == 0 or k >= N), MC_ERR_FAISS, MC_ERR_NOMEM.
 */
MC_API mc_status mc_knn_graph_build(const mc_embeddings_t *e, const mc_knn_params *p,
                                    mc_knn_graph_t **out);

/**
 * @brief Build a graph from arrays (copied), e.g. one computed elsewhere.
 * Rows are re-sorted into the canonical order; ids must be in [-1, n).
 * @param ids   n*k neighbour ids (-1 = none).
 * @param sims  n*k similarities.
 */
MC_API mc_status mc_knn_graph_new(size_t n, size_t k, const int64_t *ids, const float *sims,
                                  mc_knn_graph_t **out);

/** @brief Free; NULL-safe. */
MC_API void mc_knn_graph_free(mc_knn_graph_t *g);
/** @brief Number of faces N. */
MC_API size_t mc_knn_graph_n(const mc_knn_graph_t *g);
/** @brief Neighbours per face k. */
MC_API size_t mc_knn_graph_k(const mc_knn_graph_t *g);
/** @brief Neighbour ids, N*k row-major, -1 where a row has fewer than k. */
MC_API const int64_t *mc_knn_graph_ids(const mc_knn_graph_t *g);
/** @brief Cosine similarities, N*k, aligned with the ids. */
MC_API const float *mc_knn_graph_sims(const mc_knn_graph_t *g);

#ifdef __cplusplus
}
#endif
#endif
