/**
 * @file status.h
 * @brief Status codes, error details and the export macro shared by every magclust module.
 *
 * @code
 * mc_embeddings_t *emb = NULL;
 * mc_status st = mc_embeddings_read_h5("faces.h5", NULL, &emb);
 * if (st != MC_OK) {
 *     fprintf(stderr, "magclust: error: %s: %s\n", mc_strerror(st), mc_last_error_detail());
 *     return 1;
 * }
 * mc_embeddings_free(emb);
 * @endcode
 *
 * Thread safety: every function here may be called from any thread at any
 * time; the error detail is per thread.
 */
#ifndef MAGCLUST_STATUS_H
#define MAGCLUST_STATUS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MC_STATIC_DEFINE)
#define MC_API
#elif defined(_WIN32)
#ifdef MC_BUILDING_LIBRARY
#define MC_API __declspec(dllexport)
#else
#define MC_API __declspec(dllimport)
#endif
#else
#define MC_API __attribute__((visibility("default")))
#endif

#define MC_VERSION_MAJOR 0
#define MC_VERSION_MINOR 1
#define MC_VERSION_PATCH 0
#define MC_VERSION_STRING "0.1.0"

/** Result of every fallible magclust call. */
typedef enum {
    MC_OK = 0,              /**< success */
    MC_ERR_NOMEM,           /**< an allocation failed */
    MC_ERR_INVALID_ARG,     /**< a parameter is out of range or inconsistent */
    MC_ERR_IO,              /**< a file could not be opened, read or written */
    MC_ERR_HDF5,            /**< the HDF5 library reported an error, or the file lacks a dataset */
    MC_ERR_FAISS,           /**< FAISS reported an error */
    MC_ERR_DIM_MISMATCH,    /**< two arrays that must agree in size do not */
    MC_ERR_BAD_DATA,        /**< input values are unusable (NaN, Inf, zero rows, N = 0, ...) */
    MC_ERR_CANCELLED        /**< the progress callback (mc_progress_fn) returned non-zero */
} mc_status;

/** Number of distinct mc_status values (for tests and tables). */
#define MC_STATUS_COUNT 9

/**
 * @brief Static, human-readable name of a status code.
 * @param st any value; unknown values give "unknown error".
 * @return a string with static storage; never NULL.
 */
MC_API const char *mc_strerror(mc_status st);

/**
 * @brief Detail of the last error raised on the calling thread.
 *
 * Set by the failing call (file name, dataset, row number, FAISS or HDF5
 * message). Valid until the next magclust call on the same thread.
 * @return a thread-local string, "" when there is no detail; never NULL.
 */
MC_API const char *mc_last_error_detail(void);

/** Why the last error was raised, where a caller may want to act on it
 *  (print a hint, retry with an option) without reading the detail text. */
typedef enum {
    MC_REASON_NONE = 0,      /**< nothing more specific than the status */
    MC_REASON_MEMORY_LIMIT,  /**< (MC_ERR_NOMEM) what an input states would exceed the
                                  memory limit (mc_memory_limit()) */
    MC_REASON_BAD_ROW        /**< (MC_ERR_BAD_DATA) a row has a NaN or Inf value, a zero
                                  norm, a norm outside float32 or a NaN quality:
                                  mc_h5_read_params.skip_bad_rows leaves such rows out */
} mc_error_reason;

/**
 * @brief The reason of the last error raised on the calling thread, set and
 * cleared with the detail (MC_REASON_NONE after an error without one).
 */
MC_API mc_error_reason mc_last_error_reason(void);

/**
 * @brief Remove every temporary file the library (or mc_register_temporary())
 * has named in this process and that still exists: the outputs being written,
 * not yet renamed into place. Async-signal-safe (unlink only): meant for a
 * SIGINT / SIGTERM handler, so that an interrupted run leaves the previous
 * output intact and no temporary behind.
 */
MC_API void mc_remove_temporaries(void);

/**
 * @brief Add @p path (copied) to what mc_remove_temporaries() removes; for a
 * caller's own temporary files. At most 1,024 names per process are kept
 * (each writer names one or two); past that, names are not recorded.
 */
MC_API void mc_register_temporary(const char *path);

/**
 * @brief From now on, on the calling thread, an output the library commits
 * at @p path (copied) must be new: the writer renames its temporary into
 * place without replacing, and fails with MC_ERR_IO ("exists now") when a
 * file appeared there meanwhile, e.g. from another run started at the same
 * time. For a caller that checked @p path was free before a long run. At
 * most 16 paths are kept per thread (MC_ERR_NOMEM past that);
 * mc_output_require_new(NULL) forgets them all.
 * @return MC_OK, MC_ERR_NOMEM.
 */
MC_API mc_status mc_output_require_new(const char *path);

/**
 * @brief Cap, in bytes, on what the library sets out to allocate for data
 * whose size an input states before it is read: the N x D of an HDF5 or
 * .npy header, a graph's N x k, a model's exemplars. A larger request is
 * refused with MC_ERR_NOMEM and a detail naming the file, the sizes and the
 * cap, before any allocation, so an absurd header never gets the process
 * killed for memory. 0 (the default) means the memory available when the
 * check runs (MemAvailable in /proc/meminfo, else the physical memory).
 * Each such allocation is checked on its own: the limit is not a cap on a
 * run's peak, which is their sum plus working memory.
 * Per thread, like mc_last_error_detail(): it applies to the calls the
 * calling thread makes (readers check it in the thread that calls them),
 * and other threads keep their own.
 */
MC_API void mc_set_memory_limit(uint64_t bytes);

/** @brief The calling thread's cap: the one set, or else the memory available now
 * (UINT64_MAX when neither can be told). */
MC_API uint64_t mc_memory_limit(void);

/** @brief Library version string, e.g. "0.1.0". */
MC_API const char *mc_version(void);

/**
 * @brief Optional log callback carried in params structs.
 * @param user_data the pointer given beside the callback.
 * @param msg one line without a trailing newline.
 */
typedef void (*mc_log_fn)(void *user_data, const char *msg);

/**
 * @brief Progress of a long phase: `done` of `total` units (faces, rows),
 * and the caller's chance to cancel it.
 *
 * Called often, so it must be cheap. Always called from the thread that made
 * the library call (in a multi-threaded phase, the calling thread reports
 * for the whole team: it is OpenMP's thread 0 and the workers never call
 * it), so it may touch the caller's thread-local state, and a Python
 * callback runs where Python delivers signals. Never called concurrently
 * for one library call.
 *
 * Return 0 to continue. A non-zero return cancels the call: the workers
 * finish the block they are on, everything the call allocated is freed, no
 * output is handed over (the `out` pointer stays NULL, no file is written),
 * and the call returns MC_ERR_CANCELLED with a detail such as "cancelled by
 * the progress callback during search". The same call may then be made
 * again (an input the call writes in place, such as mc_cluster_run()'s
 * centring of its embeddings, may have been written, as after any other
 * failure). The final report of a phase (`done == total`) may cancel too.
 * The callback is not called again once it has asked to cancel.
 * The reports are the only cancellation points: today the k-NN phases
 * (train, add, search) report; a phase that does not (calibration, the
 * clustering algorithm) runs to its end before a cancel can take effect.
 *
 * @code
 * static volatile sig_atomic_t stop;            // set by a SIGINT handler
 * static int on_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
 * {
 *     (void)ud; (void)phase; (void)done; (void)total;
 *     return stop;                              // non-zero: cancel
 * }
 * // mc_cluster_params p = ...; p.progress = on_progress;
 * // if (mc_cluster_run(e, NULL, &p, &r) == MC_ERR_CANCELLED) ...  // r is NULL
 * @endcode
 *
 * @param user_data the pointer given beside the callback (progress_data).
 * @param phase a short name ("train", "add", "search", ...), static storage.
 * @param done units done so far, non-decreasing within a phase.
 * @param total units in the phase.
 * @return 0 to continue, non-zero to cancel (MC_ERR_CANCELLED).
 */
typedef int (*mc_progress_fn)(void *user_data, const char *phase, uint64_t done, uint64_t total);

#ifdef __cplusplus
}
#endif
#endif
