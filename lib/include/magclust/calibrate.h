/**
 * @file calibrate.h
 * @brief Label-free choice of the similarity threshold.
 *
 * @code
 * mc_embeddings_center(e, median_quality, NULL);        // optional, see below
 * mc_calibration cal;                                 // g: the k-NN graph of e
 * if (mc_calibrate(e, mc_embeddings_quality(e), g, NULL, &cal) != MC_OK) return 1;
 * double t = mc_calibration_threshold(&cal, 0.45, 2.5); // linkage: stop below t
 * @endcode
 *
 * Face models put unrelated faces at very different cosines: near 0 for
 * ArcFace or MagFace features, around 0.8 for dlib's 128-d descriptors. A
 * fixed threshold cannot suit both. magclust therefore measures two things
 * on the good faces (quality at or above a gate, by default the median, so
 * that blurred faces, which crowd together, do not blur the picture):
 *  - unrelated pairs: the cosine of *random* pairs, which in a collection of
 *    many people are almost all pairs of different people. Their median and
 *    their robust spread (1.4826 x the median absolute deviation) are not
 *    moved by the few same-person pairs among them;
 *  - related pairs: the median cosine of each good face to its nearest good
 *    neighbour in the k-NN graph, which is nearly always the same person.
 * The threshold is a fraction @c w of the way from the first to the second,
 * and at least @c z robust deviations above the unrelated pairs:
 *   t = max(median + w (nn_median - median), median + z mad).
 * Both terms are free of the model's scale and dimension.
 *
 * Centering first (mc_embeddings_center) removes the direction that all
 * faces share, which dlib-like descriptors have and ArcFace-like ones barely
 * do; it spreads a compressed similarity scale without changing which faces
 * are near.
 *
 * Deterministic: all pairs when there are at most @c max_pairs of them,
 * otherwise a fixed pseudo-random sample drawn from @c seed.
 */
#ifndef MAGCLUST_CALIBRATE_H
#define MAGCLUST_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "embeddings.h"
#include "knn.h"
#include "quality.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parameters of mc_calibrate. */
typedef struct {
    mc_threshold sample_quality; /**< faces sampled: quality at or above it; default p50 */
    size_t max_pairs;            /**< pairs measured at most; default 200000 */
    uint64_t seed;               /**< of the pair sample; default 1 */
} mc_calibrate_params;

/** @brief Defaults listed above. */
MC_API mc_calibrate_params mc_calibrate_params_default(void);

/** What mc_calibrate measured. */
typedef struct {
    double mean;       /**< mean cosine of the sampled pairs */
    double sd;         /**< their standard deviation */
    double median;     /**< their median */
    double mad;        /**< 1.4826 x their median absolute deviation */
    double nn_median;  /**< median cosine of a good face to its nearest good neighbour (NAN without a graph) */
    size_t n_nn;       /**< good faces with a good neighbour in the graph */
    size_t n_faces;    /**< faces the pairs were drawn from */
    size_t n_pairs;    /**< pairs measured */
    double quality_gate; /**< the resolved sample_quality (-INFINITY when off) */
} mc_calibration;

/**
 * @brief Measure the random-pair and nearest-neighbour similarity of the good faces.
 * @param quality  N values, or NULL (then every face is sampled).
 * @param g        the k-NN graph of @p e, or NULL (nn_median is then NAN).
 * @param p        NULL for the defaults.
 * @return MC_OK; MC_ERR_INVALID_ARG; MC_ERR_BAD_DATA when fewer than 2 faces
 *         pass the gate.
 */
MC_API mc_status mc_calibrate(const mc_embeddings_t *e, const float *quality,
                              const mc_knn_graph_t *g, const mc_calibrate_params *p,
                              mc_calibration *out);

/** @brief max(median + w (nn_median - median), median + z mad), clamped to
 *  [-1, 1]; the first term is left out when nn_median is NAN. */
MC_API double mc_calibration_threshold(const mc_calibration *c, double w, double z);

/** A quality signal is informative when its rank correlation with the
 *  nearest-neighbour cosine reaches this (see mc_quality_check()). */
#define MC_QUALITY_MIN_RHO 0.15

/** What mc_quality_check() measured. */
typedef struct {
    double rho;       /**< Spearman correlation of quality and nearest-neighbour cosine */
    size_t n;         /**< faces with a neighbour in the graph (those measured) */
    int informative;  /**< rho >= MC_QUALITY_MIN_RHO */
} mc_quality_check_result;

/**
 * @brief Does the quality mean something? Label-free: the Spearman rank
 * correlation between each face's quality and its cosine to its nearest
 * neighbour in @p g.
 *
 * A face a model renders well looks like the other photos of its person, so
 * with a real quality signal (MagFace's or an ArcFace-trained model's norm,
 * a detector score) better faces have closer nearest neighbours: rho is
 * +0.25 to +0.75 on the sets measured (docs/experiments.md). A norm that
 * carries no quality, or a shuffled one, gives rho near 0 (-0.12 to +0.1).
 * The cut, MC_QUALITY_MIN_RHO, lies between the two groups.
 * @param quality  N values (ties get their mean rank).
 * @return MC_OK, MC_ERR_INVALID_ARG (NULL, or fewer than 3 faces with a
 *         neighbour), MC_ERR_NOMEM.
 */
MC_API mc_status mc_quality_check(const mc_knn_graph_t *g, const float *quality,
                                  mc_quality_check_result *out);

/* The centring functions (mc_embeddings_center, _center_ex, _center_by)
 * are declared in embeddings.h, which this header includes. */

#ifdef __cplusplus
}
#endif
#endif
