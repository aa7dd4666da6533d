/* The model file (format "magclust-model", version 1; layout in model.h):
 * atomic write, and a read that checks the format, version and every shape.
 * Calls down into model.c only. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_impl.h"
#include "model_impl.h"
#include "util_impl.h"

#define MODEL_FORMAT "magclust-model"
#define MODEL_VERSION 1
#define MODEL_G "/model"

/* A variable-length UTF-8 string dataset of n entries (NULL written as ""). */
static int put_strings(hid_t loc, const char *name, char *const *s, size_t n)
{
    const char **v = mc_malloc_array(n ? n : 1, sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < n; i++) v[i] = s[i] ? s[i] : "";
    hid_t t = H5Tcopy(H5T_C_S1);
    int ok = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
             mc_h5_put_vector(loc, name, t, t, n, v) == 0;
    if (t >= 0) H5Tclose(t);
    free(v);
    return ok ? 0 : -1;
}

/* The model is built in memory (HDF5's core driver, no backing store) and
 * its image written out with plain stdio, atomically: libhdf5 never meets a
 * full disk (1.10.8 crashed at exit after failing to close a model file on a
 * nearly full one). Models are small: centres and exemplars. */
static hid_t create_in_memory(const char *name)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
    if (fcpl >= 0 && fapl >= 0 && H5Pset_obj_track_times(fcpl, 0) >= 0 &&
        H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) >= 0)
        f = H5Fcreate(name, H5F_ACC_TRUNC, fcpl, fapl);
    if (f < 0) mc_h5_note();
    if (fcpl >= 0) H5Pclose(fcpl);
    if (fapl >= 0) H5Pclose(fapl);
    return f;
}

static mc_status write_image(hid_t f, const char *path)
{
    ssize_t size = H5Fget_file_image(f, NULL, 0);
    if (size <= 0) return mc_h5_fail(MC_ERR_HDF5, "%s: cannot build the model file", path);
    void *buf = malloc((size_t)size);
    if (!buf) return mc_fail(MC_ERR_NOMEM, "out of memory for a %zd-byte model file", size);
    mc_status st = MC_OK;
    if (H5Fget_file_image(f, buf, (size_t)size) != size) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot build the model file", path);
    } else {
        mc_atomic_file af;
        if ((st = mc_atomic_open(&af, path)) == MC_OK) {
            if (fwrite(buf, 1, (size_t)size, af.fp) != (size_t)size) {
                st = mc_fail(MC_ERR_IO, "%s: cannot write the model: %s", path, strerror(errno));
                mc_atomic_abort(&af);
            } else {
                st = mc_atomic_commit(&af);
            }
        }
    }
    free(buf);
    return st;
}

mc_status mc_model_write_h5(const mc_model_t *m, const char *path)
{
    mc_clear_error();
    if (!m || !path) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_write_h5");
    /* the image in memory: centres and exemplar directions, 4 bytes a value,
     * plus 13 bytes an exemplar and 24 a cluster (and their names) */
    mc_status st = mc_check_memory(path, "the model file", (uint64_t)(m->C + m->E) * m->d + 4 * m->E + 6 * m->C, 4, 1);
    if (st != MC_OK) return st;
    h5_quiet hq;
    quiet_on(&hq);
    hid_t f = create_in_memory(path), g = H5I_INVALID_HID, gc = H5I_INVALID_HID,
          ge = H5I_INVALID_HID;
    if (f < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot create the model in memory", path);
        goto done;
    }
    size_t d = m->d;
    int any_name = 0;
    for (size_t c = 0; c < m->C; c++) any_name |= m->cname[c] != NULL;
    int bad = (g = H5Gcreate2(f, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
              mc_h5_put_str_attr(g, "format", MODEL_FORMAT) ||
              mc_h5_put_i32_attr(g, "version", MODEL_VERSION) ||
              mc_h5_put_u64_attr(g, "dim", (uint64_t)d) ||
              mc_h5_put_f64_attr(g, "threshold", m->threshold) ||
              mc_h5_put_u64_attr(g, "k", (uint64_t)m->k) ||
              mc_h5_put_f64_attr(g, "core_q", m->core_q) ||
              mc_h5_put_f64_attr(g, "noise_q", m->noise_q) ||
              mc_h5_put_str_attr(g, "algorithm", m->algorithm) ||
              mc_h5_put_str_attr(g, "quality_name", m->quality_name) ||
              mc_h5_put_str_attr(g, "source", m->source) ||
              (m->center &&
               mc_h5_put_vector(g, "center", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, d, m->center)) ||
              (gc = H5Gcreate2(g, "clusters", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
              mc_h5_put_matrix(gc, "mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->C, d, sizeof(float),
                               m->mean) ||
              mc_h5_put_vector(gc, "n_core", H5T_STD_I64LE, H5T_NATIVE_INT64, m->C, m->n_core) ||
              mc_h5_put_vector(gc, "n_members", H5T_STD_I64LE, H5T_NATIVE_INT64, m->C,
                               m->n_members) ||
              mc_h5_put_vector(gc, "spread", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->C, m->spread) ||
              (any_name && put_strings(gc, "name", m->cname, m->C)) ||
              (ge = H5Gcreate2(g, "exemplars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
              mc_h5_put_matrix(ge, "direction", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->E, d,
                               sizeof(float), m->ex_dir) ||
              mc_h5_put_vector(ge, "cluster", H5T_STD_I64LE, H5T_NATIVE_INT64, m->E,
                               m->ex_cluster) ||
              mc_h5_put_vector(ge, "quality", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->E,
                               m->ex_quality) ||
              mc_h5_put_vector(ge, "role", H5T_STD_U8LE, H5T_NATIVE_UINT8, m->E, m->ex_role) ||
              (m->ex_path && put_strings(ge, "path", m->ex_path, m->E)) ||
              H5Fflush(f, H5F_SCOPE_GLOBAL) < 0;
    if (bad) st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot build the model (out of memory?)", path);
done:
    if (ge >= 0) H5Gclose(ge);
    if (gc >= 0) H5Gclose(gc);
    if (g >= 0) H5Gclose(g);
    if (st == MC_OK) st = write_image(f, path);
    if (f >= 0) H5Fclose(f); /* in memory: nothing left to fail */
    quiet_off(&hq);
    return st;
}

/* Opens loc/name, a 1-D dataset of class cls with exactly n entries. */
static mc_status open_vector(hid_t loc, const char *path, const char *where, const char *name,
                             H5T_class_t cls, const char *what, size_t n, hid_t *out)
{
    hid_t ds;
    mc_h5_shape sh;
    mc_status st = mc_h5_open_checked(loc, path, where, name, MC_ERR_BAD_DATA, &ds, &sh);
    if (st != MC_OK) return st;
    if (sh.cls != cls || sh.rank != 1 || sh.dims[0] != (hsize_t)n) {
        H5Dclose(ds);
        return mc_fail(MC_ERR_BAD_DATA, "%s: %s/%s must hold %zu %s", path, where, name, n, what);
    }
    *out = ds;
    return MC_OK;
}

static mc_status read_vector(hid_t loc, const char *path, const char *where, const char *name,
                             H5T_class_t cls, const char *what, hid_t mtype, size_t n, void *dst)
{
    hid_t ds;
    mc_status st = open_vector(loc, path, where, name, cls, what, n, &ds);
    if (st != MC_OK) return st;
    if (n > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
        st = mc_fail(MC_ERR_HDF5, "%s: cannot read %s/%s", path, where, name);
    H5Dclose(ds);
    return st;
}

/* Opens <where>/<name>, an n x d float matrix, and gives its n; d must match. */
static mc_status open_rows(hid_t loc, const char *path, const char *where, const char *name,
                           size_t d, hid_t *ds, size_t *n)
{
    *ds = H5I_INVALID_HID;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return mc_fail(MC_ERR_BAD_DATA, "%s: no dataset %s/%s", path, where, name);
    hsize_t dims[2];
    mc_status st = mc_h5_open_matrix(loc, path, where, name, H5T_FLOAT, "floating-point numbers",
                                     ds, dims);
    if (st != MC_OK) return st;
    if (dims[1] != (hsize_t)d || dims[0] > (hsize_t)(SIZE_MAX / 4096)) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: %s/%s is %llu x %llu, expected N x %zu", path, where,
                     name, (unsigned long long)dims[0], (unsigned long long)dims[1], d);
        H5Dclose(*ds);
        *ds = H5I_INVALID_HID;
        return st;
    }
    if ((st = mc_check_memory(path, name, dims[0], dims[1], sizeof(float))) != MC_OK) {
        H5Dclose(*ds);
        *ds = H5I_INVALID_HID;
        return st;
    }
    *n = (size_t)dims[0];
    return MC_OK;
}

/* <where>/<name>, n strings, into dst (each allocated; "" as NULL when
 * empty_null). */
static mc_status read_strings(hid_t loc, const char *path, const char *where, const char *name,
                              size_t n, int empty_null, char **dst)
{
    hid_t ds;
    mc_status st = open_vector(loc, path, where, name, H5T_STRING, "strings", n, &ds);
    if (st != MC_OK) return st;
    hid_t t = H5Tcopy(H5T_C_S1);
    char **v = mc_malloc_array(n ? n : 1, sizeof *v);
    int ok = t >= 0 && v && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
             H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
             (n == 0 || H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    if (ok) {
        for (size_t i = 0; i < n; i++) {
            int none = !v[i] || (empty_null && !v[i][0]);
            dst[i] = none && empty_null ? NULL : strdup(v[i] ? v[i] : "");
            if (v[i]) H5free_memory(v[i]);
            if (!dst[i] && !none) ok = 0;
        }
    }
    if (t >= 0) H5Tclose(t);
    H5Dclose(ds);
    free(v);
    if (!ok) return mc_fail(MC_ERR_HDF5, "%s: cannot read %s/%s", path, where, name);
    return MC_OK;
}

mc_status mc_model_read_h5(const char *path, mc_model_t **out)
{
    mc_clear_error();
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_read_h5");
    *out = NULL;
    if (!mc_h5_image_in_use() && access(path, R_OK) != 0) return mc_fail(MC_ERR_IO, "%s: no such file or not readable", path);
    h5_quiet hq;
    quiet_on(&hq);
    mc_status st = MC_OK;
    mc_model_t *m = NULL;
    hid_t g = H5I_INVALID_HID, gc = H5I_INVALID_HID, ge = H5I_INVALID_HID;
    hid_t dmean = H5I_INVALID_HID, ddir = H5I_INVALID_HID;
    hid_t f = mc_h5_open_read(path);
    if (f < 0) {
        st = mc_h5_open_fail(MC_ERR_HDF5, path, "not an HDF5 file?");
        goto done;
    }
    if (H5Lexists(f, "model", H5P_DEFAULT) <= 0 || (g = H5Gopen2(f, "model", H5P_DEFAULT)) < 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: no /model group (not a magclust model file)", path);
        goto done;
    }
    char format[64];
    int found = 0;
    if ((st = mc_h5_get_str_attr(g, path, MODEL_G, "format", format, sizeof format, 1, &found)) !=
        MC_OK)
        goto done;
    if (!found || strcmp(format, MODEL_FORMAT) != 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /model format is not \"%s\" (not a magclust model file)",
                     path, MODEL_FORMAT);
        goto done;
    }
    int64_t version = 0;
    uint64_t dim = 0;
    if ((st = mc_h5_get_int_attr(g, path, MODEL_G, "version", H5T_NATIVE_INT64, &version,
                                 &found)) != MC_OK)
        goto done;
    if (!found || version != MODEL_VERSION) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: model file version %lld is not supported (this build reads version %d)",
                     path, (long long)version, MODEL_VERSION);
        goto done;
    }
    if ((st = mc_h5_get_int_attr(g, path, MODEL_G, "dim", H5T_NATIVE_UINT64, &dim, &found)) !=
        MC_OK)
        goto done;
    if (!found || dim == 0 || dim > 65536) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /model dim is missing or not in 1..65536", path);
        goto done;
    }
    size_t d = (size_t)dim, C = 0, E = 0;
    if (!(m = mc_model_alloc(d))) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory");
        goto done;
    }
    m->threshold = NAN;
    m->core_q = m->noise_q = -INFINITY;
    uint64_t kk = 0;
    if ((st = mc_h5_get_int_attr(g, path, MODEL_G, "k", H5T_NATIVE_UINT64, &kk, &found)) != MC_OK)
        goto done;
    if (!found || kk == 0 || kk > 100000) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /model k is missing or not in 1..100000", path);
        goto done;
    }
    m->k = (size_t)kk;
    if ((st = mc_h5_get_f64_attr(g, path, MODEL_G, "threshold", &m->threshold)) != MC_OK ||
        (st = mc_h5_get_f64_attr(g, path, MODEL_G, "core_q", &m->core_q)) != MC_OK ||
        (st = mc_h5_get_f64_attr(g, path, MODEL_G, "noise_q", &m->noise_q)) != MC_OK ||
        (st = mc_h5_get_str_attr(g, path, MODEL_G, "algorithm", m->algorithm, sizeof m->algorithm,
                                 1, &found)) != MC_OK ||
        (st = mc_h5_get_str_attr(g, path, MODEL_G, "quality_name", m->quality_name,
                                 sizeof m->quality_name, 0, &found)) != MC_OK ||
        (st = mc_h5_get_str_attr(g, path, MODEL_G, "source", m->source, sizeof m->source, 1,
                                 &found)) != MC_OK)
        goto done;
    if (!isfinite(m->threshold) || isnan(m->core_q) || isnan(m->noise_q)) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /model threshold or gates missing or not numbers", path);
        goto done;
    }
    if (!m->quality_name[0]) snprintf(m->quality_name, sizeof m->quality_name, "magnitude");
    if (H5Lexists(g, "center", H5P_DEFAULT) > 0) {
        if (!(m->center = mc_malloc_array(d, sizeof *m->center))) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
            goto done;
        }
        if ((st = read_vector(g, path, MODEL_G, "center", H5T_FLOAT, "floating-point numbers",
                              H5T_NATIVE_FLOAT, d, m->center)) != MC_OK)
            goto done;
    }
    if ((gc = H5Gopen2(g, "clusters", H5P_DEFAULT)) < 0 ||
        (ge = H5Gopen2(g, "exemplars", H5P_DEFAULT)) < 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: no /model/clusters or /model/exemplars group", path);
        goto done;
    }
    if ((st = open_rows(gc, path, MODEL_G "/clusters", "mean", d, &dmean, &C)) != MC_OK ||
        (st = open_rows(ge, path, MODEL_G "/exemplars", "direction", d, &ddir, &E)) != MC_OK)
        goto done;
    int paths = H5Lexists(ge, "path", H5P_DEFAULT) > 0;
    if (mc_model_reserve(m, C ? C : 1, E ? E : 1, paths) != 0) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for a model of %zu clusters, %zu exemplars",
                     path, C, E);
        goto done;
    }
    if ((C > 0 && (st = mc_h5_read_matrix(dmean, path, MODEL_G "/clusters", "mean",
                                          H5T_NATIVE_FLOAT, sizeof(float), C, d, m->mean)) != MC_OK) ||
        (st = read_vector(gc, path, MODEL_G "/clusters", "n_core", H5T_INTEGER, "integers",
                          H5T_NATIVE_INT64, C, m->n_core)) != MC_OK ||
        (st = read_vector(gc, path, MODEL_G "/clusters", "n_members", H5T_INTEGER, "integers",
                          H5T_NATIVE_INT64, C, m->n_members)) != MC_OK ||
        (st = read_vector(gc, path, MODEL_G "/clusters", "spread", H5T_FLOAT,
                          "floating-point numbers", H5T_NATIVE_FLOAT, C, m->spread)) != MC_OK ||
        (E > 0 && (st = mc_h5_read_matrix(ddir, path, MODEL_G "/exemplars", "direction",
                                          H5T_NATIVE_FLOAT, sizeof(float), E, d, m->ex_dir)) != MC_OK) ||
        (st = read_vector(ge, path, MODEL_G "/exemplars", "cluster", H5T_INTEGER, "integers",
                          H5T_NATIVE_INT64, E, m->ex_cluster)) != MC_OK ||
        (st = read_vector(ge, path, MODEL_G "/exemplars", "quality", H5T_FLOAT,
                          "floating-point numbers", H5T_NATIVE_FLOAT, E, m->ex_quality)) != MC_OK ||
        (st = read_vector(ge, path, MODEL_G "/exemplars", "role", H5T_INTEGER, "integers",
                          H5T_NATIVE_UINT8, E, m->ex_role)) != MC_OK)
        goto done;
    if (paths) {
        for (size_t i = 0; i < E; i++) m->ex_path[i] = NULL;
        m->E = E; /* so that free releases the strings read so far */
        if ((st = read_strings(ge, path, MODEL_G "/exemplars", "path", E, 0, m->ex_path)) != MC_OK)
            goto done;
    }
    m->C = C; /* so that free releases the names */
    if (H5Lexists(gc, "name", H5P_DEFAULT) > 0 &&
        (st = read_strings(gc, path, MODEL_G "/clusters", "name", C, 1, m->cname)) != MC_OK)
        goto done;
    m->E = E;
    for (size_t i = 0; i < E; i++) {
        int64_t c = m->ex_cluster[i];
        uint8_t r = m->ex_role[i];
        if (c < -1 || (c >= 0 && (size_t)c >= C) || r > MC_ROLE_NOISE || (r == MC_ROLE_NOISE) != (c < 0)) {
            st = mc_fail(MC_ERR_BAD_DATA,
                         "%s: reference face %zu has cluster %lld and role %u (clusters 0..%zu; "
                         "noise, role 2, exactly when the cluster is -1)",
                         path, i, (long long)c, (unsigned)r, C ? C - 1 : 0);
            goto done;
        }
    }
    for (size_t j = 0; m->center && j < d; j++)
        if (!isfinite(m->center[j])) {
            /* new faces would not be centred (a NaN mean leaves them as they are) */
            st = mc_fail(MC_ERR_BAD_DATA, "%s: /model/center has a non-finite value (element %zu)", path, j);
            goto done;
        }
    for (size_t i = 0; i < E; i++)
        if (isnan(m->ex_quality[i])) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: reference face %zu has a NaN quality", path, i);
            goto done;
        }
    for (size_t i = 0; i < C * d; i++)
        if (!isfinite(m->mean[i])) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: cluster %zu has a non-finite mean", path, i / d);
            goto done;
        }
    for (size_t i = 0; i < E * d; i++)
        if (!isfinite(m->ex_dir[i])) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: exemplar %zu has a non-finite direction", path, i / d);
            goto done;
        }
done:
    if (ddir >= 0) H5Dclose(ddir);
    if (dmean >= 0) H5Dclose(dmean);
    if (ge >= 0) H5Gclose(ge);
    if (gc >= 0) H5Gclose(gc);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    quiet_off(&hq);
    if (st != MC_OK) {
        mc_model_free(m);
        return st;
    }
    *out = m;
    return MC_OK;
}
