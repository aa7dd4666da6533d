/* HDF5 in the magclust schema as a stream: a reader that yields raw rows in
 * blocks (export, import from .h5), reading through the one schema reader
 * (h5_schema.c) that mc_embeddings_read_h5 uses too, and a writer with
 * chunked, extendible datasets (import), so neither holds a whole file in
 * memory. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "h5_impl.h"
#include "h5_schema_impl.h"
#include "io_impl.h"

/* ---- reader ------------------------------------------------------------- */

typedef struct {
    mc_h5_schema *s;
    uint64_t next_row;
    char **paths;   /* the last block's paths: pointers into path_buf */
    char *path_buf;
} h5_reader;

static void h5r_close(mc_reader_t *r)
{
    h5_reader *s = r->state;
    if (!s) return;
    mc_h5_schema_close(s->s, MC_OK);
    free(s->paths);
    free(s->path_buf);
    free(s);
    r->state = NULL;
}

static mc_status h5r_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                          const char **paths, size_t *out_n)
{
    h5_reader *s = r->state;
    uint64_t left = r->count - s->next_row;
    size_t n = left < max ? (size_t)left : max;
    *out_n = 0;
    if (n == 0) return MC_OK;
    mc_status st = mc_h5_schema_read_rows(s->s, s->next_row, n, 0, rows);
    if (st != MC_OK) return st;
    for (size_t i = 0; i < n * r->dim; i++)
        if (!isfinite(rows[i]))
            return mc_fail_reason(MC_REASON_BAD_ROW, MC_ERR_BAD_DATA,
                                  "%s: %s row %llu has a NaN or Inf value", r->path,
                                  mc_h5_schema_embeddings_path(s->s),
                                  (unsigned long long)(s->next_row + i / r->dim));
    if (labels && r->has_labels &&
        (st = mc_h5_schema_read_ints(s->s, MC_H5_LABELS, s->next_row, n, labels)) != MC_OK)
        return st;
    if (paths && r->has_paths) {
        free(s->paths);
        free(s->path_buf);
        s->paths = NULL;
        s->path_buf = NULL;
        if ((st = mc_h5_schema_read_strings(s->s, MC_H5_PATHS, s->next_row, n, &s->paths,
                                            &s->path_buf)) != MC_OK)
            return st;
        for (size_t i = 0; i < n; i++) paths[i] = s->paths[i];
    }
    s->next_row += n;
    *out_n = n;
    return MC_OK;
}

mc_status mc_io_open_h5(mc_reader_t *r, const mc_reader_params *p)
{
    /* Rows, labels and paths: a quality or photo key is not the stream's. */
    mc_h5_read_params keys = p->h5;
    if (!keys.embeddings_key || !keys.embeddings_key[0]) keys.embeddings_key = "embeddings";
    keys.quality_key = NULL;
    keys.group_key = NULL;
    h5_reader *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_status st = mc_h5_schema_open(r->path, &keys, 0, &s->s);
    if (st != MC_OK) {
        free(s);
        return st;
    }
    r->state = s;
    r->count = mc_h5_schema_rows(s->s);
    r->dim = mc_h5_schema_dim(s->s);
    int got = mc_h5_schema_field(s->s, MC_H5_LABELS, &st);
    if (got > 0) r->has_labels = 1;
    if (got >= 0 && (got = mc_h5_schema_field(s->s, MC_H5_PATHS, &st)) > 0) r->has_paths = 1;
    if (got < 0) {
        h5r_close(r);
        return st;
    }
    r->next = h5r_next;
    r->close = h5r_close;
    return MC_OK;
}

/* ---- writer ------------------------------------------------------------- */

typedef struct {
    mc_h5_out out; /* the temporary file; out.file is where the datasets go */
    hid_t emb, labels, paths, photos, str_type;
    hid_t *extras;   /* one float32 dataset per extra per-face column */
    float *column;   /* one extra column of a block, gathered for its dataset */
    size_t column_cap;
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
    free(s->extras);
    free(s->column);
    s->extras = NULL;
    s->column = NULL;
}

/* Appends the extra columns of n rows (n x n_extras, row-major), each to its
 * dataset. */
static int append_extras(mc_writer_t *w, h5_writer *s, size_t n, const float *extras)
{
    if (n > s->column_cap) {
        float *c = realloc(s->column, n * sizeof *c);
        if (!c) return -1;
        s->column = c;
        s->column_cap = n;
    }
    for (size_t x = 0; x < w->n_extras; x++) {
        for (size_t i = 0; i < n; i++) s->column[i] = extras[i * w->n_extras + x];
        if (append_rows(s->extras[x], H5T_NATIVE_FLOAT, 1, 1, w->rows, n, s->column) != 0) return -1;
    }
    return 0;
}

static mc_status h5w_append(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                            const char *const *paths, const char *const *photos, const float *extras)
{
    h5_writer *s = w->state;
    h5_quiet q;
    quiet_on(&q);
    int bad = append_rows(s->emb, H5T_NATIVE_FLOAT, 2, w->dim, w->rows, n, rows) != 0 ||
              (labels && append_rows(s->labels, H5T_NATIVE_INT64, 1, 1, w->rows, n, labels) != 0) ||
              (paths && append_rows(s->paths, s->str_type, 1, 1, w->rows, n, paths) != 0) ||
              (photos && append_rows(s->photos, s->str_type, 1, 1, w->rows, n, photos) != 0) ||
              (extras && append_extras(w, s, n, extras) != 0);
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
    if (w->n_extras && !(s->extras = mc_malloc_array(w->n_extras, sizeof *s->extras))) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t x = 0; x < w->n_extras; x++)
        if ((s->extras[x] = make_extendible(file, w->extra_names[x], H5T_IEEE_F32LE, 1, 1, s->chunk_rows * 4,
                                            p->compress)) < 0) {
            st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot create the dataset /%s", w->path, w->extra_names[x]);
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
