/**
 * @file knn_io.h
 * @brief Save a k-NN graph to an HDF5 file and load it back, to build once and cluster many times.
 *
 * @code
 * mc_knn_graph_meta m;
 * mc_knn_graph_meta_init(&m);
 * m.n = mc_knn_graph_n(g); m.k = mc_knn_graph_k(g); m.dim = mc_embeddings_dim(e);
 * m.fingerprint = mc_embeddings_fingerprint(e);   // before any centring
 * if (mc_knn_graph_write_h5(g, &m, "graph.h5") != MC_OK) return 1;
 * mc_knn_graph_t *g2 = NULL;
 * if (mc_knn_graph_read_h5("graph.h5", &g2, &m) != MC_OK) return 1;
 * mc_knn_graph_free(g2);
 * @endcode
 *
 * File layout (format "magclust-knn", version 1): a group /knn holding the
 * datasets /knn/ids (int64, N x k) and /knn/sims (float32, N x k), chunked by
 * rows, in the order of mc_knn_graph_ids() and mc_knn_graph_sims(). The
 * group's attributes: format (string "magclust-knn"), version (int32, 1),
 * n, k, dim, fingerprint (uint64), centered (int32), center_shift (float64),
 * index, source, embeddings_key (variable-length UTF-8 strings).
 *
 * Thread safety: mc_embeddings_fingerprint and mc_knn_graph_meta_init may run
 * anywhere at any time. The writer only reads its graph, so the graph's getters
 * may run beside it. The reader and writer may run on several threads at once
 * (on distinct files) only when the HDF5 library is built thread-safe
 * (Debian's is); HDF5 then serialises the calls.
 */
#ifndef MAGCLUST_KNN_IO_H
#define MAGCLUST_KNN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "embeddings.h"
#include "knn.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where a saved graph came from. A plain struct (no pointers): copy it freely. */
typedef struct {
    size_t n, k, dim;         /**< faces, neighbours per face, embedding dimension (0 = unknown) */
    uint64_t fingerprint;     /**< mc_embeddings_fingerprint() of the embeddings as read, before any centring; 0 = unknown */
    int centered;             /**< 1 when the directions were centred before the search */
    double center_shift;      /**< norm of the removed mean direction; NAN when not centred */
    char index[64];           /**< index spec used for the search, e.g. "Flat", "IVF1024,Flat"; NUL-terminated */
    char source[1024];        /**< path of the embeddings file the graph came from (informational); NUL-terminated, may be truncated */
    char embeddings_key[128]; /**< dataset name the embeddings came from; NUL-terminated */
} mc_knn_graph_meta;

/**
 * @brief Reset @p m: every count and string zero/empty, fingerprint 0,
 * centered 0, center_shift NAN, index "Flat".
 * @param m  [out] the struct to initialise; NULL is ignored.
 */
MC_API void mc_knn_graph_meta_init(mc_knn_graph_meta *m);

/**
 * @brief A 64-bit fingerprint of a collection: N, D, the directions and the magnitudes.
 *
 * Identifies the data so a saved graph can be matched with the embeddings it
 * was built from; it is NOT a cryptographic hash (easy to collide on
 * purpose). It hashes the bytes of mc_embeddings_directions() (N*D floats) and
 * mc_embeddings_magnitudes() (N floats) 8 bytes at a time in four
 * independent multiply/rotate lanes, at memory speed (several GB/s).
 * Deterministic across runs and platforms of the same byte order and float
 * format; any change to a single float (even 0.0 to -0.0) changes it with
 * overwhelming probability. Labels, paths and quality are not included.
 * Centring changes the directions, so take the fingerprint before
 * mc_embeddings_center().
 * @param e  embeddings; NULL gives 0.
 * @return the fingerprint (never 0 for a non-NULL @p e).
 */
MC_API uint64_t mc_embeddings_fingerprint(const mc_embeddings_t *e);

/**
 * @brief Write @p g and @p meta to @p path atomically.
 *
 * The file is written under a temporary name in the destination's directory
 * and renamed over @p path once complete, so @p path is either left as it was
 * or holds the whole graph; on failure nothing is left behind.
 * @param g     the graph (read only; not retained).
 * @param meta  its provenance; meta->n and meta->k must equal the graph's.
 *              NULL writes mc_knn_graph_meta_init() defaults with the graph's n and k.
 *              The strings must be NUL-terminated within their arrays.
 * @param path  destination file; overwritten if it exists.
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL g or path, meta n/k differ from the
 *         graph's, an unterminated string); MC_ERR_IO (cannot create the file,
 *         e.g. missing directory, or cannot rename it into place); MC_ERR_HDF5
 *         (a write failed, e.g. disk full); MC_ERR_NOMEM. The detail names @p path.
 */
MC_API mc_status mc_knn_graph_write_h5(const mc_knn_graph_t *g, const mc_knn_graph_meta *meta,
                                       const char *path);

/**
 * @brief Read a graph written by mc_knn_graph_write_h5() (or by any tool that follows the layout).
 *
 * The datasets are read in row blocks straight into the new graph (no second
 * N x k copy); ids may be stored as any integer type and similarities as any
 * float type. The graph is then validated (ids in [-1, N), finite
 * similarities for present neighbours) and put in the canonical row order.
 * Only the format and version attributes are required: absent n and k are
 * taken from the datasets (present ones must match them), absent dim and
 * fingerprint read as 0 (unknown), and the other fields keep their
 * mc_knn_graph_meta_init() defaults. A source longer than the field is
 * truncated (at a UTF-8 character boundary); a longer index or embeddings_key
 * is refused.
 * @param path  the graph file.
 * @param out   [out] receives a new graph owned by the caller; NULL on failure.
 * @param meta  [out] receives the provenance; may be NULL. On failure it holds
 *              the mc_knn_graph_meta_init() defaults.
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL path or out); MC_ERR_IO (missing or
 *         unreadable file, not an HDF5 file); MC_ERR_HDF5 (no /knn group, no
 *         /knn/ids or /knn/sims dataset, a read failed); MC_ERR_BAD_DATA (format
 *         attribute not "magclust-knn", unsupported version, wrong attribute
 *         types, datasets not 2-D or of different shapes, N or k zero, N*k too
 *         large, ids not integers or sims not floats, n/k attributes that
 *         disagree with the datasets, an id outside [-1, N) or a non-finite
 *         similarity); MC_ERR_NOMEM. The detail starts with @p path.
 */
MC_API mc_status mc_knn_graph_read_h5(const char *path, mc_knn_graph_t **out,
                                      mc_knn_graph_meta *meta);

#ifdef __cplusplus
}
#endif
#endif
