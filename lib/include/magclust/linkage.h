/**
 * @file linkage.h
 * @brief Quality-aware agglomerative clustering on the sparse k-NN graph.
 *
 * @code
 * mc_linkage_params lp = mc_linkage_params_default();
 * lp.kind = MC_LINKAGE_AVERAGE;
 * lp.threshold = 0.375;                           // stop below this similarity
 * mc_clustering_t *c = NULL;
 * if (mc_linkage_run(g, mc_embeddings_quality(e), &lp, &c, NULL, NULL) != MC_OK) return 1;
 * mc_clustering_free(c);
 * @endcode
 *
 * Only core-quality faces (at or above the core gate) are merged, in the
 * usual agglomerative way: repeatedly the two clusters of highest linkage
 * similarity merge, until none reaches @c threshold. The similarity of two
 * faces is the cosine of their directions when the k-NN graph holds the pair
 * (in either direction) and 0 otherwise: face embeddings of different people
 * are near-orthogonal, so a pair beyond both faces' k nearest is treated as
 * unrelated. Single linkage takes the largest pair similarity between two
 * clusters, complete the smallest (so any pair missing from the graph blocks
 * the merge), average the mean over all |A| x |B| pairs. With k >= N-1 this
 * is exactly the textbook algorithm (tested against a brute-force one).
 *
 * Copies: core faces joined by a similarity of at least
 * 1 - MC_DUPLICATE_TOLERANCE (the same face imported twice, a burst of
 * identical frames) are one face seen several times. They form one cluster
 * from the start, and the pairs observed between two groups of copies stand
 * for all their pairs, so however many copies there are beyond k they are
 * not split (done only when @c threshold is at most 1 - the tolerance).
 *
 * Then every other face that passes the noise gate joins the cluster of its
 * most similar core neighbour, as a border face, when that similarity is at
 * least @c threshold; it never merges two clusters. The rest is noise.
 *
 * Cost: O(E log E) for E graph edges among core faces (a heap of cluster
 * pairs, hash maps of cluster neighbours, the smaller map merged into the
 * larger), no N x N matrix. Deterministic: equal similarities merge in order
 * of the smaller cluster index. Thread safety: may run concurrently on a
 * shared graph.
 */
#ifndef MAGCLUST_LINKAGE_H
#define MAGCLUST_LINKAGE_H

#include <stddef.h>

#include "clustering.h"
#include "knn.h"
#include "quality.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the similarity of two clusters follows from their faces'. */
typedef enum {
    MC_LINKAGE_SINGLE = 0,   /**< the most similar pair */
    MC_LINKAGE_AVERAGE = 1,  /**< the mean over all pairs (missing pairs count 0) */
    MC_LINKAGE_COMPLETE = 2  /**< the least similar pair */
} mc_linkage_kind;

/** @brief "single", "average", "complete" (or "unknown"). */
MC_API const char *mc_linkage_name(mc_linkage_kind k);
/** @brief Parse a linkage name. @return MC_OK or MC_ERR_INVALID_ARG. */
MC_API mc_status mc_linkage_parse(const char *name, mc_linkage_kind *out);

/** Parameters of quality-aware linkage. */
typedef struct {
    mc_linkage_kind kind;       /**< default average */
    double threshold;           /**< stop merging below this cosine similarity; default 0.5 */
    mc_threshold core_quality;  /**< only faces at or above it are merged; default p30
                                     (mc_cluster_params_default(MC_ALGO_LINKAGE), the recipe
                                     of `magclust cluster`, gates at p50) */
    mc_threshold noise_quality; /**< faces below it are noise; default off */
    int n_threads;              /**< for building the graph; <= 0 all cores */
} mc_linkage_params;

/** @brief Defaults listed above. */
MC_API mc_linkage_params mc_linkage_params_default(void);

/**
 * @brief Cluster a k-NN graph by quality-aware agglomeration.
 * @param quality  N values, or NULL when both gates are off.
 * @param out_core_q, out_noise_q  optional: the resolved gates (-INFINITY when off).
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_linkage_run(const mc_knn_graph_t *g, const float *quality,
                                const mc_linkage_params *p, mc_clustering_t **out,
                                double *out_core_q, double *out_noise_q);

#ifdef __cplusplus
}
#endif
#endif
