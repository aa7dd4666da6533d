/* The HDF5 layer shared by every reader and writer: the innermost message of
 * HDF5's error stack in our error detail, atomic creation of output files,
 * reading from disk or a fuzzer's memory image, dataset checks against the
 * memory limit, scalar attributes (write, and read with type checks),
 * row-chunked 2-D datasets (write, and read by row blocks). Messages name
 * the file and "<where> <name>". */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "h5_impl.h"
#include "util_impl.h"

/* ---- errors ---------------------------------------------------------------- */

#define H5_NOTE_CAP 256

/* Per thread, like the error detail it ends up in. */
static _Thread_local char h5_note[H5_NOTE_CAP];

void mc_h5_forget(void) { h5_note[0] = '\0'; }

/* HDF5's own descriptions of failed system calls run over several lines
 * ("file write failed: time = ..., filename = '...', errno = 28, error
 * message = 'No space left on device', buf = ..."): keep what failed and
 * the system's reason. Anything else is kept, on one line. */
static void tidy_message(const char *desc, char *buf, size_t cap)
{
    const char *why = strstr(desc, "error message = '");
    const char *colon = strchr(desc, ':');
    if (why && colon && colon < why) {
        why += strlen("error message = '");
        const char *end = strchr(why, '\'');
        int wlen = (int)(end ? (size_t)(end - why) : strlen(why));
        snprintf(buf, cap, "%.*s: %.*s", (int)(colon - desc), desc, wlen, why);
    } else {
        snprintf(buf, cap, "%s", desc);
    }
    size_t len = 0;
    for (char *c = buf; *c; c++, len++)
        if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
    while (len > 0 && buf[len - 1] == ' ') buf[--len] = '\0';
}

/* The walk goes upward from the function that detected the error, so entry
 * 0 is the most specific message. */
static herr_t walk_innermost(unsigned n, const H5E_error2_t *err, void *data)
{
    if (n == 0 && err && err->desc) tidy_message(err->desc, (char *)data, H5_NOTE_CAP);
    return 0;
}

static void innermost(char *buf)
{
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, buf);
}

void mc_h5_note(void)
{
    if (!h5_note[0]) innermost(h5_note);
}

mc_status mc_h5_fail(mc_status st, const char *fmt, ...)
{
    /* The note, when there is one, is about the first thing that failed;
     * what the stack holds now may only be a consequence of it. */
    char h5msg[H5_NOTE_CAP];
    memcpy(h5msg, h5_note, sizeof h5msg);
    if (!h5msg[0]) innermost(h5msg);
    mc_h5_forget();
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (h5msg[0]) return mc_fail(st, "%s (HDF5: %s)", msg, h5msg);
    return mc_fail(st, "%s", msg);
}

mc_status mc_h5_open_fail(mc_status st, const char *path, const char *hint)
{
    char h5msg[H5_NOTE_CAP];
    memcpy(h5msg, h5_note, sizeof h5msg);
    if (!h5msg[0]) innermost(h5msg);
    if (strstr(h5msg, "unable to lock file"))
        return mc_h5_fail(st, "%s: cannot open: another program has it open for writing (HDF5 "
                              "file lock); wait for it to finish, or set "
                              "HDF5_USE_FILE_LOCKING=FALSE to read it anyway",
                          path);
    return mc_h5_fail(st, "%s: cannot open (%s)", path, hint);
}

/* ---- atomic output files --------------------------------------------------- */

/* Closes the datasets, groups, attributes and named types still open in
 * file; how many there were. */
static size_t close_objects(hid_t file)
{
    const unsigned types =
        H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL;
    size_t closed = 0;
    hid_t ids[64];
    for (int round = 0; round < 1024; round++) {
        ssize_t n = H5Fget_obj_ids(file, types, sizeof ids / sizeof *ids, ids);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; i++) {
            switch (H5Iget_type(ids[i])) {
            case H5I_DATASET: H5Dclose(ids[i]); break;
            case H5I_GROUP: H5Gclose(ids[i]); break;
            case H5I_DATATYPE: H5Tclose(ids[i]); break;
            case H5I_ATTR: H5Aclose(ids[i]); break;
            default: H5Idec_ref(ids[i]); break;
            }
        }
        closed += (size_t)n;
    }
    return closed;
}

/* The file is being thrown away: swap the descriptor HDF5 writes it through
 * for an anonymous memory file (or /dev/null where there is none), so that
 * closing it, which writes out the metadata HDF5 still caches, cannot fail
 * on a full disk. HDF5 keeps only the descriptor's number. */
static void discard_writes(hid_t file)
{
    hid_t fapl = H5Fget_access_plist(file);
    int sec2 = fapl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2;
    if (fapl >= 0) H5Pclose(fapl);
    void *handle = NULL;
    if (!sec2 || H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || !handle) return;
    int fd = *(int *)handle;
    int sink = -1;
#ifdef MFD_CLOEXEC
    sink = memfd_create("magclust-discarded", MFD_CLOEXEC);
#endif
    if (sink < 0) sink = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (sink < 0) return;
    if (fd >= 0 && sink != fd) dup2(sink, fd);
    close(sink);
}

static void out_release(mc_h5_out *o)
{
    free(o->tmp_path);
    free(o->path);
    o->tmp_path = o->path = NULL;
    o->file = H5I_INVALID_HID;
}

mc_status mc_h5_out_create(mc_h5_out *o, const char *path)
{
    o->file = H5I_INVALID_HID;
    o->path = strdup(path);
    o->tmp_path = o->path ? mc_temp_path_for(path) : NULL;
    if (!o->tmp_path) {
        out_release(o);
        return mc_fail(MC_ERR_NOMEM, "%s: cannot make a temporary name", path);
    }
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    o->file = h5_create_untimed(o->tmp_path);
    if (o->file < 0) {
        st = mc_h5_fail(MC_ERR_IO, "%s: cannot create", path);
        unlink(o->tmp_path); /* H5F_ACC_EXCL: only ever ours */
        out_release(o);
    }
    quiet_off(&q);
    return st;
}

void mc_h5_out_abort(mc_h5_out *o)
{
    if (o->file >= 0) {
        h5_quiet q;
        quiet_on(&q);
        discard_writes(o->file);
        close_objects(o->file);
        /* After a failed flush libhdf5 1.10.8 leaves its metadata cache's
         * skip list enabled and the unwritten entries dirty, and every later
         * flush, the close's among them, fails at once ("slist already
         * enabled?"): the file stays open and libhdf5 crashes closing it at
         * exit. This flush still reports that, but goes on to write the
         * entries (into the memory file now), which empties and disables
         * the list; the close then succeeds. */
        H5Fflush(o->file, H5F_SCOPE_GLOBAL);
        H5Fclose(o->file);
        quiet_off(&q);
    }
    if (o->tmp_path) unlink(o->tmp_path);
    out_release(o);
}

mc_status mc_h5_out_commit(mc_h5_out *o, const char *what)
{
    if (o->file < 0) {
        out_release(o);
        return mc_fail(MC_ERR_INVALID_ARG, "no HDF5 output open");
    }
    h5_quiet q;
    quiet_on(&q);
    /* Everything still cached, of the file and of any dataset left open,
     * goes to disk here: a full disk fails the flush, after which the file
     * can still be closed cleanly (abort), rather than a close, after which
     * it cannot. What the close writes after a good flush overwrites bytes
     * already on disk (the superblock). */
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) {
        mc_status st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot write %s (disk full?)", o->path,
                                  what ? what : "the file");
        quiet_off(&q);
        mc_h5_out_abort(o);
        return st;
    }
    /* Left open, they would keep the file open past H5Fclose (HDF5's
     * default "weak" close). */
    close_objects(o->file);
    mc_status st = MC_OK;
    if (H5Fclose(o->file) < 0)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot close (disk full?)", o->path);
    o->file = H5I_INVALID_HID;
    quiet_off(&q);
    if (st == MC_OK)
        st = mc_rename_into_place(o->tmp_path, o->path); /* removes the temporary on failure */
    else
        unlink(o->tmp_path);
    out_release(o);
    return st;
}

/* ---- reading from disk or from a memory image ------------------------------ */

static _Thread_local const void *image_buf;
static _Thread_local size_t image_len;

void mc_h5_use_image(const void *buf, size_t len)
{
    image_buf = buf;
    image_len = buf ? len : 0;
}

int mc_h5_image_in_use(void) { return image_buf != NULL; }

hid_t mc_h5_open_read(const char *path)
{
    if (!image_buf) return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return H5I_INVALID_HID;
    hid_t f = H5I_INVALID_HID;
    /* No backing store: nothing is ever written to path. The image is
     * copied by HDF5 (the default callbacks), so the caller's buffer may be
     * read-only. */
    if (H5Pset_fapl_core(fapl, 1 << 16, 0) >= 0 &&
        H5Pset_file_image(fapl, (void *)(uintptr_t)image_buf, image_len) >= 0)
        f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

/* Every filter of a chunked dataset must be one this libhdf5 can decode:
 * otherwise the read fails deep in HDF5 ("can't open directory ...plugins"). */
static mc_status check_filters(hid_t dcpl, const char *file, const char *name)
{
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
        unsigned flags = 0, config = 0;
        size_t n_values = 0;
        char fname[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &n_values, NULL, sizeof fname,
                                         fname, &config);
        if (id < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the filters of %s", file, name);
        if (H5Zfilter_avail(id) > 0) continue;
        H5Eclear2(H5E_DEFAULT);
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: %s is compressed with HDF5 filter %d (%s), which this HDF5 library "
                       "cannot decode: rewrite it with gzip (h5repack -f GZIP=4 IN OUT, or h5py's "
                       "compression='gzip')",
                       file, name, (int)id, fname[0] ? fname : "unnamed");
    }
    return MC_OK;
}

/* A virtual dataset whose source file is missing reads as its fill value
 * (zeros) without an error: refuse it, naming the source. */
static mc_status check_virtual(hid_t dcpl, const char *file, const char *name)
{
    size_t count = 0;
    if (H5Pget_virtual_count(dcpl, &count) < 0)
        return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the sources of the virtual dataset %s",
                          file, name);
    for (size_t i = 0; i < count; i++) {
        char src[4096] = "", path[8192];
        ssize_t len = H5Pget_virtual_filename(dcpl, i, src, sizeof src);
        if (len < 0 || (size_t)len >= sizeof src)
            return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read a source of the virtual dataset %s",
                              file, name);
        if (strcmp(src, ".") == 0) continue; /* the same file */
        const char *prefix = getenv("HDF5_VDS_PREFIX");
        int found = 0;
        if (src[0] == '/') {
            found = access(src, R_OK) == 0;
        } else {
            /* relative names: HDF5_VDS_PREFIX, else beside the file */
            const char *slash = strrchr(file, '/');
            if (prefix && *prefix) {
                snprintf(path, sizeof path, "%s/%s", prefix, src);
                found = access(path, R_OK) == 0;
            }
            if (!found) {
                snprintf(path, sizeof path, "%.*s%s", slash ? (int)(slash - file + 1) : 0, file,
                         src);
                found = access(path, R_OK) == 0;
            }
            if (!found) found = access(src, R_OK) == 0; /* the working directory */
        }
        if (!found)
            return mc_fail(MC_ERR_BAD_DATA,
                           "%s: %s is a virtual dataset whose source file %s cannot be read: it "
                           "would read as zeros; put the file there, or copy the data in "
                           "(h5repack IN OUT)",
                           file, name, src);
    }
    return MC_OK;
}

mc_status mc_h5_check_dataset(hid_t ds, const char *file, const char *name, int whole,
                              mc_h5_shape *shape)
{
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds), dcpl = H5Dget_create_plist(ds);
    mc_status st = MC_OK;
    if (t < 0 || sp < 0 || dcpl < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type or shape of %s", file, name);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(t);
    size_t tsize = H5Tget_size(t);
    int number = cls == H5T_INTEGER || cls == H5T_FLOAT || cls == H5T_ENUM || cls == H5T_BITFIELD;
    if (tsize == 0 || tsize > (number ? 16 : 65536)) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: %s has elements of %zu bytes, not a plausible %s", file,
                     name, tsize, number ? "number" : "string or value");
        goto done;
    }
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (np < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the shape of %s", file, name);
        goto done;
    }
    /* As read into memory: up to 8 bytes a value (int64, double). */
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    if (shape) {
        shape->cls = cls;
        shape->rank = rank;
        memcpy(shape->dims, dims, sizeof dims);
    }
    uint64_t rows = rank == 2 ? dims[0] : (uint64_t)np, cols = rank == 2 ? dims[1] : 1;
    if (whole && (st = mc_check_memory(file, name, rows, cols, tsize < 8 ? 8 : tsize)) != MC_OK)
        goto done;
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t cd[H5S_MAX_RANK];
        int r = H5Pget_chunk(dcpl, H5S_MAX_RANK, cd);
        uint64_t elems = 1;
        for (int i = 0; i < r; i++) {
            if (cd[i] == 0 || elems > UINT64_MAX / cd[i]) {
                elems = UINT64_MAX;
                break;
            }
            elems *= cd[i];
        }
        if (r < 0 || elems > UINT64_MAX / tsize) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: %s has an impossible chunk shape", file, name);
            goto done;
        }
        st = mc_check_memory(file, "one chunk", elems, 1, tsize);
        if (st == MC_OK) st = check_filters(dcpl, file, name);
    }
    if (st == MC_OK && H5Pget_layout(dcpl) == H5D_VIRTUAL) st = check_virtual(dcpl, file, name);
    /* a header with no data behind it (a file cut short, or crafted): every
     * value would read as the fill value, and a streaming reader would read
     * all the rows it claims */
    H5D_space_status_t space;
    H5D_layout_t layout = H5Pget_layout(dcpl);
    if (st == MC_OK && np > 0 && (layout == H5D_CHUNKED || layout == H5D_CONTIGUOUS) &&
        H5Dget_space_status(ds, &space) >= 0 && space == H5D_SPACE_STATUS_NOT_ALLOCATED)
        st = mc_fail(MC_ERR_BAD_DATA, "%s: %s holds no data (none was ever written to it)", file,
                     name);
done:
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (dcpl >= 0) H5Pclose(dcpl);
    return st;
}

int mc_h5_put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *value)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a =
        sp >= 0 ? H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID;
    int ok = a >= 0 && H5Awrite(a, mtype, value) >= 0;
    if (!ok) mc_h5_note();
    if (a >= 0 && H5Aclose(a) < 0 && ok) {
        mc_h5_note();
        ok = 0;
    }
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

int mc_h5_put_str_attr(hid_t loc, const char *name, const char *value)
{
    /* Variable-length UTF-8, as the other writers: h5py returns str. */
    hid_t t = H5Tcopy(H5T_C_S1);
    int ok = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
             mc_h5_put_attr(loc, name, t, t, &value) == 0;
    if (!ok) mc_h5_note();
    if (t >= 0) H5Tclose(t);
    return ok ? 0 : -1;
}

int mc_h5_put_u64_attr(hid_t loc, const char *name, uint64_t v)
{
    return mc_h5_put_attr(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}

int mc_h5_put_i32_attr(hid_t loc, const char *name, int32_t v)
{
    return mc_h5_put_attr(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
}

int mc_h5_put_f64_attr(hid_t loc, const char *name, double v)
{
    return mc_h5_put_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

/* Closes what a dataset writer opened; 0, or -1 with the first HDF5 message
 * noted. The dataset's cached chunks are written out (H5Dflush) before it is
 * closed: a dataset whose close fails to write them is left half destroyed
 * by HDF5 (its identifier gone, its memory and the file's use count kept),
 * which libhdf5 cannot get past at exit. So a dataset that could not be
 * written or flushed stays open, for mc_h5_out_abort() to close once
 * nothing it does can reach the disk. */
static int close_written(int ok, hid_t ds, hid_t dcpl, hid_t sp)
{
    if (ok && H5Dflush(ds) < 0) ok = 0;
    if (!ok) mc_h5_note();
    if (ok && H5Dclose(ds) < 0) {
        mc_h5_note();
        ok = 0;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

/* An N x k dataset chunked by whole rows, written in one call from the
 * graph's own array (no conversion copy when file and memory types agree). */
int mc_h5_put_matrix(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t n, size_t k,
                     size_t elem, const void *data)
{
    size_t rows = MC_H5_MAX_CHUNK_BYTES / (k * elem);
    if (rows > MC_H5_BLOCK_ROWS) rows = MC_H5_BLOCK_ROWS;
    if (rows > n) rows = n;
    if (rows == 0) rows = 1;
    hsize_t dims[2] = {n, k}, chunk[2] = {rows, k};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = H5I_INVALID_HID;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 2, chunk) >= 0 &&
        H5Pset_obj_track_times(dcpl, 0) >= 0)
        ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int ok = ds >= 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    return close_written(ok, ds, dcpl, sp);
}

static mc_status open_attr(hid_t loc, const char *path, const char *where, const char *name,
                           H5T_class_t cls, const char *what, hid_t *out)
{
    *out = H5I_INVALID_HID;
    htri_t exists = H5Aexists(loc, name);
    if (exists < 0)
        return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the attributes of %s", path, where);
    if (exists == 0) return MC_OK;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot open attribute %s %s", path, where, name);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    hssize_t npts = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (c != cls || npts != 1) {
        H5Aclose(a);
        return mc_fail(MC_ERR_BAD_DATA, "%s: attribute %s %s must be a single %s", path, where,
                       name, what);
    }
    *out = a;
    return MC_OK;
}

/* Reads an integer attribute (any integer type) as int64 or uint64 (mtype). */
mc_status mc_h5_get_int_attr(hid_t loc, const char *path, const char *where, const char *name,
                             hid_t mtype, void *value, int *found)
{
    hid_t a;
    mc_status st = open_attr(loc, path, where, name, H5T_INTEGER, "integer", &a);
    *found = a >= 0;
    if (st != MC_OK || a < 0) return st;
    herr_t rc = H5Aread(a, mtype, value);
    if (rc < 0) mc_h5_note();
    H5Aclose(a);
    return rc < 0 ? mc_h5_fail(MC_ERR_HDF5, "%s: cannot read attribute %s %s", path, where, name)
                  : MC_OK;
}

mc_status mc_h5_get_f64_attr(hid_t loc, const char *path, const char *where, const char *name,
                             double *value)
{
    hid_t a;
    mc_status st = open_attr(loc, path, where, name, H5T_FLOAT, "floating-point number", &a);
    if (st != MC_OK || a < 0) return st;
    herr_t rc = H5Aread(a, H5T_NATIVE_DOUBLE, value);
    if (rc < 0) mc_h5_note();
    H5Aclose(a);
    return rc < 0 ? mc_h5_fail(MC_ERR_HDF5, "%s: cannot read attribute %s %s", path, where, name)
                  : MC_OK;
}

/* Copies s into buf[cap]: whole, or when truncate is set, cut at a UTF-8
 * character boundary; otherwise a string that does not fit is refused. */
static mc_status store_str(const char *path, const char *where, const char *name, const char *s,
                           size_t len, char *buf, size_t cap, int truncate)
{
    if (len >= cap) {
        if (!truncate)
            return mc_fail(MC_ERR_BAD_DATA, "%s: attribute %s %s is %zu bytes, longer than %zu",
                           path, where, name, len, cap - 1);
        len = cap - 1;
        /* s[len] is the first byte dropped: back off over a split character. */
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return MC_OK;
}

/* Reads a string attribute, variable-length or fixed (NUL- or space-padded). */
mc_status mc_h5_get_str_attr(hid_t loc, const char *path, const char *where, const char *name,
                             char *buf, size_t cap, int truncate, int *found)
{
    hid_t a;
    mc_status st = open_attr(loc, path, where, name, H5T_STRING, "string", &a);
    *found = a >= 0;
    if (st != MC_OK || a < 0) return st;
    hid_t ft = H5Aget_type(a), mt = H5I_INVALID_HID;
    int ok = ft >= 0 && (mt = H5Tcopy(H5T_C_S1)) >= 0 && H5Tset_cset(mt, H5Tget_cset(ft)) >= 0;
    if (ok && H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        ok = H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Aread(a, mt, &s) >= 0;
        if (ok)
            st = store_str(path, where, name, s ? s : "", s ? strlen(s) : 0, buf, cap, truncate);
        if (s) H5free_memory(s);
    } else if (ok) {
        size_t size = H5Tget_size(ft);
        char *raw = size ? malloc(size + 1) : NULL;
        /* The memory type keeps the file's size and padding: a raw copy. */
        ok = raw && H5Tset_size(mt, size) >= 0 && H5Tset_strpad(mt, H5Tget_strpad(ft)) >= 0 &&
             H5Aread(a, mt, raw) >= 0;
        if (ok) {
            raw[size] = '\0';
            size_t len = strlen(raw);
            if (H5Tget_strpad(ft) == H5T_STR_SPACEPAD)
                while (len && raw[len - 1] == ' ')
                    len--;
            st = store_str(path, where, name, raw, len, buf, cap, truncate);
        }
        free(raw);
    }
    if (!ok) mc_h5_note();
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    if (!ok) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read attribute %s %s", path, where, name);
    return st;
}

mc_status mc_h5_open_checked(hid_t loc, const char *path, const char *where, const char *name,
                             mc_status absent, hid_t *out, mc_h5_shape *shape)
{
    *out = H5I_INVALID_HID;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return mc_fail(absent, "%s: no dataset %s/%s", path, where, name);
    hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (ds < 0) return mc_h5_fail(absent, "%s: %s/%s is not a dataset", path, where, name);
    mc_status st = mc_h5_check_dataset(ds, path, name, 1, shape);
    if (st != MC_OK) {
        H5Dclose(ds);
        return st;
    }
    *out = ds;
    return MC_OK;
}

/* Opens <where>/<name> and checks it is a 2-D dataset of class cls. */
mc_status mc_h5_open_matrix(hid_t grp, const char *path, const char *where, const char *name,
                            H5T_class_t cls, const char *what, hid_t *out, hsize_t dims[2])
{
    hid_t ds;
    mc_h5_shape sh;
    mc_status st = mc_h5_open_checked(grp, path, where, name, MC_ERR_HDF5, &ds, &sh);
    if (st != MC_OK) return st;
    if (sh.rank != 2) {
        H5Dclose(ds);
        return mc_fail(MC_ERR_BAD_DATA, "%s: %s/%s has rank %d, expected 2", path, where, name,
                       sh.rank);
    }
    if (sh.cls != cls) {
        H5Dclose(ds);
        return mc_fail(MC_ERR_BAD_DATA, "%s: %s/%s must hold %s", path, where, name, what);
    }
    dims[0] = sh.dims[0];
    dims[1] = sh.dims[1];
    *out = ds;
    return MC_OK;
}

/* Rows per read: a whole number of the dataset's chunks, about
 * MC_H5_BLOCK_ROWS, so that no chunk is read twice. */
static size_t block_rows(hid_t ds)
{
    size_t rows = MC_H5_BLOCK_ROWS;
    hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t chunk[2];
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 2, chunk) == 2 &&
        chunk[0] > 0) {
        size_t c = chunk[0] < (hsize_t)SIZE_MAX ? (size_t)chunk[0] : SIZE_MAX;
        rows = c >= MC_H5_BLOCK_ROWS ? c : c * (MC_H5_BLOCK_ROWS / c);
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    return rows;
}

/* Reads an N x k dataset by row blocks straight into dst (N*k of mtype). */
mc_status mc_h5_read_matrix(hid_t ds, const char *path, const char *where, const char *name,
                            hid_t mtype, size_t elem, size_t n, size_t k, void *dst)
{
    size_t bs = block_rows(ds);
    mc_status st = MC_OK;
    hid_t fs = H5Dget_space(ds);
    if (fs < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read %s/%s", path, where, name);
    for (size_t r0 = 0; r0 < n && st == MC_OK; r0 += bs) {
        size_t nr = n - r0 < bs ? n - r0 : bs;
        hsize_t start[2] = {r0, 0}, count[2] = {nr, k};
        hid_t ms = H5Screate_simple(2, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, (char *)dst + r0 * k * elem) < 0)
            st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read rows %zu..%zu of %s/%s", path, r0,
                         r0 + nr - 1, where, name);
        if (ms >= 0) H5Sclose(ms);
    }
    H5Sclose(fs);
    return st;
}

int mc_h5_put_vector(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t n,
                     const void *data)
{
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = H5I_INVALID_HID;
    if (sp >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0)
        ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int ok = ds >= 0 && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
    return close_written(ok, ds, dcpl, sp);
}
