/* Library-internal HDF5 helpers shared by the readers and writers. */
#ifndef MAGCLUST_H5_IMPL_H
#define MAGCLUST_H5_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "magclust/status.h"
#include "util_impl.h"

/* ---- errors (h5_util.c) ------------------------------------------------- */

/* HDF5 prints its error stack by default; the library reports through
 * mc_status instead. Every entry point that calls HDF5 silences the printing
 * on the way in and restores the caller's setting on the way out (the
 * setting is per thread in a thread-safe HDF5). Entering also forgets any
 * HDF5 message noted (mc_h5_note) by an earlier call on this thread. */
typedef struct {
    H5E_auto2_t fn;
    void *data;
} h5_quiet;

void mc_h5_forget(void);

static inline void quiet_on(h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    mc_h5_forget();
}

static inline void quiet_off(const h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->fn, q->data); }

/* HDF5 keeps what went wrong on a per-thread error stack, which the next
 * HDF5 call clears. mc_h5_note() keeps its innermost message (the one from
 * the function that detected the error, e.g. "file signature not found" or
 * "file write failed: No space left on device"; one line) for a later
 * mc_h5_fail(), and is meant for helpers that must close identifiers before
 * they return their failure. The first message noted is kept. */
void mc_h5_note(void);
/* mc_fail() with " (HDF5: MESSAGE)" appended: the message noted, or else
 * the innermost one of the error stack as it is now; nothing is appended
 * when there is neither (the failure was a check of ours). Without a note,
 * call it right after the HDF5 call that failed, before any other HDF5
 * call. Forgets the note. */
mc_status mc_h5_fail(mc_status st, const char *fmt, ...) MC_PRINTF(2, 3);
/* mc_h5_fail() for a file mc_h5_open_read() could not open: "PATH: cannot
 * open (HINT)", or, when another program holds HDF5's write lock on it, a
 * message saying so. */
mc_status mc_h5_open_fail(mc_status st, const char *path, const char *hint);

/* Create a new file (failing if it exists) without object timestamps, so
 * the same content gives the same bytes. Negative on failure. Writers use
 * mc_h5_out_create(), which calls it. */
static inline hid_t h5_create_untimed(const char *path)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0) H5Pset_obj_track_times(fcpl, 0);
    hid_t f = H5Fcreate(path, H5F_ACC_EXCL, fcpl >= 0 ? fcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) mc_h5_note();
    if (fcpl >= 0) H5Pclose(fcpl);
    return f;
}

/* ---- atomic output files (h5_util.c) ------------------------------------- */

/* Every HDF5 file the library writes (k-NN graph, result, model, synth,
 * import) goes through one mc_h5_out: created under a fresh temporary name
 * beside the destination, untimed (h5_create_untimed), filled through
 * `file`, then either committed (flushed, closed, renamed over the
 * destination) or aborted (removed).
 *
 *   mc_h5_out o;
 *   if ((st = mc_h5_out_create(&o, path)) != MC_OK) return st;
 *   if (write_datasets(o.file) != 0) {
 *       st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot write the graph", path);
 *       mc_h5_out_abort(&o);
 *       return st;
 *   }
 *   return mc_h5_out_commit(&o, "the graph");
 *
 * Whatever fails, commit and abort close every HDF5 identifier of the file
 * (the datasets, groups, attributes and named types still open, then the
 * file itself) before they return, so nothing of it outlives the call. A
 * failed close is what they avoid: HDF5 then leaves the object half torn
 * down (its identifier gone or still registered, its memory kept) and
 * libhdf5 crashes or loops at exit. Commit flushes the file first, so that a
 * full disk fails the flush, after which the file can still be closed; an
 * abort closes everything with its writes sent to an anonymous memory file
 * (the file is being removed: nothing of it needs to reach the disk).
 * Hence a writer may leave its datasets and groups open for commit or abort
 * to close, and must leave open one whose cached data it could not write
 * (the dataset helpers below flush a dataset before they close it, and on
 * failure leave it open). Each call silences HDF5's error printing itself;
 * nothing is held between them. */
typedef struct {
    hid_t file;       /* the open temporary: write the content through it */
    char *tmp_path;   /* its name */
    char *path;       /* the destination (a copy) */
} mc_h5_out;

/* MC_OK, or MC_ERR_NOMEM (no temporary name), MC_ERR_IO ("PATH: cannot
 * create", with HDF5's reason). On failure nothing exists on disk and
 * o->file is negative; abort and commit are then no-ops. */
mc_status mc_h5_out_create(mc_h5_out *o, const char *path);
/* Flushes, closes and renames the temporary over the destination; on any
 * failure the temporary is removed ("PATH: cannot write WHAT (disk full?)",
 * MC_ERR_HDF5, with HDF5's reason; or mc_rename_into_place's MC_ERR_IO).
 * `what` names the content in that message ("the k-NN graph"). o is
 * released whatever the outcome. */
mc_status mc_h5_out_commit(mc_h5_out *o, const char *what);
/* Closes everything of the file and removes the temporary; releases o.
 * Safe after a failed create and after a commit. */
void mc_h5_out_abort(mc_h5_out *o);

/* ---- h5_util.c ---- */

/* Every reader opens its HDF5 file through mc_h5_open_read(): read-only from
 * disk, or, while a test has called mc_h5_use_image(buf, len), from that
 * memory image whatever the path (HDF5's core driver with a file image; no
 * file is touched). The fuzzing harness (tests/fuzz/) feeds the loaders that
 * way. mc_h5_use_image(NULL, 0) goes back to disk. The image belongs to the
 * calling thread (thread-local, like the error detail): readers in other
 * threads keep reading from disk. */
void mc_h5_use_image(const void *buf, size_t len);
/* Nonzero while an image is in use (readers then skip their checks of the
 * path on disk). */
int mc_h5_image_in_use(void);
hid_t mc_h5_open_read(const char *path);

/* Rows per chunk and per read block: 4096 x 30 ids are just under HDF5's
 * default 1 MiB chunk cache. */
#define MC_H5_BLOCK_ROWS 4096
/* Keep a chunk well below HDF5's 4 GiB limit whatever the row length. */
#define MC_H5_MAX_CHUNK_BYTES ((size_t)16 << 20)

/* Before reading a dataset of an untrusted file: its element size is one a
 * number or a string could have (at most 16 bytes for numbers, 64 KiB
 * otherwise), one chunk of it would not take more than mc_memory_limit(),
 * nor would the whole dataset when `whole` (it is to be held in memory, not
 * streamed), so that a crafted header cannot make HDF5 allocate gigabytes
 * for its type conversion or chunk buffers. MC_OK, MC_ERR_BAD_DATA or
 * MC_ERR_NOMEM (detail "FILE: NAME ..."). The type class and the shape it
 * read go to *shape (may be NULL), so that callers need not ask HDF5 again. */
typedef struct {
    H5T_class_t cls;
    int rank;
    hsize_t dims[H5S_MAX_RANK];
} mc_h5_shape;
mc_status mc_h5_check_dataset(hid_t ds, const char *file, const char *name, int whole,
                              mc_h5_shape *shape);
/* Opens <where>/<name> of loc and checks it (mc_h5_check_dataset, whole):
 * `absent` is the status when it is missing or not a dataset. */
mc_status mc_h5_open_checked(hid_t loc, const char *path, const char *where, const char *name,
                             mc_status absent, hid_t *out, mc_h5_shape *shape);

/* Scalar attributes; 0 or -1. Strings are variable-length UTF-8. */
int mc_h5_put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *value);
int mc_h5_put_str_attr(hid_t loc, const char *name, const char *value);
int mc_h5_put_u64_attr(hid_t loc, const char *name, uint64_t v);
int mc_h5_put_i32_attr(hid_t loc, const char *name, int32_t v);
int mc_h5_put_f64_attr(hid_t loc, const char *name, double v);
/* An n x k dataset chunked by whole rows, written in one call; 0 or -1. */
int mc_h5_put_matrix(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t n, size_t k,
                     size_t elem, const void *data);

/* A 1-D dataset of n values, contiguous, written in one call; 0 or -1. */
int mc_h5_put_vector(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t n,
                     const void *data);

/* Readers of scalar attributes of the object <where> (named in messages):
 * an absent attribute leaves *found 0 (or the value untouched) and is not an
 * error; one of the wrong class or not a single value is MC_ERR_BAD_DATA. */
mc_status mc_h5_get_int_attr(hid_t loc, const char *path, const char *where, const char *name,
                             hid_t mtype, void *value, int *found);
mc_status mc_h5_get_f64_attr(hid_t loc, const char *path, const char *where, const char *name,
                             double *value);
/* Variable or fixed length (NUL- or space-padded) into buf[cap]; longer
 * strings are cut at a UTF-8 boundary when truncate is set, else refused. */
mc_status mc_h5_get_str_attr(hid_t loc, const char *path, const char *where, const char *name,
                             char *buf, size_t cap, int truncate, int *found);
/* Opens <where>/<name>, a 2-D dataset of class cls ("what" names it). */
mc_status mc_h5_open_matrix(hid_t grp, const char *path, const char *where, const char *name,
                            H5T_class_t cls, const char *what, hid_t *out, hsize_t dims[2]);
/* Reads an n x k dataset by row blocks straight into dst (n*k of mtype). */
mc_status mc_h5_read_matrix(hid_t ds, const char *path, const char *where, const char *name,
                            hid_t mtype, size_t elem, size_t n, size_t k, void *dst);

#endif
