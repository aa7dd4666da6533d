/* Private helpers shared by the library's modules. Never installed. */
#ifndef MAGCLUST_UTIL_IMPL_H
#define MAGCLUST_UTIL_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "magclust/status.h"

#if defined(__GNUC__)
#define MC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MC_PRINTF(a, b)
#endif

/* Programmer bugs only; never for bad input. */
#ifdef NDEBUG
#define MC_ASSERT(x) ((void)0)
#else
#include <assert.h>
#define MC_ASSERT(x) assert(x)
#endif

/* Record a detail for mc_last_error_detail() and return st, so that a failure
 * reads `return mc_fail(MC_ERR_IO, "%s: cannot open", path);`. */
mc_status mc_fail(mc_status st, const char *fmt, ...) MC_PRINTF(2, 3);
/* The same, also recording why (mc_last_error_reason()). */
mc_status mc_fail_reason(mc_error_reason reason, mc_status st, const char *fmt, ...) MC_PRINTF(3, 4);
/* Clear the calling thread's detail (start of every public entry point). */
void mc_clear_error(void);

/* Report progress through the optional callback fn (NULL: nothing);
 * nonzero when it asks to cancel. Call it only from the thread that made
 * the library call (OpenMP's thread 0 inside a region): status.h promises
 * that. */
int mc_progress_stop(mc_progress_fn fn, void *data, const char *phase, uint64_t done,
                     uint64_t total);
/* MC_ERR_CANCELLED, with the detail "cancelled by the progress callback
 * during <phase>"; call it in the calling thread, after any parallel region. */
mc_status mc_cancelled(const char *phase);

/* splitmix64 (Steele, Lea, Flood 2014): tiny, full-period; each caller keeps
 * its own state, so runs never share or disturb a generator. */
static inline uint64_t mc_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Overflow-checked n*size allocations; NULL on overflow or failure. */
void *mc_malloc_array(size_t n, size_t size);
void *mc_calloc_array(size_t n, size_t size);
/* Before allocating what an input says it holds (n x k elements of elem
 * bytes, all copies counted in elem): MC_OK; MC_ERR_BAD_DATA when the size
 * overflows; MC_ERR_NOMEM when it is above mc_memory_limit(). The detail
 * reads "FILE: WHAT (N x K) would take X GiB, more than the memory limit of
 * Y GiB (...)"; file may be NULL (no file named). */
mc_status mc_check_memory(const char *file, const char *what, uint64_t n, uint64_t k,
                          uint64_t elem);
/* Grow the array *p (of *cap elements of size bytes) to hold at least need,
 * doubling; 0, or -1 (overflow, out of memory) with *p untouched. */
int mc_grow_array(void **p, size_t *cap, size_t need, size_t size);
/* qsort/bsearch orders: int64 values; int64 pairs (first, then second). */
int mc_cmp_i64(const void *a, const void *b);
int mc_cmp_i64_pair(const void *a, const void *b);

/* Atomic output: write into a temporary file in the destination's directory,
 * then rename it over the destination. */
typedef struct {
    FILE *fp;
    char *tmp_path;
    char *final_path;
} mc_atomic_file;

/* Opens the temporary file. On failure nothing exists on disk. */
mc_status mc_atomic_open(mc_atomic_file *af, const char *path);
/* Flushes, fsyncs, closes and renames. On failure the temporary is removed. */
mc_status mc_atomic_commit(mc_atomic_file *af);
/* Commits a data file and, when open, a companion beside it (labels) as one:
 * both are written and synced before either is renamed; the companion goes
 * first and is removed again if the data file cannot follow. Both are
 * released whatever the outcome. companion may be NULL. */
mc_status mc_atomic_commit_pair(mc_atomic_file *data, mc_atomic_file *companion);
/* Closes and removes the temporary; safe after a failed open or a commit. */
void mc_atomic_abort(mc_atomic_file *af);
/* A fresh temporary name in the directory of path (for writers, such as HDF5,
 * that open files themselves). Caller frees. NULL on failure. */
char *mc_temp_path_for(const char *path);
/* Whether an output may be committed at path: MC_ERR_IO when it is a
 * symbolic link (dangling or not), something other than a regular file, or,
 * unless may_exist, any file at all ("exists now"). *out_mode (optional)
 * gets an existing file's permissions, -1 when there is none. */
mc_status mc_check_destination(const char *path, int may_exist, int *out_mode);
/* fsync + rename tmp over path (mc_sync_file, then mc_place_file); removes
 * tmp on failure. */
mc_status mc_rename_into_place(const char *tmp, const char *path);
/* fsync the written file tmp: MC_ERR_IO "PATH: write failed: REASON" when
 * that fails (tmp is kept); MC_OK also when tmp cannot be opened. */
mc_status mc_sync_file(const char *tmp, const char *path);
/* Rename tmp over path (mc_check_destination first; a replaced file's
 * permissions kept); removes tmp on failure. */
mc_status mc_place_file(const char *tmp, const char *path);
/* mc_place_file() with the choice given: unless may_replace, the rename
 * never replaces, and a file that appeared meanwhile fails it ("exists
 * now"). */
mc_status mc_place_file_ex(const char *tmp, const char *path, int may_replace);

#endif
