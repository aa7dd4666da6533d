/**
 * @file knn_shard.h
 * @brief The k-NN graph in shards: each job searches a slice of the faces
 * against all of them, and the slices are joined into the graph one process
 * would have built, bit for bit.
 *
 * @code
 * // job I of N (any machine, any order): centre as mc_cluster_prepare does
 * mc_cluster_center(e, &cp, &shift, &centered);
 * mc_knn_part_t *part = NULL;
 * if (mc_knn_part_build(e, &kp, I, N, &part, NULL) != MC_OK) return 1;
 * mc_knn_part_write_h5(part, &meta, "part-I.h5");      // meta as for a graph
 * // then, once every job is done:
 * mc_knn_graph_t *g = NULL;
 * mc_knn_parts_merge_h5(paths, N, &g, &meta);          // == mc_knn_graph_build
 * @endcode
 *
 * Shard I of N (0 <= I < N) holds the contiguous rows
 * [floor(I n / N), floor((I + 1) n / N)) of the n faces' graph: the queries
 * are its rows, the database all n faces. Only the exact index ("Flat") is
 * sharded: its rows are a function of the directions alone, and the part
 * computes every row with the very sgemm calls of mc_knn_graph_build() (the
 * query blocks of block_size rows that overlap the shard, whole, on the same
 * 4096-face blocks of the data), so the joined graph is identical to the
 * one-process graph on any BLAS and any thread count. A shard's extra work
 * is at most two query blocks (2 x 1024 rows by default). Approximate
 * indexes ("Cells", "HNSW", FAISS) are refused: their rows depend on
 * training and on which queries share a search batch.
 *
 * File layout of a part (format "magclust-knn-part", version 1): the
 * layout of a graph file (knn_io.h) with /knn/ids and /knn/sims holding the
 * shard's rows only (rows x k, ids in [-1, n)), the same attributes (n is
 * all the faces), plus shard, n_shards, first_row and rows (uint64). A part
 * is not a graph: mc_knn_graph_read_h5() refuses it.
 *
 * Thread safety: parts are immutable once built; builds may run
 * concurrently. The file calls follow knn_io.h's rules.
 */
#ifndef MAGCLUST_KNN_SHARD_H
#define MAGCLUST_KNN_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "embeddings.h"
#include "knn.h"
#include "knn_io.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque part of a k-NN graph: the rows of one shard. */
typedef struct mc_knn_part mc_knn_part_t;

/**
 * @brief The rows of shard @p shard of @p n_shards over @p n faces:
 * [floor(shard n / n_shards), floor((shard + 1) n / n_shards)).
 * @param n          faces in the whole collection.
 * @param shard      the shard, 0 <= shard < n_shards.
 * @param n_shards   number of shards, 1 <= n_shards <= n.
 * @param out_first  [out] first row of the shard.
 * @param out_rows   [out] rows in the shard (at least 1 when n_shards <= n).
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL output, n_shards 0 or above n,
 *         shard >= n_shards).
 */
MC_API mc_status mc_knn_shard_rows(size_t n, size_t shard, size_t n_shards, size_t *out_first,
                                   size_t *out_rows);

/**
 * @brief Search the rows of one shard against every face (exact index only).
 *
 * Does what mc_knn_graph_build_ex() does for the rows
 * mc_knn_shard_rows(N, shard, n_shards) and nothing else: same checks,
 * same automatic index, same rows bit for bit. Centre @p e first exactly as
 * the one-process run does (mc_cluster_center()), or not at all.
 * Memory: the part (rows x k x 12 bytes) and the search's block scratch.
 * @param e         all the faces (directions are used; not retained).
 * @param p         parameters; NULL for the defaults. p->index must resolve
 *                  to "Flat" (NULL or "auto" does up to MC_KNN_AUTO_EXACT_MAX faces).
 * @param shard     the shard, 0 <= shard < n_shards.
 * @param n_shards  number of shards, 1 <= n_shards <= N.
 * @param out       [out] receives a new part owned by the caller; NULL on failure.
 * @param info      [out] what was done (as mc_knn_graph_build_ex); may be NULL.
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL argument, k 0 or >= N, a bad shard,
 *         an index other than Flat, named in the detail); MC_ERR_NOMEM;
 *         MC_ERR_CANCELLED (p->progress returned non-zero; no part).
 */
MC_API mc_status mc_knn_part_build(const mc_embeddings_t *e, const mc_knn_params *p,
                                   size_t shard, size_t n_shards, mc_knn_part_t **out,
                                   mc_knn_info *info);

/** @brief Free; NULL-safe. */
MC_API void mc_knn_part_free(mc_knn_part_t *part);
/** @brief Faces N of the whole graph (ids lie in [-1, N)). */
MC_API size_t mc_knn_part_n(const mc_knn_part_t *part);
/** @brief Neighbours per face k. */
MC_API size_t mc_knn_part_k(const mc_knn_part_t *part);
/** @brief The shard number I. */
MC_API size_t mc_knn_part_shard(const mc_knn_part_t *part);
/** @brief The number of shards N. */
MC_API size_t mc_knn_part_n_shards(const mc_knn_part_t *part);
/** @brief First graph row of the part. */
MC_API size_t mc_knn_part_first_row(const mc_knn_part_t *part);
/** @brief Rows in the part. */
MC_API size_t mc_knn_part_rows(const mc_knn_part_t *part);
/** @brief Neighbour ids, rows x k row-major, -1 padded, canonical row order. */
MC_API const int64_t *mc_knn_part_ids(const mc_knn_part_t *part);
/** @brief Similarities, rows x k, aligned with the ids. */
MC_API const float *mc_knn_part_sims(const mc_knn_part_t *part);

/**
 * @brief Write a part and its provenance to @p path atomically.
 *
 * As mc_knn_graph_write_h5(): written under a temporary name and renamed
 * into place, nothing left behind on failure.
 * @param part  the part (read only; not retained).
 * @param meta  provenance of the whole graph: meta->n and meta->k must equal
 *              the part's; NULL writes the mc_knn_graph_meta_init() defaults.
 * @param path  destination file; overwritten if it exists.
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL part or path, n/k differ, an
 *         unterminated string); MC_ERR_IO; MC_ERR_HDF5; MC_ERR_NOMEM. The
 *         detail names @p path.
 */
MC_API mc_status mc_knn_part_write_h5(const mc_knn_part_t *part, const mc_knn_graph_meta *meta,
                                      const char *path);

/**
 * @brief Read the parts of a sharded graph, check they belong together, and
 * join them into the whole graph.
 *
 * Every file must be a valid part (format, version, datasets of rows x k,
 * ids in [-1, n), finite similarities, its first_row and rows those of
 * mc_knn_shard_rows(n, shard, n_shards)), and all must agree on n, k, dim,
 * fingerprint, centered, center_shift (bit for bit), index, embeddings_key
 * and n_shards; each shard 0..n_shards-1 must be given exactly once, in
 * any order. The first refusal is reported: its detail starts with the
 * file it concerns (or, for a missing shard, names the shard and the files
 * given). The source of the merged meta is shard 0's.
 * @param paths     the part files (n_paths of them).
 * @param n_paths   number of files, at least 1.
 * @param out       [out] receives the joined graph owned by the caller; NULL on failure.
 * @param out_meta  [out] the shards' common provenance, n and k the graph's;
 *                  may be NULL. On failure it holds the mc_knn_graph_meta_init() defaults.
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL argument, no path); MC_ERR_IO (a
 *         missing or unreadable file, not HDF5); MC_ERR_HDF5 (no /knn group or
 *         datasets, a read failed); MC_ERR_BAD_DATA (not a part, e.g. a whole
 *         graph; an unsupported version; parts that disagree; a duplicated
 *         or missing shard; bad rows); MC_ERR_NOMEM.
 * Thread safety: reads files only; see the file calls' rules above.
 */
MC_API mc_status mc_knn_parts_merge_h5(const char *const *paths, size_t n_paths,
                                       mc_knn_graph_t **out, mc_knn_graph_meta *out_meta);

#ifdef __cplusplus
}
#endif
#endif
