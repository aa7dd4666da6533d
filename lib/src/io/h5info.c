/* Listing the datasets of an HDF5 file (for `magclust info`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "h5_impl.h"
#include "magclust/embeddings.h"
#include "util_impl.h"

typedef struct {
    mc_h5_dataset_info *items;
    size_t n, cap;
    int nomem;
} listing;

static void type_name(hid_t t, char *buf, size_t size)
{
    H5T_class_t cls = H5Tget_class(t);
    size_t bytes = H5Tget_size(t);
    if (cls == H5T_FLOAT)
        snprintf(buf, size, "float%zu", bytes * 8);
    else if (cls == H5T_INTEGER)
        snprintf(buf, size, "%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bytes * 8);
    else if (cls == H5T_STRING)
        snprintf(buf, size, "string");
    else
        snprintf(buf, size, "other");
}

static herr_t visit(hid_t obj, const char *name, const H5O_info_t *info, void *op_data)
{
    listing *l = op_data;
    if (info->type != H5O_TYPE_DATASET) return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        mc_h5_dataset_info *ni = realloc(l->items, cap * sizeof *ni);
        if (!ni) {
            l->nomem = 1;
            return -1;
        }
        l->items = ni;
        l->cap = cap;
    }
    mc_h5_dataset_info *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    snprintf(it->name, sizeof it->name, "/%s", name);
    hid_t ds = H5Dopen2(obj, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    hid_t sp = H5Dget_space(ds), ty = H5Dget_type(ds);
    hsize_t dims[H5S_MAX_RANK];
    int rank = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims, NULL) : -1;
    it->rank = rank;
    for (int r = 0; r < rank && r < 4; r++) it->dims[r] = dims[r];
    if (ty >= 0) type_name(ty, it->type, sizeof it->type);
    if (ty >= 0) H5Tclose(ty);
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(ds);
    l->n++;
    return 0;
}

mc_status mc_h5_list_datasets(const char *path, mc_h5_dataset_info **out, size_t *out_n)
{
    mc_clear_error();
    if (!path || !out || !out_n) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument");
    *out = NULL;
    *out_n = 0;
    if (!mc_h5_image_in_use() && access(path, F_OK) != 0) return mc_fail(MC_ERR_IO, "%s: no such file", path);
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    listing l = {NULL, 0, 0, 0};
    hid_t f = mc_h5_open_read(path);
    if (f < 0) {
        st = mc_h5_open_fail(MC_ERR_IO, path, "not an HDF5 file?");
        goto done;
    }
    if (H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, visit, &l) < 0) {
        st = l.nomem ? mc_fail(MC_ERR_NOMEM, "out of memory")
                     : mc_h5_fail(MC_ERR_HDF5, "%s: cannot list datasets", path);
        free(l.items);
        l.items = NULL;
        l.n = 0;
    }
    H5Fclose(f);
    *out = l.items;
    *out_n = l.n;
done:
    quiet_off(&q);
    return st;
}
