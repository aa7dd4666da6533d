/* HDF5 in the magclust schema as a stream: a reader that yields raw rows in
 * hyperslab blocks (for export) and a writer with chunked, extendible
 * datasets (for import), so neither holds a whole file in memory. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "io_impl.h"
#include "h5_impl.h"


static const char *key_path(const char *key, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", key[0] == '/' ? "" : "/", key);
    return buf;
}

/* ---- reader ------------------------------------------------------------- */

typedef struct {
    hid_t file, emb, paths_ds, paths_type;
    int paths_vlen;
    size_t paths_size; /* fixed-length string size */
    int64_t *labels;   /* whole, 8 bytes a row */
    uint64_t next_row;
    char *path_buf;    /* block of fixed strings, or copies of vlen ones */
    char **path_ptrs;
    size_t block_cap;
} h5_reader;

static void h5r_close(mc_reader_t *r)
{
    h5_reader *s = r->state;
    if (!s) return;
    h5_quiet q;
    quiet_on(&q);
    if (s->paths_type >= 0) H5Tclose(s->paths_type);
    if (s->paths_ds >= 0) H5Dclose(s->paths_ds);
    if (s->emb >= 0) H5Dclose(s->emb);
    if (s->file >= 0) H5Fclose(s->file);
    quiet_off(&q);
    free(s->labels);
    free(s->path_buf);
    free(s->path_ptrs);
    free(s);
    r->state = NULL;
}

/* Length of a per-face dataset (rank 1 or N x 1); -1 if not such. */
static int64_t vector_len(hid_t ds)
{
    hid_t sp = H5Dget_space(ds);
    if (sp < 0) return -1;
    hsize_t dims[H5S_MAX_RANK];
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    if (rank == 1 || (rank == 2 && dims[1] == 1)) return (int64_t)dims[0];
    return -1;
}

/* Opens the optional dataset `key`: absent and default-named is fine
 * (returns 0 with *out < 0), absent and asked for is an error. */
static mc_status open_optional(hid_t file, const char *path, const char *key, const char *deflt,
                               hid_t *out)
{
    char kp[512];
    *out = H5I_INVALID_HID;
    if (!key || !key[0]) return MC_OK;
    key_path(key, kp, sizeof kp);
    htri_t exists = H5Lexists(file, kp + 1, H5P_DEFAULT);
    if (exists <= 0) {
        if (strcmp(kp + 1, deflt) == 0) return MC_OK;
        return mc_fail(MC_ERR_HDF5, "%s: no dataset %s", path, kp);
    }
    *out = H5Dopen2(file, kp, H5P_DEFAULT);
    if (*out < 0) return mc_fail(MC_ERR_HDF5, "%s: %s is not a dataset", path, kp);
    return MC_OK;
}

static mc_status h5r_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                          const char **paths, size_t *out_n)
{
    h5_reader *s = r->state;
    uint64_t left = r->count - s->next_row;
    size_t n = left < max ? (size_t)left : max;
    *out_n = 0;
    if (n == 0) return MC_OK;
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    hsize_t start[2] = {s->next_row, 0}, count[2] = {n, r->dim};
    hid_t fspace = H5Dget_space(s->emb), mspace = H5Screate_simple(2, count, NULL);
    if (fspace < 0 || mspace < 0 ||
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dread(s->emb, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, rows) < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read rows %llu..%llu of the embeddings", r->path,
                     (unsigned long long)s->next_row, (unsigned long long)(s->next_row + n - 1));
        goto done;
    }
    for (size_t i = 0; i < n * r->dim; i++)
        if (!isfinite(rows[i])) {
            st = mc_fail_reason(MC_REASON_BAD_ROW, MC_ERR_BAD_DATA,
                                "%s: embeddings row %llu has a NaN or Inf value", r->path,
                         (unsigned long long)(s->next_row + i / r->dim));
            goto done;
        }
    if (labels && s->labels) memcpy(labels, s->labels + s->next_row, n * sizeof *labels);
    if (paths && s->paths_ds >= 0) {
        if (n > s->block_cap) {
            free(s->path_ptrs);
            free(s->path_buf);
            s->path_buf = NULL;
            s->path_ptrs = mc_malloc_array(n, sizeof *s->path_ptrs);
            if (!s->path_ptrs) {
                st = mc_fail(MC_ERR_NOMEM, "out of memory");
                s->block_cap = 0;
                goto done;
            }
            s->block_cap = n;
        }
        hsize_t pstart[1] = {s->next_row}, pcount[1] = {n};
        hid_t pfs = H5Dget_space(s->paths_ds), pms = H5Screate_simple(1, pcount, NULL);
        int ok = pfs >= 0 && pms >= 0 &&
                 H5Sselect_hyperslab(pfs, H5S_SELECT_SET, pstart, NULL, pcount, NULL) >= 0;
        if (ok && s->paths_vlen) {
            char **tmp = mc_calloc_array(n, sizeof *tmp);
            ok = tmp && H5Dread(s->paths_ds, s->paths_type, pms, pfs, H5P_DEFAULT, tmp) >= 0;
            size_t total = 0;
            for (size_t i = 0; ok && i < n; i++) total += (tmp[i] ? strlen(tmp[i]) : 0) + 1;
            free(s->path_buf);
            s->path_buf = ok ? malloc(total ? total : 1) : NULL;
            ok = ok && s->path_buf;
            for (size_t i = 0, o = 0; ok && i < n; i++) {
                size_t len = tmp[i] ? strlen(tmp[i]) : 0;
                memcpy(s->path_buf + o, tmp[i] ? tmp[i] : "", len + 1);
                s->path_ptrs[i] = s->path_buf + o;
                o += len + 1;
            }
            if (tmp) {
                H5Dvlen_reclaim(s->paths_type, pms, H5P_DEFAULT, tmp);
                free(tmp);
            }
        } else if (ok) {
            free(s->path_buf);
            s->path_buf = mc_malloc_array(n, s->paths_size + 1);
            char *raw = mc_malloc_array(n, s->paths_size);
            ok = s->path_buf && raw &&
                 H5Dread(s->paths_ds, s->paths_type, pms, pfs, H5P_DEFAULT, raw) >= 0;
            for (size_t i = 0; ok && i < n; i++) {
                char *dst = s->path_buf + i * (s->paths_size + 1);
                memcpy(dst, raw + i * s->paths_size, s->paths_size);
                dst[s->paths_size] = '\0';
                size_t len = strlen(dst);
                while (len && dst[len - 1] == ' ') dst[--len] = '\0'; /* space padding */
                s->path_ptrs[i] = dst;
            }
            free(raw);
        }
        if (!ok) mc_h5_note();
        if (pfs >= 0) H5Sclose(pfs);
        if (pms >= 0) H5Sclose(pms);
        if (!ok) {
            st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the paths of rows %llu..", r->path,
                         (unsigned long long)s->next_row);
            goto done;
        }
        for (size_t i = 0; i < n; i++) paths[i] = s->path_ptrs[i];
    }
    s->next_row += n;
    *out_n = n;
done:
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    quiet_off(&q);
    return st;
}

mc_status mc_io_open_h5(mc_reader_t *r, const mc_reader_params *p)
{
    if (access(r->path, F_OK) != 0) return mc_fail(MC_ERR_IO, "%s: no such file", r->path);
    h5_reader *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    s->file = s->emb = s->paths_ds = s->paths_type = H5I_INVALID_HID;
    r->state = s;
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    char kp[512];
    const char *ekey = p->h5.embeddings_key && p->h5.embeddings_key[0] ? p->h5.embeddings_key : "embeddings";
    hid_t lab = H5I_INVALID_HID;
    s->file = mc_h5_open_read(r->path);
    if (s->file < 0) {
        st = mc_h5_fail(MC_ERR_IO, "%s: cannot open (not an HDF5 file?)", r->path);
        goto done;
    }
    key_path(ekey, kp, sizeof kp);
    if (H5Lexists(s->file, kp + 1, H5P_DEFAULT) <= 0 || (s->emb = H5Dopen2(s->file, kp, H5P_DEFAULT)) < 0) {
        st = mc_fail(MC_ERR_HDF5, "%s: no dataset %s", r->path, kp);
        goto done;
    }
    mc_h5_shape sh;
    if ((st = mc_h5_check_dataset(s->emb, r->path, kp, 0, &sh)) != MC_OK) goto done;
    const hsize_t *dims = sh.dims;
    if (sh.rank != 2) {
        st = mc_fail(MC_ERR_HDF5, "%s: %s has rank %d, expected 2 (N x D)", r->path, kp, sh.rank);
        goto done;
    }
    if (sh.cls != H5T_FLOAT) {
        st = mc_fail(MC_ERR_HDF5, "%s: %s is not floating point", r->path, kp);
        goto done;
    }
    if (dims[0] == 0 || dims[1] == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: %s is %llu x %llu: no faces", r->path, kp,
                     (unsigned long long)dims[0], (unsigned long long)dims[1]);
        goto done;
    }
    r->count = dims[0];
    r->dim = (size_t)dims[1];

    if ((st = open_optional(s->file, r->path, p->h5.labels_key, "labels", &lab)) != MC_OK) goto done;
    if (lab >= 0 && (st = mc_h5_check_dataset(lab, r->path, "labels", 1, NULL)) != MC_OK) goto done;
    if (lab >= 0) {
        hid_t lt = H5Dget_type(lab);
        int is_int = lt >= 0 && H5Tget_class(lt) == H5T_INTEGER;
        if (lt >= 0) H5Tclose(lt);
        if (!is_int || vector_len(lab) != (int64_t)r->count) {
            st = mc_fail(MC_ERR_DIM_MISMATCH, "%s: labels must be %llu integers", r->path,
                         (unsigned long long)r->count);
            goto done;
        }
        s->labels = mc_malloc_array((size_t)r->count, sizeof *s->labels);
        if (!s->labels) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory for %llu labels", (unsigned long long)r->count);
            goto done;
        }
        if (H5Dread(lab, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, s->labels) < 0) {
            st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the labels", r->path);
            goto done;
        }
        r->has_labels = 1;
    }
    if ((st = open_optional(s->file, r->path, p->h5.paths_key, "paths", &s->paths_ds)) != MC_OK)
        goto done;
    if (s->paths_ds >= 0 && (st = mc_h5_check_dataset(s->paths_ds, r->path, "paths", 0, NULL)) != MC_OK)
        goto done;
    if (s->paths_ds >= 0) {
        hid_t pt = H5Dget_type(s->paths_ds);
        if (pt < 0 || H5Tget_class(pt) != H5T_STRING || vector_len(s->paths_ds) != (int64_t)r->count) {
            if (pt >= 0) H5Tclose(pt);
            st = mc_fail(MC_ERR_DIM_MISMATCH, "%s: paths must be %llu strings", r->path,
                         (unsigned long long)r->count);
            goto done;
        }
        s->paths_vlen = H5Tis_variable_str(pt) > 0;
        s->paths_size = H5Tget_size(pt);
        H5T_cset_t cset = H5Tget_cset(pt);
        H5Tclose(pt);
        /* HDF5 converts no string between character sets: match the file's. */
        s->paths_type = H5Tcopy(H5T_C_S1);
        H5Tset_size(s->paths_type, s->paths_vlen ? H5T_VARIABLE : s->paths_size);
        H5Tset_cset(s->paths_type, cset);
        r->has_paths = 1;
    }
    r->next = h5r_next;
    r->close = h5r_close;
done:
    if (lab >= 0) H5Dclose(lab);
    quiet_off(&q);
    if (st != MC_OK) h5r_close(r);
    return st;
}

/* ---- writer ------------------------------------------------------------- */

typedef struct {
    mc_h5_out out; /* the temporary file; out.file is where the datasets go */
    hid_t emb, labels, paths, photos, str_type;
    size_t chunk_rows;
} h5_writer;

static hid_t make_extendible(hid_t file, const char *name, hid_t type, int rank, size_t cols,
                             size_t chunk_rows, int compress)
{
    hsize_t dims[2] = {0, cols}, maxdims[2] = {H5S_UNLIMITED, cols}, chunk[2] = {chunk_rows, cols};
    hid_t sp = H5Screate_simple(rank, dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = H5I_INVALID_HID;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, rank, chunk) >= 0 &&
        H5Pset_obj_track_times(dcpl, 0) >= 0 &&
        (compress <= 0 || (H5Pset_shuffle(dcpl) >= 0 && H5Pset_deflate(dcpl, (unsigned)compress) >= 0)))
        ds = H5Dcreate2(file, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) mc_h5_note();
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return ds;
}

/* Appends n rows of `cols` values at row `at` of an extendible dataset. */
static int append_rows(hid_t ds, hid_t memtype, int rank, size_t cols, uint64_t at, size_t n,
                       const void *data)
{
    hsize_t newdims[2] = {at + n, cols}, start[2] = {at, 0}, count[2] = {n, cols};
    if (H5Dset_extent(ds, newdims) < 0) {
        mc_h5_note();
        return -1;
    }
    hid_t fs = H5Dget_space(ds), ms = H5Screate_simple(rank, count, NULL);
    int ok = fs >= 0 && ms >= 0 &&
             H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             H5Dwrite(ds, memtype, ms, fs, H5P_DEFAULT, data) >= 0;
    if (!ok) mc_h5_note();
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    return ok ? 0 : -1;
}

/* Forgets the datasets: mc_h5_out_commit() closes them after its flush,
 * mc_h5_out_abort() once nothing can reach the disk any more (closing one
 * whose cached chunks cannot be written would fail half-way). */
static void h5w_release(h5_writer *s)
{
    if (s->str_type >= 0) H5Tclose(s->str_type);
    s->emb = s->labels = s->paths = s->photos = s->str_type = H5I_INVALID_HID;
}

static mc_status h5w_append(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                            const char *const *paths, const char *const *photos)
{
    h5_writer *s = w->state;
    h5_quiet q;
    quiet_on(&q);
    int bad = append_rows(s->emb, H5T_NATIVE_FLOAT, 2, w->dim, w->rows, n, rows) != 0 ||
              (labels && append_rows(s->labels, H5T_NATIVE_INT64, 1, 1, w->rows, n, labels) != 0) ||
              (paths && append_rows(s->paths, s->str_type, 1, 1, w->rows, n, paths) != 0) ||
              (photos && append_rows(s->photos, s->str_type, 1, 1, w->rows, n, photos) != 0);
    mc_status st = MC_OK;
    if (bad)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot write rows %llu..%llu (disk full?)", w->path,
                        (unsigned long long)w->rows, (unsigned long long)(w->rows + n - 1));
    quiet_off(&q);
    return st;
}

static mc_status h5w_set_names(mc_writer_t *w, size_t n, const char *const *names)
{
    h5_writer *s = w->state;
    h5_quiet q;
    quiet_on(&q);
    hsize_t dims[1] = {n};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = H5I_INVALID_HID;
    if (sp >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0)
        ds = H5Dcreate2(s->out.file, "label_names", s->str_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int ok = ds >= 0 && H5Dwrite(ds, s->str_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) >= 0;
    if (!ok) mc_h5_note();
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    mc_status st = ok ? MC_OK : mc_h5_fail(MC_ERR_HDF5, "%s: cannot write /label_names", w->path);
    quiet_off(&q);
    return st;
}

static mc_status h5w_commit(mc_writer_t *w)
{
    h5_writer *s = w->state;
    h5_quiet q;
    quiet_on(&q);
    h5w_release(s);
    quiet_off(&q);
    mc_status st = mc_h5_out_commit(&s->out, "the embeddings");
    free(s);
    w->state = NULL;
    return st;
}

static void h5w_abort(mc_writer_t *w)
{
    h5_writer *s = w->state;
    if (!s) return;
    h5_quiet q;
    quiet_on(&q);
    h5w_release(s);
    quiet_off(&q);
    mc_h5_out_abort(&s->out);
    free(s);
    w->state = NULL;
}

mc_status mc_io_writer_h5(mc_writer_t *w, const mc_writer_params *p)
{
    h5_writer *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    s->emb = s->labels = s->paths = s->photos = s->str_type = H5I_INVALID_HID;
    mc_status st = mc_h5_out_create(&s->out, w->path);
    if (st != MC_OK) {
        free(s);
        return st;
    }
    w->state = s;
    /* About 1 MiB of floats a chunk, as HDF5's guidance suggests. */
    s->chunk_rows = p->chunk_rows ? p->chunk_rows : ((size_t)1 << 18) / w->dim;
    if (s->chunk_rows == 0) s->chunk_rows = 1;
    h5_quiet q;
    quiet_on(&q);
    hid_t file = s->out.file;
    s->str_type = H5Tcopy(H5T_C_S1);
    H5Tset_size(s->str_type, H5T_VARIABLE);
    H5Tset_cset(s->str_type, H5T_CSET_UTF8);
    s->emb = make_extendible(file, "embeddings", H5T_IEEE_F32LE, 2, w->dim, s->chunk_rows, p->compress);
    if (s->emb < 0 ||
        (w->with_labels &&
         (s->labels = make_extendible(file, "labels", H5T_STD_I64LE, 1, 1, s->chunk_rows * 4, p->compress)) < 0) ||
        (w->with_paths &&
         (s->paths = make_extendible(file, "paths", s->str_type, 1, 1, s->chunk_rows * 4, p->compress)) < 0) ||
        (w->with_photos &&
         (s->photos = make_extendible(file, "photo", s->str_type, 1, 1, s->chunk_rows * 4, p->compress)) < 0)) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot create the datasets", w->path);
        goto done;
    }
    if (mc_h5_put_str_attr(file, "magclust_version", MC_VERSION_STRING) != 0 ||
        (p->source && mc_h5_put_str_attr(file, "source", p->source) != 0)) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot write attributes", w->path);
        goto done;
    }
    w->append = h5w_append;
    w->set_label_names = h5w_set_names;
    w->commit = h5w_commit;
    w->abort = h5w_abort;
done:
    quiet_off(&q);
    if (st != MC_OK) h5w_abort(w);
    return st;
}
