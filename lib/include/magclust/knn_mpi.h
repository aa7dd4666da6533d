/**
 * @file knn_mpi.h
 * @brief The k-NN graph of an HDF5 file over the ranks of an MPI
 * communicator, exact or by the Cells index: each rank reads a slice of the
 * rows, the data goes round a ring (exact) or the queries go to the ranks
 * owning the cells they visit (Cells), and the graph one process would have
 * built, bit for bit, lands on one rank. Only in a build configured with
 * -DMAGCLUST_MPI=ON.
 *
 * @code
 * // every rank of comm, with the same arguments:
 * mc_cluster_params p = mc_cluster_params_default(MC_ALGO_DEFAULT);
 * mc_knn_graph_t *g = NULL;                      // set on the root only
 * mc_knn_mpi_info info;
 * if (mc_knn_mpi_build_h5(comm, 0, "faces.h5", NULL, &p, &g, &info) != MC_OK)
 *     return 1;                                  // every rank fails alike
 * // root: mc_cluster_run(e, g, &p, &r) on the whole file, as one process
 * mc_knn_graph_free(g);
 * @endcode
 *
 * What each rank does (exact index): it reads rows [first, first + rows)
 * of the embeddings (whole query blocks of the one-process search, knn.h's
 * block_size) and the 4096-row data blocks it owns, never the whole
 * matrix. The centring (mc_cluster_center(): the mean direction of the
 * faces at or above p->calibrate's gate) is computed as one process
 * computes it: the gate from every face's quality (gathered, 4 bytes a
 * face), the sum of the good faces' directions passed from rank to rank in
 * row order, so the mean is the same double, bit for bit. The embeddings'
 * fingerprint (knn_io.h) is hashed the same way. Then each rank's data
 * blocks visit every rank in turn (a ring of R - 1 sends, the next block
 * received while the current one is searched); each rank keeps the top k
 * of its own rows with the very sgemm calls of mc_knn_graph_build(), and
 * the rows are gathered on the root. The graph is therefore identical to
 * the one-process graph on any rank count and thread count.
 *
 * The Cells index ("Cells<nlist>", "Cells", or "auto" when it resolves to
 * Cells, above MC_KNN_AUTO_EXACT_MAX faces; knn.h) is built the same way
 * one process builds it, spread out: the query rows are split in whole
 * chunks of the one-process search (each rank reads them, widened to whole
 * 256-row blocks of the assignment to cells); rank 0 receives the training
 * sample (the same seeded rows, from the ranks that read them), trains the
 * k-means and broadcasts the centroids; each rank assigns its rows to their
 * nprobe nearest cells; the cells are split among the ranks in contiguous
 * runs balanced by member count, and every candidate face goes to the rank
 * owning its cell (one MPI_Alltoallv); then, chunk by chunk, each rank
 * sends each query to the owners of the cells it visits (once per owner,
 * with those cells' numbers; MPI_Alltoallv), the owner computes the products the one-process search
 * computes for those cells -- the same queries in the same order times the
 * same members in the same order, so the same sgemm calls and the same
 * similarities bit for bit -- and returns each query's top k among its
 * cells, which the query's rank merges (the tie order makes the kept set
 * independent of the order of arrival). Traffic per rank: each of its N/R
 * queries, D floats plus its id and the numbers of the cells it visits
 * there, to each other owner among its cells', and k (similarity, id)
 * pairs back from each; its
 * candidate rows once; its share of the training rows. Candidates
 * (mc_knn_params.candidates, the same N flags on every rank) are supported
 * with Cells.
 *
 * HNSW and FAISS indexes are refused (their graphs are built in one
 * process), as are candidates with the exact index and skipping bad rows.
 *
 * Errors: every rank returns the same status and detail: the first failing
 * rank's (a missing or non-HDF5 file, a bad row, out of memory). MPI calls
 * run on a duplicate of @p comm with MPI_ERRORS_RETURN; an MPI failure is
 * MC_ERR_IO naming the call. A rank that dies is beyond this call: the MPI
 * launcher ends the job.
 *
 * Thread safety: a collective call; MPI must be initialised (any thread
 * level: only the calling thread makes MPI calls).
 */
#ifndef MAGCLUST_KNN_MPI_H
#define MAGCLUST_KNN_MPI_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include "cluster.h"
#include "embeddings.h"
#include "knn.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What an MPI build did on this rank. */
typedef struct {
    size_t n, d, k;             /**< faces, dimension, neighbours per face */
    size_t n_ranks;             /**< ranks of the communicator */
    size_t first, rows;         /**< this rank's graph rows (its queries) */
    size_t data_first, data_rows; /**< the data rows this rank sends round the ring (Flat) */
    size_t read_rows;           /**< rows this rank read from the file (its queries, widened to
                                     the data blocks it owns (Flat) or to whole 256-row blocks
                                     (Cells)) */
    uint64_t fingerprint;       /**< mc_embeddings_fingerprint() of the whole file */
    int centered;               /**< the mean direction was removed */
    double center_shift;        /**< its norm (NAN when centring is off) */
    uint64_t bytes_sent;        /**< bytes this rank sent to other ranks in the search: round
                                     the ring (Flat), or in the Cells search's gather of the
                                     training rows and its all-to-alls (members, queries,
                                     candidates back; the centroids' broadcast not counted) */
    double t_read, t_center, t_search, t_gather; /**< seconds on this rank */
    char index[64];             /**< the index used: "Flat" or "Cells<nlist>" */
    int exact;                  /**< 1 for Flat */
    size_t n_candidates;        /**< faces that could be neighbours (N without a candidate set) */
    size_t nprobe, train_size;  /**< Cells: cells visited per face, faces trained on (0 for Flat) */
    double scan_frac;           /**< fraction of the N x n_candidates similarities computed
                                     (1 for Flat), as mc_knn_info's */
    size_t cells_first, cells;  /**< Cells: the cells this rank owns */
    size_t members;             /**< Cells: the faces of those cells it holds */
    size_t queries_in;          /**< Cells: queries routed to it (a query once per owner) */
    double t_train, t_add;      /**< Cells: seconds of t_search spent training (rank 0's
                                     k-means, the sample's gather, the broadcast) and
                                     assigning the faces to cells and sending them to the
                                     owners */
} mc_knn_mpi_info;

/**
 * @brief Build the k-NN graph (exact, or by the Cells index) of the HDF5
 * file @p path on the ranks of @p comm, centred as mc_cluster_center()
 * centres it. Collective: every rank calls it with the same arguments.
 * @param comm   the communicator (duplicated inside; not changed).
 * @param root   the rank that receives the graph.
 * @param path   the embeddings file, readable by every rank.
 * @param rp     dataset names (embeddings_key, quality_key); NULL for the
 *               defaults. skip_bad_rows is refused.
 * @param p      center, calibrate (the gate of the faces averaged),
 *               knn.k (N - 1 when k >= N, as mc_cluster_prepare()),
 *               knn.index (NULL, "auto", "Flat", "Cells" or
 *               "Cells<nlist>"), knn.block_size (Flat), knn.nprobe,
 *               knn.train_size, knn.seed and knn.candidates (Cells: N
 *               flags, the same on every rank; read, not kept) and
 *               n_threads (per rank) are read; NULL for the defaults.
 * @param out    [out] root: a new graph owned by the caller, the one
 *               mc_knn_graph_build() builds on the centred faces; other
 *               ranks: NULL.
 * @param info   [out] what this rank did; may be NULL.
 * @return MC_OK on every rank, or the same failure on every rank:
 *         MC_ERR_INVALID_ARG (NULL argument, a bad root, k 0, fewer than 2
 *         faces, an index other than Flat and Cells, a malformed Cells spec,
 *         more cells than candidates or too few faces to train them, no
 *         candidate at all, candidates with Flat, skip_bad_rows, more than
 *         INT_MAX faces or a chunk's queries past INT_MAX for MPI's
 *         counts); MC_ERR_IO (missing or non-HDF5 file, an MPI call
 *         failed); MC_ERR_HDF5; MC_ERR_BAD_DATA (a bad row); MC_ERR_NOMEM.
 *         The detail is the first failing rank's.
 */
MC_API mc_status mc_knn_mpi_build_h5(MPI_Comm comm, int root, const char *path,
                                     const mc_h5_read_params *rp, const mc_cluster_params *p,
                                     mc_knn_graph_t **out, mc_knn_mpi_info *info);

/**
 * @brief The graph rows [first, first + rows) rank @p rank of @p n_ranks
 * searches for @p n faces in query blocks of @p block_size (0: 1024): whole
 * blocks, split as evenly as the block count allows (a rank may get none
 * when there are fewer blocks than ranks). The exact search's split; the
 * Cells search splits the same way in its chunks of max(1024,
 * min(32768, ceil(n / 64))) queries (mc_knn_mpi_info's first and rows).
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL output, n_ranks 0, rank >= n_ranks).
 */
MC_API mc_status mc_knn_mpi_rows(size_t n, size_t block_size, size_t rank, size_t n_ranks,
                                 size_t *out_first, size_t *out_rows);

#ifdef __cplusplus
}
#endif
#endif
