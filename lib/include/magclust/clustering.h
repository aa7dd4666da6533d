/**
 * @file clustering.h
 * @brief A clustering result: one cluster id and one role per face, and CSV I/O.
 *
 * @code
 * // c from mc_dbscan_run() on graph; e the embeddings it was computed on
 * printf("%zu clusters, %zu noise\n", mc_clustering_n_clusters(c), mc_clustering_n_noise(c));
 * if (mc_clustering_write_csv(c, e, "out.csv") != MC_OK) return 1;  // atomic
 * int64_t *pred = malloc(n * sizeof *pred);
 * mc_clustering_read_csv("out.csv", n, pred);   // cluster column back
 * mc_clustering_score(c, e, graph, 0);   // results of mc_cluster_run() come scored
 * const float *margin = mc_clustering_margins(c);      // how sure of each face
 * int64_t avatar = mc_clustering_representative(c, 0); // cluster 0's best face
 * mc_clustering_free(c);
 * @endcode
 *
 * Cluster ids run from 0 by decreasing cluster size (ties: the cluster whose
 * smallest member index is lower comes first); -1 is noise. Thread safety: a
 * result is immutable once made (mc_cluster_run() and mc_model_assign() hand
 * it over scored and named); calls on it may run concurrently, except the
 * setters (mc_clustering_set_names(), mc_clustering_score()).
 *
 * Confidence (mc_clustering_score(); every result of mc_cluster_run() and
 * mc_model_assign() has it): each cluster's centre is the normalised mean
 * of its core members' unit directions (all members' when none is core).
 * - similarity: the cosine of a face to its cluster's centre; for a face in
 *   no cluster, to the nearest centre among the clusters of its k-NN
 *   neighbours (NaN when none of them is in a cluster);
 * - margin: similarity minus the cosine to the best other cluster among the
 *   clusters of its neighbours (the similarity itself when no neighbour is
 *   in another cluster); NaN for a face in no cluster. A margin near 0 or
 *   below it is a face the clustering was unsure of: the one to ask about;
 * - representative of a cluster (its avatar): among the ceil(m/2) of its m
 *   members most similar to the centre, the one of highest quality, then
 *   highest similarity, then lowest index.
 * Deterministic and the same for any thread count; cost O(N D) plus one
 * inner product per face and distinct neighbouring cluster.
 */
#ifndef MAGCLUST_CLUSTERING_H
#define MAGCLUST_CLUSTERING_H

#include <stddef.h>
#include <stdint.h>

#include "embeddings.h"
#include "knn.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Similarities within this of 1 are the same direction: the clustering
 *  recipe caps its threshold at 1 - it (so "identical" survives float
 *  rounding), and linkage treats faces that close as one face seen several
 *  times (mc_linkage_run()). */
#define MC_DUPLICATE_TOLERANCE 1e-4

/** What part a face plays in its cluster. */
typedef enum {
    MC_ROLE_CORE = 0,   /**< dense, good enough to seed and link a cluster */
    MC_ROLE_BORDER = 1, /**< attached to a cluster by a core neighbour; links nothing */
    MC_ROLE_NOISE = 2,  /**< in no cluster (cluster -1) */
    MC_ROLE_UNASSIGNED = 3 /**< (assign) a new face no existing cluster took (cluster -1) */
} mc_role;

/** Opaque clustering result. */
typedef struct mc_clustering mc_clustering_t;

/** @brief "core", "border", "noise", "unassigned" (or "unknown"). */
MC_API const char *mc_role_name(mc_role r);

/**
 * @brief Build a result from labels (copied), renumbering clusters by decreasing size.
 * @param labels n cluster ids, any non-negative values; negative = noise.
 * @param roles  n roles, or NULL (then core for clustered faces, noise otherwise).
 */
MC_API mc_status mc_clustering_new(size_t n, const int64_t *labels, const uint8_t *roles,
                                   mc_clustering_t **out);
/**
 * @brief Build a result keeping the cluster ids as given (no renumbering),
 * e.g. the ids of a saved model; the number of clusters is the largest id + 1.
 * @param roles  n roles (any mc_role), or NULL (core for clustered faces, noise otherwise).
 */
MC_API mc_status mc_clustering_new_keep_ids(size_t n, const int64_t *labels, const uint8_t *roles,
                                            mc_clustering_t **out);
/** @brief Free; NULL-safe. */
MC_API void mc_clustering_free(mc_clustering_t *c);
/** @brief Number of faces. */
MC_API size_t mc_clustering_n(const mc_clustering_t *c);
/** @brief Number of clusters (ids 0 .. n_clusters-1). */
MC_API size_t mc_clustering_n_clusters(const mc_clustering_t *c);
/** @brief Number of faces labelled -1. */
MC_API size_t mc_clustering_n_noise(const mc_clustering_t *c);
/** @brief Number of faces with the given role. */
MC_API size_t mc_clustering_n_role(const mc_clustering_t *c, mc_role r);
/** @brief Cluster ids, n, -1 = noise; owned by @p c. */
MC_API const int64_t *mc_clustering_labels(const mc_clustering_t *c);
/** @brief Roles, n (values of mc_role); owned by @p c. */
MC_API const uint8_t *mc_clustering_roles(const mc_clustering_t *c);

/**
 * @brief Give clusters person names (copied), e.g. from corrections or a
 * previous run; the outputs then carry a `person` column (dataset).
 * Not safe while other threads read @p c.
 * @param names n_clusters entries indexed by cluster id, NULL = no name.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_clustering_set_names(mc_clustering_t *c, const char *const *names);
/** @brief The person name of cluster @p id, or NULL; owned by @p c. */
MC_API const char *mc_clustering_name(const mc_clustering_t *c, int64_t id);
/** @brief Whether names were set (the outputs have a person column). */
MC_API int mc_clustering_has_names(const mc_clustering_t *c);

/**
 * @brief Score every face's confidence and choose each cluster's
 * representative (the rules above), replacing any earlier scores.
 * Not safe while other threads read @p c.
 * @param e the embeddings the clustering was computed on, in the space its
 *          graph was built in (centred when the clustering centred them); same n.
 * @param g the k-NN graph of @p e: each face's candidate clusters are its
 *          neighbours' clusters. Not kept.
 * @param n_threads <= 0: all cores; the scores are the same for any count.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_DIM_MISMATCH, MC_ERR_NOMEM (the
 *         C x D centres above the memory limit too).
 */
MC_API mc_status mc_clustering_score(mc_clustering_t *c, const mc_embeddings_t *e,
                                     const mc_knn_graph_t *g, int n_threads);
/** @brief Whether the faces were scored (the outputs then have similarity,
 *  margin and representative columns). */
MC_API int mc_clustering_has_confidence(const mc_clustering_t *c);
/** @brief Each face's similarity to its cluster's centre (n; NaN: none), or
 *  NULL when not scored; owned by @p c. */
MC_API const float *mc_clustering_similarities(const mc_clustering_t *c);
/** @brief Each face's margin over the next-best cluster (n; NaN for a face in
 *  no cluster), or NULL when not scored; owned by @p c. */
MC_API const float *mc_clustering_margins(const mc_clustering_t *c);
/** @brief The face (index 0..n-1) representing cluster @p id, or -1 (not
 *  scored, no such cluster, or none of its faces in this result). */
MC_API int64_t mc_clustering_representative(const mc_clustering_t *c, int64_t id);

/**
 * @brief Write `index,path,cluster,role,quality`, one row per face in input
 * order, plus `person` when names were set, then `similarity,margin,
 * representative` when scored (similarity and margin empty where NaN,
 * representative 1 for each cluster's representative face, else 0).
 *
 * Fields are quoted as RFC 4180 requires. The file is written to a temporary
 * name in the same directory and renamed into place, so on failure no partial
 * file is left and an existing file at @p path is untouched.
 * @param e the embeddings the result was computed on (paths and quality); same n.
 * @return MC_OK, MC_ERR_DIM_MISMATCH, MC_ERR_IO.
 */
MC_API mc_status mc_clustering_write_csv(const mc_clustering_t *c, const mc_embeddings_t *e,
                                         const char *path);

/**
 * @brief Read the cluster column of a CSV prediction.
 *
 * The header must contain a `cluster` column; an `index` column, when present,
 * places each row (0 .. n-1, each exactly once), otherwise rows are in order.
 * RFC 4180 quoting, CRLF line ends and a UTF-8 BOM are accepted.
 * @param n           number of faces expected.
 * @param out_labels  caller-allocated, size n.
 * @return MC_OK, MC_ERR_IO, MC_ERR_BAD_DATA (detail gives the line), MC_ERR_DIM_MISMATCH.
 */
MC_API mc_status mc_clustering_read_csv(const char *path, size_t n, int64_t *out_labels);

/** One attribute recorded with a result: a number or a string. */
typedef struct {
    const char *name;
    const char *text; /**< a string attribute when non-NULL ... */
    double number;    /**< ... else this number */
} mc_attr;

/**
 * @brief Write the result to a new HDF5 file: `/cluster` (int64),
 * `/role` (an HDF5 enum of int8: core 0, border 1, noise 2, unassigned 3), `/quality`
 * (float32), when scored `/similarity`, `/margin` (float32, NaN where
 * undefined) and `/representative` (int8, 1 for each cluster's
 * representative face), and, when the embeddings have them, `/paths`; @p attrs become
 * attributes of the root group (the parameters used). The embeddings
 * themselves are not copied. Atomic, like mc_clustering_write_csv().
 * @param attrs    n_attrs attributes, or NULL.
 * @return MC_OK, MC_ERR_DIM_MISMATCH, MC_ERR_IO, MC_ERR_HDF5.
 */
MC_API mc_status mc_clustering_write_h5(const mc_clustering_t *c, const mc_embeddings_t *e,
                                        const char *path, const mc_attr *attrs, size_t n_attrs);

#ifdef __cplusplus
}
#endif
#endif
