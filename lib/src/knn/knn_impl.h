/* The k-NN module's private interface, by file, lowest first (a file calls
 * only the ones above it): knn_rows.c (row heaps and order), knn_graph.c
 * (the graph object's storage), knn_exact.c (exact search), knn_cells.c,
 * knn_faiss.c and knn_hnsw.c (approximate searches), knn_build.c
 * (mc_knn_graph_build_ex's dispatch), knn_recall.c (a graph's recall
 * against the exact search), knn_shard.c (one shard's rows); knn_io.c
 * (graph and part files) and model.c use them too. */
#ifndef MAGCLUST_KNN_IMPL_H
#define MAGCLUST_KNN_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "magclust/knn.h"

/* ---- knn_rows.c ---- */

/* Monotonic seconds. */
double mc_knn_now(void);
/* Canonical row order: similarity descending, then id ascending, -1 last. */
void mc_knn_sort_row(int64_t *ids, float *sims, size_t k);
/* Push one sgemm row -- the similarities of face i to the columns ids[0..nd),
 * or to d0 + j when ids is NULL; i itself is skipped (SIZE_MAX: none) -- into
 * a top-k heap (hs, hi) holding c entries; returns the new count. The heap's
 * root is its worst entry (lower similarity, or at equal similarity the larger
 * id), so the kept set is the same in whatever order candidates arrive. */
size_t mc_knn_push_row(const float *row, size_t nd, const size_t *ids, size_t d0, size_t i,
                       size_t k, float *hs, int64_t *hi, size_t c);
/* A heap of cnt entries (ids, sims: a row of k) into the canonical row: -1
 * padded, sorted, similarities clamped to [-1, 1] when clamp is set. */
void mc_knn_finish_row(int64_t *ids, float *sims, size_t k, size_t cnt, int clamp);
/* An inner product of unit vectors, clamped to [-1, 1] (rounding can push
 * it just past). */
float mc_knn_clamp_cos(float s);
/* Copy rows rows[0..m) of the n x d matrix x into buf. */
void mc_knn_gather_rows(const float *x, size_t d, const size_t *rows, size_t m, float *buf);
/* A seeded sample of t of the m candidates cand[] (of 0..m-1 when cand is
 * NULL) without replacement, in rows[0..t) of a new array of m; NULL when out
 * of memory. */
size_t *mc_knn_sample_rows(const size_t *cand, size_t m, size_t t, uint64_t seed);

/* ---- knn_graph.c ---- */

/* A graph of n rows of k entries, contents uninitialised. */
mc_status mc_knn_graph_alloc(size_t n, size_t k, mc_knn_graph_t **out);
int64_t *mc_knn_graph_ids_mut(mc_knn_graph_t *g);
float *mc_knn_graph_sims_mut(mc_knn_graph_t *g);
/* Check every id is in [-1, n) and every neighbour's similarity is finite
 * (MC_ERR_BAD_DATA naming the first bad row otherwise), set the similarity
 * of absent (-1) entries to -inf, and put each row in the canonical order. */
mc_status mc_knn_graph_finish(mc_knn_graph_t *g);

/* ---- knn_io.c: the fingerprint as a stream ---- */

/* mc_embeddings_fingerprint() is mc_fp_finish() of: h = mc_fp_start(n, d),
 * then a stream of the n*d direction floats started with h, then a stream
 * of the n magnitudes started with the first stream's final value. A
 * stream's total length is given up front; its pieces may have any length
 * and may be fed in different processes (the state is plain bytes). */
typedef struct {
    uint64_t h, v[4];
    size_t len, done;   /* total bytes, bytes taken by whole stripes */
    int lanes;          /* len >= 32: four lanes */
    size_t nbuf;
    unsigned char buf[32];
} mc_fp_stream;
uint64_t mc_fp_start(size_t n, size_t d);
void mc_fp_stream_init(mc_fp_stream *s, uint64_t h, size_t len);
void mc_fp_stream_update(mc_fp_stream *s, const void *data, size_t len);
uint64_t mc_fp_stream_final(const mc_fp_stream *s);
uint64_t mc_fp_finish(uint64_t h);

/* ---- knn_exact.c ---- */

/* The thread count of a num_threads clause: n_threads, or when it is <= 0
 * the OpenMP default (all cores unless OMP_NUM_THREADS says otherwise). */
int mc_knn_threads(int n_threads);
/* Make BLAS run single-threaded inside the library's parallel regions
 * (knn_exact.c says how); call before them. Thread-safe. */
void mc_knn_blas_serial(void);
/* Inside a parallel region: every thread calls it once with whether its own
 * scratch was allocated; returns nonzero in every thread when all were
 * (failed: a flag shared by the region, 0 before it). A barrier. */
int mc_knn_omp_all_ok(int ok, int *failed);
/* The shared cancellation of a parallel loop over blocks (an omp for cannot
 * break, so once cancelled the remaining blocks are skipped):
 * mc_knn_block_skip says whether *cancelled is set; mc_knn_block_done adds
 * a finished block's nq rows to *done (of n) and, on thread 0, reports
 * phase to progress, setting *cancelled when it asks to stop.
 * mc_knn_search_end is the final report of a search after the loop: the
 * status of a search that was cancelled, or MC_OK. */
int mc_knn_block_skip(int *cancelled);
void mc_knn_block_done(size_t *done, size_t nq, size_t n, const char *phase,
                       mc_progress_fn progress, void *progress_data, int *cancelled);
mc_status mc_knn_search_end(int cancelled, size_t n, mc_progress_fn progress,
                            void *progress_data);

/* An exact top-k search: for each of the nq query rows of xq (d floats,
 * unit), the k data rows of xb (nb rows; or only the m rows cand lists)
 * with the largest inner product, in canonical order; query r skips data
 * row self_base + r (self_base SIZE_MAX: skips none). Parallel over blocks
 * of block_size queries (0: all) times db_block data rows (0: 4096), each a
 * single-threaded sgemm, so the result does not depend on the thread count.
 * Progress reports phase "search". */
typedef struct {
    const float *xq;
    size_t nq;
    const float *xb;
    size_t nb;
    const size_t *cand;
    size_t m;
    size_t d, k;
    size_t self_base;
    size_t block_size, db_block;
    int clamp;       /* clamp similarities to [-1, 1] (the graph's rows) */
    int n_threads;   /* <= 0: the OpenMP default */
    mc_progress_fn progress;
    void *progress_data;
} mc_knn_exact_job;
/* ids, sims: nq x k, written. MC_OK, MC_ERR_NOMEM, or MC_ERR_CANCELLED when
 * progress asks to stop (ids and sims then partly written). */
mc_status mc_knn_exact_search(const mc_knn_exact_job *job, int64_t *ids, float *sims);

/* The data rows of one sgemm of the exact search: it cuts the data (or the
 * candidates) into blocks of this many rows from row 0. */
#define MC_KNN_EXACT_DB_BLOCK 4096
/* One piece of an exact search spread over processes (knn_mpi.c): query
 * rows xq[0..nq), in blocks of qb rows, against the data rows xb[0..nb),
 * whose ids start at b_base; pushed into running heaps (ids, sims: nq x k,
 * cnt: nq entries, all 0 before the first piece) and left unsorted -- finish
 * each row with mc_knn_finish_row(). When the query rows are whole blocks
 * of the one-process search (self_base, their first id, a multiple of qb;
 * qb its block size) and the data rows whole blocks of it (b_base a multiple
 * of MC_KNN_EXACT_DB_BLOCK; nb a multiple of it, or the rows up to the
 * end), every sgemm is one that search makes, so the rows come out the
 * same bit for bit, pieces taken in any order. cand must be NULL. MC_OK or
 * MC_ERR_NOMEM. */
mc_status mc_knn_exact_push(const mc_knn_exact_job *job, size_t qb, size_t b_base, size_t *cnt,
                            int64_t *ids, float *sims);

/* ---- knn_int8.c ---- */

/* The "Int8" search (knn_int8.c says how): the job's fields as for
 * mc_knn_exact_search() (block_size and db_block unused), each row's best
 * k + mc_knn_int8_margin(k) by the 8-bit inner product re-ranked with float
 * cosines. The rows do not depend on the thread count or the CPU. MC_OK,
 * MC_ERR_NOMEM or MC_ERR_CANCELLED. */
mc_status mc_knn_int8_search(const mc_knn_exact_job *job, int64_t *ids, float *sims);
/* The same with the candidates found on projected codes ("PCA<dl>,Int8"):
 * w (d x dl, row-major) projects every row; each row's best kk1 by the
 * projected 8-bit product are scored again with the full-dimension 8-bit
 * codes, and the best k + margin of those re-ranked in floats. w NULL: the
 * plain search (dl, kk1 unused). */
mc_status mc_knn_int8_search_ex(const mc_knn_exact_job *job, const float *w, size_t dl,
                                size_t kk1, int64_t *ids, float *sims);
/* The top dl principal axes (of the second moments, uncentred) of a seeded
 * sample of up to 65,536 of the m candidate rows of x (all n when cand is
 * NULL): *out_w a new d x dl row-major matrix, *out_sample the rows used.
 * MC_OK, MC_ERR_NOMEM, MC_ERR_BAD_DATA (LAPACK failed). */
mc_status mc_knn_pca_basis(const float *x, size_t d, const size_t *cand, size_t m, size_t dl,
                           uint64_t seed, float **out_w, size_t *out_sample);
/* Candidates of "PCA<d>,Int8"'s projected codes: 4k. */
size_t mc_knn_pca_candidates(size_t k);
/* Candidates re-ranked beyond k: max(16, k / 4). */
size_t mc_knn_int8_margin(size_t k);
/* mc_knn_auto_index_dim()'s choice as if the fast 8-bit kernel were there
 * (fast nonzero) or not: the MPI ring search, which has no 8-bit kernel,
 * asks with fast 0. */
void mc_knn_auto_index_for(size_t n, size_t d, int fast, char *buf, size_t size);
/* Nonzero when this CPU runs the fast kernel (AVX-512 VNNI). */
int mc_knn_int8_fast(void);
/* Tests: nonzero makes the search use the portable kernel on any CPU. */
void mc_knn_int8_force_generic(int on);
/* Tests: nonzero makes a search of the data rows among themselves take them
 * one block at a time instead of by symmetric tiles (the same bytes). */
void mc_knn_int8_force_one_sided(int on);

/* ---- knn_build.c ---- */

/* "Cells" (1, *nlist 0 = automatic) or "Cells<nlist>" (1); 0 for any other
 * spec; -1 for a malformed Cells spec. */
int mc_knn_parse_cells(const char *spec, size_t *nlist);
/* The candidate faces of the optional flags (knn.h's candidates): NULL and
 * n when every face may be a neighbour, else a new list of the nc flagged
 * faces in increasing order. MC_ERR_INVALID_ARG when none is flagged. */
mc_status mc_knn_candidate_list(const uint8_t *flags, size_t n, size_t **out_cand, size_t *out_nc);

/* ---- knn_cells.c, knn_faiss.c ---- */

/* The "Cells<nlist>" search (knn_cells.c): spherical k-means cells of the m
 * candidates, every face searched in its nprobe nearest cells by sgemm. */
mc_status mc_knn_cells(const float *x, size_t n, size_t d, const size_t *cand, size_t m,
                       const mc_knn_params *par, size_t nlist, mc_knn_graph_t *g,
                       mc_knn_info *info);
/* The pieces of the Cells search that an MPI search (knn_mpi.c) makes on
 * other processes, each the very computation mc_knn_cells() makes. */

/* Rows per sgemm when assigning faces to cells, cut from row 0: rows
 * assigned from a multiple of it get the one-process cells. */
#define MC_KNN_CELLS_AB 256
/* The sizes of a Cells search of n faces, m of them candidates: nlist
 * cells, nprobe p, train_size t, chunk queries in a chunk (chunk c is
 * queries [c chunk, (c + 1) chunk) clipped to n). */
typedef struct {
    size_t L, p, t, chunk;
} mc_knn_cells_plan;
/* MC_OK, or MC_ERR_INVALID_ARG (too many or too few cells, too few faces
 * to train) with the one-process detail. */
mc_status mc_knn_cells_plan_make(size_t n, size_t m, const mc_knn_params *par, size_t nlist,
                                 mc_knn_cells_plan *out);
/* Spherical k-means of the t rows sx (the seeded sample
 * mc_knn_sample_rows(cand, m, t, par->seed), in its order) into L unit
 * centroids cent (L x d). MC_OK, MC_ERR_NOMEM, MC_ERR_CANCELLED. */
mc_status mc_knn_cells_train(const float *sx, size_t t, size_t d, size_t L, float *cent,
                             const mc_knn_params *par);
/* The p nearest of the L centroids to each of the nr rows xb, nearest
 * first, into cells (nr x p); xb's first row must be a multiple of
 * MC_KNN_CELLS_AB of the whole matrix for the one-process result. A
 * candidate lives in its nearest cell. MC_OK or MC_ERR_NOMEM. */
mc_status mc_knn_cells_assign(const float *xb, size_t nr, size_t d, const float *cent, size_t L,
                              size_t p, uint32_t *cells, const mc_knn_params *par);
/* The queries of a chunk grouped by cell: for the nq queries' probes
 * (nq x p), every visit of a cell in [c0, c1) (the others skipped) as the
 * query's local number in cq[cstart[c] .. cstart[c + 1]), in query order.
 * cstart holds L + 1 entries, cq nq x p. */
void mc_knn_cells_group(const uint32_t *probes, size_t nq, size_t p, size_t L, size_t c0,
                        size_t c1, size_t *cstart, uint32_t *cq);
/* One thread's sgemm buffers for mc_knn_cells_products (about 17 MB at
 * d = 512); NULL when out of memory. */
typedef struct mc_knn_cells_scratch mc_knn_cells_scratch;
mc_knn_cells_scratch *mc_knn_cells_scratch_new(size_t d);
void mc_knn_cells_scratch_free(mc_knn_cells_scratch *b);
/* A chunk's products with cells [c0, c1). Local query r (the numbers in
 * cq) is row qbase + r of xq and of the heaps, with id qid[r] (qid NULL:
 * qbase + r), skipped as its own neighbour; cell c's members are the
 * positions [lstart[c] - mbase, lstart[c + 1] - mbase), position l being
 * row mrow[l] of xm (mrow NULL: row l) with id mid[l]. */
typedef struct {
    size_t d, k;
    const float *xq;
    size_t qbase;
    const size_t *qid;
    const size_t *cstart;
    const uint32_t *cq;
    const float *xm;
    const size_t *mrow, *mid;
    const size_t *lstart;
    size_t mbase;
    size_t c0, c1;
} mc_knn_cells_scan;
/* Every product of the scan pushed into the heaps (hs, hi: rows of k; cnt:
 * a count per local query, indexed by r), which stay unsorted. Each sgemm
 * is the one mc_knn_cells() makes for that cell and query block when cq
 * lists the same queries (in the same order) and the members are the same
 * (in id order), so the similarities are the same bit for bit. */
void mc_knn_cells_products(const mc_knn_cells_scan *s, mc_knn_cells_scratch *b, size_t *cnt,
                           float *hs, int64_t *hi);

/* The factory string built for spec: "np" after every "PQ<m>[x<bits>]"
 * stage (no polysemous training, which costs about a minute and serves a
 * Hamming filter this search does not use). 0, or -1 when it does not fit. */
int mc_knn_faiss_spec(const char *spec, char *out, size_t size);
/* Any FAISS index_factory spec: trained on a seeded sample when it needs it,
 * filled and searched in blocks for k + 1 (the face itself dropped). */
mc_status mc_knn_faiss(const float *x, size_t n, size_t d, const size_t *cand, size_t nc,
                       const mc_knn_params *par, const char *spec, mc_knn_graph_t *g,
                       mc_knn_info *info);

/* The "HNSW<M>" search (knn_hnsw.c): hnswlib's graph of the m candidates,
 * M links a node, every face searched for k + 1 (itself dropped). */
mc_status mc_knn_hnsw(const float *x, size_t n, size_t d, const size_t *cand, size_t m,
                      const mc_knn_params *par, size_t M, mc_knn_graph_t *g, mc_knn_info *info);
/* HNSW<M> defaults: efConstruction max(128, 2(k+1)), efSearch max(128, 4(k+1)). */
size_t mc_knn_auto_ef_construction(size_t k);
size_t mc_knn_auto_hnsw_ef_search(size_t k);

#endif
