/* The other qualities a file offers (det_score, face_size, ...), each
 * weighed by the library's quality check (mc_quality_check) on one k-NN
 * graph: for the cluster summary, `info` and `--quality-key auto`. */
#ifndef MAGCLUST_QUALITY_KEYS_H
#define MAGCLUST_QUALITY_KEYS_H

#include <stddef.h>

#include "magclust/magclust.h"

/* Whether dataset d holds one number per face of a file of `rows` faces:
 * integers or floats, rank 1 or N x 1, N = rows. */
int cli_is_per_face_number(const mc_h5_dataset_info *d, uint64_t rows);

typedef struct {
    char *name;      /* the dataset's key without the leading '/', or "magnitude" */
    double rho;      /* mc_quality_check's rank correlation */
    int informative; /* rho >= MC_QUALITY_MIN_RHO */
} cli_qkey;

/* Every per-face number dataset of path (rank 1 or N x 1, integers or
 * floats, one value per row of the embeddings) that may be a quality: not
 * the embeddings, labels, paths, photo key or the quality in use, nor a
 * dataset named like an identity or a cluster (labels, id, cluster, ...);
 * and the magnitude when the quality in use is a dataset. Each is checked
 * against g, the graph of e (rows of e are mapped to file rows when bad rows
 * were skipped); a dataset that cannot be read (NaN values, say) is left
 * out. Sorted by rho, best first. Returns their number (>= 0) and *out
 * (free with cli_qkeys_free), or -1 after printing an error. */
long cli_quality_keys(const char *path, const mc_h5_read_params *rp, const mc_embeddings_t *e,
                      const mc_knn_graph_t *g, cli_qkey **out);
void cli_qkeys_free(cli_qkey *k, size_t n);

/* For a --quality-key that names no dataset: writes into buf what the file
 * offers instead, "; its per-face numbers: a, b, c (did you mean a?)" (the
 * nearest by edit distance, when near enough), or "; it holds no per-face
 * numbers besides the embeddings". Empty when the file cannot be listed. */
void cli_quality_key_hint(const char *path, const mc_h5_read_params *rp, const char *key, char *buf,
                          size_t size);

#endif
