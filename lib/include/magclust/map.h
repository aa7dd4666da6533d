/**
 * @file map.h
 * @brief Quality-aware map-equation clustering (Rosvall & Bergstrom 2008) on a k-NN graph.
 *
 * @code
 * mc_map_params mp = mc_map_params_default();
 * mc_threshold_parse("p30", &mp.core_quality);   // the best 70% carry flow
 * mc_clustering_t *c = NULL;
 * mc_map_info info;
 * if (mc_map_run(g, mc_embeddings_quality(e), &mp, &c, &info) != MC_OK) return 1;
 * printf("%zu modules, %.3f bits (one module: %.3f)\n", info.modules, info.codelength,
 *        info.one_level);
 * mc_clustering_free(c);
 * @endcode
 *
 * The clusters are the modules of the partition that best compresses a
 * random walk on the faces: the two-level map equation, minimised by node
 * moves, module aggregation and fine-tuning (the search of the Infomap
 * papers, written from them). A walk that stays long within a group of faces
 * and rarely leaves it makes that group a module; no similarity threshold
 * decides where one person ends.
 *
 * The network (all of it from the k-NN graph):
 *  - nodes: the core faces (quality at or above the core gate, and above
 *    the noise gate);
 *  - links: face i to each of its first @c k graph neighbours j that is a
 *    core face with cosine similarity >= @c threshold, weighted
 *    w = exp((s - 1) / temperature) (temperature <= 0: w = s);
 *  - per-face cut (@c cut = MC_MAP_CUT_OUTLIER, FaceMap's outlier
 *    detection, Yu et al. 2022): along the face's k similarities, sorted,
 *    the drops between consecutive ones; a window of @c window drops slides
 *    from the end of the list to its head, and at each place the z-score of
 *    the window's mean drop against the drops from there to the end (their
 *    mean and standard deviation) is taken; the face keeps its neighbours
 *    down to the middle of the window of largest z-score: where the drops
 *    stop looking like the tail of strangers. The cut is found on the whole
 *    list, before the threshold and the gates remove links;
 *  - flow, undirected (default): a link listed from both ends weighs the sum
 *    of both; the walk visits a face in proportion to its total weight, and
 *    crosses each link equally in both directions;
 *  - flow, directed: the walk at i follows a link in proportion to its
 *    weight, and teleports with probability @c teleport to a core face
 *    chosen uniformly (PageRank); only link steps are encoded (unrecorded
 *    teleportation), so teleports never join modules.
 * Roles, as with the other algorithms: core faces are clustered by the map
 * equation. A core face the walk leaves alone in a module (no links, or too
 * weak ones) joins the cluster of its most similar core neighbour in a
 * module of several faces, with similarity >= @c attach_threshold (ties:
 * the lowest index), as a border face, or else stays a cluster of its own
 * (role core). Then any other face that passes the noise gate joins the
 * cluster of its most similar core neighbour (a lone one included) at
 * similarity >= @c attach_threshold, as a border face, so it never carries
 * flow between two clusters; the rest is noise.
 *
 * Cost: O(N k) per pass, a few passes per level, a few levels.
 * Deterministic: the result depends on the graph, the quality values and the
 * parameters (seed included) only, not on the thread count. Thread safety:
 * may run concurrently on a shared graph.
 */
#ifndef MAGCLUST_MAP_H
#define MAGCLUST_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "clustering.h"
#include "knn.h"
#include "quality.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the walk moves. */
typedef enum {
    MC_MAP_UNDIRECTED = 0, /**< symmetric links, flow proportional to a face's weight */
    MC_MAP_DIRECTED = 1    /**< links as the k-NN rows list them, PageRank with teleportation */
} mc_map_flow;

/** Which links each face keeps before the walk. */
typedef enum {
    MC_MAP_CUT_NONE = 0, /**< every link at or above the threshold */
    MC_MAP_CUT_OUTLIER = 1 /**< FaceMap's outlier detection on the sorted similarities */
} mc_map_cut;

/** Parameters of map-equation clustering. */
typedef struct {
    double threshold;           /**< minimum cosine similarity of a link, in [-1, 1].
                                     Default -1: every listed neighbour */
    double attach_threshold;    /**< minimum similarity for a face outside the modules to
                                     join one, in [-1, 1]; NAN: @c threshold. Default NAN */
    size_t k;                   /**< neighbours per face used, <= the graph's k; 0 = all. Default 0 */
    double temperature;         /**< link weight exp((s - 1) / temperature); <= 0: weight s
                                     (links with s <= 0 dropped). Default 0 */
    mc_map_cut cut;             /**< per-face cut. Default MC_MAP_CUT_OUTLIER */
    size_t window;              /**< MC_MAP_CUT_OUTLIER: drops per window; 0 = from the
                                     neighbours used, max(2, round(k / 6)): 5 at k 30, 10 at
                                     k 60. Default 0 */
    mc_map_flow flow;           /**< default MC_MAP_UNDIRECTED */
    double teleport;            /**< directed: teleportation probability in (0, 1). Default 0.15 */
    size_t trials;              /**< independent searches (visiting orders seed, seed + 1,
                                     ...), the shortest codelength wins, the first on a tie;
                                     run in parallel on n_threads. 0: from the network, as
                                     many as 2e7 link visits allow, 1 to 10 (10 up to 2
                                     million links). Default 0 */
    uint64_t seed;              /**< seed of the visiting order; any value. Default 1 */
    mc_threshold core_quality;  /**< quality a face needs to carry flow. Default p50 */
    mc_threshold noise_quality; /**< below this, a face is noise. Default off */
    int n_threads;              /**< OpenMP threads for building the network and sharing the
                                     trials; <= 0 means all cores. The result does not
                                     depend on it */
} mc_map_params;

/** What a run found. */
typedef struct {
    double core_q, noise_q; /**< the resolved gates; -INFINITY when off */
    size_t nodes;           /**< core faces (nodes of the network) */
    size_t links;           /**< links of the network (directed count; an undirected link is 2) */
    size_t modules;         /**< modules found among the core faces */
    size_t window;          /**< the outlier cut's window used; 0 with MC_MAP_CUT_NONE */
    size_t trials;          /**< the searches made (the trials asked for, or resolved from 0) */
    double codelength;      /**< bits per step of the walk with the modules found */
    double one_level;       /**< bits per step with one module for all (no structure) */
} mc_map_info;

/** @brief Defaults: every neighbour, weight = similarity, FaceMap's cut (window from k),
 *  undirected, trials from the network's size (10 up to 2 million links), seed 1,
 *  core gate p50, noise gate off, all cores. */
MC_API mc_map_params mc_map_params_default(void);

/**
 * @brief The trials a search makes when mc_map_params.trials is 0: as many
 * as a budget of 2e7 link visits a pass allows, at most 10, at least 1
 * (10 up to 2 million links, 5 at 4 million, 1 from 20 million).
 * @param links links of the network (mc_map_info.links).
 */
MC_API size_t mc_map_auto_trials(size_t links);

/**
 * @brief Cluster a k-NN graph with the map equation.
 * @param g        graph of N faces (not retained).
 * @param quality  N quality values, or NULL when both gates are off.
 * @param p        parameters; NULL for the defaults.
 * @param out      receives a new result owned by the caller.
 * @param info     optional: what was resolved and found.
 * @return MC_OK, MC_ERR_INVALID_ARG (NULL graph or result, threshold outside
 *         [-1, 1] or NaN, attach_threshold outside [-1, 1], k above the graph's, an unknown cut,
 *         teleport outside
 *         (0, 1), a gate set without quality, more than 2^32-1
 *         faces), MC_ERR_NOMEM.
 */
MC_API mc_status mc_map_run(const mc_knn_graph_t *g, const float *quality, const mc_map_params *p,
                            mc_clustering_t **out, mc_map_info *info);

/**
 * @brief The codelength of a given partition of the core faces, on the
 * network mc_map_run() would build with the same arguments.
 * @param labels  N module ids (any int64 values; those of faces that are
 *                not core are ignored).
 * @param out_L   receives bits per step.
 * @return as mc_map_run(), and MC_ERR_INVALID_ARG for NULL labels or out_L.
 */
MC_API mc_status mc_map_codelength(const mc_knn_graph_t *g, const float *quality,
                                   const mc_map_params *p, const int64_t *labels, double *out_L);

#ifdef __cplusplus
}
#endif
#endif
