/* What the rest of the library needs of the embeddings object in
 * embeddings.c, whose struct stays there: the reader that builds one
 * (embeddings_h5.c), and the centring of bare direction rows that model
 * assignment shares with mc_embeddings_center_by(), so both give the same
 * bits. Never installed. */
#ifndef MAGCLUST_EMBEDDINGS_IMPL_H
#define MAGCLUST_EMBEDDINGS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "magclust/embeddings.h"
#include "magclust/status.h"

/* Subtract mean (d floats) from each of the n rows of dir (n x d, unit) and
 * renormalise, as mc_embeddings_center_by() does; a row that is the mean
 * itself keeps its value, and a zero mean changes nothing. MC_OK or
 * MC_ERR_NOMEM. */
mc_status mc_directions_center_by(float *dir, size_t n, size_t d, const float *mean);

/* The centring of mc_embeddings_center_ex() in its three steps, for a
 * caller that holds the rows in pieces (knn_mpi.c): add the rows of dir
 * whose quality is >= min_quality (every row when quality is NULL) to sum
 * (d doubles) in row order, counting them in *count; turn the sum of m rows
 * into their mean in place and return its norm (0 when m is 0); subtract a
 * mean from each row and renormalise. Fed the rows in order, in as many
 * calls as you like, they give the same bits as one call on all of them. */
void mc_center_sum_rows(const float *dir, size_t n, size_t d, const float *quality,
                        double min_quality, double *sum, size_t *count);
double mc_center_mean(double *sum, size_t d, size_t m);
void mc_directions_subtract_mean(float *dir, size_t n, size_t d, const double *mean);

/* The shape (rows n, dimension d) of a file's embeddings, with the checks
 * mc_embeddings_read_h5() makes before reading rows; and rows
 * [first, first + rows) of it -- the directions, magnitudes and quality
 * (p->quality_key) only, checked as mc_embeddings_read_h5() checks them,
 * bad rows named by their file row. rows 0 gives *out NULL. skip_bad_rows
 * is refused (MC_ERR_INVALID_ARG): it renumbers every later row. Errors
 * as mc_embeddings_read_h5(). */
mc_status mc_embeddings_h5_shape(const char *path, const mc_h5_read_params *p, size_t *out_n,
                                 size_t *out_d);
mc_status mc_embeddings_read_h5_rows(const char *path, const mc_h5_read_params *p, size_t first,
                                     size_t rows, mc_embeddings_t **out);

/* A new object of n rows of d: directions (n*d) and magnitudes (n)
 * allocated, not set, nothing else; NULL when out of memory. */
mc_embeddings_t *mc_embeddings_alloc(size_t n, size_t d);
/* Its directions and magnitudes, for the reader to fill. */
float *mc_embeddings_directions_mut(mc_embeddings_t *e);
float *mc_embeddings_magnitudes_mut(mc_embeddings_t *e);

/* One raw row of d values into its unit direction and its magnitude (the
 * L2 norm, scaled so that neither overflows nor underflows): 0; 1 a NaN or
 * Inf value; 2 all zeros; 3 a norm beyond the float32 range. src and dst
 * may be the same row. */
int mc_split_row_f(const float *src, size_t d, float *dst, float *out_mag);
int mc_split_row_d(const double *src, size_t d, float *dst, float *out_mag);
/* The failure of a nonzero code: MC_ERR_BAD_DATA, reason MC_REASON_BAD_ROW,
 * "WHAT row ROW has a NaN or Inf value" (ROW 0-based). */
mc_status mc_split_row_fail(int code, const char *what, size_t row);

/* A path table: n pointers into one buffer of total_chars + n bytes, both
 * malloc'd; the form the object keeps its paths in. MC_ERR_NOMEM. */
mc_status mc_paths_alloc(size_t n, size_t total_chars, char ***out_paths, char **out_buf);
/* The same, holding copies of n strings (NULL entries become ""). */
mc_status mc_paths_copy(size_t n, const char *const *src, char ***out_paths, char **out_buf);

/* Hand a malloc'd array (and name) over to e, which frees it, with what it
 * held before. Lengths are e's n. */
void mc_embeddings_take_labels(mc_embeddings_t *e, int64_t *labels);
void mc_embeddings_take_paths(mc_embeddings_t *e, char **paths, char *buf);
void mc_embeddings_take_quality(mc_embeddings_t *e, float *quality, char *name);
void mc_embeddings_take_groups(mc_embeddings_t *e, int64_t *groups, size_t n_groups, char *name);

/* skip_bad_rows: leaves out the rows flagged in bad[0..n), keeping the
 * order, from every per-face array, and records which rows went
 * (mc_embeddings_skipped_rows, mc_embeddings_source_row). MC_ERR_BAD_DATA
 * when every row is flagged ("FILE: WHAT: every one of its N rows ..."),
 * MC_ERR_NOMEM. */
mc_status mc_embeddings_drop_rows(mc_embeddings_t *e, const uint8_t *bad, const char *file,
                                  const char *what);

#endif
