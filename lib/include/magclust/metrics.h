/**
 * @file metrics.h
 * @brief External clustering metrics: BCubed, pairwise F, NMI, and error versus reject.
 *
 * @code
 * mc_metrics m;
 * if (mc_metrics_compute(truth, pred, n, &m) == MC_OK)
 *     printf("BCubed F %.4f  pairwise F %.4f  NMI %.4f\n", m.bcubed_f, m.pairwise_f, m.nmi);
 * @endcode
 *
 * Convention: a negative label, in the truth (unknown identity, distractor) or
 * in the prediction (noise), is a singleton: it forms a class or cluster of its
 * own. BCubed (Amigó et al. 2009) averages per-item precision and recall over
 * all items; pairwise precision/recall count same-cluster pairs as
 * learn-to-cluster does (precision = 1 when the prediction has no pair, recall
 * = 1 when the truth has none); NMI uses the arithmetic mean of the entropies
 * (scikit-learn's default), is 1 when both partitions are a single set and 0
 * when only one of them is (no mutual information). An F score is 0 when its
 * precision and recall are both 0.
 * Thread safety: pure functions.
 */
#ifndef MAGCLUST_METRICS_H
#define MAGCLUST_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** All metrics of one prediction. */
typedef struct {
    double bcubed_precision, bcubed_recall, bcubed_f;
    double pairwise_precision, pairwise_recall, pairwise_f;
    double nmi;
    size_t n;           /**< items compared */
    size_t n_classes;   /**< distinct true classes (singletons included) */
    size_t n_clusters;  /**< distinct predicted clusters (singletons included) */
} mc_metrics;

/**
 * @brief Compare a prediction with the truth.
 *
 * Builds the sparse contingency table (never a dense classes x clusters
 * matrix): O(n) time after renumbering the labels (a radix sort when they are
 * spread out), about 32 bytes of scratch per item at peak, freed on return.
 * Non-negative label values are arbitrary (sparse, up to INT64_MAX); only
 * equality matters.
 * @param truth  in, n true labels (negative = singleton).
 * @param pred   in, n predicted labels (negative = singleton).
 * @param n      number of items, 1 <= n <= UINT32_MAX.
 * @param out    out, all fields written on MC_OK; untouched otherwise.
 * @return MC_OK, MC_ERR_INVALID_ARG (NULL pointer, n == 0 or n > UINT32_MAX),
 *         MC_ERR_NOMEM.
 */
MC_API mc_status mc_metrics_compute(const int64_t *truth, const int64_t *pred, size_t n,
                                    mc_metrics *out);

/** One point of an error-versus-reject curve (mc_reject_curve()). */
typedef struct {
    double reject_pct;    /**< percent of the faces set aside, the lowest-quality ones */
    double quality_below; /**< the quality of the first face kept: those set aside are at or
                               below it; NAN at 0 % */
    size_t faces;         /**< faces kept and scored */
    mc_metrics m;         /**< the metrics of the faces kept */
} mc_reject_point;

/** @brief Points of a curve from 0 to @p max_pct % by @p step:
 * floor(max_pct / step) + 1 (0 when step <= 0 or max_pct < 0, or either is not finite). */
MC_API size_t mc_reject_curve_points(double step, double max_pct);

/**
 * @brief Error versus reject (as MagFace and AdaFace report quality): score
 * the faces that remain when the lowest-quality 0, step, 2 step ... max_pct
 * percent are set aside, as `magclust eval --reject-curve` does.
 *
 * Faces are ordered by quality, ties by index, so the curve is
 * deterministic; round(pct / 100 x n) faces are set aside at pct percent.
 * @param truth, pred  in, n labels each (negative = singleton, as mc_metrics_compute()).
 * @param quality      in, n quality values.
 * @param n            number of faces (>= 1).
 * @param step         percent between points, > 0.
 * @param max_pct      the last point's percent, in [0, 100).
 * @param out          caller-allocated, mc_reject_curve_points(step, max_pct) points.
 * @return MC_OK; MC_ERR_INVALID_ARG (a NULL pointer, n == 0, step or max_pct out of
 *         range); MC_ERR_BAD_DATA (so few faces that the last point would set all
 *         aside: detail says so); MC_ERR_NOMEM. Thread safety: pure.
 */
MC_API mc_status mc_reject_curve(const int64_t *truth, const int64_t *pred, const float *quality,
                                 size_t n, double step, double max_pct, mc_reject_point *out);

#ifdef __cplusplus
}
#endif
#endif
