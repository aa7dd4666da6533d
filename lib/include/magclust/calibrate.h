/**
 * @file calibrate.h
 * @brief Label-free choice of the similarity threshold.
 *
 * @code
 * mc_embeddings_center(e, median_quality, NULL);        // optional, see below
 * mc_calibration cal;
 * if (mc_calibrate(e, mc_embeddings_quality(e), NULL, &cal) != MC_OK) return 1;
 * double t = mc_calibration_threshold(&cal, 3.0);    // linkage: stop below t
 * @endcode
 *
 * Face models put unrelated faces at very different cosines: near 0 for
 * ArcFace or MagFace features, around 0.8 for dlib's 128-d descriptors. A
 * fixed threshold cannot suit both. magclust therefore measures the
 * similarity of *random* pairs of good faces, which in a collection of many
 * people are almost all pairs of different people (the impostor
 * distribution), and puts the threshold @c z standard deviations above their
 * mean: t = mean + z * sd. Only the faces at or above a quality gate (by
 * default the median) are sampled, so that blurred faces, which crowd
 * together, do not inflate the spread.
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
    size_t n_faces;    /**< faces the pairs were drawn from */
    size_t n_pairs;    /**< pairs measured */
    double quality_gate; /**< the resolved sample_quality (-INFINITY when off) */
} mc_calibration;

/**
 * @brief Measure the random-pair similarity of the good faces.
 * @param quality  N values, or NULL (then every face is sampled).
 * @param p        NULL for the defaults.
 * @return MC_OK; MC_ERR_INVALID_ARG; MC_ERR_BAD_DATA when fewer than 2 faces
 *         pass the gate.
 */
MC_API mc_status mc_calibrate(const mc_embeddings_t *e, const float *quality,
                              const mc_calibrate_params *p, mc_calibration *out);

/** @brief mean + z * sd, clamped to [-1, 1]. */
MC_API double mc_calibration_threshold(const mc_calibration *c, double z);

/**
 * @brief Subtract the mean direction of the faces whose quality is at or
 *        above @p min_quality (every face when it is -INFINITY or @p quality
 *        is NULL) from every direction, and renormalise.
 *
 * Magnitudes and quality are unchanged. A direction that would vanish keeps
 * its old value. @p out_shift (optional) receives the norm of the mean that
 * was removed: near 0 for models whose features are already centred.
 * @return MC_OK, MC_ERR_INVALID_ARG.
 */
MC_API mc_status mc_embeddings_center(mc_embeddings_t *e, const float *quality, double min_quality,
                                      double *out_shift);

#ifdef __cplusplus
}
#endif
#endif
