/**
 * @file knn.h
 * @brief k-nearest-neighbour graph over unit directions: exact (blocked
 * OpenBLAS sgemm), exhaustive on 8-bit directions and re-ranked, or
 * approximate (our Cells inverted file, hnswlib, any FAISS index_factory
 * index).
 *
 * @code
 * mc_knn_params kp = mc_knn_params_default();
 * kp.k = 30;
 * mc_knn_graph_t *g = NULL;
 * if (mc_knn_graph_build(e, &kp, &g) != MC_OK) return 1;
 * const int64_t *ids = mc_knn_graph_ids(g);    // n*k, -1 padded
 * const float *sims = mc_knn_graph_sims(g);    // n*k cosine similarities
 * mc_knn_graph_free(g);
 * @endcode
 *
 * Row i lists the k faces most similar to face i, itself excluded, sorted by
 * decreasing similarity and, among equal similarities, by increasing id, so a
 * graph does not depend on the thread count. Thread safety: a built graph is
 * immutable; its getters may run concurrently, and so may builds. BLAS: the
 * library calls sgemm only inside its own parallel regions, one call per
 * thread; with the pthreads build of OpenBLAS it sets OpenBLAS's thread
 * count to 1 on the first search, once (the OpenMP build needs nothing).
 *
 * Index choice (mc_knn_params.index):
 * - "Flat": exact. Blocks of queries times blocks of the data through
 *   cblas_sgemm, each block's rows reduced to their k best at once; it reads
 *   the directions in place (no copy) and needs block_size x 4096 floats of
 *   scratch besides the graph.
 * - "Int8": every pair compared, on 8-bit directions. Each component is
 *   rounded to an integer in [-127, 127] on one scale (127 over the data's
 *   largest component); a face's best k + max(16, k / 4) by the integer
 *   inner product are re-ranked with float cosines, and the best k kept.
 *   A neighbour is lost only when the rounding (about 1e-3 of cosine at
 *   512-d) pushes it below that many others: recall@k was 1.0000 against
 *   "Flat" on 21,613 realistic synthetic 512-d faces at k 60. The integer
 *   products are exact, so the rows are the same on every CPU and thread
 *   count. With AVX-512 VNNI it runs at about 4 times "Flat"'s speed on
 *   the same cores (a 64-byte multiply-add per instruction); elsewhere a
 *   portable kernel gives the same rows more slowly than "Flat". It holds
 *   an 8-bit copy of the candidates (N x D bytes) besides the graph. When
 *   the faces are searched among themselves (no candidate set, not a
 *   shard), each pair of faces is multiplied once for both, which halves
 *   the kernel's work; that needs every face's candidates kept to the end
 *   (12 (k + max(16, k / 4)) bytes a face with "Int8", 12 x 4k with
 *   "PCA<d>,Int8", plus the codes), so it is done while they take at most
 *   1 GiB and a quarter of mc_memory_limit(), and one block of faces at a
 *   time beyond; the rows are the same bytes either way.
 * - "PCA<d>,Int8" (4 <= d < D): "Int8" on d dimensions. The top d
 *   principal axes of a seeded sample of up to 65,536 candidates (LAPACK
 *   dsyevd on their second moments; train_size in mc_knn_info) project
 *   every face; each face's best 4k by the 8-bit product of the
 *   projections are scored again with the full-dimension 8-bit codes, and
 *   the best k + max(16, k / 4) of those re-ranked with float cosines. It
 *   compares every pair at d/D of the cost (the kernel's share; the
 *   rescoring adds a constant per face): on 100,888 realistic synthetic
 *   512-d faces "PCA128,Int8" searched in 9.0 s against "Int8"'s 15.3 s,
 *   recall@60 0.975, BCubed F 0.792 (map) / 0.836 (linkage) against the
 *   exact graph's 0.805 / 0.844. A neighbour is lost when the projection
 *   ranks it below 4k others, which happens more as N grows. Memory: N x
 *   (d + D) bytes besides the graph. Deterministic like "Int8".
 * - "Cells<nlist>" (or "Cells": nlist from mc_knn_auto_cells()): approximate,
 *   our own inverted file. Spherical k-means (10 rounds, on a seeded sample
 *   of train_size faces) cuts the candidates into nlist cells; every face
 *   visits its nprobe nearest cells (default mc_knn_auto_cells_nprobe()).
 *   The search runs cell by cell: each cell's faces times all the faces of a
 *   chunk of queries that visit it, in one sgemm, so it computes about
 *   nprobe/nlist of the exact search's products at a similar speed per
 *   product (FAISS's IndexIVFFlat scans lists one query at a time, at memory
 *   speed: 20x slower at 100k faces). Besides the graph it holds N x nprobe
 *   cell numbers (4 bytes each), the centroids and a per-thread scratch. The
 *   graph does not depend on the thread count.
 * - "HNSW<M>" (or "HNSW": M = 32; M from 2 to 256): approximate,
 *   hnswlib's hierarchical navigable small-world graph (Debian's header-only
 *   libhnswlib-dev), inner product on the unit directions, M links a face
 *   (2M on the base layer), built with depth ef_construction and searched
 *   with depth ef_search for k + 1 (the face itself dropped). Its distance
 *   kernel is picked at run time for the CPU (AVX-512F, AVX2+FMA or SSE2),
 *   so the binary runs anywhere. It holds a copy of the candidates'
 *   directions plus about 2M + 1 links of 4 bytes a face. Threads: the
 *   faces' layers come from the seed, and the upper layers are inserted
 *   first in order by one thread; the base layer is then filled by all
 *   threads at once, and which concurrent insert sees which decides some
 *   links. So with n_threads = 1 the graph is a function of the faces and
 *   the seed, but with more threads it varies from run to run and with the
 *   thread count (on 20,001 synthetic 512-d faces at ef_search 64, two
 *   2-thread runs differ in 21 % of the rows and 9.5 % of the entries;
 *   measure the recall with mc_knn_recall_sample()). It is therefore never
 *   chosen by "auto".
 * - any other string is handed to FAISS's index_factory with the inner
 *   product metric ("IVF4096,Flat", "HNSW32,Flat", "IVF4096,PQ64", ...): trained
 *   on a seeded sample when it needs training, filled in blocks, searched in
 *   blocks for k + 1 neighbours (the face itself is dropped).
 * - NULL or "auto": "Flat" up to MC_KNN_AUTO_FLAT_MAX faces. Above, where
 *   the CPU has AVX-512 VNNI: "Int8" up to MC_KNN_AUTO_EXACT_MAX faces,
 *   "PCA256,Int8" up to MC_KNN_AUTO_PCA256_MAX and "PCA128,Int8" beyond
 *   ("Int8" when the dimension is not above those d). Elsewhere: "Flat" up
 *   to MC_KNN_AUTO_EXACT_MAX, then "Cells<nlist>" with nlist =
 *   mc_knn_auto_cells(N). On 300,388 realistic 512-d faces PCA256,Int8
 *   kept BCubed F within 0.005 of the exact graph (map) where Cells512 lost
 *   0.055, at a similar search time.
 *
 * Candidates (mc_knn_params.candidates): a face's row may list only
 * candidate faces; every face, candidate or not, gets a row. With an index,
 * only the candidates are trained on and indexed.
 */
#ifndef MAGCLUST_KNN_H
#define MAGCLUST_KNN_H

#include <stddef.h>
#include <stdint.h>

#include "embeddings.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque k-NN graph: N rows of k (id, similarity) pairs. */
typedef struct mc_knn_graph mc_knn_graph_t;

/** Largest N for which the automatic index is "Flat" on every CPU. */
#define MC_KNN_AUTO_FLAT_MAX 20000

/** Largest N for which the automatic index compares every pair in full
 *  ("Flat", or "Int8" where the CPU has AVX-512 VNNI). */
#define MC_KNN_AUTO_EXACT_MAX 200000

/** Largest N for which the automatic index above MC_KNN_AUTO_EXACT_MAX is
 *  "PCA256,Int8" (with AVX-512 VNNI; "PCA128,Int8" above). */
#define MC_KNN_AUTO_PCA256_MAX 500000

/** Parameters of the k-NN search. */
typedef struct {
    size_t k;           /**< neighbours per face, self excluded; 1 <= k < N. Default 30. */
    size_t block_size;  /**< queries per block (exact: per sgemm; FAISS: per search call). Default 1024. */
    int n_threads;      /**< OpenMP threads for the search (a num_threads clause; each runs a
                             single-threaded sgemm); <= 0 means the OpenMP default, all cores
                             unless OMP_NUM_THREADS says otherwise. Default 0. */
    const char *index;  /**< "Flat", a FAISS index_factory string, or NULL / "auto" (default); see above */
    size_t nprobe;      /**< IVF: inverted lists visited per query; 0 = auto (see mc_knn_auto_nprobe) */
    size_t ef_search;   /**< HNSW: search depth; 0 = auto (HNSW<M>: max(128, 4(k+1));
                             FAISS HNSW: max(64, 2(k+1))) */
    size_t train_size;  /**< faces sampled to train an index that needs it; 0 = auto (min(N, 64 nlist), at least 10000) */
    uint64_t seed;      /**< seed of the training sample. Default 1. */
    mc_log_fn log;      /**< optional messages (what was chosen) */
    void *user_data;    /**< passed to log */
    mc_progress_fn progress; /**< optional progress of the train, add and search phases,
                                  called from the calling thread; a non-zero return cancels
                                  the build (MC_ERR_CANCELLED, see mc_progress_fn) */
    void *progress_data;     /**< passed to progress */
    const uint8_t *candidates; /**< optional N flags: only faces with a non-zero flag may be
                                    anyone's neighbour (e.g. the faces good enough to seed
                                    clusters); NULL = every face. Every face still gets a row. */
    size_t ef_construction; /**< HNSW<M>: build depth; 0 = auto (max(128, 2(k+1))) */
} mc_knn_params;

/** What a build did: the index actually used and where the time went. */
typedef struct {
    char index[64];      /**< the index spec used ("Flat", "IVF1024,Flat", ...) */
    int exact;           /**< 1 for the exact search */
    size_t nprobe;       /**< IVF lists visited (0 when not IVF) */
    size_t ef_search;    /**< HNSW efSearch (0 when not HNSW) */
    size_t ef_construction; /**< HNSW<M> efConstruction (0 otherwise) */
    size_t train_size;   /**< faces the index was trained on (0 when untrained) */
    size_t n_candidates; /**< faces that could be neighbours (N without a candidate set) */
    double scan_frac;    /**< fraction of the N x n_candidates similarities computed (1 exact; Cells only, else 0) */
    double t_train, t_add, t_search; /**< seconds per phase */
} mc_knn_info;

/** @brief Defaults: k = 30, block_size = 1024, all cores, automatic index, seed 1, no log. */
MC_API mc_knn_params mc_knn_params_default(void);

/**
 * @brief The index spec "auto" resolves to for n faces, into buf (at least 32 bytes).
 *
 * It depends on the CPU above MC_KNN_AUTO_FLAT_MAX faces (see "auto"
 * above); this form does not know the dimension, so above
 * MC_KNN_AUTO_EXACT_MAX it names the PCA index even where the dimension is
 * too small for it (mc_knn_auto_index_dim() does not).
 */
MC_API void mc_knn_auto_index(size_t n, char *buf, size_t size);

/**
 * @brief The index spec "auto" resolves to for n faces of dimension d (0:
 * unknown), into buf (at least 32 bytes): mc_knn_graph_build()'s choice.
 */
MC_API void mc_knn_auto_index_dim(size_t n, size_t d, char *buf, size_t size);

/** @brief The automatic cell count of "Cells" for m candidate faces: the
 * smallest power of two L with 2 L^2 >= m (about sqrt(m / 2); 1024 for a
 * million), so a cell holds about 2 L faces. */
MC_API size_t mc_knn_auto_cells(size_t m);

/** @brief The automatic nprobe of "Cells<nlist>": max(8, nlist / 8), at most nlist. */
MC_API size_t mc_knn_auto_cells_nprobe(size_t nlist);

/** @brief The automatic nprobe for an IVF index of nlist lists: max(16, nlist / 32), at most nlist. */
MC_API size_t mc_knn_auto_nprobe(size_t nlist);

/**
 * @brief Inner-product search of every face against all faces.
 * @param e    embeddings (directions are used; not retained).
 * @param p    parameters; NULL for the defaults.
 * @param out  receives a new graph owned by the caller.
 * @return MC_OK, MC_ERR_INVALID_ARG (k == 0 or k >= N, a bad index spec),
 *         MC_ERR_FAISS, MC_ERR_NOMEM; MC_ERR_CANCELLED when p->progress
 *         returned non-zero (no graph: *out stays NULL).
 */
MC_API mc_status mc_knn_graph_build(const mc_embeddings_t *e, const mc_knn_params *p,
                                    mc_knn_graph_t **out);

/** @brief mc_knn_graph_build, also filling info (may be NULL) with what was done. */
MC_API mc_status mc_knn_graph_build_ex(const mc_embeddings_t *e, const mc_knn_params *p,
                                       mc_knn_graph_t **out, mc_knn_info *info);

/**
 * @brief Build a graph from arrays (copied), e.g. one computed elsewhere.
 * Rows are re-sorted into the canonical order; ids must be in [-1, n).
 * @param ids   n*k neighbour ids (-1 = none).
 * @param sims  n*k similarities.
 */
MC_API mc_status mc_knn_graph_new(size_t n, size_t k, const int64_t *ids, const float *sims,
                                  mc_knn_graph_t **out);

/** @brief Free; NULL-safe. */
MC_API void mc_knn_graph_free(mc_knn_graph_t *g);
/** @brief Number of faces N. */
MC_API size_t mc_knn_graph_n(const mc_knn_graph_t *g);
/** @brief Neighbours per face k. */
MC_API size_t mc_knn_graph_k(const mc_knn_graph_t *g);
/** @brief Neighbour ids, N*k row-major, -1 where a row has fewer than k. */
MC_API const int64_t *mc_knn_graph_ids(const mc_knn_graph_t *g);
/** @brief Cosine similarities, N*k, aligned with the ids. */
MC_API const float *mc_knn_graph_sims(const mc_knn_graph_t *g);

/** Parameters of mc_knn_recall_sample(). */
typedef struct {
    size_t n_sample;  /**< query faces drawn at random; clipped to N. Default 1000. */
    uint64_t seed;    /**< seed of the draw; the same seed draws the same faces. Default 1. */
    int n_threads;    /**< threads of the brute-force search; <= 0 = the OpenMP default. The
                           estimate does not depend on it. Default 0. */
    const uint8_t *candidates; /**< the candidate flags the graph was built with (N), or NULL:
                                    the exact rows are searched among the same faces */
    size_t k;         /**< recall@k: the exact k nearest against the first k of the graph's
                           (sorted) row; 0 (default) = the graph's k; at most the graph's k */
} mc_knn_recall_params;

/** What mc_knn_recall_sample() measured. */
typedef struct {
    size_t k;               /**< recall@k: the k measured (the graph's unless asked) */
    size_t n_sampled;       /**< query faces drawn */
    size_t n_better;        /**< of them, faces at or above the median quality */
    double median_quality;  /**< the median quality of all N faces */
    double recall;          /**< fraction of the sampled faces' exact k neighbours the graph lists */
    double recall_better;   /**< the same over the n_better faces (NAN when there are none) */
    double seconds;         /**< wall time of the estimate */
} mc_knn_recall;

/** @brief Defaults: 1000 faces, seed 1, all cores, no candidate set. */
MC_API mc_knn_recall_params mc_knn_recall_params_default(void);

/**
 * @brief Estimate the recall@k of a k-NN graph against brute force.
 *
 * Draws p->n_sample faces at random (seeded, without replacement), finds each
 * one's exact k nearest faces (self excluded) by the same blocked sgemm as the
 * "Flat" index, and counts how many of them the graph's row lists. A listed
 * face that is not in the exact row but exactly as similar as its k-th face
 * (a tie) counts as found. Costs n_sample x N x D multiply-adds. The result
 * depends only on the graph, the directions, the quality and the seed, not
 * on the thread count.
 *
 * @param g    the graph (k = mc_knn_graph_k(g)), built on @p e's directions as
 *             they are now (after any centring).
 * @param e    the faces (directions and quality; not retained); N must be the graph's.
 * @param p    parameters; NULL for the defaults.
 * @param out  receives the estimate.
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL argument, n_sample 0, N differs,
 *         p->k above the graph's k);
 *         MC_ERR_NOMEM.
 * Thread safety: reads g and e only; may run concurrently on shared handles.
 */
MC_API mc_status mc_knn_recall_sample(const mc_knn_graph_t *g, const mc_embeddings_t *e,
                                      const mc_knn_recall_params *p, mc_knn_recall *out);

#ifdef __cplusplus
}
#endif
#endif
