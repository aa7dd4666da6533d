/* The one reader of the magclust HDF5 schema (h5_schema_impl.h): opening
 * and checking the embeddings and the per-face datasets, and reading any
 * range of their rows. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5_impl.h"
#include "h5_schema_impl.h"
#include "util_impl.h"

typedef struct {
    char *path;       /* normalised; NULL: not wanted */
    int required;     /* absent is an error */
    int state;        /* 0 not opened yet; 1 open (ds); -1 absent */
    hid_t ds, ftype;  /* ftype: the file's type (strings are read by it) */
    H5T_class_t cls;
} field;

struct mc_h5_schema {
    const char *file; /* for messages; the caller's */
    hid_t fid, emb, espace;
    int whole;
    uint64_t n;
    size_t d;
    int wide;
    char *emb_path;
    field f[MC_H5_N_FIELDS];
};

/* ---- keys ------------------------------------------------------------------- */

/* "key", "/key", "//a//b/", "./a/./b" -> "/key", "/a/b" (malloc'd): the
 * components without empty and "." ones. "" when none is left; NULL when
 * out of memory. */
static char *key_path(const char *key)
{
    size_t len = strlen(key);
    char *p = malloc(len + 2), *w = p;
    if (!p) return NULL;
    for (const char *c = key; *c;) {
        while (*c == '/') c++;
        size_t k = strcspn(c, "/");
        if (k == 0 || (k == 1 && c[0] == '.')) {
            c += k;
            continue;
        }
        *w++ = '/';
        memcpy(w, c, k);
        w += k;
        c += k;
    }
    *w = '\0';
    return p;
}

/* Does every link along an absolute path exist? H5Lexists alone fails (rather
 * than answering no) when an intermediate group is missing. */
static int path_exists(hid_t file, char *path)
{
    for (char *s = strchr(path + 1, '/');; s = strchr(s + 1, '/')) {
        if (s) *s = '\0';
        htri_t ex = H5Lexists(file, path, H5P_DEFAULT);
        if (s) *s = '/';
        if (ex <= 0) return 0;
        if (!s) return 1;
    }
}

static const char *class_name(H5T_class_t cls)
{
    switch (cls) {
    case H5T_INTEGER: return "an integer";
    case H5T_FLOAT: return "a floating-point";
    case H5T_STRING: return "a string";
    case H5T_COMPOUND: return "a compound";
    case H5T_ENUM: return "an enum";
    case H5T_BITFIELD: return "a bitfield";
    case H5T_OPAQUE: return "an opaque";
    case H5T_REFERENCE: return "a reference";
    case H5T_VLEN: return "a variable-length";
    case H5T_ARRAY: return "an array";
    case H5T_TIME: return "a time";
    default: return "an unknown";
    }
}

/* Opens a dataset by normalised path: MC_OK with *out >= 0; MC_OK with
 * *out < 0 when absent and not required; else the failure. */
static mc_status open_dataset(const mc_h5_schema *s, char *path, int required, hid_t *out)
{
    *out = H5I_INVALID_HID;
    if (!path_exists(s->fid, path)) {
        if (required) return mc_fail(MC_ERR_HDF5, "%s: no dataset %s", s->file, path);
        return MC_OK;
    }
    hid_t obj = H5Oopen(s->fid, path, H5P_DEFAULT);
    if (obj < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot open %s", s->file, path);
    if (H5Iget_type(obj) != H5I_DATASET) {
        H5Oclose(obj);
        return mc_fail(MC_ERR_HDF5, "%s: %s is not a dataset (a group?)", s->file, path);
    }
    mc_status st = mc_h5_check_dataset(obj, s->file, path, s->whole, NULL);
    if (st != MC_OK) {
        H5Oclose(obj);
        return st;
    }
    *out = obj;
    return MC_OK;
}

/* ---- open and close --------------------------------------------------------- */

/* Tells a missing or unreadable file, or a directory, from one HDF5 cannot
 * parse: H5Fopen reports them all the same way. */
static mc_status check_file(const char *file)
{
    if (mc_h5_image_in_use()) return MC_OK;
    int fd = open(file, O_RDONLY);
    if (fd == -1) {
        int err = errno;
        if (err == ENOENT) return mc_fail(MC_ERR_IO, "%s: no such file", file);
        return mc_fail(MC_ERR_IO, "%s: cannot open: %s", file, strerror(err));
    }
    struct stat sb;
    int is_dir = fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode);
    close(fd);
    if (is_dir) return mc_fail(MC_ERR_IO, "%s: is a directory", file);
    return MC_OK;
}

/* The embeddings dataset: floating point, N x D, not empty. */
static mc_status open_embeddings(mc_h5_schema *s)
{
    mc_status st = open_dataset(s, s->emb_path, 1, &s->emb);
    if (st != MC_OK) return st;
    const char *file = s->file, *path = s->emb_path;
    hid_t ftype = H5Dget_type(s->emb);
    s->espace = H5Dget_space(s->emb);
    if (ftype < 0 || s->espace < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type or shape of %s", file, path);
        goto done;
    }
    H5T_class_t cls = H5Tget_class(ftype);
    if (cls == H5T_INTEGER) {
        st = mc_fail(MC_ERR_HDF5,
                     "%s: %s has an integer type; expected floating point (float16, float32 or "
                     "float64)",
                     file, path);
        goto done;
    }
    if (cls != H5T_FLOAT) {
        st = mc_fail(MC_ERR_HDF5, "%s: %s has %s type; expected floating point", file, path,
                     class_name(cls));
        goto done;
    }
    s->wide = H5Tget_size(ftype) > sizeof(float);
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(s->espace, dims, NULL);
    if (rank < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the shape of %s", file, path);
        goto done;
    }
    if (rank != 2) {
        st = mc_fail(MC_ERR_HDF5, "%s: %s has rank %d, expected 2 (N x D)", file, path, rank);
        goto done;
    }
    if (dims[0] == 0 || dims[1] == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: %s is empty (%llu rows x %llu columns)", file, path,
                     (unsigned long long)dims[0], (unsigned long long)dims[1]);
        goto done;
    }
    /* Held whole: the unit directions, then (in the pipeline) a centred
     * copy; the magnitudes are one column more. */
    if (s->whole &&
        (st = mc_check_memory(file, path, dims[0], dims[1] + 1, sizeof(float))) != MC_OK)
        goto done;
    if (dims[1] > SIZE_MAX / sizeof(double)) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: %s has %llu columns, too many for this machine", file,
                     path, (unsigned long long)dims[1]);
        goto done;
    }
    s->n = dims[0];
    s->d = (size_t)dims[1];
done:
    if (ftype >= 0) H5Tclose(ftype);
    return st;
}

mc_status mc_h5_schema_open(const char *file, const mc_h5_read_params *p, int whole,
                            mc_h5_schema **out)
{
    *out = NULL;
    const char *keys[MC_H5_N_FIELDS] = {p->labels_key, p->paths_key, p->quality_key, p->group_key};
    static const char *const defaults[MC_H5_N_FIELDS] = {"/labels", "/paths", NULL, NULL};
    mc_h5_schema *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    s->file = file;
    s->whole = whole;
    s->fid = s->emb = s->espace = H5I_INVALID_HID;
    mc_status st = MC_OK;
    s->emb_path = key_path(p->embeddings_key ? p->embeddings_key : "");
    for (int k = 0; k < MC_H5_N_FIELDS; k++) {
        field *fl = &s->f[k];
        fl->ds = fl->ftype = H5I_INVALID_HID;
        fl->path = keys[k] ? key_path(keys[k]) : NULL;
        if (keys[k] && !fl->path) st = mc_fail(MC_ERR_NOMEM, "out of memory");
        if (fl->path && !fl->path[0]) { /* names nothing: not wanted */
            free(fl->path);
            fl->path = NULL;
        }
        /* Absent is fine only under the default name. */
        fl->required = fl->path && (!defaults[k] || strcmp(fl->path, defaults[k]) != 0);
    }
    if (st == MC_OK && !s->emb_path) st = mc_fail(MC_ERR_NOMEM, "out of memory");
    if (st == MC_OK && !s->emb_path[0])
        st = mc_fail(MC_ERR_INVALID_ARG, "%s: embeddings_key names no dataset", file);
    if (st == MC_OK) st = check_file(file);
    if (st != MC_OK) return mc_h5_schema_close(s, st);
    h5_quiet q;
    quiet_on(&q);
    s->fid = mc_h5_open_read(file);
    if (s->fid < 0)
        st = mc_h5_open_fail(MC_ERR_IO, file, "not an HDF5 file or missing");
    else
        st = open_embeddings(s);
    quiet_off(&q);
    if (st != MC_OK) return mc_h5_schema_close(s, st);
    *out = s;
    return MC_OK;
}

mc_status mc_h5_schema_close(mc_h5_schema *s, mc_status st)
{
    if (!s) return st;
    h5_quiet q;
    quiet_on(&q);
    for (int k = 0; k < MC_H5_N_FIELDS; k++) {
        if (s->f[k].ftype >= 0) H5Tclose(s->f[k].ftype);
        if (s->f[k].ds >= 0) H5Dclose(s->f[k].ds);
        free(s->f[k].path);
    }
    if (s->espace >= 0) H5Sclose(s->espace);
    if (s->emb >= 0) H5Dclose(s->emb);
    if (s->fid >= 0 && H5Fclose(s->fid) < 0 && st == MC_OK)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot close", s->file);
    quiet_off(&q);
    free(s->emb_path);
    free(s);
    return st;
}

uint64_t mc_h5_schema_rows(const mc_h5_schema *s) { return s->n; }
size_t mc_h5_schema_dim(const mc_h5_schema *s) { return s->d; }
int mc_h5_schema_wide(const mc_h5_schema *s) { return s->wide; }
const char *mc_h5_schema_embeddings_path(const mc_h5_schema *s) { return s->emb_path; }

/* ---- per-face datasets ------------------------------------------------------ */

static int field_takes(mc_h5_field f, H5T_class_t cls)
{
    switch (f) {
    case MC_H5_LABELS: return cls == H5T_INTEGER;
    case MC_H5_PATHS: return cls == H5T_STRING;
    case MC_H5_QUALITY: return cls == H5T_INTEGER || cls == H5T_FLOAT;
    case MC_H5_GROUPS: return cls == H5T_INTEGER || cls == H5T_STRING;
    default: return 0;
    }
}

static const char *field_must_be(mc_h5_field f)
{
    switch (f) {
    case MC_H5_LABELS: return "labels must be integers";
    case MC_H5_PATHS: return "paths must be strings";
    case MC_H5_QUALITY: return "quality must be numeric";
    default: return "a group (photo) key must be integers or strings";
    }
}

/* Rank 1 (N) or N x 1, a class the field takes, N values. */
static mc_status check_field(const mc_h5_schema *s, mc_h5_field f, field *fl)
{
    const char *file = s->file, *path = fl->path;
    hid_t sp = H5Dget_space(fl->ds);
    if (sp < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the shape of %s", file, path);
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if (rank < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the shape of %s", file, path);
    if (rank == 2 && dims[1] == 1) rank = 1;
    if (rank != 1)
        return mc_fail(MC_ERR_HDF5, "%s: %s has rank %d, expected 1 (one value per face)", file,
                       path, rank);
    if (dims[0] > SIZE_MAX) return mc_fail(MC_ERR_NOMEM, "%s: %s is too long", file, path);
    fl->ftype = H5Dget_type(fl->ds);
    if (fl->ftype < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type of %s", file, path);
    fl->cls = H5Tget_class(fl->ftype);
    if (!field_takes(f, fl->cls))
        return mc_fail(MC_ERR_HDF5, "%s: %s has %s type; %s", file, path, class_name(fl->cls),
                       field_must_be(f));
    if (dims[0] != s->n)
        return mc_fail(MC_ERR_DIM_MISMATCH, "%s: %s has %zu values, %s has %zu rows", file, path,
                       (size_t)dims[0], s->emb_path, (size_t)s->n);
    return MC_OK;
}

int mc_h5_schema_field(mc_h5_schema *s, mc_h5_field f, mc_status *err)
{
    field *fl = &s->f[f];
    if (!fl->path) return 0;
    if (fl->state) return fl->state > 0;
    h5_quiet q;
    quiet_on(&q);
    mc_status st = open_dataset(s, fl->path, fl->required, &fl->ds);
    if (st == MC_OK && fl->ds >= 0) st = check_field(s, f, fl);
    quiet_off(&q);
    if (st != MC_OK) {
        *err = st;
        return -1;
    }
    fl->state = fl->ds >= 0 ? 1 : -1;
    return fl->state > 0;
}

const char *mc_h5_schema_field_path(const mc_h5_schema *s, mc_h5_field f) { return s->f[f].path; }

H5T_class_t mc_h5_schema_field_class(const mc_h5_schema *s, mc_h5_field f) { return s->f[f].cls; }

/* ---- reading ---------------------------------------------------------------- */

/* Selects values [row0, row0 + n) of a per-face dataset (N, or N x 1: a
 * hyperslab takes as many of start and count as the space has dimensions)
 * in its file space, and makes a memory space of n values. */
static int select_rows(hid_t ds, uint64_t row0, size_t n, hid_t *fs, hid_t *ms)
{
    hsize_t start[2] = {row0, 0}, count[2] = {n, 1};
    *fs = H5Dget_space(ds);
    *ms = H5Screate_simple(1, count, NULL);
    return *fs >= 0 && *ms >= 0 &&
                   H5Sselect_hyperslab(*fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0
               ? 0
               : -1;
}

/* "cannot read /x" for the whole of it, else naming the rows. */
static mc_status read_fail(const mc_h5_schema *s, const char *path, uint64_t row0, size_t n)
{
    if (row0 == 0 && n == s->n) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read %s", s->file, path);
    return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read rows %llu..%llu of %s", s->file,
                      (unsigned long long)row0, (unsigned long long)(row0 + n - 1), path);
}

mc_status mc_h5_schema_read_rows(mc_h5_schema *s, uint64_t row0, size_t n, int as_double,
                                 void *dst)
{
    if (n == 0) return MC_OK;
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    hsize_t start[2] = {row0, 0}, count[2] = {n, s->d};
    hid_t ms = H5Screate_simple(2, count, NULL);
    if (ms < 0 || H5Sselect_hyperslab(s->espace, H5S_SELECT_SET, start, NULL, count, NULL) < 0)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot select rows of %s", s->file, s->emb_path);
    else if (H5Dread(s->emb, as_double ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT, ms, s->espace,
                     H5P_DEFAULT, dst) < 0)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read rows %llu..%llu of %s", s->file,
                        (unsigned long long)row0, (unsigned long long)(row0 + n - 1), s->emb_path);
    if (ms >= 0) H5Sclose(ms);
    quiet_off(&q);
    return st;
}

/* Reads values [row0, row0 + n) of an opened field as mtype into dst. */
static mc_status read_values(mc_h5_schema *s, mc_h5_field f, uint64_t row0, size_t n, hid_t mtype,
                             void *dst)
{
    field *fl = &s->f[f];
    if (n == 0) return MC_OK;
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    if (select_rows(fl->ds, row0, n, &fs, &ms) != 0 ||
        H5Dread(fl->ds, mtype, ms, fs, H5P_DEFAULT, dst) < 0)
        st = read_fail(s, fl->path, row0, n);
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    quiet_off(&q);
    return st;
}

int mc_h5_schema_field_u64(const mc_h5_schema *s, mc_h5_field f)
{
    const field *fl = &s->f[f];
    return fl->state == 1 && fl->cls == H5T_INTEGER && H5Tget_sign(fl->ftype) == H5T_SGN_NONE &&
           H5Tget_size(fl->ftype) >= 8;
}

mc_status mc_h5_schema_read_ints(mc_h5_schema *s, mc_h5_field f, uint64_t row0, size_t n,
                                 int64_t *dst)
{
    if (!mc_h5_schema_field_u64(s, f)) return read_values(s, f, row0, n, H5T_NATIVE_INT64, dst);
    /* uint64 (hashes as photo ids, say): HDF5's conversion to int64 would
     * clamp every value from 2^63 up to 2^63 - 1, merging them. Read them
     * exactly; values that do not fit an int64 keep their bits (callers that
     * need the number ask mc_h5_schema_field_u64), except labels, which are
     * int64 identities and are refused */
    mc_status st = read_values(s, f, row0, n, H5T_NATIVE_UINT64, dst);
    for (size_t i = 0; st == MC_OK && f == MC_H5_LABELS && i < n; i++)
        if ((uint64_t)dst[i] > (uint64_t)INT64_MAX)
            st = mc_fail(MC_ERR_BAD_DATA, "%s: %s row %llu is %llu, above 2^63 - 1: labels must fit an int64",
                         s->file, s->f[f].path, (unsigned long long)(row0 + i), (unsigned long long)(uint64_t)dst[i]);
    return st;
}

mc_status mc_h5_schema_read_floats(mc_h5_schema *s, mc_h5_field f, uint64_t row0, size_t n,
                                   float *dst)
{
    return read_values(s, f, row0, n, H5T_NATIVE_FLOAT, dst);
}

/* Bytes of a fixed-length string up to its padding: the first NUL, and for
 * space-padded types the trailing spaces too. */
static size_t fixed_len(const char *s, size_t size, int spacepad)
{
    const char *nul = memchr(s, '\0', size);
    size_t len = nul ? (size_t)(nul - s) : size;
    if (spacepad)
        while (len > 0 && s[len - 1] == ' ') len--;
    return len;
}

/* A table of n strings: n pointers into one buffer holding them back to
 * back, NUL-terminated; len(i) gives each length, copy(i, dst) its bytes. */
typedef struct {
    const char *raw; /* fixed: n strings of size bytes */
    size_t size;
    int spacepad;
    char **vlen;     /* variable length: n strings or NULLs */
} string_src;

static size_t src_len(const string_src *src, size_t i)
{
    if (src->vlen) return src->vlen[i] ? strlen(src->vlen[i]) : 0;
    return fixed_len(src->raw + i * src->size, src->size, src->spacepad);
}

static mc_status make_table(const mc_h5_schema *s, const char *path, const string_src *src,
                            size_t n, char ***out_strings, char **out_buf)
{
    size_t total = n;
    for (size_t i = 0; i < n; i++) {
        size_t len = src_len(src, i);
        if (len > SIZE_MAX - total)
            return mc_fail(MC_ERR_NOMEM, "%s: %s is too large", s->file, path);
        total += len;
    }
    char **at = mc_malloc_array(n, sizeof *at);
    char *buf = malloc(total ? total : 1);
    if (!at || !buf) {
        free(at);
        free(buf);
        return mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", s->file, path);
    }
    char *w = buf;
    for (size_t i = 0; i < n; i++) {
        size_t len = src_len(src, i);
        if (len) memcpy(w, src->vlen ? src->vlen[i] : src->raw + i * src->size, len);
        w[len] = '\0';
        at[i] = w;
        w += len + 1;
    }
    *out_strings = at;
    *out_buf = buf;
    return MC_OK;
}

mc_status mc_h5_schema_read_strings(mc_h5_schema *s, mc_h5_field f, uint64_t row0, size_t n,
                                    char ***out_strings, char **out_buf)
{
    field *fl = &s->f[f];
    *out_strings = NULL;
    *out_buf = NULL;
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    string_src src = {NULL, 0, 0, NULL};
    char *raw = NULL;
    hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
    htri_t vlen = H5Tis_variable_str(fl->ftype);
    if (vlen < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type of %s", s->file, fl->path);
        goto done;
    }
    if (n && select_rows(fl->ds, row0, n, &fs, &ms) != 0) {
        st = read_fail(s, fl->path, row0, n);
        goto done;
    }
    if (vlen) {
        /* Same character set as the file: HDF5 will not convert ASCII <-> UTF-8. */
        src.vlen = mc_calloc_array(n, sizeof *src.vlen);
        if (!src.vlen) {
            st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", s->file, fl->path);
            goto done;
        }
        mtype = H5Tcopy(H5T_C_S1);
        if (mtype < 0 || H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mtype, H5Tget_cset(fl->ftype)) < 0) {
            st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot set up reading %s", s->file, fl->path);
            goto done;
        }
        /* src.vlen starts zeroed, so reclaiming after a partial read frees
         * only what HDF5 allocated. */
        if (n && H5Dread(fl->ds, mtype, ms, fs, H5P_DEFAULT, src.vlen) < 0)
            st = read_fail(s, fl->path, row0, n);
        else
            st = make_table(s, fl->path, &src, n, out_strings, out_buf);
        if (n) {
#if H5_VERSION_GE(1, 12, 0)
            H5Treclaim(mtype, ms, H5P_DEFAULT, src.vlen);
#else
            H5Dvlen_reclaim(mtype, ms, H5P_DEFAULT, src.vlen);
#endif
        }
    } else {
        src.size = H5Tget_size(fl->ftype);
        src.spacepad = H5Tget_strpad(fl->ftype) == H5T_STR_SPACEPAD;
        if (src.size == 0) {
            st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type of %s", s->file, fl->path);
            goto done;
        }
        /* A stream's block was not checked when the field was opened (a
         * whole read was): the raw strings and their copies. */
        if (!s->whole &&
            (st = mc_check_memory(s->file, fl->path, n, 1, 2 * (uint64_t)src.size)) != MC_OK)
            goto done;
        src.raw = raw = mc_malloc_array(n, src.size);
        if (!raw) {
            st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", s->file, fl->path);
            goto done;
        }
        /* Read the bytes as stored (memory type = file type) and strip the
         * padding here, rather than trust a string conversion to do it. */
        if (n && H5Dread(fl->ds, fl->ftype, ms, fs, H5P_DEFAULT, raw) < 0)
            st = read_fail(s, fl->path, row0, n);
        else
            st = make_table(s, fl->path, &src, n, out_strings, out_buf);
    }
done:
    if (mtype >= 0) H5Tclose(mtype);
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    quiet_off(&q);
    free(src.vlen);
    free(raw);
    return st;
}
