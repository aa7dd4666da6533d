/**
 * @file constraints.h
 * @brief Must-link and cannot-link constraints (a user's corrections, faces
 * of one photo) and their enforcement on a clustering.
 *
 * @code
 * mc_constraints_t *cs = NULL;
 * mc_constraints_new(n, &cs);
 * mc_corrections_read(cs, "corrections.csv", paths, NULL, NULL, NULL, &info);
 * mc_constraints_set_groups(cs, photo, "photo key 'photo'");   // optional
 * if (mc_constraints_check(cs) != MC_OK) puts(mc_last_error_detail());
 * mc_constraints_apply(cs, &in, labels, roles, &stats);  // labels, roles in place
 * mc_constraints_free(cs);
 * @endcode
 *
 * Faces joined by must-links (`same`, or named alike) form a *unit*; units
 * joined by a cannot-link (`different`, named differently, `!person`, the
 * same photo) never share a cluster. mc_constraints_apply() first gathers
 * each unit into the cluster most of it is in (opening one when none of it
 * is clustered and it is named or larger than one face), then, for every
 * cluster holding two units that may not meet, keeps the unit that matches
 * the cluster better (the mean similarity of its three strongest k-NN links
 * into the cluster; named and confirmed units win over unconfirmed faces) and
 * moves the other to its next-best cluster (the best cluster among its k-NN
 * links at or above the threshold that holds nothing it may not meet, and
 * that it was not moved out of), or to noise. A named unit that has nowhere
 * to go gets a cluster of its own.
 *
 * Thread safety: a checked constraint set is read-only in apply(); several
 * apply() calls on different labels may run concurrently.
 */
#ifndef MAGCLUST_CONSTRAINTS_H
#define MAGCLUST_CONSTRAINTS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque constraint set over n faces. */
typedef struct mc_constraints mc_constraints_t;

/** @brief An empty set over @p n faces. @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_NOMEM. */
MC_API mc_status mc_constraints_new(size_t n, mc_constraints_t **out);
/** @brief Free; NULL-safe. */
MC_API void mc_constraints_free(mc_constraints_t *c);

/**
 * @brief Faces @p i and @p j are the same person.
 * @param source where the constraint comes from, for errors (e.g.
 *               "fix.csv: line 4"); copied.
 * @return MC_OK, MC_ERR_INVALID_ARG (index out of range), MC_ERR_NOMEM.
 */
MC_API mc_status mc_constraints_add_same(mc_constraints_t *c, size_t i, size_t j, const char *source);
/** @brief Faces @p i and @p j are different people. Same returns as add_same(). */
MC_API mc_status mc_constraints_add_different(mc_constraints_t *c, size_t i, size_t j,
                                              const char *source);
/**
 * @brief Face @p i is @p person (copied). Faces named alike are the same
 * person, faces named differently are not; the cluster keeps the name.
 * @return MC_OK, MC_ERR_BAD_DATA (the face already has another name; the
 *         detail names both sources), MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_constraints_add_name(mc_constraints_t *c, size_t i, const char *person,
                                         const char *source);
/** @brief Face @p i is not @p person: it never shares a cluster with a face
 * named @p person. Same returns as add_same(). */
MC_API mc_status mc_constraints_add_not_name(mc_constraints_t *c, size_t i, const char *person,
                                             const char *source);
/**
 * @brief Faces with the same non-negative @p group (e.g. one photo) are all
 * different people; negative = no group. Replaces an earlier call.
 * @param group n values; copied.
 * @param what  names the groups in errors, e.g. "photo key 'photo'"; copied.
 * @return MC_OK, MC_ERR_BAD_DATA (a group of more than 4096 faces: the key
 *         is probably not a photo), MC_ERR_NOMEM.
 */
MC_API mc_status mc_constraints_set_groups(mc_constraints_t *c, const int64_t *group, const char *what);

/**
 * @brief How errors name face i: "'text[i]'" (e.g. its path) instead of its
 * index. @p text (n strings, none NULL) is borrowed: it must stay valid until
 * mc_constraints_check() returns. NULL: indices.
 */
MC_API void mc_constraints_set_face_text(mc_constraints_t *c, const char *const *text);

/**
 * @brief Resolve the units and look for contradictions: a cannot-link (or
 * two names) inside one unit. Must be called after the last add and before
 * apply().
 * @return MC_OK, MC_ERR_BAD_DATA (the detail names the lines that
 *         contradict each other), MC_ERR_NOMEM.
 */
MC_API mc_status mc_constraints_check(mc_constraints_t *c);

/** @brief Number of faces. */
MC_API size_t mc_constraints_n(const mc_constraints_t *c);
/** @brief Number of must-links, cannot-links (group pairs included) and named faces added. */
MC_API size_t mc_constraints_n_same(const mc_constraints_t *c);
MC_API size_t mc_constraints_n_different(const mc_constraints_t *c);
MC_API size_t mc_constraints_n_named(const mc_constraints_t *c);
/** @brief The person face @p i is (its own name or its unit's), or NULL;
 * valid after check(), owned by @p c. */
MC_API const char *mc_constraints_name(const mc_constraints_t *c, size_t i);

/** What apply() works with. */
typedef struct {
    size_t k;              /**< neighbours per face in nbr / nbr_sim */
    size_t nbr_first;      /**< nbr has rows for faces nbr_first..n-1 only (0: every face) */
    const int64_t *nbr;    /**< (n - nbr_first) x k nearest faces (-1 = none), e.g. the k-NN graph */
    const float *nbr_sim;  /**< (n - nbr_first) x k their similarities */
    double threshold;      /**< least similarity of a link to a next-best cluster */
    const uint8_t *fixed;  /**< n flags or NULL: faces that may not move (a model's faces) */
    uint8_t moved_out_role; /**< the role of a face left in no cluster (MC_ROLE_NOISE, or
                                 MC_ROLE_UNASSIGNED for assign) */
    int no_new_clusters;   /**< never open a cluster (assign: new ids belong to an update) */
} mc_constraint_input;

/** What apply() did. */
typedef struct {
    size_t violations;   /**< pairs of units that may not meet found in one cluster */
    size_t moved;        /**< faces moved to another cluster to resolve them */
    size_t to_noise;     /**< faces moved out to no cluster */
    size_t gathered;     /**< faces pulled into their unit's cluster */
    size_t new_clusters; /**< clusters opened for named or linked units */
    size_t unresolved;   /**< violations between fixed faces, left as they are */
} mc_constraint_stats;

/**
 * @brief Enforce the constraints on a clustering, in place.
 * @param labels n cluster ids (-1 = none), in/out; new clusters take ids
 *               above the largest given.
 * @param roles  n roles, in/out: a face gathered into a cluster from none
 *               becomes border; a face moved out gets in->moved_out_role.
 * @return MC_OK, MC_ERR_INVALID_ARG (not checked, or sizes), MC_ERR_NOMEM.
 */
MC_API mc_status mc_constraints_apply(const mc_constraints_t *c, const mc_constraint_input *in,
                                      int64_t *labels, uint8_t *roles, mc_constraint_stats *out_stats);

/** What mc_corrections_read() found. */
typedef struct {
    size_t lines;     /**< corrections read */
    size_t unknown;   /**< lines naming a path that is not among the faces (ignored) */
    size_t named, not_named, same, different; /**< lines of each kind applied */
} mc_corrections_info;

/**
 * @brief Read a corrections file into @p c.
 *
 * CSV (RFC 4180 quoting; blank lines and lines starting with '#' skipped; an
 * optional header `path,person` or `path_a,path_b,relation`), one correction
 * per line:
 *  - `path,NAME`: the face is NAME (name or confirm);
 *  - `path,!NAME`: the face is not NAME;
 *  - `path,ID` / `path,!ID` (an integer): the face is / is not the person
 *    of cluster ID of the previous result (needs @p prev_cluster): it joins
 *    that cluster's best face, or never meets its faces;
 *  - `pathA,pathB,same` or `pathA,pathB,different`.
 * A NAME that the previous result gave to a cluster (@p prev_person) also
 * links to that cluster, as an ID would.
 * @param paths        n face paths (the lookup key); paths named in the file
 *                     must be unique among them.
 * @param quality      n qualities or NULL: picks a previous cluster's best face.
 * @param prev_cluster n previous cluster ids (-1 = none) or NULL.
 * @param prev_person  n previous person names (NULL or "" = none) or NULL.
 * @return MC_OK, MC_ERR_IO, MC_ERR_BAD_DATA (detail names the file and
 *         line), MC_ERR_NOMEM.
 */
MC_API mc_status mc_corrections_read(mc_constraints_t *c, const char *file, const char *const *paths,
                                     const float *quality, const int64_t *prev_cluster,
                                     const char *const *prev_person, mc_corrections_info *out_info);

#ifdef __cplusplus
}
#endif
#endif
