/**
 * @file embeddings.h
 * @brief Face embeddings: unit directions, magnitudes, labels, paths and quality.
 *
 * @code
 * mc_h5_read_params rp = mc_h5_read_params_default();
 * rp.quality_key = "det_score";            // NULL: quality = magnitude
 * mc_embeddings_t *e = NULL;
 * if (mc_embeddings_read_h5("faces.h5", &rp, &e) != MC_OK) return 1;
 * size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
 * const float *dir = mc_embeddings_directions(e);   // n*d, unit rows
 * const float *mag = mc_embeddings_magnitudes(e);   // n
 * mc_embeddings_free(e);
 * @endcode
 *
 * Thread safety: an mc_embeddings_t is immutable once built apart from the
 * mc_embeddings_set_* calls; its getters may run concurrently, a setter may not
 * run beside any other call on the same object. mc_embeddings_read_h5 may run
 * on several threads at once only when the HDF5 library is built thread-safe
 * (Debian's is); HDF5 then serialises the calls.
 *
 * Error details: every call that returns mc_status clears
 * mc_last_error_detail() first; the getters and mc_embeddings_free leave it
 * alone, so cleanup code may run between a failure and its report. Getters
 * given NULL return 0 or NULL.
 */
#ifndef MAGCLUST_EMBEDDINGS_H
#define MAGCLUST_EMBEDDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque collection of N embeddings of dimension D. */
typedef struct mc_embeddings mc_embeddings_t;

/**
 * Which HDF5 datasets to read. Empty string or NULL disables an optional one.
 * Keys may be given with or without a leading '/' and may be nested paths:
 * doubled and trailing slashes and "." components are ignored, so
 * "meta/det_score", "/meta/det_score" and "meta//det_score/" name the same
 * dataset, and messages name it as "/meta/det_score". A missing group on
 * the way is reported like a missing dataset. The streaming reader
 * (io.h, MC_FMT_H5) reads the same schema with the same keys, the same
 * checks and the same messages. Per-face datasets (labels, paths, quality)
 * may be of rank 1 (N) or N x 1.
 */
typedef struct {
    const char *embeddings_key; /**< N x D float32/float64/float16, required; default "embeddings" */
    const char *labels_key;     /**< N integers, optional (read if present); default "labels" */
    const char *paths_key;      /**< N strings (fixed or variable length), optional; default "paths" */
    const char *quality_key;    /**< N numbers, required when set; default NULL (quality = magnitude) */
    const char *group_key;      /**< N integers (negative = none) or strings (empty = none),
                                     required when set: faces sharing a value come from one
                                     photo, so are different people; default NULL */
    int skip_bad_rows;          /**< 0 (default): a row with a NaN or Inf value, a zero norm, or
                                     (with quality_key) a NaN or Inf quality is refused with
                                     MC_ERR_BAD_DATA naming the row; 1: such rows are left out
                                     (every per-face dataset with them) and listed by
                                     mc_embeddings_skipped_rows() */
} mc_h5_read_params;

/** @brief Default dataset names: "embeddings", "labels", "paths", quality = magnitude. */
MC_API mc_h5_read_params mc_h5_read_params_default(void);

/**
 * @brief Read an HDF5 file in the magclust schema.
 *
 * Rows are split into unit directions and L2 magnitudes. A row with NaN or
 * Inf, or of zero norm, is refused (MC_ERR_BAD_DATA, detail names the row).
 * A labels/paths/quality dataset whose length differs from N is refused
 * (MC_ERR_DIM_MISMATCH). When labels_key/paths_key name a dataset that does
 * not exist the field is simply absent, unless the name differs from the
 * default, in which case it is an error (the user asked for it).
 *
 * Types: embeddings of any floating-point type (float16/32/64 are converted;
 * integer embeddings are refused); labels of any integer type (read as
 * int64; floating-point labels are refused); paths as fixed-length (NUL- or
 * space-padded, padding stripped) or variable-length ASCII/UTF-8 strings;
 * quality of any integer or floating-point type (read as float, must be
 * finite; its name is the key without the leading '/'). Row numbers in
 * details are 0-based. /embeddings is read in row blocks straight into the
 * result (plus one block of at most 32 MiB for float64 input), never as a
 * second full-size copy. HDF5's own
 * error printing is silenced during the call; the innermost HDF5 message is
 * appended to the detail when HDF5 itself failed.
 * @param path    file name.
 * @param p       dataset names; NULL for the defaults.
 * @param out     receives a new object, owned by the caller (mc_embeddings_free).
 * @return MC_OK, MC_ERR_INVALID_ARG (NULL path or out, empty embeddings_key),
 *         MC_ERR_IO (missing, unreadable or non-HDF5 file), MC_ERR_HDF5
 *         (missing dataset, wrong rank or type), MC_ERR_BAD_DATA (N = 0,
 *         D = 0, NaN/Inf/zero row, non-finite quality), MC_ERR_DIM_MISMATCH,
 *         MC_ERR_NOMEM. On failure *out is NULL.
 */
MC_API mc_status mc_embeddings_read_h5(const char *path, const mc_h5_read_params *p,
                                       mc_embeddings_t **out);

/**
 * @brief Read one per-face number dataset of an embeddings file, e.g. to
 * weigh another quality (mc_quality_check()).
 *
 * @p key names a rank-1 (or N x 1) integer or floating-point dataset with
 * one value per row of the embeddings dataset of @p p (NULL: defaults).
 * @param out  receives N floats, one per file row (malloc'd; free()).
 * @param out_n receives N.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_IO, MC_ERR_HDF5 (no such
 *         dataset, wrong type), MC_ERR_DIM_MISMATCH, MC_ERR_BAD_DATA (a NaN
 *         or infinite value), MC_ERR_NOMEM.
 */
MC_API mc_status mc_h5_read_quality(const char *path, const mc_h5_read_params *p,
                                    const char *key, float **out, size_t *out_n);

/**
 * @brief Build embeddings from raw row-major vectors (copied).
 * @param raw  n*d floats; each row must be finite with a non-zero norm.
 * @param n    number of rows (> 0).
 * @param d    dimension (> 0).
 * @param out  receives a new object owned by the caller; NULL on failure.
 * @return MC_OK, MC_ERR_INVALID_ARG (out NULL, or raw NULL with n, d > 0),
 *         MC_ERR_BAD_DATA (n or d is 0; a row with NaN/Inf, of zero norm or
 *         with a norm beyond FLT_MAX; the detail names the 0-based row),
 *         MC_ERR_NOMEM.
 */
MC_API mc_status mc_embeddings_new(const float *raw, size_t n, size_t d, mc_embeddings_t **out);

/** @brief Free; NULL-safe. */
MC_API void mc_embeddings_free(mc_embeddings_t *e);

/**
 * @brief Attach identity labels (n values, copied; negative = unknown/distractor).
 * @param labels n values, or NULL to remove the labels.
 * @return MC_OK, MC_ERR_INVALID_ARG (e NULL), MC_ERR_NOMEM.
 */
MC_API mc_status mc_embeddings_set_labels(mc_embeddings_t *e, const int64_t *labels);
/**
 * @brief Attach paths (n strings, copied; NULL entries become "").
 * @param paths n strings, or NULL to remove the paths.
 * @return MC_OK, MC_ERR_INVALID_ARG (e NULL), MC_ERR_NOMEM.
 */
MC_API mc_status mc_embeddings_set_paths(mc_embeddings_t *e, const char *const *paths);
/**
 * @brief Replace the quality signal (n finite values, copied).
 * @param quality n values, or NULL to go back to the magnitudes.
 * @param name what the quality is called in summaries, e.g. "det_score";
 *        NULL or "" gives "quality".
 * @return MC_OK, MC_ERR_INVALID_ARG (e NULL), MC_ERR_BAD_DATA (a NaN/Inf
 *         value; e is left unchanged), MC_ERR_NOMEM.
 */
MC_API mc_status mc_embeddings_set_quality(mc_embeddings_t *e, const float *quality,
                                           const char *name);

/**
 * @brief Attach photo groups: faces that share a value come from one photo,
 * so are different people and never share a cluster (mc_cluster_run()), as
 * with mc_h5_read_params.group_key.
 *
 * The values are renumbered 0.. in order of first appearance, as the HDF5
 * reader numbers its photos, so mc_embeddings_groups() gives the same ids
 * either way.
 * @param groups n values (copied), any non-negative integers; a negative
 *               value means no photo. NULL removes the groups.
 * @param name   what the groups are called in summaries; NULL or "" gives "photo".
 * @return MC_OK, MC_ERR_INVALID_ARG (e NULL), MC_ERR_NOMEM (e is then unchanged).
 */
MC_API mc_status mc_embeddings_set_groups(mc_embeddings_t *e, const int64_t *groups,
                                          const char *name);

/** @brief Number of faces N. */
MC_API size_t mc_embeddings_n(const mc_embeddings_t *e);
/** @brief Dimension D. */
MC_API size_t mc_embeddings_dim(const mc_embeddings_t *e);
/** @brief Unit directions, N*D row-major; owned by @p e. */
MC_API const float *mc_embeddings_directions(const mc_embeddings_t *e);
/** @brief L2 norms of the raw rows, N; owned by @p e. */
MC_API const float *mc_embeddings_magnitudes(const mc_embeddings_t *e);
/** @brief Quality per face, N: the user's quality if set, else the magnitudes. */
MC_API const float *mc_embeddings_quality(const mc_embeddings_t *e);
/** @brief "magnitude" or the name given to mc_embeddings_set_quality / quality_key. */
MC_API const char *mc_embeddings_quality_name(const mc_embeddings_t *e);
/** @brief Labels, N, or NULL when the collection has none. */
MC_API const int64_t *mc_embeddings_labels(const mc_embeddings_t *e);
/** @brief Group (photo) id per face, 0.. or -1 for none, n values (group_key), or NULL; owned by @p e. */
MC_API const int64_t *mc_embeddings_groups(const mc_embeddings_t *e);
/** @brief Number of distinct groups (0 without a group key). */
MC_API size_t mc_embeddings_n_groups(const mc_embeddings_t *e);
/** @brief Name of the group dataset ("photo"), or NULL. */
MC_API const char *mc_embeddings_group_name(const mc_embeddings_t *e);
/** @brief Pairs of faces that share a group (photo): the pairs that may
 * not share a cluster under a photo key; 0 without groups. */
MC_API size_t mc_embeddings_group_pairs(const mc_embeddings_t *e);
/** @brief Path of face @p i, or NULL when the collection has no paths or i >= N. */
MC_API const char *mc_embeddings_path(const mc_embeddings_t *e, size_t i);

/** @brief 1 once a mean direction was removed from the directions
 * (mc_embeddings_center(), mc_embeddings_center_by(), mc_cluster_run()). */
MC_API int mc_embeddings_is_centered(const mc_embeddings_t *e);

/** @brief Rows of the file left out by skip_bad_rows (0 when none): face i
 * of @p e is then row mc_embeddings_source_row(e, i) of the file. */
MC_API size_t mc_embeddings_n_skipped(const mc_embeddings_t *e);
/** @brief The file rows left out, ascending (0-based), or NULL when none; owned by @p e. */
MC_API const size_t *mc_embeddings_skipped_rows(const mc_embeddings_t *e);
/** @brief The file row that face @p i came from: i itself unless rows were skipped. */
MC_API size_t mc_embeddings_source_row(const mc_embeddings_t *e, size_t i);

/** One dataset of an HDF5 file, as listed by mc_h5_list_datasets(). */
typedef struct {
    char name[256];     /**< full path, e.g. "/embeddings" (truncated if longer) */
    int rank;           /**< number of dimensions (0 for a scalar) */
    uint64_t dims[4];   /**< the first four extents */
    char type[24];      /**< "float32", "float64", "float16", "int64", "uint8", "string", ... */
} mc_h5_dataset_info;

/**
 * @brief List every dataset of an HDF5 file (depth first, in name order).
 * @param out    receives a malloc'd array (free with free()).
 * @param out_n  receives its length.
 * @return MC_OK, MC_ERR_IO (cannot open), MC_ERR_HDF5, MC_ERR_NOMEM.
 */
MC_API mc_status mc_h5_list_datasets(const char *path, mc_h5_dataset_info **out, size_t *out_n);

/**
 * @brief Subtract the mean direction of the faces whose quality is at or
 *        above @p min_quality (every face when it is -INFINITY or @p quality
 *        is NULL) from every direction, and renormalise.
 *
 * Magnitudes and quality are unchanged. A direction that would vanish keeps
 * its old value. @p out_shift (optional) receives the norm of the mean that
 * was removed: near 0 for models whose features are already centred. When
 * it is MC_CENTER_MAX_SHIFT or more (those faces all point one way, e.g.
 * copies of one face), or too short to be a common direction
 * (MC_CENTER_MIN_SIGNIFICANCE), nothing is removed and the stored mean is
 * zeros: mc_center_removes() tells which.
 * @return MC_OK, MC_ERR_INVALID_ARG.
 */
MC_API mc_status mc_embeddings_center(mc_embeddings_t *e, const float *quality, double min_quality,
                                      double *out_shift);

/** Centring leaves the directions as they are when the mean it would remove
 *  has at least this norm: the faces it was taken from are (nearly) one
 *  direction, and removing it would leave rounding noise. */
#define MC_CENTER_MAX_SHIFT 0.9999
/** ... and when the mean's squared norm times the number of faces it was
 *  taken from is below this: m random directions have a mean of squared
 *  norm about 1/m, so a shorter mean is no common direction (a handful of
 *  faces, or a model whose features are centred already). */
#define MC_CENTER_MIN_SIGNIFICANCE 3.0

/** @brief Whether centring removes a mean of norm @p shift taken from
 *  @p n_faces faces (the two rules above). */
MC_API int mc_center_removes(double shift, size_t n_faces);

/** @brief mc_embeddings_center(), also storing the removed mean (D floats)
 *  in @p out_mean (may be NULL), e.g. to centre new faces the same way later. */
MC_API mc_status mc_embeddings_center_ex(mc_embeddings_t *e, const float *quality,
                                         double min_quality, double *out_shift, float *out_mean);

/** @brief Subtract a given mean direction (D floats, e.g. a model's) from
 *  every direction and renormalise, as mc_embeddings_center() does with its own. */
MC_API mc_status mc_embeddings_center_by(mc_embeddings_t *e, const float *mean);

#ifdef __cplusplus
}
#endif
#endif
