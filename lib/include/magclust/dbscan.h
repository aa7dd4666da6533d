/**
 * @file dbscan.h
 * @brief Quality-aware DBSCAN on a k-NN graph.
 *
 * @code
 * mc_dbscan_params dp = mc_dbscan_params_default();
 * dp.eps = 0.55;                                  // cosine distance
 * mc_threshold_parse("p30", &dp.core_quality);   // only the best 70% may seed
 * mc_clustering_t *c = NULL;
 * if (mc_dbscan_run(g, mc_embeddings_quality(e), &dp, &c) != MC_OK) return 1;
 * mc_clustering_free(c);
 * @endcode
 *
 * Rules (distance = 1 - cosine similarity; a face's neighbourhood is itself
 * plus the graph neighbours within eps, read in both directions):
 *  - faces with quality below the noise gate are noise, whatever their
 *    neighbours, and do not count towards anyone's density;
 *  - a face is core when its neighbourhood has at least min_samples faces and
 *    its quality is at or above the core gate;
 *  - core faces within eps of each other share a cluster (transitively);
 *  - any other face within eps of a core face is a border face of the cluster
 *    of its most similar core neighbour (ties: the lowest face index): it never
 *    links two clusters;
 *  - the rest is noise.
 * With both gates off and complete neighbourhoods (k >= N-1) this is exactly
 * DBSCAN (Ester et al. 1996). With a capped k a face has at most k+1 faces in
 * its neighbourhood, so min_samples must be <= k+1, and an eps-edge that falls
 * beyond both faces' k nearest neighbours is not seen, which can split a
 * cluster that full DBSCAN would join; reading edges in both directions
 * recovers every edge within either endpoint's k nearest.
 *
 * Deterministic: the result depends on the graph and parameters only, not on
 * the thread count. Thread safety: may run concurrently on a shared graph.
 */
#ifndef MAGCLUST_DBSCAN_H
#define MAGCLUST_DBSCAN_H

#include <stddef.h>

#include "clustering.h"
#include "knn.h"
#include "quality.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parameters of quality-aware DBSCAN. */
typedef struct {
    double eps;                 /**< cosine distance radius, in [0, 2]. */
    size_t min_samples;         /**< faces (self included) for a core face, >= 1. */
    mc_threshold core_quality;  /**< quality a core face needs. */
    mc_threshold noise_quality; /**< below this, a face is noise. */
    int n_threads;              /**< OpenMP threads; <= 0 means all cores. */
} mc_dbscan_params;

/** @brief The defaults documented in `magclust cluster --help`. */
MC_API mc_dbscan_params mc_dbscan_params_default(void);

/**
 * @brief Cluster a k-NN graph.
 * @param g        graph of N faces (not retained).
 * @param quality  N quality values, or NULL when both gates are off.
 * @param p        parameters; NULL for the defaults.
 * @param out      receives a new result owned by the caller.
 * @param out_core_q, out_noise_q  optional: the resolved gates (-INFINITY when off).
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_dbscan_run(const mc_knn_graph_t *g, const float *quality,
                               const mc_dbscan_params *p, mc_clustering_t **out,
                               double *out_core_q, double *out_noise_q);

#ifdef __cplusplus
}
#endif
#endif
