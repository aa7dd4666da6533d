/* A clustering result as HDF5: /cluster, /role, /quality, /paths and the
 * parameters as root attributes. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "magclust/clustering.h"
#include "util_impl.h"
#include "h5_impl.h"

static int write_attr(hid_t loc, const mc_attr *a)
{
    return a->text ? mc_h5_put_str_attr(loc, a->name, a->text)
                   : mc_h5_put_f64_attr(loc, a->name, a->number);
}

mc_status mc_clustering_write_h5(const mc_clustering_t *c, const mc_embeddings_t *e,
                                 const char *path, const mc_attr *attrs, size_t n_attrs)
{
    mc_clear_error();
    if (!c || !e || !path || (n_attrs && !attrs))
        return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_clustering_write_h5");
    size_t n = mc_clustering_n(c);
    if (mc_embeddings_n(e) != n)
        return mc_fail(MC_ERR_DIM_MISMATCH, "%s: clustering has %zu faces, embeddings %zu", path, n,
                       mc_embeddings_n(e));
    mc_h5_out out;
    mc_status st = mc_h5_out_create(&out, path);
    if (st != MC_OK) return st;
    h5_quiet q;
    quiet_on(&q);
    const char **paths = NULL;
    hid_t role_t = H5I_INVALID_HID, str_t = H5I_INVALID_HID, f = out.file;
    /* Roles as an enum, so h5py and h5dump show their names. */
    role_t = H5Tenum_create(H5T_NATIVE_INT8);
    for (int8_t r = MC_ROLE_CORE; r <= MC_ROLE_UNASSIGNED; r++)
        H5Tenum_insert(role_t, mc_role_name((mc_role)r), &r);
    int bad = mc_h5_put_vector(f, "cluster", H5T_STD_I64LE, H5T_NATIVE_INT64, n, mc_clustering_labels(c)) ||
              mc_h5_put_vector(f, "role", role_t, role_t, n, mc_clustering_roles(c)) ||
              mc_h5_put_vector(f, "quality", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, n, mc_embeddings_quality(e));
    if (!bad && mc_embeddings_path(e, 0)) {
        paths = mc_malloc_array(n, sizeof *paths);
        if (!paths) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) paths[i] = mc_embeddings_path(e, i);
        str_t = H5Tcopy(H5T_C_S1);
        H5Tset_size(str_t, H5T_VARIABLE);
        H5Tset_cset(str_t, H5T_CSET_UTF8);
        bad = mc_h5_put_vector(f, "paths", str_t, str_t, n, paths);
    }
    if (!bad && mc_clustering_has_names(c)) {
        const char **persons = mc_malloc_array(n, sizeof *persons);
        if (!persons) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
            goto done;
        }
        const int64_t *lab = mc_clustering_labels(c);
        for (size_t i = 0; i < n; i++) {
            const char *nm = mc_clustering_name(c, lab[i]);
            persons[i] = nm ? nm : "";
        }
        if (str_t < 0) {
            str_t = H5Tcopy(H5T_C_S1);
            H5Tset_size(str_t, H5T_VARIABLE);
            H5Tset_cset(str_t, H5T_CSET_UTF8);
        }
        bad = mc_h5_put_vector(f, "person", str_t, str_t, n, persons);
        free(persons);
    }
    for (size_t i = 0; !bad && i < n_attrs; i++) bad = write_attr(f, &attrs[i]);
    if (bad) st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot write the result (disk full?)", path);
done:
    if (str_t >= 0) H5Tclose(str_t);
    if (role_t >= 0) H5Tclose(role_t);
    quiet_off(&q);
    free(paths);
    if (st != MC_OK) {
        mc_h5_out_abort(&out);
        return st;
    }
    return mc_h5_out_commit(&out, "the result");
}
