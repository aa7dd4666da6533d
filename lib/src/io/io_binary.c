/* What the binary embeddings formats (.npy in io_npy.c, learn-to-cluster's
 * .bin in io_l2c.c) share beyond their bytes: a reader of N fixed-size rows
 * with a labels file consumed in step, and a writer of a data file with a
 * labels file beside it, committed together. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes_impl.h"
#include "io_impl.h"

/* ---- reader ------------------------------------------------------------- */

mc_status mc_bin_rows_open_labels(mc_bin_rows *b, const char *labels_path, const char *path)
{
    if (!labels_path) return MC_OK;
    mc_status st = mc_label_stream_open(labels_path, &b->labels);
    if (st != MC_OK) return st;
    uint64_t k = mc_label_stream_count(b->labels);
    if (k != 0 && k != b->n)
        return mc_fail(MC_ERR_DIM_MISMATCH, "%s has %" PRIu64 " labels, but %s has %" PRIu64 " rows",
                       labels_path, k, path, b->n);
    return MC_OK;
}

void mc_bin_rows_free(mc_bin_rows *b)
{
    if (!b) return;
    if (b->fp) fclose(b->fp);
    mc_label_stream_free(b->labels);
    if (b->release)
        b->release(b);
    else
        free(b);
}

/* Up to max rows through the format's read, the labels in step (into the
 * caller's buffer, or discarded when the caller wants none). */
static mc_status bin_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                          const char **paths, size_t *out_n)
{
    mc_bin_rows *b = r->state;
    (void)paths;
    *out_n = 0;
    uint64_t left = b->n - b->row;
    size_t n = left < max ? (size_t)left : max;
    if (n == 0) return MC_OK;
    mc_status st = b->read(b, r->path, n, rows);
    if (st == MC_OK && b->labels) st = mc_label_stream_step(b->labels, n, labels, b->row, b->n, r->path);
    if (st != MC_OK) return st;
    b->row += n;
    *out_n = n;
    return MC_OK;
}

static size_t bin_label_names(const mc_reader_t *r, const char *const **out)
{
    const mc_bin_rows *b = r->state;
    return b && b->labels ? mc_label_stream_names(b->labels, out) : 0;
}

static void bin_close(mc_reader_t *r)
{
    mc_bin_rows_free(r->state);
    r->state = NULL;
}

void mc_bin_rows_install(mc_reader_t *r, mc_bin_rows *b)
{
    r->dim = b->dim;
    r->count = b->n;
    r->has_labels = b->labels != NULL;
    r->has_paths = 0;
    r->state = b;
    r->next = bin_next;
    r->label_names = bin_label_names;
    r->close = bin_close;
}

/* ---- writer ------------------------------------------------------------- */

/* path with ext (any case) replaced by labels_ext, or labels_ext added. */
static char *labels_path_for(const char *path, const char *ext, const char *labels_ext)
{
    size_t len = strlen(path), el = strlen(ext), ll = strlen(labels_ext);
    if (len >= el && strcasecmp(path + len - el, ext) == 0) len -= el;
    char *out = malloc(len + ll + 1);
    if (!out) return NULL;
    memcpy(out, path, len);
    memcpy(out + len, labels_ext, ll + 1);
    return out;
}

mc_status mc_bin_writer_open(mc_bin_writer *b, const mc_writer_t *w, const char *ext,
                             const char *labels_ext)
{
    b->dim = w->dim;
    b->with_labels = w->with_labels;
    mc_status st = mc_atomic_open(&b->data, w->path);
    if (st != MC_OK || !b->with_labels) return st;
    char *lp = labels_path_for(w->path, ext, labels_ext);
    if (!lp) return mc_fail(MC_ERR_NOMEM, "out of memory");
    st = mc_atomic_open(&b->labels, lp);
    free(lp);
    return st;
}

void mc_bin_writer_free(mc_bin_writer *b)
{
    if (!b) return;
    mc_atomic_abort(&b->data);
    mc_atomic_abort(&b->labels);
    free(b);
}

static mc_status bin_append(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                            const char *const *paths, const char *const *photos, const float *extras)
{
    (void)photos; /* refused at open */
    (void)extras; /* refused at open */
    (void)paths;  /* the binary formats have no place for paths: they are dropped */
    mc_bin_writer *b = w->state;
    if (b->with_labels && !labels) return mc_fail(MC_ERR_INVALID_ARG, "%s: rows need labels", w->path);
    mc_status st = mc_write_f32_le(b->data.fp, rows, n * b->dim, w->path);
    if (st == MC_OK && b->with_labels) st = b->put_labels(b, n, labels);
    if (st != MC_OK) return st;
    b->n += n;
    return MC_OK;
}

static mc_status bin_commit(mc_writer_t *w)
{
    mc_bin_writer *b = w->state;
    mc_status st = b->finish ? b->finish(b) : MC_OK;
    if (st == MC_OK) st = mc_atomic_commit_pair(&b->data, b->with_labels ? &b->labels : NULL);
    mc_bin_writer_free(b);
    w->state = NULL;
    return st;
}

static void bin_abort(mc_writer_t *w)
{
    mc_bin_writer_free(w->state);
    w->state = NULL;
}

void mc_bin_writer_install(mc_writer_t *w, mc_bin_writer *b)
{
    w->state = b;
    w->append = bin_append;
    w->set_label_names = NULL;
    w->commit = bin_commit;
    w->abort = bin_abort;
}
