/**
 * @file cw.h
 * @brief Quality-aware Chinese whispers (Biemann 2006) on a k-NN graph.
 *
 * @code
 * mc_cw_params cp = mc_cw_params_default();
 * cp.threshold = 0.5;                             // cosine similarity of an edge
 * mc_threshold_parse("p30", &cp.core_quality);   // only the best 70% vote
 * mc_clustering_t *c = NULL;
 * if (mc_cw_run(g, mc_embeddings_quality(e), &cp, &c, NULL, NULL) != MC_OK) return 1;
 * mc_clustering_free(c);
 * @endcode
 *
 * The graph: an edge joins faces i and j when the k-NN graph lists one in the
 * other's row with cosine similarity >= threshold, read in both directions
 * (a pair listed twice keeps the larger similarity); its weight is that
 * similarity, as dlib's chinese_whispers() weighs edges. Faces do not vote
 * for themselves (no self-loops).
 *
 * Rules (the same quality promise as mc_dbscan_run()):
 *  - faces with quality below the noise gate are noise and have no edges;
 *  - faces at or above the core gate are core faces. Only they run Chinese
 *    whispers, on the edges between core faces: each starts with a label of
 *    its own; in each round every core face, in a random order, takes the
 *    label with the largest total edge weight among its core neighbours (ties:
 *    the smallest label; a face with no core neighbour keeps its label). The
 *    updates are sequential, as in dlib. The run stops after @c iterations
 *    rounds, or earlier when a whole round changes no label: the labels are
 *    then a fixed point, and further rounds could not change them;
 *  - a core face with no edge to another core face keeps a cluster of its own
 *    (dlib's behaviour: an isolated node is a singleton cluster, not noise);
 *    its role is still core;
 *  - any other face that passes the noise gate joins the cluster of its most
 *    similar core neighbour over an edge (ties: the lowest face index) as a
 *    border face, so it never links two clusters;
 *  - the rest is noise (cluster -1).
 * Cluster ids are then renumbered by decreasing size (mc_clustering_new()).
 *
 * With positive weights (threshold > 0) every label change either raises the
 * total weight of edges inside clusters or keeps it and lowers a label, so the
 * rounds reach a fixed point (barring rounding), usually within a few dozen
 * rounds; a threshold <= 0 admits edges of zero or negative weight, which
 * count against a label, and the run may then use all @c iterations rounds.
 * Ties make the smallest label spread: on a ring of equal edges it takes the
 * whole ring. One round costs O(E) for E core-core edges.
 *
 * Deterministic: the result depends on the graph, the quality values and the
 * parameters (seed included) only, not on the thread count; the random order
 * comes from a generator private to the call, seeded with @c seed. Thread
 * safety: may run concurrently on a shared graph.
 */
#ifndef MAGCLUST_CW_H
#define MAGCLUST_CW_H

#include <stddef.h>
#include <stdint.h>

#include "clustering.h"
#include "knn.h"
#include "quality.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parameters of quality-aware Chinese whispers. */
typedef struct {
    double threshold;           /**< minimum cosine similarity of an edge, in [-1, 1]. Default 0.5. */
    size_t iterations;          /**< at most this many rounds, >= 1. Default 100, like dlib. */
    uint64_t seed;              /**< seed of the visiting order; any value. Default 1. */
    mc_threshold core_quality;  /**< quality a face needs to vote. Default p30. */
    mc_threshold noise_quality; /**< below this, a face is noise. Default off. */
    int n_threads;              /**< OpenMP threads for building the graph; <= 0 means all cores. */
} mc_cw_params;

/** @brief Defaults: threshold 0.5, 100 rounds, seed 1, core gate p30, noise gate off, all cores. */
MC_API mc_cw_params mc_cw_params_default(void);

/**
 * @brief Cluster a k-NN graph with Chinese whispers.
 * @param g        graph of N faces (not retained).
 * @param quality  N quality values, or NULL when both gates are off.
 * @param p        parameters; NULL for the defaults.
 * @param out      receives a new result owned by the caller.
 * @param out_core_q, out_noise_q  optional: the resolved gates (-INFINITY when off).
 * @return MC_OK, MC_ERR_INVALID_ARG (NULL graph or result, threshold outside
 *         [-1, 1] or NaN, iterations == 0, a gate set without quality, more
 *         than 2^32-1 faces), MC_ERR_NOMEM.
 */
MC_API mc_status mc_cw_run(const mc_knn_graph_t *g, const float *quality, const mc_cw_params *p,
                           mc_clustering_t **out, double *out_core_q, double *out_noise_q);

#ifdef __cplusplus
}
#endif
#endif
