/* k-NN graph files: /knn/ids and /knn/sims (N x k, chunked by rows) with the
 * provenance as attributes of /knn, and the embeddings fingerprint that lets
 * a caller check a saved graph against the data it is about to cluster. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "knn_impl.h"
#include "magclust/knn_io.h"
#include "util_impl.h"
#include "h5_impl.h"

#define KNN_FORMAT "magclust-knn"
#define KNN_VERSION 1
/* Rows per chunk and per read block: 4096 x 30 ids are just under HDF5's
 * default 1 MiB chunk cache. */
#define KNN_BLOCK_ROWS 4096
/* Keep a chunk well below HDF5's 4 GiB limit whatever k is. */
#define KNN_MAX_CHUNK_BYTES ((size_t)16 << 20)

void mc_knn_graph_meta_init(mc_knn_graph_meta *m)
{
    if (!m) return;
    memset(m, 0, sizeof *m);
    m->center_shift = NAN;
    memcpy(m->index, "Flat", sizeof "Flat");
}

/* ---- fingerprint --------------------------------------------------------- */

/* The constants and the lane round are xxHash64's: four independent lanes
 * keep the multiplier busy, so the hash runs at memory speed rather than at
 * the latency of one multiply chain. */
#define FP_P1 0x9E3779B185EBCA87ull
#define FP_P2 0xC2B2AE3D27D4EB4Full
#define FP_P3 0x165667B19E3779F9ull
#define FP_P4 0x85EBCA77C2B2AE63ull
#define FP_P5 0x27D4EB2F165667C5ull

static inline uint64_t fp_rotl(uint64_t x, unsigned r) { return (x << r) | (x >> (64u - r)); }

static inline uint64_t fp_load(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w); /* unaligned-safe; compiles to one load */
    return w;
}

static inline uint64_t fp_round(uint64_t acc, uint64_t w)
{
    acc += w * FP_P2;
    acc = fp_rotl(acc, 31);
    return acc * FP_P1;
}

/* Folds one more word into a running state. */
static inline uint64_t fp_fold(uint64_t h, uint64_t w)
{
    return fp_rotl(h ^ fp_round(0, w), 27) * FP_P1 + FP_P4;
}

/* Final avalanche: xor-shift / multiply. */
static inline uint64_t fp_avalanche(uint64_t h)
{
    h ^= h >> 33;
    h *= FP_P2;
    h ^= h >> 29;
    h *= FP_P3;
    h ^= h >> 32;
    return h;
}

/* Hashes len bytes into the state h. The length goes in too, so that
 * consecutive buffers cannot trade bytes without changing the result. */
static uint64_t fp_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    if (len >= 32) {
        uint64_t a = h + FP_P1 + FP_P2, b = h + FP_P2, c = h, d = h - FP_P1;
        for (; i + 32 <= len; i += 32) {
            a = fp_round(a, fp_load(p + i));
            b = fp_round(b, fp_load(p + i + 8));
            c = fp_round(c, fp_load(p + i + 16));
            d = fp_round(d, fp_load(p + i + 24));
        }
        h = fp_rotl(a, 1) + fp_rotl(b, 7) + fp_rotl(c, 12) + fp_rotl(d, 18);
        h = fp_fold(h, a);
        h = fp_fold(h, b);
        h = fp_fold(h, c);
        h = fp_fold(h, d);
    } else {
        h += FP_P5;
    }
    for (; i + 8 <= len; i += 8) h = fp_fold(h, fp_load(p + i));
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i);
        h = fp_fold(h, w);
    }
    return fp_avalanche(h ^ fp_fold(FP_P3, (uint64_t)len));
}

uint64_t mc_embeddings_fingerprint(const mc_embeddings_t *e)
{
    if (!e) return 0;
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    const float *dir = mc_embeddings_directions(e), *mag = mc_embeddings_magnitudes(e);
    uint64_t h = fp_fold(fp_fold(FP_P5, (uint64_t)n), (uint64_t)d);
    h = fp_bytes(h, dir, dir ? n * d * sizeof *dir : 0);
    h = fp_bytes(h, mag, mag ? n * sizeof *mag : 0);
    return h ? h : 1; /* 0 means "unknown" in a graph file */
}

/* ---- shared -------------------------------------------------------------- */


/* ---- writer -------------------------------------------------------------- */

static int put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *value)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp >= 0 ? H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT) : H5I_INVALID_HID;
    int ok = a >= 0 && H5Awrite(a, mtype, value) >= 0;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

static int put_str_attr(hid_t loc, const char *name, const char *value)
{
    /* Variable-length UTF-8, as the other writers: h5py returns str. */
    hid_t t = H5Tcopy(H5T_C_S1);
    int ok = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
             put_attr(loc, name, t, t, &value) == 0;
    if (t >= 0) H5Tclose(t);
    return ok ? 0 : -1;
}

static int put_u64_attr(hid_t loc, const char *name, uint64_t v)
{
    return put_attr(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}

static int put_i32_attr(hid_t loc, const char *name, int32_t v)
{
    return put_attr(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT32, &v);
}

static int put_f64_attr(hid_t loc, const char *name, double v)
{
    return put_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

/* An N x k dataset chunked by whole rows, written in one call from the
 * graph's own array (no conversion copy when file and memory types agree). */
static int put_matrix(hid_t loc, const char *name, hid_t ftype, hid_t mtype, size_t n, size_t k,
                      size_t elem, const void *data)
{
    size_t rows = KNN_MAX_CHUNK_BYTES / (k * elem);
    if (rows > KNN_BLOCK_ROWS) rows = KNN_BLOCK_ROWS;
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
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ok ? 0 : -1;
}

static int terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

mc_status mc_knn_graph_write_h5(const mc_knn_graph_t *g, const mc_knn_graph_meta *meta,
                                const char *path)
{
    mc_clear_error();
    if (!g || !path) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_graph_write_h5");
    size_t n = mc_knn_graph_n(g), k = mc_knn_graph_k(g);
    mc_knn_graph_meta m;
    if (meta) {
        m = *meta;
    } else {
        mc_knn_graph_meta_init(&m);
        m.n = n;
        m.k = k;
    }
    if (m.n != n || m.k != k)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: the metadata describes a %zu x %zu graph, the graph is %zu x %zu", path,
                       m.n, m.k, n, k);
    if (!terminated(m.index, sizeof m.index) || !terminated(m.source, sizeof m.source) ||
        !terminated(m.embeddings_key, sizeof m.embeddings_key))
        return mc_fail(MC_ERR_INVALID_ARG, "%s: a metadata string is not NUL-terminated", path);

    char *tmp = mc_temp_path_for(path);
    if (!tmp) return mc_fail(MC_ERR_NOMEM, "%s: cannot make a temporary name", path);
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    hid_t grp = H5I_INVALID_HID, gcpl = H5I_INVALID_HID;
    hid_t f = h5_create_untimed(tmp);
    if (f < 0) {
        st = mc_fail(MC_ERR_IO, "%s: cannot create (missing directory or no permission?)", path);
        goto done;
    }
    gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
        grp = H5Gcreate2(f, "knn", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    int bad = grp < 0;
    bad = bad || put_matrix(grp, "ids", H5T_STD_I64LE, H5T_NATIVE_INT64, n, k, sizeof(int64_t),
                            mc_knn_graph_ids(g)) != 0;
    bad = bad || put_matrix(grp, "sims", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, n, k, sizeof(float),
                            mc_knn_graph_sims(g)) != 0;
    bad = bad || put_str_attr(grp, "format", KNN_FORMAT) != 0 ||
          put_i32_attr(grp, "version", KNN_VERSION) != 0 || put_u64_attr(grp, "n", n) != 0 ||
          put_u64_attr(grp, "k", k) != 0 || put_u64_attr(grp, "dim", m.dim) != 0 ||
          put_u64_attr(grp, "fingerprint", m.fingerprint) != 0 ||
          put_i32_attr(grp, "centered", m.centered ? 1 : 0) != 0 ||
          put_f64_attr(grp, "center_shift", m.center_shift) != 0 ||
          put_str_attr(grp, "index", m.index) != 0 || put_str_attr(grp, "source", m.source) != 0 ||
          put_str_attr(grp, "embeddings_key", m.embeddings_key) != 0;
    bad = bad || H5Fflush(f, H5F_SCOPE_GLOBAL) < 0;
    if (bad) st = mc_fail(MC_ERR_HDF5, "%s: cannot write the k-NN graph (disk full?)", path);
done:
    if (grp >= 0) H5Gclose(grp);
    if (gcpl >= 0) H5Pclose(gcpl);
    if (f >= 0 && H5Fclose(f) < 0 && st == MC_OK)
        st = mc_fail(MC_ERR_HDF5, "%s: cannot close (disk full?)", path);
    quiet_off(&q);
    if (st == MC_OK)
        st = mc_rename_into_place(tmp, path);
    else
        unlink(tmp);
    free(tmp);
    return st;
}

/* ---- reader -------------------------------------------------------------- */

/* Opens attribute `name` of loc if it exists and holds one value of class
 * cls: MC_OK with *out >= 0, MC_OK with *out < 0 when absent, or
 * MC_ERR_BAD_DATA / MC_ERR_HDF5 naming the file. */
static mc_status open_attr(hid_t loc, const char *path, const char *name, H5T_class_t cls,
                           const char *what, hid_t *out)
{
    *out = H5I_INVALID_HID;
    htri_t exists = H5Aexists(loc, name);
    if (exists < 0) return mc_fail(MC_ERR_HDF5, "%s: cannot read the attributes of /knn", path);
    if (exists == 0) return MC_OK;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0) return mc_fail(MC_ERR_HDF5, "%s: cannot open attribute /knn %s", path, name);
    hid_t t = H5Aget_type(a), sp = H5Aget_space(a);
    H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    hssize_t npts = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (c != cls || npts != 1) {
        H5Aclose(a);
        return mc_fail(MC_ERR_BAD_DATA, "%s: attribute /knn %s must be a single %s", path, name, what);
    }
    *out = a;
    return MC_OK;
}

/* Reads an integer attribute (any integer type) as int64 or uint64 (mtype). */
static mc_status get_int_attr(hid_t loc, const char *path, const char *name, hid_t mtype,
                              void *value, int *found)
{
    hid_t a;
    mc_status st = open_attr(loc, path, name, H5T_INTEGER, "integer", &a);
    *found = a >= 0;
    if (st != MC_OK || a < 0) return st;
    herr_t rc = H5Aread(a, mtype, value);
    H5Aclose(a);
    return rc < 0 ? mc_fail(MC_ERR_HDF5, "%s: cannot read attribute /knn %s", path, name) : MC_OK;
}

static mc_status get_f64_attr(hid_t loc, const char *path, const char *name, double *value)
{
    hid_t a;
    mc_status st = open_attr(loc, path, name, H5T_FLOAT, "floating-point number", &a);
    if (st != MC_OK || a < 0) return st;
    herr_t rc = H5Aread(a, H5T_NATIVE_DOUBLE, value);
    H5Aclose(a);
    return rc < 0 ? mc_fail(MC_ERR_HDF5, "%s: cannot read attribute /knn %s", path, name) : MC_OK;
}

/* Copies s into buf[cap]: whole, or when truncate is set, cut at a UTF-8
 * character boundary; otherwise a string that does not fit is refused. */
static mc_status store_str(const char *path, const char *name, const char *s, size_t len,
                           char *buf, size_t cap, int truncate)
{
    if (len >= cap) {
        if (!truncate)
            return mc_fail(MC_ERR_BAD_DATA, "%s: attribute /knn %s is %zu bytes, longer than %zu",
                           path, name, len, cap - 1);
        len = cap - 1;
        /* s[len] is the first byte dropped: back off over a split character. */
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) len--;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return MC_OK;
}

/* Reads a string attribute, variable-length or fixed (NUL- or space-padded). */
static mc_status get_str_attr(hid_t loc, const char *path, const char *name, char *buf, size_t cap,
                              int truncate, int *found)
{
    hid_t a;
    mc_status st = open_attr(loc, path, name, H5T_STRING, "string", &a);
    *found = a >= 0;
    if (st != MC_OK || a < 0) return st;
    hid_t ft = H5Aget_type(a), mt = H5I_INVALID_HID;
    int ok = ft >= 0 && (mt = H5Tcopy(H5T_C_S1)) >= 0 && H5Tset_cset(mt, H5Tget_cset(ft)) >= 0;
    if (ok && H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        ok = H5Tset_size(mt, H5T_VARIABLE) >= 0 && H5Aread(a, mt, &s) >= 0;
        if (ok) st = store_str(path, name, s ? s : "", s ? strlen(s) : 0, buf, cap, truncate);
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
                while (len && raw[len - 1] == ' ') len--;
            st = store_str(path, name, raw, len, buf, cap, truncate);
        }
        free(raw);
    }
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    if (!ok) return mc_fail(MC_ERR_HDF5, "%s: cannot read attribute /knn %s", path, name);
    return st;
}

/* Reads the provenance attributes into m (which holds the defaults). */
static mc_status read_meta(hid_t grp, const char *path, mc_knn_graph_meta *m, int *has_n, int *has_k)
{
    char format[64];
    int found;
    mc_status st = get_str_attr(grp, path, "format", format, sizeof format, 1, &found);
    if (st != MC_OK) return st;
    if (!found)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: /knn has no format attribute (not a magclust k-NN graph file)", path);
    if (strcmp(format, KNN_FORMAT) != 0)
        return mc_fail(MC_ERR_BAD_DATA, "%s: /knn format is \"%s\", expected \"%s\"", path, format,
                       KNN_FORMAT);
    int64_t version = 0;
    if ((st = get_int_attr(grp, path, "version", H5T_NATIVE_INT64, &version, &found)) != MC_OK)
        return st;
    if (!found) return mc_fail(MC_ERR_BAD_DATA, "%s: /knn has no version attribute", path);
    if (version != KNN_VERSION)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: k-NN graph file version %lld is not supported (this build reads version %d)",
                       path, (long long)version, KNN_VERSION);

    uint64_t v = 0;
    if ((st = get_int_attr(grp, path, "n", H5T_NATIVE_UINT64, &v, has_n)) != MC_OK) return st;
    if (*has_n) m->n = (size_t)v;
    if (*has_n && v != (uint64_t)m->n)
        return mc_fail(MC_ERR_BAD_DATA, "%s: attribute /knn n = %llu is too large", path,
                       (unsigned long long)v);
    if ((st = get_int_attr(grp, path, "k", H5T_NATIVE_UINT64, &v, has_k)) != MC_OK) return st;
    if (*has_k) m->k = (size_t)v;
    if (*has_k && v != (uint64_t)m->k)
        return mc_fail(MC_ERR_BAD_DATA, "%s: attribute /knn k = %llu is too large", path,
                       (unsigned long long)v);
    if ((st = get_int_attr(grp, path, "dim", H5T_NATIVE_UINT64, &v, &found)) != MC_OK) return st;
    if (found) m->dim = (size_t)v;
    if ((st = get_int_attr(grp, path, "fingerprint", H5T_NATIVE_UINT64, &m->fingerprint, &found)) !=
        MC_OK)
        return st;
    int64_t centered = 0;
    if ((st = get_int_attr(grp, path, "centered", H5T_NATIVE_INT64, &centered, &found)) != MC_OK)
        return st;
    m->centered = centered != 0;
    if ((st = get_f64_attr(grp, path, "center_shift", &m->center_shift)) != MC_OK) return st;
    if ((st = get_str_attr(grp, path, "index", m->index, sizeof m->index, 0, &found)) != MC_OK)
        return st;
    if ((st = get_str_attr(grp, path, "source", m->source, sizeof m->source, 1, &found)) != MC_OK)
        return st;
    return get_str_attr(grp, path, "embeddings_key", m->embeddings_key, sizeof m->embeddings_key, 0,
                        &found);
}

/* Opens /knn/<name> and checks it is a 2-D dataset of class cls. */
static mc_status open_matrix(hid_t grp, const char *path, const char *name, H5T_class_t cls,
                             const char *what, hid_t *out, hsize_t dims[2])
{
    *out = H5I_INVALID_HID;
    if (H5Lexists(grp, name, H5P_DEFAULT) <= 0)
        return mc_fail(MC_ERR_HDF5, "%s: no dataset /knn/%s", path, name);
    hid_t ds = H5Dopen2(grp, name, H5P_DEFAULT);
    if (ds < 0) return mc_fail(MC_ERR_HDF5, "%s: /knn/%s is not a dataset", path, name);
    hid_t t = H5Dget_type(ds), sp = H5Dget_space(ds);
    H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    hsize_t d[H5S_MAX_RANK];
    int rank = sp >= 0 ? H5Sget_simple_extent_dims(sp, d, NULL) : -1;
    if (t >= 0) H5Tclose(t);
    if (sp >= 0) H5Sclose(sp);
    if (rank != 2) {
        H5Dclose(ds);
        return mc_fail(MC_ERR_BAD_DATA, "%s: /knn/%s has rank %d, expected 2 (N x k)", path, name,
                       rank);
    }
    if (c != cls) {
        H5Dclose(ds);
        return mc_fail(MC_ERR_BAD_DATA, "%s: /knn/%s must hold %s", path, name, what);
    }
    dims[0] = d[0];
    dims[1] = d[1];
    *out = ds;
    return MC_OK;
}

/* Rows per read: a whole number of the dataset's chunks, about
 * KNN_BLOCK_ROWS, so that no chunk is read twice. */
static size_t block_rows(hid_t ds)
{
    size_t rows = KNN_BLOCK_ROWS;
    hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t chunk[2];
    if (dcpl >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, 2, chunk) == 2 &&
        chunk[0] > 0) {
        size_t c = chunk[0] < (hsize_t)SIZE_MAX ? (size_t)chunk[0] : SIZE_MAX;
        rows = c >= KNN_BLOCK_ROWS ? c : c * (KNN_BLOCK_ROWS / c);
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    return rows;
}

/* Reads an N x k dataset by row blocks straight into dst (N*k of mtype). */
static mc_status read_matrix(hid_t ds, const char *path, const char *name, hid_t mtype, size_t elem,
                             size_t n, size_t k, void *dst)
{
    size_t bs = block_rows(ds);
    mc_status st = MC_OK;
    hid_t fs = H5Dget_space(ds);
    if (fs < 0) return mc_fail(MC_ERR_HDF5, "%s: cannot read /knn/%s", path, name);
    for (size_t r0 = 0; r0 < n && st == MC_OK; r0 += bs) {
        size_t nr = n - r0 < bs ? n - r0 : bs;
        hsize_t start[2] = {r0, 0}, count[2] = {nr, k};
        hid_t ms = H5Screate_simple(2, count, NULL);
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, mtype, ms, fs, H5P_DEFAULT, (char *)dst + r0 * k * elem) < 0)
            st = mc_fail(MC_ERR_HDF5, "%s: cannot read rows %zu..%zu of /knn/%s", path, r0,
                         r0 + nr - 1, name);
        if (ms >= 0) H5Sclose(ms);
    }
    H5Sclose(fs);
    return st;
}

mc_status mc_knn_graph_read_h5(const char *path, mc_knn_graph_t **out, mc_knn_graph_meta *meta)
{
    mc_clear_error();
    if (out) *out = NULL;
    if (meta) mc_knn_graph_meta_init(meta);
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_graph_read_h5");
    if (access(path, R_OK) != 0) {
        if (errno == ENOENT) return mc_fail(MC_ERR_IO, "%s: no such file", path);
        return mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    mc_knn_graph_t *g = NULL;
    mc_knn_graph_meta m;
    mc_knn_graph_meta_init(&m);
    hid_t grp = H5I_INVALID_HID, ids = H5I_INVALID_HID, sims = H5I_INVALID_HID;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        st = mc_fail(MC_ERR_IO, "%s: cannot open (not an HDF5 file?)", path);
        goto done;
    }
    if (H5Lexists(f, "knn", H5P_DEFAULT) <= 0) {
        st = mc_fail(MC_ERR_HDF5, "%s: no /knn group (not a magclust k-NN graph file)", path);
        goto done;
    }
    if ((grp = H5Gopen2(f, "knn", H5P_DEFAULT)) < 0) {
        st = mc_fail(MC_ERR_HDF5, "%s: /knn is not a group (not a magclust k-NN graph file)", path);
        goto done;
    }
    int has_n = 0, has_k = 0;
    if ((st = read_meta(grp, path, &m, &has_n, &has_k)) != MC_OK) goto done;

    hsize_t di[2], dsims[2];
    if ((st = open_matrix(grp, path, "ids", H5T_INTEGER, "integers", &ids, di)) != MC_OK ||
        (st = open_matrix(grp, path, "sims", H5T_FLOAT, "floating-point numbers", &sims, dsims)) !=
            MC_OK)
        goto done;
    if (di[0] != dsims[0] || di[1] != dsims[1]) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /knn/ids is %llu x %llu but /knn/sims is %llu x %llu",
                     path, (unsigned long long)di[0], (unsigned long long)di[1],
                     (unsigned long long)dsims[0], (unsigned long long)dsims[1]);
        goto done;
    }
    if (di[0] == 0 || di[1] == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: the graph is %llu x %llu: no faces or no neighbours",
                     path, (unsigned long long)di[0], (unsigned long long)di[1]);
        goto done;
    }
    /* ids are int64 and must reach n - 1; n*k elements must be addressable. */
    if (di[0] > (hsize_t)INT64_MAX || di[0] > (hsize_t)SIZE_MAX || di[1] > (hsize_t)SIZE_MAX ||
        (size_t)di[1] > SIZE_MAX / sizeof(int64_t) / (size_t)di[0]) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: the graph is %llu x %llu, too large for this machine",
                     path, (unsigned long long)di[0], (unsigned long long)di[1]);
        goto done;
    }
    size_t n = (size_t)di[0], k = (size_t)di[1];
    if ((has_n && m.n != n) || (has_k && m.k != k)) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: attributes say the graph is %zu x %zu, the datasets are %zu x %zu", path,
                     has_n ? m.n : n, has_k ? m.k : k, n, k);
        goto done;
    }
    m.n = n;
    m.k = k;
    if ((st = mc_knn_graph_alloc(n, k, &g)) != MC_OK) goto done;
    if ((st = read_matrix(ids, path, "ids", H5T_NATIVE_INT64, sizeof(int64_t), n, k,
                          mc_knn_graph_ids_mut(g))) != MC_OK ||
        (st = read_matrix(sims, path, "sims", H5T_NATIVE_FLOAT, sizeof(float), n, k,
                          mc_knn_graph_sims_mut(g))) != MC_OK)
        goto done;
    if ((st = mc_knn_graph_finish(g)) != MC_OK) {
        /* finish's detail names the row, not the file: prefix the path. */
        char why[512];
        snprintf(why, sizeof why, "%s", mc_last_error_detail());
        st = mc_fail(st, "%s: %s", path, why);
        goto done;
    }
done:
    if (sims >= 0) H5Dclose(sims);
    if (ids >= 0) H5Dclose(ids);
    if (grp >= 0) H5Gclose(grp);
    if (f >= 0) H5Fclose(f);
    quiet_off(&q);
    if (st != MC_OK) {
        mc_knn_graph_free(g);
        return st;
    }
    *out = g;
    if (meta) *meta = m;
    return MC_OK;
}
