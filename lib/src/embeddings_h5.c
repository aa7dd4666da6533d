/* mc_embeddings_read_h5: the magclust HDF5 schema (embeddings.h) read into
 * an mc_embeddings_t. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "embeddings_impl.h"
#include "h5_impl.h"
#include "io_impl.h"
#include "magclust/embeddings.h"
#include "util_impl.h"

/* Elements per hyperslab read of /embeddings. Bounds the scratch buffer that
 * float64 input needs (32 MiB of doubles) and keeps each block cache-warm
 * while it is normalised. Overridable to exercise block boundaries in tests. */
#ifndef MC_EMB_BLOCK_ELEMS
#define MC_EMB_BLOCK_ELEMS ((size_t)1 << 22)
#endif
#define MC_EMB_BLOCK_ROWS ((size_t)65536)

mc_h5_read_params mc_h5_read_params_default(void)
{
    mc_h5_read_params p;
    p.embeddings_key = "embeddings";
    p.labels_key = "labels";
    p.paths_key = "paths";
    p.quality_key = NULL;
    p.group_key = NULL;
    p.skip_bad_rows = 0;
    return p;
}

/* A key that names nothing: NULL, "" or only slashes. */
static int key_is_empty(const char *key) { return !key || key[strspn(key, "/")] == '\0'; }

/* "key", "/key", "//key" -> "/key" (malloc'd); NULL when out of memory.
 * Call only for a key that is not empty. */
static char *key_path(const char *key)
{
    key += strspn(key, "/");
    size_t len = strlen(key);
    char *p = malloc(len + 2);
    if (!p) return NULL;
    p[0] = '/';
    memcpy(p + 1, key, len + 1);
    return p;
}

/* Does every link along an absolute path exist? H5Lexists alone fails (rather
 * than answering no) when an intermediate group is missing. */
static int h5_path_exists(hid_t file, char *path)
{
    for (char *s = strchr(path + 1, '/');; s = strchr(s + 1, '/')) {
        if (s) *s = '\0';
        htri_t ex = H5Lexists(file, path, H5P_DEFAULT);
        if (s) *s = '/';
        if (ex <= 0) return 0;
        if (!s) return 1;
    }
}

typedef struct {
    const char *file;  /* for messages */
    hid_t fid;
    int skip;          /* skip_bad_rows */
    uint8_t *bad;      /* with skip: one flag a file row, set by read_embeddings */
} h5_ctx;

/* Open a dataset by absolute path. *out = -1 with MC_OK when it is absent and
 * optional; an error when it is absent and required. */
static mc_status open_dataset(const h5_ctx *c, char *path, int required, hid_t *out)
{
    *out = -1;
    if (!h5_path_exists(c->fid, path)) {
        if (required) return mc_fail(MC_ERR_HDF5, "%s: no dataset %s", c->file, path);
        return MC_OK;
    }
    hid_t obj = H5Oopen(c->fid, path, H5P_DEFAULT);
    if (obj < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot open %s", c->file, path);
    if (H5Iget_type(obj) != H5I_DATASET) {
        H5Oclose(obj);
        return mc_fail(MC_ERR_HDF5, "%s: %s is not a dataset (a group?)", c->file, path);
    }
    mc_status st = mc_h5_check_dataset(obj, c->file, path, 1, NULL);
    if (st != MC_OK) {
        H5Oclose(obj);
        return st;
    }
    *out = obj;
    return MC_OK;
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

/* Length of a per-face dataset: rank 1 (N) or rank 2 (N x 1). */
static mc_status vector_length(const h5_ctx *c, hid_t ds, const char *path, size_t *out_len)
{
    hid_t sp = H5Dget_space(ds);
    if (sp < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the shape of %s", c->file, path);
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if (rank < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the shape of %s", c->file, path);
    if (rank == 2 && dims[1] == 1) rank = 1;
    if (rank != 1)
        return mc_fail(MC_ERR_HDF5, "%s: %s has rank %d, expected 1 (one value per face)",
                       c->file, path, rank);
    if (dims[0] > SIZE_MAX) return mc_fail(MC_ERR_NOMEM, "%s: %s is too long", c->file, path);
    *out_len = (size_t)dims[0];
    return MC_OK;
}

static mc_status check_length(const h5_ctx *c, const char *path, size_t len, const char *emb_path,
                              size_t n)
{
    if (len == n) return MC_OK;
    return mc_fail(MC_ERR_DIM_MISMATCH, "%s: %s has %zu values, %s has %zu rows", c->file, path,
                   len, emb_path, n);
}

/* /embeddings: N x D floats, read in row blocks straight into the directions (float
 * sources, normalised in place) or through a block-sized double buffer
 * (wider sources), so the raw data is never held twice. */
static mc_status read_embeddings(h5_ctx *c, char *path, mc_embeddings_t **out)
{
    *out = NULL;
    hid_t ds = -1, ftype = -1, fspace = -1, mspace = -1;
    double *dbuf = NULL;
    mc_embeddings_t *e = NULL;
    mc_status st = open_dataset(c, path, 1, &ds);
    if (st != MC_OK) return st;

    ftype = H5Dget_type(ds);
    fspace = H5Dget_space(ds);
    if (ftype < 0 || fspace < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type or shape of %s", c->file, path);
        goto cleanup;
    }
    H5T_class_t cls = H5Tget_class(ftype);
    if (cls == H5T_INTEGER) {
        st = mc_fail(MC_ERR_HDF5,
                     "%s: %s has an integer type; expected floating point (float16, float32 or "
                     "float64)",
                     c->file, path);
        goto cleanup;
    }
    if (cls != H5T_FLOAT) {
        st = mc_fail(MC_ERR_HDF5, "%s: %s has %s type; expected floating point", c->file, path,
                     class_name(cls));
        goto cleanup;
    }
    size_t type_size = H5Tget_size(ftype);

    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(fspace, dims, NULL);
    if (rank < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the shape of %s", c->file, path);
        goto cleanup;
    }
    if (rank != 2) {
        st = mc_fail(MC_ERR_HDF5, "%s: %s has rank %d, expected 2 (N x D)", c->file, path, rank);
        goto cleanup;
    }
    if (dims[0] == 0 || dims[1] == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: %s is empty (%llu rows x %llu columns)", c->file, path,
                     (unsigned long long)dims[0], (unsigned long long)dims[1]);
        goto cleanup;
    }
    /* The unit directions, then (in the pipeline) a centred copy; the
     * magnitudes are one column more. */
    if ((st = mc_check_memory(c->file, path, dims[0], dims[1] + 1, sizeof(float))) != MC_OK)
        goto cleanup;
    size_t n = (size_t)dims[0], d = (size_t)dims[1];
    e = mc_embeddings_alloc(n, d);
    if (!e) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %zu x %zu embeddings", c->file, n, d);
        goto cleanup;
    }

    if (c->skip && !(c->bad = calloc(n, 1))) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory", c->file);
        goto cleanup;
    }

    size_t block = MC_EMB_BLOCK_ELEMS / d;
    if (block < 1) block = 1;
    if (block > MC_EMB_BLOCK_ROWS) block = MC_EMB_BLOCK_ROWS;
    if (block > n) block = n;
    int wide = type_size > sizeof(float);
    if (wide) {
        dbuf = mc_malloc_array(block * d, sizeof *dbuf);
        if (!dbuf) {
            st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for a read buffer", c->file);
            goto cleanup;
        }
    }
    for (size_t r0 = 0; r0 < n; r0 += block) {
        size_t rows = n - r0 < block ? n - r0 : block;
        hsize_t start[2] = {(hsize_t)r0, 0}, count[2] = {(hsize_t)rows, (hsize_t)d};
        if (mspace >= 0) H5Sclose(mspace);
        mspace = H5Screate_simple(2, count, NULL);
        if (mspace < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
            st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot select rows of %s", c->file, path);
            goto cleanup;
        }
        float *dst = mc_embeddings_directions_mut(e) + r0 * d;
        float *mag = mc_embeddings_magnitudes_mut(e) + r0;
        herr_t rc = wide ? H5Dread(ds, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, dbuf)
                         : H5Dread(ds, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, dst);
        if (rc < 0) {
            st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read rows %zu..%zu of %s", c->file, r0,
                         r0 + rows - 1, path);
            goto cleanup;
        }
        for (size_t i = 0; i < rows; i++) {
            int code = wide ? mc_split_row_d(dbuf + i * d, d, dst + i * d, &mag[i])
                            : mc_split_row_f(dst + i * d, d, dst + i * d, &mag[i]);
            if (code && c->skip) {
                c->bad[r0 + i] = 1;
                memset(dst + i * d, 0, d * sizeof *dst);
                mag[i] = 0.0f;
            } else if (code) {
                char what[300];
                snprintf(what, sizeof what, "%s: %s", c->file, path);
                st = mc_split_row_fail(code, what, r0 + i);
                goto cleanup;
            }
        }
    }
    *out = e;
    e = NULL;

cleanup:
    free(dbuf);
    mc_embeddings_free(e);
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    if (ftype >= 0) H5Tclose(ftype);
    H5Dclose(ds);
    return st;
}

/* Checks a per-face dataset: rank 1 (or N x 1), N values, and a type class
 * that `ok` accepts; `must_be` completes "... type; labels must be integers".
 * On success *out_type is the dataset's type, for the caller to close. */
static mc_status open_per_face(const h5_ctx *c, hid_t ds, const char *path, const char *emb_path,
                               size_t n, int (*ok)(H5T_class_t), const char *must_be,
                               hid_t *out_type)
{
    size_t len = 0;
    mc_status st = vector_length(c, ds, path, &len);
    if (st != MC_OK) return st;
    hid_t ftype = H5Dget_type(ds);
    if (ftype < 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type of %s", c->file, path);
    H5T_class_t cls = H5Tget_class(ftype);
    if (!ok(cls)) {
        H5Tclose(ftype);
        return mc_fail(MC_ERR_HDF5, "%s: %s has %s type; %s", c->file, path, class_name(cls), must_be);
    }
    st = check_length(c, path, len, emb_path, n);
    if (st != MC_OK) {
        H5Tclose(ftype);
        return st;
    }
    *out_type = ftype;
    return MC_OK;
}

static int is_integer_class(H5T_class_t cls) { return cls == H5T_INTEGER; }
static int is_string_class(H5T_class_t cls) { return cls == H5T_STRING; }
static int is_numeric_class(H5T_class_t cls) { return cls == H5T_INTEGER || cls == H5T_FLOAT; }

static mc_status read_labels(const h5_ctx *c, hid_t ds, const char *path, const char *emb_path,
                             mc_embeddings_t *e)
{
    hid_t ftype = H5I_INVALID_HID;
    size_t n = mc_embeddings_n(e);
    mc_status st = open_per_face(c, ds, path, emb_path, n, is_integer_class,
                                 "labels must be integers", &ftype);
    if (st != MC_OK) return st;
    H5Tclose(ftype);
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    if (!labels) return mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
    if (H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels) < 0) {
        free(labels);
        return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read %s", c->file, path);
    }
    mc_embeddings_take_labels(e, labels);
    return MC_OK;
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

/* The n strings of ds into a path table (embeddings_impl.h). */
static mc_status read_paths_fixed(const h5_ctx *c, hid_t ds, hid_t ftype, const char *path,
                                  size_t n, char ***out_paths, char **out_buf)
{
    size_t size = H5Tget_size(ftype);
    if (size == 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type of %s", c->file, path);
    int spacepad = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    char *raw = mc_malloc_array(n, size);
    if (!raw) return mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
    /* Read the bytes as stored (memory type = file type) and strip the
     * padding here, rather than trust a string conversion to do it. */
    if (H5Dread(ds, ftype, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
        free(raw);
        return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read %s", c->file, path);
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += fixed_len(raw + i * size, size, spacepad);
    mc_status st = mc_paths_alloc(n, total, out_paths, out_buf);
    if (st == MC_OK) {
        char *w = *out_buf;
        for (size_t i = 0; i < n; i++) {
            size_t len = fixed_len(raw + i * size, size, spacepad);
            memcpy(w, raw + i * size, len);
            w[len] = '\0';
            (*out_paths)[i] = w;
            w += len + 1;
        }
    }
    free(raw);
    return st;
}

static mc_status read_paths_vlen(const h5_ctx *c, hid_t ds, hid_t ftype, const char *path,
                                 size_t n, char ***out_paths, char **out_buf)
{
    mc_status st = MC_OK;
    char **tmp = calloc(n, sizeof *tmp);
    hid_t mtype = H5Tcopy(H5T_C_S1);
    hid_t space = H5Dget_space(ds);
    if (!tmp) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        goto cleanup;
    }
    /* Same character set as the file: HDF5 will not convert ASCII <-> UTF-8. */
    if (mtype < 0 || space < 0 || H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
        H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot set up reading %s", c->file, path);
        goto cleanup;
    }
    /* tmp starts zeroed, so reclaiming after a partial read frees only what
     * HDF5 allocated. */
    if (H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read %s", c->file, path);
    else
        st = mc_paths_copy(n, (const char *const *)tmp, out_paths, out_buf);
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mtype, space, H5P_DEFAULT, tmp);
#else
    H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, tmp);
#endif
cleanup:
    if (space >= 0) H5Sclose(space);
    if (mtype >= 0) H5Tclose(mtype);
    free(tmp);
    return st;
}

static mc_status read_strings(const h5_ctx *c, hid_t ds, const char *path, const char *emb_path,
                               size_t n, const char *must_be, char ***out_paths, char **out_buf)
{
    hid_t ftype = H5I_INVALID_HID;
    mc_status st = open_per_face(c, ds, path, emb_path, n, is_string_class, must_be, &ftype);
    if (st != MC_OK) return st;
    htri_t vlen = H5Tis_variable_str(ftype);
    if (vlen < 0)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the type of %s", c->file, path);
    else if (vlen)
        st = read_paths_vlen(c, ds, ftype, path, n, out_paths, out_buf);
    else
        st = read_paths_fixed(c, ds, ftype, path, n, out_paths, out_buf);
    H5Tclose(ftype);
    return st;
}

static mc_status read_paths(const h5_ctx *c, hid_t ds, const char *path, const char *emb_path,
                            mc_embeddings_t *e)
{
    char **paths = NULL, *buf = NULL;
    mc_status st = read_strings(c, ds, path, emb_path, mc_embeddings_n(e), "paths must be strings",
                                &paths, &buf);
    if (st == MC_OK) mc_embeddings_take_paths(e, paths, buf);
    return st;
}

static mc_status read_quality(const h5_ctx *c, hid_t ds, const char *path, const char *emb_path,
                              const char *name, mc_embeddings_t *e)
{
    hid_t ftype = H5I_INVALID_HID;
    size_t n = mc_embeddings_n(e);
    mc_status st = open_per_face(c, ds, path, emb_path, n, is_numeric_class,
                                 "quality must be numeric", &ftype);
    if (st != MC_OK) return st;
    H5Tclose(ftype);
    float *q = mc_malloc_array(n, sizeof *q);
    char *qname = strdup(name);
    if (!q || !qname) {
        free(q);
        free(qname);
        return mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
    }
    if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, q) < 0) {
        free(q);
        free(qname);
        return mc_h5_fail(MC_ERR_HDF5, "%s: cannot read %s", c->file, path);
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(q[i]) && c->skip) {
            c->bad[i] = 1;
            q[i] = 0.0f;
        } else if (!isfinite(q[i])) {
            free(q);
            free(qname);
            return mc_fail_reason(MC_REASON_BAD_ROW, MC_ERR_BAD_DATA, "%s: %s row %zu is NaN or Inf",
                                  c->file, path, i);
        }
    }
    mc_embeddings_take_quality(e, q, qname);
    return MC_OK;
}

static int is_group_class(H5T_class_t cls) { return cls == H5T_INTEGER || cls == H5T_STRING; }

/* Group keys (photos): integers or strings, renumbered 0.. in order of first
 * appearance; negative integers and empty strings are no group. */
static mc_status read_groups(const h5_ctx *c, hid_t ds, const char *path, const char *emb_path,
                             mc_embeddings_t *e)
{
    hid_t ftype = H5I_INVALID_HID;
    size_t n = mc_embeddings_n(e);
    mc_status st = open_per_face(c, ds, path, emb_path, n, is_group_class,
                                 "a group (photo) key must be integers or strings", &ftype);
    if (st != MC_OK) return st;
    H5T_class_t cls = H5Tget_class(ftype);
    H5Tclose(ftype);
    int64_t *g = mc_malloc_array(n, sizeof *g);
    char *name = strdup(path + 1);
    if (!g || !name) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        goto fail;
    }
    mc_label_map *map = mc_label_map_new();
    if (!map) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        goto fail;
    }
    if (cls == H5T_STRING) {
        char **keys = NULL, *buf = NULL;
        st = read_strings(c, ds, path, emb_path, n, "paths must be strings", &keys, &buf);
        for (size_t i = 0; st == MC_OK && i < n; i++) {
            size_t len = strlen(keys[i]);
            g[i] = len ? mc_label_map_id(map, keys[i], len) : -1;
            if (len && g[i] < 0) st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        }
        free(keys);
        free(buf);
    } else if (H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, g) < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read %s", c->file, path);
    } else {
        char buf[32];
        for (size_t i = 0; st == MC_OK && i < n; i++) {
            if (g[i] < 0) {
                g[i] = -1;
                continue;
            }
            int len = snprintf(buf, sizeof buf, "%lld", (long long)g[i]);
            g[i] = mc_label_map_id(map, buf, (size_t)len);
            if (g[i] < 0) st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        }
    }
    size_t ng = mc_label_map_count(map);
    mc_label_map_free(map);
    if (st != MC_OK) goto fail;
    mc_embeddings_take_groups(e, g, ng, name);
    return MC_OK;
fail:
    free(g);
    free(name);
    return st;
}

typedef enum { FIELD_LABELS, FIELD_PATHS, FIELD_QUALITY, FIELD_GROUPS } field_kind;

/* One optional per-face dataset. key NULL/"" disables it; an absent dataset
 * is fine only under its default name (required = 0). */
static mc_status read_field(const h5_ctx *c, const char *key, const char *default_path,
                            int required, field_kind kind, const char *emb_path, mc_embeddings_t *e)
{
    if (key_is_empty(key)) return MC_OK;
    char *path = key_path(key);
    if (!path) return mc_fail(MC_ERR_NOMEM, "out of memory");
    if (!required && default_path && strcmp(path, default_path) != 0) required = 1;
    hid_t ds = -1;
    mc_status st = open_dataset(c, path, required, &ds);
    if (st == MC_OK && ds >= 0) {
        switch (kind) {
        case FIELD_LABELS: st = read_labels(c, ds, path, emb_path, e); break;
        case FIELD_PATHS: st = read_paths(c, ds, path, emb_path, e); break;
        case FIELD_QUALITY: st = read_quality(c, ds, path, emb_path, path + 1, e); break;
        case FIELD_GROUPS: st = read_groups(c, ds, path, emb_path, e); break;
        }
        H5Dclose(ds);
    }
    free(path);
    return st;
}

static mc_status read_file(const char *file, const mc_h5_read_params *p, mc_embeddings_t **out)
{
    /* Tell a missing or unreadable file from one HDF5 cannot parse: H5Fopen
     * reports both the same way. */
    int fd = mc_h5_image_in_use() ? -2 : open(file, O_RDONLY);
    if (fd == -1) {
        int err = errno;
        if (err == ENOENT) return mc_fail(MC_ERR_IO, "%s: no such file", file);
        return mc_fail(MC_ERR_IO, "%s: cannot open: %s", file, strerror(err));
    }
    struct stat sb;
    int is_dir = fd >= 0 && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (fd >= 0) close(fd);
    if (is_dir) return mc_fail(MC_ERR_IO, "%s: is a directory", file);

    h5_ctx c = {file, -1, p->skip_bad_rows != 0, NULL};
    c.fid = mc_h5_open_read(file);
    if (c.fid < 0)
        return mc_h5_fail(MC_ERR_IO, "%s: cannot open (not an HDF5 file or missing)", file);

    mc_embeddings_t *e = NULL;
    char *emb_path = key_path(p->embeddings_key);
    mc_status st = MC_OK;
    if (!emb_path) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory");
        goto cleanup;
    }
    st = read_embeddings(&c, emb_path, &e);
    if (st == MC_OK) st = read_field(&c, p->labels_key, "/labels", 0, FIELD_LABELS, emb_path, e);
    if (st == MC_OK) st = read_field(&c, p->paths_key, "/paths", 0, FIELD_PATHS, emb_path, e);
    if (st == MC_OK) st = read_field(&c, p->quality_key, NULL, 1, FIELD_QUALITY, emb_path, e);
    if (st == MC_OK) st = read_field(&c, p->group_key, NULL, 1, FIELD_GROUPS, emb_path, e);
    if (st == MC_OK && c.bad) st = mc_embeddings_drop_rows(e, c.bad, file, emb_path);
    if (st == MC_OK) {
        *out = e;
        e = NULL;
    }
cleanup:
    free(c.bad);
    mc_embeddings_free(e);
    free(emb_path);
    if (H5Fclose(c.fid) < 0 && st == MC_OK)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot close", file);
    return st;
}

mc_status mc_embeddings_read_h5(const char *path, const mc_h5_read_params *p,
                                mc_embeddings_t **out)
{
    mc_clear_error();
    if (!out) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_read_h5: out is NULL");
    *out = NULL;
    if (!path || !*path) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_read_h5: no path");
    mc_h5_read_params defaults = mc_h5_read_params_default();
    if (!p) p = &defaults;
    if (key_is_empty(p->embeddings_key))
        return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_read_h5: embeddings_key is empty");

    h5_quiet q;
    quiet_on(&q);
    mc_status st = read_file(path, p, out);
    quiet_off(&q);
    return st;
}

