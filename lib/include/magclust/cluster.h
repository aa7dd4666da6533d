/**
 * @file cluster.h
 * @brief The whole clustering recipe in one call: what `magclust cluster` does.
 *
 * @code
 * mc_embeddings_t *e = NULL;
 * mc_cluster_result_t *r = NULL;
 * if (mc_embeddings_read_h5("faces.h5", NULL, &e) != MC_OK) return 1;
 * mc_cluster_params p = mc_cluster_params_default(MC_ALGO_DEFAULT);  // map
 * if (mc_cluster_run(e, NULL, &p, &r) != MC_OK) return 1;  // centres e in place
 * const mc_cluster_info *info = mc_cluster_result_info(r);
 * printf("threshold %.4f\n", info->threshold);            // chosen from the data
 * mc_clustering_write_csv(mc_cluster_result_clustering(r), e, "clusters.csv");
 * mc_cluster_result_free(r); mc_embeddings_free(e);
 * @endcode
 *
 * The recipe, in order:
 *  1. constraints: with @c corrections, @c previous or photo groups in the
 *     embeddings (mc_h5_read_params.group_key), they are read and checked
 *     first, so that a bad file fails before the search;
 *  2. centring (@c center): the mean direction of the faces whose quality is
 *     at or above the calibration gate (the better half by default) is
 *     removed from every direction, in place (mc_embeddings_center_ex());
 *  3. the k-NN graph (@c knn), or the one the caller gives;
 *  4. calibration (mc_calibrate()) on the same faces;
 *  5. the similarity threshold: fixed, or
 *     max(median + frac (nn_median - median), median + z mad) with the
 *     algorithm's constants (mc_calibration_threshold());
 *  6. the gates (core, noise) resolved to values, and the algorithm: linkage
 *     (mc_linkage_run()), DBSCAN at eps = 1 - threshold (mc_dbscan_run()) or
 *     Chinese whispers (mc_cw_run()); the same threshold in each;
 *  6b. clusters smaller than @c min_cluster_size turned to noise;
 *  7. the constraints enforced (mc_constraints_apply(); clusters renumbered
 *     by size), then the ids and names of the previous result carried over
 *     (mc_previous_carry()), and clusters named from the corrections;
 *  8. every face scored (similarity to its cluster's centre, margin over
 *     the next-best cluster) and each cluster's representative chosen
 *     (mc_clustering_score() on the graph above).
 * Everything resolved on the way (threshold and how it was chosen, the
 * calibration, the gates as values, the centring vector, the index used,
 * what the constraints did, seconds per phase) is in mc_cluster_info.
 *
 * mc_cluster_prepare() runs steps 1 to 4 only; mc_cluster_again() runs
 * steps 5 to 8 on a prepared (or finished) result with other settings,
 * without searching or centring again (a sweep, a second algorithm).
 *
 * The results depend on the embeddings and the parameters only, not on the
 * thread count. Thread safety: different embeddings may be clustered at the
 * same time; one embeddings object must not be used by another thread while
 * mc_cluster_run() or mc_cluster_prepare() centres it. A result is
 * immutable; its getters and mc_cluster_again() may run concurrently.
 */
#ifndef MAGCLUST_CLUSTER_H
#define MAGCLUST_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "calibrate.h"
#include "clustering.h"
#include "constraints.h"
#include "embeddings.h"
#include "knn.h"
#include "linkage.h"
#include "map.h"
#include "model.h"
#include "previous.h"
#include "quality.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The clustering algorithms (the order of `magclust sweep`'s rows). */
typedef enum {
    MC_ALGO_DBSCAN = 0,  /**< quality-aware DBSCAN (mc_dbscan_run()) */
    MC_ALGO_LINKAGE = 1, /**< quality-aware agglomerative clustering (mc_linkage_run()) */
    MC_ALGO_CW = 2,      /**< quality-aware Chinese whispers (mc_cw_run()) */
    MC_ALGO_MAP = 3      /**< quality-aware map equation (mc_map_run()) */
} mc_algo;

/** Number of mc_algo values. */
#define MC_ALGO_COUNT 4
/** The algorithm `magclust cluster` runs when none is named, and
 *  mc_cluster_run() with NULL parameters: the map equation, the default
 *  that held best on every model measured (README, Results) */
#define MC_ALGO_DEFAULT MC_ALGO_MAP

/** @brief "dbscan", "linkage", "cw", "map" (or "unknown"). */
MC_API const char *mc_algo_name(mc_algo a);
/** @brief Parse an algorithm name. @return MC_OK or MC_ERR_INVALID_ARG (detail names the choices). */
MC_API mc_status mc_algo_parse(const char *name, mc_algo *out);

/** How the similarity threshold is chosen. */
typedef enum {
    MC_THRESHOLD_AUTO = 0, /**< calibrated from the data with @c frac and @c z */
    MC_THRESHOLD_FIXED = 1 /**< the given @c similarity */
} mc_threshold_mode;

/** The similarity threshold: a fixed value, or the calibration rule. */
typedef struct {
    mc_threshold_mode mode; /**< default MC_THRESHOLD_AUTO */
    double similarity;      /**< FIXED: cosine similarity in [-1, 1] (DBSCAN's eps is 1 - it) */
    double frac;            /**< AUTO: fraction of the way from random pairs to nearest
                                 neighbours, in [0, 1]; default per algorithm */
    double z;               /**< AUTO: robust deviations above random pairs; default per algorithm */
    double ungated_frac;    /**< AUTO: the frac used instead when no core gate applies (the
                                 quality check dropped it, or it is off); NAN: @c frac.
                                 Default 0.65 cw, 0.80 DBSCAN (which chain through
                                 low-quality faces without a gate), NAN linkage and map */
    double attach_frac;     /**< map, AUTO: frac of the threshold at which a face outside the
                                 modules may join one; default 0.45 (linkage's) */
    double attach_z;        /**< map, AUTO: its z; default 2.5 (linkage's) */
} mc_threshold_spec;

/** The calibration rests on fewer than this many faces (mc_cluster_info). */
#define MC_CALIBRATION_MIN_FACES 20
/** calibration_doubts: too few faces to calibrate on (< MC_CALIBRATION_MIN_FACES). */
#define MC_CALIBRATION_FEW_FACES 1u
/** calibration_doubts: nearest neighbours are no closer than random pairs
 *  plus one robust deviation (the model barely separates people, or nearly
 *  every face is a different person). */
#define MC_CALIBRATION_NN_NOT_CLOSER 2u

/** Whether the quality gates depend on the quality check (mc_quality_check()). */
typedef enum {
    MC_QUALITY_AUTO = 0, /**< gate as specified when the quality is informative; when it is
                              not, every face may seed and link (both gates off), as is
                              right for faces without a quality */
    MC_QUALITY_GATE = 1  /**< gate as specified, whatever the check says */
} mc_quality_use;

/** Everything mc_cluster_run() needs besides the embeddings. */
typedef struct {
    mc_algo algo;                /**< default: the one given to mc_cluster_params_default() */
    int center;                  /**< remove the good faces' mean direction first; default 1 */
    mc_knn_params knn;           /**< the k-NN search (its n_threads, progress are overridden
                                      by this struct's); k 30, 60 for MC_ALGO_MAP */
    mc_calibrate_params calibrate; /**< the calibration sample; its gate also picks the faces
                                        that centring averages (default p50) */
    mc_threshold_spec threshold; /**< default: AUTO with the algorithm's constants */
    mc_threshold core_quality;   /**< gate to seed and link clusters; default p50 for
                                      linkage, p30 for dbscan and cw */
    mc_threshold noise_quality;  /**< below it a face is noise; default off */
    mc_quality_use quality_use;  /**< default MC_QUALITY_AUTO: the gates apply only when the
                                      quality check finds the quality informative */
    double core_slope;           /**< with MC_QUALITY_AUTO and an informative quality, when > 0:
                                      the core gate is the percentile min(100, core_slope x
                                      rho), rounded to a whole percent, of the quality
                                      check's rho instead of core_quality
                                      (the more the quality tells, the more faces it bars from
                                      linking). Default 85 for map, 0 (off) otherwise */
    mc_linkage_kind linkage;     /**< linkage: default average */
    size_t min_samples;          /**< dbscan: faces within eps, self included (<= k + 1) */
    uint64_t seed;               /**< cw: seed of the visiting order; default 1 */
    size_t min_cluster_size;     /**< clusters the algorithm makes with fewer faces become
                                      noise, before the constraints (which may still open a
                                      cluster of one named face); 0 or 1: off (default) */
    size_t iterations;           /**< cw: rounds at most; default 100 */
    mc_map_params map;           /**< map: the network and the search (mc_map_params_default());
                                      its threshold, gates, seed and n_threads are this
                                      struct's */
    const char *corrections;     /**< a corrections CSV (mc_corrections_read()), or NULL;
                                      needs paths in the embeddings */
    const char *previous;        /**< a previous result, CSV or HDF5 (mc_previous_read()),
                                      or NULL: its ids and names are carried over */
    int n_threads;               /**< threads for every phase; <= 0 means all cores */
    mc_progress_fn progress;     /**< optional progress of the search, from the calling
                                      thread; non-zero cancels the run (MC_ERR_CANCELLED) */
    void *progress_data;         /**< passed to progress */
    int score;                   /**< score every face (similarity, margin) and pick each
                                      cluster's representative (clustering.h); default 1.
                                      0 skips it: the outputs then lack those columns, as a
                                      sweep that only counts agreement with labels needs */
    int contested;               /**< a border face whose direction is nearer the centre of
                                      another cluster (one of its neighbours') than its own
                                      cluster's (margin < 0, clustering.h) becomes noise:
                                      1 (default) or 0 (kept). Before min_cluster_size and
                                      the constraints */
} mc_cluster_params;

/**
 * @brief The defaults of `magclust cluster --algo A`: the algorithm's
 * calibration constants and core gate, and every other module's defaults.
 */
MC_API mc_cluster_params mc_cluster_params_default(mc_algo a);

/** What a run resolved and measured. */
typedef struct {
    mc_algo algo;                  /**< the algorithm run (that of the last step run) */
    mc_threshold_mode threshold_mode; /**< how the threshold was chosen */
    double threshold;              /**< the similarity threshold in effect (eps = 1 - it) */
    double attach_threshold;       /**< map: the similarity a face needs to join a module from
                                        outside it (the threshold itself when fixed) */
    double frac, z;                /**< the calibration constants in effect (recorded also
                                        when the threshold was fixed) */
    int frac_ungated;              /**< frac is the threshold's ungated_frac: no core gate */
    mc_calibration calibration;    /**< what the calibration measured */
    mc_threshold core_quality, noise_quality; /**< the gates in effect: as specified, or off
                                                   when gates_dropped */
    int quality_checked;           /**< quality_check holds the check (the embeddings have a
                                        quality and at least 3 faces a neighbour) */
    mc_quality_check_result quality_check; /**< does the quality mean something? */
    unsigned calibration_doubts;   /**< why the automatic threshold may be off: a mask of
                                        MC_CALIBRATION_FEW_FACES, MC_CALIBRATION_NN_NOT_CLOSER */
    int gates_dropped;             /**< the gates were turned off: MC_QUALITY_AUTO and the
                                        quality check found the quality uninformative */
    double core_q, noise_q;        /**< the gates as values; -INFINITY when off */
    int centered;                  /**< the directions were centred */
    double center_shift;           /**< norm of the removed mean; NAN when not centred */
    size_t k;                      /**< neighbours per face in the graph */
    size_t k_asked;                /**< knn.k as asked: more than k when the collection has
                                        no more than k faces (k becomes N - 1) */
    mc_knn_info knn;               /**< the index used (given graph: index "given") */
    int graph_given;               /**< the caller gave the graph */
    int constraints_applied;       /**< corrections or photo groups were enforced */
    size_t photo_pairs;            /**< pairs of faces that share a photo */
    mc_corrections_info corrections; /**< what the corrections file held */
    mc_constraint_stats constraints; /**< what enforcing them did */
    mc_carry_stats carry;          /**< how the clusters relate to the previous ones */
    size_t previous_found;         /**< faces found in the previous result */
    size_t previous_rows;          /**< rows of the previous result */
    size_t named_clusters;         /**< clusters with a person name */
    mc_map_info map;               /**< map: the network and the codelength found */
    size_t small_clusters;         /**< clusters below min_cluster_size, turned to noise */
    size_t small_cluster_faces;    /**< their faces */
    double t_prepare;              /**< seconds: constraints read, centring, graph, calibration */
    double t_cluster;              /**< seconds: the algorithm and the constraints */
    size_t contested;              /**< border faces nearer another cluster's centre than
                                        their own, turned to noise (contested = 1) */
} mc_cluster_info;

/** Opaque result of mc_cluster_run(). */
typedef struct mc_cluster_result mc_cluster_result_t;

/**
 * @brief Cluster the faces of @p e: the recipe above.
 * @param e      the faces; their directions are centred in place when
 *               @c center is on (a second run on the same object is refused
 *               with MC_ERR_INVALID_ARG: use mc_cluster_again()).
 * @param graph  a k-NN graph of @p e, built as params->center says (e.g. read
 *               with mc_knn_graph_read_h5()), or NULL to search. Not copied:
 *               it must outlive the result.
 * @param p      NULL: mc_cluster_params_default(MC_ALGO_DEFAULT).
 * @param out    receives the result, owned by the caller.
 * @return MC_OK; MC_ERR_INVALID_ARG (bad parameters, graph of another size,
 *         min_samples > k + 1, corrections or previous without paths);
 *         MC_ERR_NOMEM; MC_ERR_BAD_DATA, MC_ERR_IO, MC_ERR_HDF5 (the
 *         constraint files, or too few good faces to calibrate); MC_ERR_FAISS;
 *         MC_ERR_CANCELLED when p->progress returned non-zero (no result;
 *         @p e may be centred already, as after any failure past the
 *         centring, so a retry takes fresh embeddings).
 */
MC_API mc_status mc_cluster_run(mc_embeddings_t *e, const mc_knn_graph_t *graph,
                                const mc_cluster_params *p, mc_cluster_result_t **out);

/**
 * @brief Steps 1 to 4 only (constraints read, centring, graph,
 * calibration): a result with no clustering yet, for mc_cluster_again()
 * (or to keep the graph). Parameters and returns as mc_cluster_run().
 */
MC_API mc_status mc_cluster_prepare(mc_embeddings_t *e, const mc_knn_graph_t *graph,
                                    const mc_cluster_params *p, mc_cluster_result_t **out);

/**
 * @brief Step 2 alone: centre @p e in place exactly as mc_cluster_prepare()
 * does with @p p, for a caller that builds the graph elsewhere or in pieces
 * (mc_knn_part_build() in knn_shard.h): the mean direction of the faces at
 * or above @p p's calibration gate (p->calibrate.sample_quality, resolved
 * on all of @p e), removed when mc_center_removes() says it is a common
 * direction. Nothing is done when p->center is 0.
 * @param e             all the faces; centred in place (once only).
 * @param p             parameters (center and calibrate are read); NULL = defaults.
 * @param out_shift     [out] the norm of the mean direction, as
 *                      mc_cluster_info.center_shift (NAN when p->center is 0); may be NULL.
 * @param out_centered  [out] 1 when the mean was removed, as
 *                      mc_cluster_info.centered; may be NULL.
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL e, @p e centred already); MC_ERR_NOMEM.
 * Thread safety: writes @p e; nothing else may use it meanwhile.
 */
MC_API mc_status mc_cluster_center(mc_embeddings_t *e, const mc_cluster_params *p,
                                   double *out_shift, int *out_centered);

/**
 * @brief Steps 5 to 8 on the graph, centring and calibration of
 * @p prepared (from mc_cluster_prepare() or mc_cluster_run() on @p e) with
 * the algorithm, threshold, gates and algorithm settings of @p p.
 *
 * @p p's @c center, @c knn.k and @c calibrate must be those @p prepared was
 * made with; its constraint files are read again. @p prepared must outlive
 * the new result (which shares its graph).
 * @return as mc_cluster_run().
 */
MC_API mc_status mc_cluster_again(const mc_cluster_result_t *prepared, const mc_embeddings_t *e,
                                  const mc_cluster_params *p, mc_cluster_result_t **out);

/** @brief Free; NULL-safe. */
MC_API void mc_cluster_result_free(mc_cluster_result_t *r);
/** @brief The clustering, or NULL after mc_cluster_prepare(); owned by @p r. */
MC_API const mc_clustering_t *mc_cluster_result_clustering(const mc_cluster_result_t *r);
/** @brief What was resolved and measured; owned by @p r. */
MC_API const mc_cluster_info *mc_cluster_result_info(const mc_cluster_result_t *r);
/** @brief The parameters run with, defaults resolved (pointers as the caller gave them). */
MC_API const mc_cluster_params *mc_cluster_result_params(const mc_cluster_result_t *r);
/** @brief The k-NN graph used (built, or the caller's); owned by @p r or the caller. */
MC_API const mc_knn_graph_t *mc_cluster_result_graph(const mc_cluster_result_t *r);
/** @brief The mean direction removed (D floats), or NULL when not centred; owned by @p r. */
MC_API const float *mc_cluster_result_center(const mc_cluster_result_t *r);

/**
 * @brief The model parameters of this result, for mc_model_build():
 * threshold, k, resolved gates, centring vector, algorithm and quality name.
 * Pointers are owned by @p r or @p e. @p source is recorded as given.
 */
MC_API mc_model_params mc_cluster_result_model_params(const mc_cluster_result_t *r,
                                                      const mc_embeddings_t *e, const char *source);

/**
 * @brief Write the clustering as `magclust cluster -o OUT.h5` does:
 * mc_clustering_write_h5() with the parameters used as attributes
 * (magclust_version, input, algo, quality_key, eps, threshold_source,
 * centered, calibration_*, calib_frac, calib_z, k, core_quality[_value],
 * noise_quality[_value], and linkage, or seed and iterations, or
 * min_samples). Atomic.
 * @param input the input file name recorded (may be NULL: "").
 * @return MC_OK, MC_ERR_INVALID_ARG (no clustering), and those of mc_clustering_write_h5().
 */
MC_API mc_status mc_cluster_result_write_h5(const mc_cluster_result_t *r, const mc_embeddings_t *e,
                                            const char *path, const char *input);

#ifdef __cplusplus
}
#endif
#endif
