/**
 * @file quality.h
 * @brief Quality thresholds given as absolute values or percentiles of a collection.
 *
 * @code
 * mc_threshold t;
 * if (mc_threshold_parse("p20", &t) != MC_OK) return 2;   // 20th percentile
 * double q = mc_threshold_resolve(&t, mc_embeddings_quality(e), mc_embeddings_n(e));
 * // q is -INFINITY when the gate is off
 * @endcode
 *
 * Magnitude scales differ between models (MagFace 10..110, ArcFace raw
 * features 8..25, dlib descriptors about 1.4), so a percentile ("p20") is the
 * portable way to name a gate. Thread safety: all functions are pure.
 */
#ifndef MAGCLUST_QUALITY_H
#define MAGCLUST_QUALITY_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a threshold is expressed. */
typedef enum {
    MC_THRESH_OFF = 0,      /**< gate disabled: every face passes */
    MC_THRESH_ABSOLUTE,     /**< value is a quality value */
    MC_THRESH_PERCENTILE    /**< value is a percentile in [0, 100] of the collection */
} mc_threshold_kind;

/** A quality gate. */
typedef struct {
    mc_threshold_kind kind;
    double value;
} mc_threshold;

/** @brief The disabled gate. */
MC_API mc_threshold mc_threshold_off(void);

/**
 * @brief Parse "off"/"none", "pNN" (percentile, 0..100, decimals allowed) or a number.
 * @return MC_OK or MC_ERR_INVALID_ARG (detail says why).
 */
MC_API mc_status mc_threshold_parse(const char *s, mc_threshold *out);

/**
 * @brief Format a threshold as parse() accepts it ("off", "p20", "12.5").
 * @param buf receives a NUL-terminated string; 32 bytes are always enough.
 */
MC_API void mc_threshold_format(const mc_threshold *t, char *buf, size_t size);

/**
 * @brief Resolve a gate against the qualities of a collection.
 * @param q  n quality values.
 * @return -INFINITY when off, the value when absolute, the percentile of q
 *         (linear interpolation between order statistics, as numpy's default)
 *         when a percentile.
 */
MC_API double mc_threshold_resolve(const mc_threshold *t, const float *q, size_t n);

/**
 * @brief Percentile of n values (linear interpolation, numpy's default method).
 * @param pct in [0, 100].
 * @return the percentile; NAN when n == 0.
 */
MC_API double mc_percentile(const float *q, size_t n, double pct);

#ifdef __cplusplus
}
#endif
#endif
