/**
 * @file previous.h
 * @brief Stable cluster ids across runs: match a new clustering to a
 * previous result (CSV) by the faces they share, so ids and person names
 * carry over.
 *
 * @code
 * mc_previous_t *prev = NULL;
 * if (mc_previous_read_csv("old.csv", &prev) != MC_OK) return 1;
 * mc_previous_lookup(prev, n, paths, old_cluster, old_person, &found);
 * mc_carry_stats cs;
 * mc_previous_carry(prev, n, old_cluster, labels, new_labels, &cs);
 * printf("%zu kept, %zu merged, %zu split\n", cs.kept, cs.merged, cs.split);
 * mc_previous_free(prev);
 * @endcode
 *
 * Thread safety: a read result is immutable; calls on it may run concurrently.
 */
#ifndef MAGCLUST_PREVIOUS_H
#define MAGCLUST_PREVIOUS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque previous result. */
typedef struct mc_previous mc_previous_t;

/**
 * @brief Read a result CSV (as `magclust cluster -o` writes): a header with
 * `path` and `cluster` columns (cluster -1 = none), an optional `person`
 * column. RFC 4180 quoting.
 * `role`, `quality`, `similarity`, `margin` and `representative` columns
 * are read when present.
 * @return MC_OK, MC_ERR_IO, MC_ERR_BAD_DATA (detail names file and line), MC_ERR_NOMEM.
 */
MC_API mc_status mc_previous_read_csv(const char *path, mc_previous_t **out);
/**
 * @brief Read a result HDF5 file (as `magclust cluster -o x.h5` writes):
 * /cluster, and /paths, /role, /quality, /person, /similarity, /margin,
 * /representative when present (without
 * /paths every path is "").
 * @return MC_OK, MC_ERR_IO, MC_ERR_HDF5 (missing or malformed datasets), MC_ERR_NOMEM.
 */
MC_API mc_status mc_previous_read_h5(const char *path, mc_previous_t **out);
/** @brief By extension: .h5 / .hdf5 read as HDF5, anything else as CSV. */
MC_API mc_status mc_previous_read(const char *path, mc_previous_t **out);
/** @brief Free; NULL-safe. */
MC_API void mc_previous_free(mc_previous_t *p);
/** @brief Rows read. */
MC_API size_t mc_previous_n(const mc_previous_t *p);
/** @brief Row @p i: its path, cluster (-1 none), role (an mc_role, -1 when
 * the file has no role column), quality (NAN without a quality column) and
 * person (NULL none); strings owned by @p p. */
MC_API const char *mc_previous_path(const mc_previous_t *p, size_t i);
MC_API int64_t mc_previous_cluster(const mc_previous_t *p, size_t i);
MC_API int mc_previous_role(const mc_previous_t *p, size_t i);
MC_API float mc_previous_quality(const mc_previous_t *p, size_t i);
MC_API const char *mc_previous_person(const mc_previous_t *p, size_t i);
/** @brief Row @p i's confidence as the result recorded it (clustering.h):
 * its similarity to its cluster's centre and its margin over the next-best
 * cluster (NAN when unknown: an older result, or a face in no cluster), and
 * whether it is its cluster's representative (1 or 0; -1 when the result
 * has no such column). */
MC_API float mc_previous_similarity(const mc_previous_t *p, size_t i);
MC_API float mc_previous_margin(const mc_previous_t *p, size_t i);
MC_API int mc_previous_representative(const mc_previous_t *p, size_t i);
/** @brief The quality's name (HDF5 results record it), or NULL. */
MC_API const char *mc_previous_quality_name(const mc_previous_t *p);
/** @brief Distinct clusters (ids >= 0) in the file. */
MC_API size_t mc_previous_n_clusters(const mc_previous_t *p);
/** @brief The person name the previous result gave cluster @p id, or NULL; owned by @p p. */
MC_API const char *mc_previous_cluster_name(const mc_previous_t *p, int64_t id);

/**
 * @brief The previous cluster and person of each current face, by path.
 * @param paths        n current paths.
 * @param out_cluster  caller-allocated, n: previous cluster, -1 when the
 *                     face was in none or is new (or its path repeats).
 * @param out_person   caller-allocated, n, or NULL: previous person or NULL; owned by @p p.
 * @param out_found    faces found in the previous result, or NULL.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_previous_lookup(const mc_previous_t *p, size_t n, const char *const *paths,
                                    int64_t *out_cluster, const char **out_person, size_t *out_found);

/** How the new clusters relate to the previous ones. */
typedef struct {
    size_t kept;   /**< new clusters matched one-to-one to a previous cluster */
    size_t merged; /**< new clusters where most of two or more previous clusters went */
    size_t split;  /**< previous clusters that most of two or more new clusters came from */
    size_t added;  /**< new clusters sharing no face with any previous cluster */
    size_t gone;   /**< previous clusters sharing no face with any new cluster */
    size_t carried; /**< new clusters that took a previous id */
} mc_carry_stats;

/**
 * @brief Give the new clusters the previous ids they overlap most.
 *
 * Pairs (new, previous) are matched greedily by the number of faces they
 * share, largest first, each id used once; a new cluster left unmatched gets
 * a fresh id above every previous id, in the order of its current id.
 * @param prev_cluster n previous ids from mc_previous_lookup().
 * @param labels       n current cluster ids (-1 = none).
 * @param out_labels   caller-allocated, n (may be @p labels).
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_previous_carry(const mc_previous_t *p, size_t n, const int64_t *prev_cluster,
                                   const int64_t *labels, int64_t *out_labels, mc_carry_stats *out_stats);

#ifdef __cplusplus
}
#endif
#endif
