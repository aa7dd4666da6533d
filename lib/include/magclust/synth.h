/**
 * @file synth.h
 * @brief Deterministic generator of MagFace-like face collections.
 *
 * @code
 * mc_synth_params sp = mc_synth_params_default();
 * sp.n_ids = 100; sp.dim = 512; sp.seed = 7;
 * if (mc_synth_write_h5(&sp, "synth.h5") != MC_OK) return 1;
 * @endcode
 *
 * The model is documented in the README ("The synthetic model") and at the top
 * of lib/src/eval/synth.c. In short: identity i has
 * size_i = max(min_size, round(max_size / (i+1)^zipf_s)) faces around a random
 * unit centre; each face has a latent quality q in [0, 1), its direction is the
 * centre plus noise and a pull towards one of 8 shared "nuisance" directions,
 * both growing as q falls, and its magnitude is
 * mag_scale * (15 + 20 q + jitter), within [13, 37] * mag_scale. There are
 * round(distractor_frac * sum_i size_i) distractors (label -1, q < 0.5), and
 * the rows are shuffled. So N = sum_i size_i + round(distractor_frac * sum_i size_i).
 *
 * structure = MC_SYNTH_REALISTIC replaces the isotropic random directions by
 * ones with the shape of real face models: every random direction (identity,
 * family, distractor centre) puts center_share of its energy on 64 shared
 * "attribute" directions (sex, age, ethnicity, pose habits) with weights
 * decaying as k^-center_decay, so identity centres have a decaying spectrum
 * and cosines spread around zero about as in real models (0.11-0.15 against
 * 0.044 for isotropic 512-d centres); and nuisance_share of each face's
 * identity-blind noise lies in 32 shared nuisance directions (decay 1/k)
 * instead of all D. Magnitudes and qualities are drawn as in the isotropic
 * model. The fit to real models is in docs/experiments.md ("Realistic
 * synthetic structure").
 *
 * The output depends only on the parameters: same parameters, same floats and
 * (through mc_synth_write_h5) the same file bytes, given the same libm and
 * HDF5. N * D is capped at 2^30 values (MC_ERR_INVALID_ARG above it).
 *
 * Thread safety: mc_synth_params_default and mc_synth_generate are pure and may
 * run concurrently. mc_synth_write_h5 calls HDF5, which (in the usual
 * non-thread-safe builds) must not be entered from two threads at once.
 */
#ifndef MAGCLUST_SYNTH_H
#define MAGCLUST_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Geometry of the identity centres and of the within-identity noise. */
typedef enum {
    MC_SYNTH_ISOTROPIC = 0, /**< isotropic random directions (model version 1, the default) */
    MC_SYNTH_REALISTIC = 1  /**< decaying spectrum and shared nuisance directions (model version 2) */
} mc_synth_structure;

/** Parameters of the generator. */
typedef struct {
    size_t n_ids;            /**< identities, >= 1; default 100 */
    size_t dim;              /**< dimension, >= 2; default 512 */
    uint64_t seed;           /**< any value; default 1 */
    size_t max_size;         /**< faces of the largest identity, >= min_size; default 110 */
    size_t min_size;         /**< faces of the smallest, >= 1; default 5 */
    double zipf_s;           /**< Zipf exponent of identity sizes, finite, >= 0; default 0.6 */
    double distractor_frac;  /**< distractors (label -1) as a fraction of identity faces, in [0, 1]; default 0.05 */
    double mag_scale;        /**< magnitude multiplier in (0, 1e6] (1: MagFace-like 15..35); default 1 */
    mc_synth_structure structure; /**< MC_SYNTH_ISOTROPIC (default) or MC_SYNTH_REALISTIC */
    /** realistic only: exponent of the attribute weights k^-center_decay, in [0, 8]; default 1.0 */
    double center_decay;
    /** realistic only: share of a centre's energy on the attribute directions, in [0, 1]; default 0.6 */
    double center_share;
    /** realistic only: share of the noise in shared nuisance directions, in [0, 1]; default 0.3 */
    double nuisance_share;
} mc_synth_params;

/** @brief The defaults listed above. */
MC_API mc_synth_params mc_synth_params_default(void);

/**
 * @brief Validate the parameters and count the faces they make, without generating them.
 * @param out_n            receives N (identity faces + distractors).
 * @param out_distractors  receives the number of distractors (label -1); may be NULL.
 * @return MC_OK or MC_ERR_INVALID_ARG (detail names the parameter).
 */
MC_API mc_status mc_synth_count(const mc_synth_params *p, size_t *out_n, size_t *out_distractors);

/**
 * @brief Generate a collection in memory.
 * @param p           parameters (read only; not kept).
 * @param out_raw     receives malloc'd N*D raw embeddings, row-major float32
 *                    (caller frees).
 * @param out_labels  receives malloc'd N labels: identity 0..n_ids-1, or -1 for
 *                    a distractor (caller frees).
 * @param out_n       receives N.
 * @return MC_OK, MC_ERR_INVALID_ARG (detail names the parameter; also for a
 *         NULL pointer), MC_ERR_NOMEM. On failure the outputs are NULL / 0.
 */
MC_API mc_status mc_synth_generate(const mc_synth_params *p, float **out_raw, int64_t **out_labels,
                                   size_t *out_n);

/**
 * @brief Generate and write `/embeddings`, `/labels`, `/paths` (and the
 * parameters as attributes) to an HDF5 file, atomically (temporary + rename).
 *
 * `/embeddings` is N x D float32, `/labels` N int64, `/paths` N variable-length
 * UTF-8 strings ("id0007/000123.jpg", "distractor/001999.jpg"; the number is
 * the face's index before the shuffle). Contiguous, uncompressed, without
 * object timestamps. Root attributes: "generator" ("magclust synth"),
 * "magclust_synth_version" (model version, 1), "seed", "n_ids", "dim",
 * "max_size", "min_size" (uint64), "zipf_s", "distractor_frac", "mag_scale"
 * (float64), "n_faces", "n_distractors" (uint64). A realistic set has model
 * version 2 and also "structure" ("realistic"), "center_decay",
 * "center_share" and "nuisance_share" (float64); an isotropic one is written
 * exactly as before the option existed. An existing file at path is
 * replaced; on failure no file and no temporary is left behind.
 * @param p     parameters (read only; not kept).
 * @param path  output file name.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_IO (cannot create, e.g. missing
 *         directory; cannot close or rename), MC_ERR_HDF5, MC_ERR_NOMEM.
 */
MC_API mc_status mc_synth_write_h5(const mc_synth_params *p, const char *path);

#ifdef __cplusplus
}
#endif
#endif
