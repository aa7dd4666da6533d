/* Streaming readers and writers: format names, dispatch to the per-format
 * modules, conversion and multi-file import. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io_impl.h"

static const struct {
    mc_format f;
    const char *name;
} format_names[] = {
    {MC_FMT_H5, "h5"}, {MC_FMT_MAGFACE, "magface"}, {MC_FMT_L2C, "l2c"},
    {MC_FMT_NPY, "npy"}, {MC_FMT_CSV, "csv"},
};

mc_format mc_format_from_name(const char *name)
{
    if (!name) return MC_FMT_AUTO;
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcasecmp(name, format_names[i].name) == 0) return format_names[i].f;
    if (strcasecmp(name, "hdf5") == 0) return MC_FMT_H5;
    return MC_FMT_AUTO;
}

const char *mc_format_name(mc_format f)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (format_names[i].f == f) return format_names[i].name;
    return "auto";
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

mc_format mc_format_from_path(const char *path)
{
    if (!path) return MC_FMT_AUTO;
    if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) return MC_FMT_H5;
    if (ends_with(path, ".list")) return MC_FMT_MAGFACE;
    if (ends_with(path, ".bin")) return MC_FMT_L2C;
    if (ends_with(path, ".npy")) return MC_FMT_NPY;
    if (ends_with(path, ".csv") || ends_with(path, ".tsv")) return MC_FMT_CSV;
    return MC_FMT_AUTO;
}

/* ---- readers ------------------------------------------------------------ */

mc_reader_params mc_reader_params_default(void)
{
    mc_reader_params p;
    memset(&p, 0, sizeof p);
    p.format = MC_FMT_AUTO;
    p.h5 = mc_h5_read_params_default();
    return p;
}

mc_status mc_reader_open(const char *path, const mc_reader_params *p, mc_reader_t **out)
{
    mc_clear_error();
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_reader_open");
    *out = NULL;
    mc_reader_params par = p ? *p : mc_reader_params_default();
    mc_format f = par.format != MC_FMT_AUTO ? par.format : mc_format_from_path(path);
    if (f == MC_FMT_AUTO)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: cannot tell the format from the name; give it (h5, magface, l2c, npy, csv)",
                       path);
    mc_reader_t *r = calloc(1, sizeof *r);
    char *own = strdup(path);
    if (!r || !own) {
        free(r);
        free(own);
        return mc_fail(MC_ERR_NOMEM, "out of memory");
    }
    r->path = own;
    r->format = f;
    mc_status st;
    switch (f) {
    case MC_FMT_H5: st = mc_io_open_h5(r, &par); break;
    case MC_FMT_MAGFACE: st = mc_io_open_magface(r, &par); break;
    case MC_FMT_CSV: st = mc_io_open_csv(r, &par); break;
    case MC_FMT_NPY: st = mc_io_open_npy(r, &par); break;
    case MC_FMT_L2C: st = mc_io_open_l2c(r, &par); break;
    default: st = mc_fail(MC_ERR_INVALID_ARG, "%s: unknown format", path); break;
    }
    if (st != MC_OK) {
        free(own);
        free(r);
        return st;
    }
    *out = r;
    return MC_OK;
}

size_t mc_reader_dim(const mc_reader_t *r) { return r ? r->dim : 0; }
uint64_t mc_reader_count(const mc_reader_t *r) { return r ? r->count : 0; }
int mc_reader_has_labels(const mc_reader_t *r) { return r ? r->has_labels : 0; }
int mc_reader_has_paths(const mc_reader_t *r) { return r ? r->has_paths : 0; }
int mc_reader_has_photos(const mc_reader_t *r) { return r ? r->has_photos : 0; }
const char *const *mc_reader_photos(const mc_reader_t *r)
{
    return r && r->has_photos ? r->block_photos : NULL;
}
mc_format mc_reader_format(const mc_reader_t *r) { return r ? r->format : MC_FMT_AUTO; }
size_t mc_reader_extra_names(const mc_reader_t *r, const char *const **out_names)
{
    if (out_names) *out_names = r && r->n_extras ? r->extra_names : NULL;
    return r ? r->n_extras : 0;
}
const float *mc_reader_extras(const mc_reader_t *r) { return r && r->n_extras ? r->block_extras : NULL; }
const char *mc_reader_columns(const mc_reader_t *r) { return r ? r->columns : NULL; }

mc_status mc_reader_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                         const char **paths, size_t *out_n)
{
    mc_clear_error();
    if (!r || !rows || !out_n || max == 0)
        return mc_fail(MC_ERR_INVALID_ARG, "bad arguments to mc_reader_next");
    *out_n = 0;
    return r->next(r, max, rows, r->has_labels ? labels : NULL, r->has_paths ? paths : NULL, out_n);
}

size_t mc_reader_label_names(const mc_reader_t *r, const char *const **out_names)
{
    if (out_names) *out_names = NULL;
    if (!r || !r->label_names || !out_names) return 0;
    return r->label_names(r, out_names);
}

void mc_reader_free(mc_reader_t *r)
{
    if (!r) return;
    if (r->close) r->close(r);
    free((char *)r->path);
    free(r);
}

/* ---- writers ------------------------------------------------------------ */

static void writer_release(mc_writer_t *w)
{
    if (w->extra_names)
        for (size_t i = 0; i < w->n_extras; i++) free(w->extra_names[i]);
    free(w->extra_names);
    free((char *)w->path);
    free(w);
}

/* The schema's own datasets, which an extra column cannot replace. */
static const char *const schema_names[] = {"embeddings", "labels", "paths", "photo", "label_names", NULL};

/* Extras go to HDF5 only, one dataset each: names that are datasets of the
 * schema, hold a '/' (a group) or repeat are refused. */
static mc_status check_extra_names(const char *path, mc_format f, const mc_writer_params *p)
{
    if (f != MC_FMT_H5)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: only HDF5 files hold extra per-face columns", path);
    if (!p->extra_names) return mc_fail(MC_ERR_INVALID_ARG, "%s: n_extras without extra_names", path);
    for (size_t i = 0; i < p->n_extras; i++) {
        const char *x = p->extra_names[i];
        if (!x || !x[0] || strchr(x, '/') || strcmp(x, ".") == 0)
            return mc_fail(MC_ERR_INVALID_ARG, "%s: '%s' cannot name a dataset", path, x ? x : "(null)");
        for (const char *const *n = schema_names; *n; n++)
            if (strcmp(x, *n) == 0)
                return mc_fail(MC_ERR_INVALID_ARG,
                               "%s: a per-face column cannot be called '%s' (/%s is the schema's own)", path, x, x);
        for (size_t j = 0; j < i; j++)
            if (strcmp(x, p->extra_names[j]) == 0)
                return mc_fail(MC_ERR_INVALID_ARG, "%s: two per-face columns called '%s'", path, x);
    }
    return MC_OK;
}

mc_writer_params mc_writer_params_default(void)
{
    mc_writer_params p;
    memset(&p, 0, sizeof p);
    p.format = MC_FMT_AUTO;
    return p;
}

mc_status mc_writer_open(const char *path, size_t dim, int with_labels, int with_paths,
                         const mc_writer_params *p, mc_writer_t **out)
{
    mc_clear_error();
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_writer_open");
    *out = NULL;
    if (dim == 0) return mc_fail(MC_ERR_INVALID_ARG, "%s: dimension 0", path);
    mc_writer_params par = p ? *p : mc_writer_params_default();
    mc_format f = par.format != MC_FMT_AUTO ? par.format : mc_format_from_path(path);
    if (par.compress < 0 || par.compress > 9)
        return mc_fail(MC_ERR_INVALID_ARG, "compression level %d is outside 0..9", par.compress);
    mc_writer_t *w = calloc(1, sizeof *w);
    char *own = strdup(path);
    if (!w || !own) {
        free(w);
        free(own);
        return mc_fail(MC_ERR_NOMEM, "out of memory");
    }
    w->path = own;
    w->format = f;
    w->dim = dim;
    w->with_labels = with_labels != 0;
    w->with_paths = with_paths != 0;
    w->with_photos = par.with_photos != 0;
    if (w->with_photos && f != MC_FMT_H5 && f != MC_FMT_CSV) {
        free(own);
        free(w);
        return mc_fail(MC_ERR_INVALID_ARG, "%s: only HDF5 and CSV files hold a photo column", path);
    }
    if (par.n_extras) {
        mc_status bad = check_extra_names(path, f, &par);
        if (bad == MC_OK && !(w->extra_names = calloc(par.n_extras, sizeof *w->extra_names))) bad = MC_ERR_NOMEM;
        for (size_t i = 0; bad == MC_OK && i < par.n_extras; i++)
            if (!(w->extra_names[i] = strdup(par.extra_names[i]))) bad = MC_ERR_NOMEM;
        w->n_extras = par.n_extras;
        if (bad != MC_OK) {
            if (bad == MC_ERR_NOMEM) bad = mc_fail(MC_ERR_NOMEM, "out of memory");
            writer_release(w);
            return bad;
        }
    }
    mc_status st;
    switch (f) {
    case MC_FMT_H5: st = mc_io_writer_h5(w, &par); break;
    case MC_FMT_CSV: st = mc_io_writer_csv(w, &par); break;
    case MC_FMT_NPY: st = mc_io_writer_npy(w, &par); break;
    case MC_FMT_L2C: st = mc_io_writer_l2c(w, &par); break;
    case MC_FMT_MAGFACE:
        st = mc_fail(MC_ERR_INVALID_ARG, "%s: writing the MagFace list format is not supported", path);
        break;
    default:
        st = mc_fail(MC_ERR_INVALID_ARG,
                     "%s: cannot tell the output format from the name (.h5, .npy, .csv, .bin)", path);
        break;
    }
    if (st != MC_OK) {
        writer_release(w);
        return st;
    }
    *out = w;
    return MC_OK;
}

mc_status mc_writer_append(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                           const char *const *paths)
{
    return mc_writer_append_photos(w, n, rows, labels, paths, NULL);
}

mc_status mc_writer_append_photos(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                                  const char *const *paths, const char *const *photos)
{
    return mc_writer_append_extras(w, n, rows, labels, paths, photos, NULL);
}

mc_status mc_writer_append_extras(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                                  const char *const *paths, const char *const *photos, const float *extras)
{
    mc_clear_error();
    if (!w || (n && !rows)) return mc_fail(MC_ERR_INVALID_ARG, "bad arguments to mc_writer_append");
    if (w->n_extras && n && !extras)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: rows need their %zu extra values", w->path, w->n_extras);
    for (size_t i = 0; w->n_extras && i < n * w->n_extras; i++)
        if (!isfinite(extras[i]))
            return mc_fail(MC_ERR_BAD_DATA, "%s: row %" PRIu64 ": '%s' is NaN or infinite", w->path,
                           w->rows + i / w->n_extras, w->extra_names[i % w->n_extras]);
    if ((w->with_labels && n && !labels) || (w->with_paths && n && !paths) ||
        (w->with_photos && n && !photos))
        return mc_fail(MC_ERR_INVALID_ARG, "%s: rows need %s%s%s", w->path,
                       w->with_labels && !labels ? "labels" : "",
                       w->with_paths && !paths ? " paths" : "",
                       w->with_photos && !photos ? " photos" : "");
    if (n == 0) return MC_OK;
    mc_status st = w->append(w, n, rows, w->with_labels ? labels : NULL, w->with_paths ? paths : NULL,
                             w->with_photos ? photos : NULL, w->n_extras ? extras : NULL);
    if (st == MC_OK) w->rows += n;
    return st;
}

mc_status mc_writer_set_label_names(mc_writer_t *w, size_t n, const char *const *names)
{
    mc_clear_error();
    if (!w || (n && !names)) return mc_fail(MC_ERR_INVALID_ARG, "bad arguments");
    if (!w->set_label_names || n == 0) return MC_OK; /* formats without a place for names */
    return w->set_label_names(w, n, names);
}

mc_status mc_writer_commit(mc_writer_t *w)
{
    mc_clear_error();
    if (!w) return mc_fail(MC_ERR_INVALID_ARG, "NULL writer");
    mc_status st = w->commit(w);
    writer_release(w);
    return st;
}

void mc_writer_abort(mc_writer_t *w)
{
    if (!w) return;
    w->abort(w);
    writer_release(w);
}

/* ---- conversion ---------------------------------------------------------- */

/* Rows per block: about 4 MiB of floats. */
static size_t block_rows(size_t dim)
{
    size_t rows = ((size_t)4 << 20) / (dim * sizeof(float));
    return rows ? rows : 1;
}

/* Label names from several inputs, merged by name into one id space. */
typedef struct {
    mc_label_map *global;
    int64_t *local_to_global; /* for the current input */
    size_t n_local, cap;
} name_merge;

static mc_status merge_labels(name_merge *m, const mc_reader_t *r, int64_t *labels, size_t n)
{
    const char *const *names = NULL;
    size_t nn = mc_reader_label_names(r, &names);
    if (nn > m->cap) {
        size_t cap = nn * 2;
        int64_t *t = realloc(m->local_to_global, cap * sizeof *t);
        if (!t) return mc_fail(MC_ERR_NOMEM, "out of memory");
        m->local_to_global = t;
        m->cap = cap;
    }
    for (size_t i = m->n_local; i < nn; i++) {
        int64_t g = mc_label_map_id(m->global, names[i], strlen(names[i]));
        if (g < 0) return mc_fail(MC_ERR_NOMEM, "out of memory");
        m->local_to_global[i] = g;
    }
    m->n_local = nn;
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= 0 && (size_t)labels[i] < nn) labels[i] = m->local_to_global[labels[i]];
    return MC_OK;
}

/* Whether the output keeps extra per-face columns (HDF5 does). */
static int keeps_extras(const char *out_path, const mc_writer_params *p)
{
    mc_format f = p->format != MC_FMT_AUTO ? p->format : mc_format_from_path(out_path);
    return f == MC_FMT_H5;
}

/* Whether a reader carries the writer's extra columns, in the same order. */
static int same_extras(const mc_writer_t *w, const mc_reader_t *r)
{
    const char *const *x;
    if (mc_reader_extra_names(r, &x) != w->n_extras) return 0;
    for (size_t i = 0; i < w->n_extras; i++)
        if (strcmp(x[i], w->extra_names[i]) != 0) return 0;
    return 1;
}

/* Whether the output keeps a photo column (HDF5 and CSV do). */
static int keeps_photos(const char *out_path, const mc_writer_params *p)
{
    mc_format f = p->format != MC_FMT_AUTO ? p->format : mc_format_from_path(out_path);
    return f == MC_FMT_H5 || f == MC_FMT_CSV;
}

mc_status mc_import_files(const char *const *inputs, size_t n_inputs, const mc_reader_params *rp,
                          const char *out_path, const mc_writer_params *wp, uint64_t *out_rows)
{
    mc_clear_error();
    if (!inputs || n_inputs == 0 || !out_path)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_import_files needs at least one input and an output");
    mc_reader_params par = rp ? *rp : mc_reader_params_default();
    if (n_inputs > 1 && par.labels_path)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "a separate labels file goes with a single input, not %zu", n_inputs);
    mc_status st = MC_OK;
    mc_reader_t *r = NULL;
    mc_writer_t *w = NULL;
    float *rows = NULL;
    int64_t *labels = NULL;
    const char **paths = NULL;
    name_merge merge = {mc_label_map_new(), NULL, 0, 0};
    int named = -1; /* unknown / 0 integer labels / 1 names */
    size_t dim = 0, bs = 0;
    int with_labels = 0, with_paths = 0, with_photos = 0, with_extras = 0;
    uint64_t total = 0;
    mc_writer_params wpar = wp ? *wp : mc_writer_params_default();
    if (!merge.global) return mc_fail(MC_ERR_NOMEM, "out of memory");

    for (size_t f = 0; f < n_inputs; f++) {
        if ((st = mc_reader_open(inputs[f], &par, &r)) != MC_OK) goto fail;
        if (f == 0) {
            dim = mc_reader_dim(r);
            with_labels = mc_reader_has_labels(r);
            with_paths = mc_reader_has_paths(r);
            with_photos = mc_reader_has_photos(r) && keeps_photos(out_path, &wpar);
            wpar.with_photos = with_photos;
            with_extras = mc_reader_extra_names(r, &wpar.extra_names) > 0 && keeps_extras(out_path, &wpar);
            wpar.n_extras = with_extras ? mc_reader_extra_names(r, &wpar.extra_names) : 0;
            bs = block_rows(dim);
            rows = mc_malloc_array(bs * dim, sizeof *rows);
            labels = mc_malloc_array(bs, sizeof *labels);
            paths = mc_malloc_array(bs, sizeof *paths);
            if (!rows || !labels || !paths) {
                st = mc_fail(MC_ERR_NOMEM, "out of memory for a block of %zu rows", bs);
                goto fail;
            }
            if ((st = mc_writer_open(out_path, dim, with_labels, with_paths, &wpar, &w)) != MC_OK)
                goto fail;
        } else if (mc_reader_dim(r) != dim || mc_reader_has_labels(r) != with_labels ||
                   mc_reader_has_paths(r) != with_paths ||
                   (with_photos && !mc_reader_has_photos(r))) {
            st = mc_fail(MC_ERR_DIM_MISMATCH,
                         "%s: %zu-d%s%s, but %s is %zu-d%s%s: inputs must agree", inputs[f],
                         mc_reader_dim(r), mc_reader_has_labels(r) ? " with labels" : "",
                         mc_reader_has_paths(r) ? " with paths" : "", inputs[0], dim,
                         with_labels ? " with labels" : "", with_paths ? " with paths" : "");
            if (with_photos && !mc_reader_has_photos(r))
                st = mc_fail(MC_ERR_DIM_MISMATCH, "%s: no photo column, but %s has one: inputs must agree",
                             inputs[f], inputs[0]);
            goto fail;
        } else if (with_extras && !same_extras(w, r)) {
            st = mc_fail(MC_ERR_DIM_MISMATCH,
                         "%s: its columns are %s; the quality columns differ from %s's: inputs must agree",
                         inputs[f], mc_reader_columns(r), inputs[0]);
            goto fail;
        }
        merge.n_local = 0;
        for (;;) {
            size_t n = 0;
            if ((st = mc_reader_next(r, bs, rows, labels, paths, &n)) != MC_OK) goto fail;
            if (n == 0) break;
            if (with_labels) {
                const char *const *names;
                int is_named = mc_reader_label_names(r, &names) > 0, any = is_named;
                /* a block of unknown identities only (-1: empty CSV labels) says nothing */
                for (size_t i = 0; !any && i < n; i++) any = labels[i] >= 0;
                if (!any) is_named = named;
                if (named >= 0 && is_named != named) {
                    st = mc_fail(MC_ERR_BAD_DATA,
                                 "%s: labels are %s, but earlier inputs had %s: cannot merge them",
                                 inputs[f], is_named ? "names" : "integers",
                                 named ? "names" : "integers");
                    goto fail;
                }
                named = is_named;
                if (named == 1 && (st = merge_labels(&merge, r, labels, n)) != MC_OK) goto fail;
            }
            if ((st = mc_writer_append_extras(w, n, rows, labels, paths, mc_reader_photos(r),
                                              mc_reader_extras(r))) != MC_OK)
                goto fail;
            total += n;
        }
        mc_reader_free(r);
        r = NULL;
    }
    if (total == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: no faces to import", inputs[0]);
        goto fail;
    }
    if (named == 1 &&
        (st = mc_writer_set_label_names(w, mc_label_map_count(merge.global),
                                        mc_label_map_names(merge.global))) != MC_OK)
        goto fail;
    st = mc_writer_commit(w);
    w = NULL;
    if (st == MC_OK && out_rows) *out_rows = total;
    goto cleanup;
fail:
    mc_writer_abort(w);
    w = NULL;
cleanup:
    mc_reader_free(r);
    free(rows);
    free(labels);
    free(paths);
    free(merge.local_to_global);
    mc_label_map_free(merge.global);
    return st;
}

mc_status mc_convert(mc_reader_t *r, const char *out_path, const mc_writer_params *p,
                     uint64_t *out_rows)
{
    mc_clear_error();
    if (!r || !out_path) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_convert");
    size_t dim = mc_reader_dim(r), bs = block_rows(dim);
    float *rows = mc_malloc_array(bs * dim, sizeof *rows);
    int64_t *labels = mc_malloc_array(bs, sizeof *labels);
    const char **paths = mc_malloc_array(bs, sizeof *paths);
    mc_writer_t *w = NULL;
    mc_status st;
    uint64_t total = 0;
    if (!rows || !labels || !paths) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for a block of %zu rows", bs);
        goto done;
    }
    mc_writer_params wpar = p ? *p : mc_writer_params_default();
    wpar.with_photos = mc_reader_has_photos(r) && keeps_photos(out_path, &wpar);
    wpar.n_extras = keeps_extras(out_path, &wpar) ? mc_reader_extra_names(r, &wpar.extra_names) : 0;
    st = mc_writer_open(out_path, dim, mc_reader_has_labels(r), mc_reader_has_paths(r), &wpar, &w);
    if (st != MC_OK) goto done;
    for (;;) {
        size_t n = 0;
        if ((st = mc_reader_next(r, bs, rows, labels, paths, &n)) != MC_OK) break;
        if (n == 0) break;
        if ((st = mc_writer_append_extras(w, n, rows, labels, paths, mc_reader_photos(r), mc_reader_extras(r))) !=
            MC_OK)
            break;
        total += n;
    }
    if (st == MC_OK) {
        const char *const *names = NULL;
        size_t nn = mc_reader_label_names(r, &names);
        if (nn) st = mc_writer_set_label_names(w, nn, names);
    }
    if (st == MC_OK) {
        st = mc_writer_commit(w);
        w = NULL;
        if (st == MC_OK && out_rows) *out_rows = total;
    }
done:
    mc_writer_abort(w);
    free(rows);
    free(labels);
    free(paths);
    return st;
}
