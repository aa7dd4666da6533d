/**
 * @file model.h
 * @brief A saved clustering that places new faces later: `cluster
 * --save-model`, then `assign` (optionally `--update`).
 *
 * @code
 * // after clustering the (centred) embeddings e into c at threshold t:
 * mc_model_params mp = mc_model_params_default();
 * mp.threshold = t; mp.core_q = core_q; mp.noise_q = noise_q;
 * mp.center = mean;                               // what centring removed, or NULL
 * mc_model_t *m = NULL;
 * if (mc_model_build(e, c, &mp, &m) != MC_OK) return 1;
 * if (mc_model_write_h5(m, "faces.model.h5") != MC_OK) return 1;
 * // later, new faces e2 as read (the model centres a copy of them):
 * mc_clustering_t *c2 = NULL;
 * if (mc_model_assign(m, e2, NULL, &c2, NULL) != MC_OK) return 1;
 * // or fold them into m:  mc_model_update(m, e2, NULL, &c2, NULL)
 * @endcode
 *
 * What the model holds (all in the centred space the clustering ran in):
 * - per cluster (its id in the clustering, 0..C-1): the mean of its core
 *   faces' unit directions (not normalised: a face's inner product with it
 *   is its average cosine similarity to those faces, which is what average
 *   linkage compares with the threshold), the number of core faces and of
 *   all members, and the spread (mean cosine of the core faces to their
 *   normalised mean);
 * - every face of the collection (the reference faces; "exemplars" in the
 *   file): direction, cluster (-1 none), role, quality, path;
 * - the similarity threshold, the resolved core and noise quality gates
 *   (absolute values), the centring vector, the algorithm and the quality's
 *   name, so new faces are judged exactly as the collection was.
 *
 * Assignment rules, for each new face and its k most similar reference faces
 * (the model keeps every face of the collection, with its cluster and role;
 * k as in the clustering's graph):
 * - a face below the noise gate is noise;
 * - otherwise it joins the cluster of the most similar core face among those
 *   k when that similarity is at least the threshold: as a core face when its
 *   quality passes the core gate, else as a border face. This is the batch
 *   run's attachment rule; for core-quality faces it also matches what
 *   average linkage does with a face and a cluster (a face merges first with
 *   its nearest face, then rides along), closer than the face's average
 *   similarity to the whole cluster, which is stricter than any merge order
 *   (measured: scripts/bench/assign_split.py);
 * - the rest is unassigned (cluster -1, role MC_ROLE_UNASSIGNED): no
 *   existing cluster wants it.
 * mc_model_update() does the same, then clusters the unassigned faces
 * among themselves by average linkage with the model's threshold and gates
 * (an exact graph over those faces only): each cluster they form gets a new
 * id after the model's last; faces in no cluster after that are noise, as in
 * a batch run. Then every new face becomes a reference face, and the core
 * ones move their cluster's mean. The cost grows with the new faces times
 * the reference faces (one matrix product), not with a re-clustering of the
 * collection.
 *
 * File (format "magclust-model", version 1): HDF5 group /model with
 * attributes format, version, dim, threshold, k, core_q, noise_q (float64,
 * -inf when off), algorithm, quality_name, source; datasets /model/center
 * (D, absent when not centred), /model/clusters/mean (C x D float32),
 * /model/clusters/n_core, /model/clusters/n_members (C int64),
 * /model/clusters/spread (C float32), /model/exemplars/direction (E x D
 * float32), /model/exemplars/cluster (E int64), /model/exemplars/quality
 * (E float32), /model/exemplars/role (E uint8: core 0, border 1, noise 2),
 * /model/exemplars/path (E strings, absent without paths).
 *
 * Thread safety: a model is read-only except in mc_model_update(). Any
 * number of threads may call mc_model_assign() (it is const), the getters
 * and mc_model_constraints_new() on one model at once; mc_model_update()
 * needs the model to itself (no other call on it meanwhile). The file calls
 * (mc_model_read_h5(), mc_model_write_h5()) may run on several threads at
 * once only when the HDF5 library is built thread-safe.
 */
#ifndef MAGCLUST_MODEL_H
#define MAGCLUST_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "clustering.h"
#include "constraints.h"
#include "embeddings.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque model. */
typedef struct mc_model mc_model_t;

/** What mc_model_build() records besides the clusters. */
typedef struct {
    double threshold;         /**< cosine similarity to join (1 - eps); default 0.5 */
    size_t k;                 /**< neighbours per face of the clustering's graph; default 30 */
    double core_q, noise_q;   /**< resolved gates, absolute; -INFINITY when off (default) */
    const float *center;      /**< D floats removed by centring, or NULL (not centred) */
    const char *algorithm;    /**< recorded only; default "linkage" */
    const char *quality_name; /**< "magnitude" or the quality dataset's name; default "magnitude" */
    const char *source;       /**< the embeddings file, recorded only; may be NULL */
} mc_model_params;

/** @brief threshold 0.5, gates off, no centring, "linkage", "magnitude". */
MC_API mc_model_params mc_model_params_default(void);

/**
 * @brief Build a model from a clustering @p c of the embeddings @p e (the
 * centred directions the clustering ran on, with their quality).
 * Core faces are those with role MC_ROLE_CORE.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_DIM_MISMATCH, MC_ERR_NOMEM.
 */
MC_API mc_status mc_model_build(const mc_embeddings_t *e, const mc_clustering_t *c,
                                const mc_model_params *p, mc_model_t **out);

/** @brief Write to a new HDF5 file, atomically (temporary name, then rename). */
MC_API mc_status mc_model_write_h5(const mc_model_t *m, const char *path);

/**
 * @brief Read a model file, checking its format, version and every shape.
 * @return MC_OK, MC_ERR_IO, MC_ERR_HDF5, MC_ERR_BAD_DATA (detail says what), MC_ERR_NOMEM.
 */
MC_API mc_status mc_model_read_h5(const char *path, mc_model_t **out);

/** @brief Free; NULL-safe. */
MC_API void mc_model_free(mc_model_t *m);

/** @brief Embedding dimension D. */
MC_API size_t mc_model_dim(const mc_model_t *m);
/** @brief Number of clusters C (ids 0..C-1). */
MC_API size_t mc_model_n_clusters(const mc_model_t *m);
/** @brief Number of reference faces E (every face the model has seen). */
MC_API size_t mc_model_n_exemplars(const mc_model_t *m);
/** @brief The similarity threshold. */
MC_API double mc_model_threshold(const mc_model_t *m);
/** @brief The core gate (absolute; -INFINITY when off). */
MC_API double mc_model_core_q(const mc_model_t *m);
/** @brief The noise gate (absolute; -INFINITY when off). */
MC_API double mc_model_noise_q(const mc_model_t *m);
/** @brief The centring vector (D floats), or NULL when the model is not centred. */
MC_API const float *mc_model_center(const mc_model_t *m);
/** @brief The recorded algorithm name. */
MC_API const char *mc_model_algorithm(const mc_model_t *m);
/** @brief The recorded quality name ("magnitude" or a dataset name). */
MC_API const char *mc_model_quality_name(const mc_model_t *m);
/** @brief Members of cluster @p id when the model was built or last updated (0 when out of range). */
MC_API size_t mc_model_cluster_size(const mc_model_t *m, size_t id);
/** @brief The person cluster @p id is (from the clustering's names, or an
 * update's corrections), or NULL; owned by @p m. */
MC_API const char *mc_model_cluster_name(const mc_model_t *m, size_t id);
/** @brief Path of reference face @p i, or NULL (none recorded); owned by @p m. */
MC_API const char *mc_model_exemplar_path(const mc_model_t *m, size_t i);
/** @brief Cluster of every reference face (E values, -1 none); owned by @p m. */
MC_API const int64_t *mc_model_exemplar_clusters(const mc_model_t *m);
/** @brief Quality of every reference face (E values); owned by @p m. */
MC_API const float *mc_model_exemplar_quality(const mc_model_t *m);

/**
 * @brief Each cluster's representative reference face (its avatar), by the
 * rule of clustering.h over all the model's faces: of the half of a
 * cluster's members nearest its centre, the one of highest quality. The
 * model keeps every face, so this is not stored in the file; after
 * mc_model_update() it covers the new faces too. Cost O(E D).
 * @param out_faces caller-allocated, mc_model_n_clusters() entries: a
 *                  reference face index (mc_model_exemplar_path() names it),
 *                  or -1 for a cluster with no member.
 * @param n_threads <= 0: all cores; the same result for any count.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_model_representatives(const mc_model_t *m, int n_threads, int64_t *out_faces);

/** Parameters of mc_model_assign() and mc_model_update(). */
typedef struct {
    int n_threads;  /**< <= 0: all cores (default); the result is the same for any count */
    /** Checked constraints over E + n faces (the model's reference faces in
     * their order, then the new faces), e.g. from mc_model_constraints_new();
     * NULL (default): none. */
    const mc_constraints_t *constraints;
} mc_assign_params;

/** @brief All cores, no constraints. */
MC_API mc_assign_params mc_assign_params_default(void);

/** What an assignment did. */
typedef struct {
    size_t n_core, n_border;  /**< faces that joined existing clusters, by role (core: passes the core gate) */
    size_t n_unassigned;      /**< faces no existing cluster took (before any update) */
    size_t n_noise;           /**< faces below the noise gate, or left alone after an update */
    size_t n_new_clusters;    /**< clusters opened by the update */
    size_t n_new_clustered;   /**< faces in those clusters */
    mc_constraint_stats constraints; /**< what enforcing the constraints did (both passes) */
} mc_assign_stats;

/**
 * @brief Place every face of @p e by the rules above, without changing the
 * model or @p e. The result keeps the model's cluster ids (no renumbering).
 *
 * @p e holds the new faces as read (same D; its quality the model's
 * quality): when the model is centred, a private copy of their directions
 * (n x D floats) is centred by mc_model_center(), as the collection was;
 * @p e itself stays as it is. Embeddings centred already are refused when
 * the model is centred (centring twice would move them).
 *
 * With constraints, the model's faces are fixed: after the rules above, a new
 * face that may not share its cluster with a face there (a different person,
 * a "not this person", another face of its photo) and matches the cluster
 * worse is moved to its next-best existing cluster or left unassigned, and a
 * new face named as a cluster of the model, or linked to one of its faces,
 * joins that cluster (mc_constraints_apply() says how). No cluster is opened:
 * a named person in no cluster stays unassigned.
 * Violations between two faces of the model are left as they are
 * (stats->constraints.unresolved): re-cluster with the corrections.
 * The result carries names (a person column) when the model's clusters have
 * names or the constraints name a new face.
 *
 * The result is scored (clustering.h): each new face's similarity to its
 * cluster's centre as the model's reference faces give it (the normalised
 * mean of its core faces' directions), its margin over the best other
 * cluster among those of its k nearest reference faces, and each cluster's
 * representative among the new faces in it (-1 for a cluster none joined).
 *
 * Thread safety: const; any number of threads may assign with one model at
 * once (each with its own @p out and @p stats).
 * @param m      the model, read only.
 * @param e      the new faces (n x D), read only; not kept.
 * @param p      threads and constraints, or NULL for the defaults.
 * @param out    the new faces' clustering (n faces), the caller's to free;
 *               NULL on error.
 * @param stats  optional counts, taken on the final result.
 * @return MC_OK; MC_ERR_INVALID_ARG (a NULL argument, constraints over
 *         another number of faces than E + n, faces centred already);
 *         MC_ERR_DIM_MISMATCH; MC_ERR_NOMEM.
 */
MC_API mc_status mc_model_assign(const mc_model_t *m, const mc_embeddings_t *e,
                                 const mc_assign_params *p, mc_clustering_t **out,
                                 mc_assign_stats *stats);

/**
 * @brief Assign the faces of @p e as mc_model_assign() does, then fold them
 * into the model: the unassigned ones are clustered among themselves (rules
 * above), each cluster they form getting a new id from C on, and every new
 * face becomes a reference face of @p m.
 *
 * With constraints, they are enforced once more after the unassigned faces
 * have been clustered (neighbours now the k best of the model's faces and
 * the other new faces), and a named person who is in no cluster gets a new
 * one. Names found for unnamed clusters are kept in the model. The new
 * reference faces are stored centred, as the model's are; @p e stays as it
 * is.
 *
 * The result is scored as mc_model_assign()'s, against the updated model
 * (whose clusters now hold the new faces).
 *
 * Thread safety: changes @p m; no other call may use @p m meanwhile.
 * @param m      the model, updated.
 * @param e      the new faces (n x D) as read; not kept.
 * @param p      threads and constraints (over E + n faces), or NULL.
 * @param out    the new faces' clustering, the caller's to free; NULL on error.
 * @param stats  optional counts, taken on the final result.
 * @return MC_OK; MC_ERR_INVALID_ARG, MC_ERR_DIM_MISMATCH (refused as by
 *         mc_model_assign(), the model unchanged); MC_ERR_NOMEM (the model
 *         may then hold part of the update: free it).
 */
MC_API mc_status mc_model_update(mc_model_t *m, const mc_embeddings_t *e,
                                 const mc_assign_params *p, mc_clustering_t **out,
                                 mc_assign_stats *stats);

/**
 * @brief The constraints for assigning the faces of @p e with @p m: over the
 * model's E reference faces then e's n faces.
 *
 * - @p e's groups (a photo key): faces of one photo never share a cluster.
 *   The model keeps no photo ids, so this binds the new faces among
 *   themselves (a new photo's faces are all new).
 * - Each named cluster of the model: its best reference face carries the
 *   name, so a new face given another name never joins it.
 * - @p corrections (or NULL): mc_corrections_read() over the paths of the
 *   model's faces and the new ones, with the model's clusters as the
 *   previous result (`path,ID` and `path,!ID` name the model's cluster ids,
 *   `path,NAME` joins the cluster the model calls NAME).
 * The set is checked. Needs paths (the model's and e's) when @p corrections
 * is given.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_IO, MC_ERR_BAD_DATA (detail names
 *         the file and line), MC_ERR_NOMEM.
 */
MC_API mc_status mc_model_constraints_new(const mc_model_t *m, const mc_embeddings_t *e,
                                          const char *corrections, mc_constraints_t **out,
                                          mc_corrections_info *info);

#ifdef __cplusplus
}
#endif
#endif
