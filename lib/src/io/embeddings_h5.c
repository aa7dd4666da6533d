/* mc_embeddings_read_h5: a file in the magclust HDF5 schema, read through
 * the schema reader (h5_schema.c) into an mc_embeddings_t: the rows in
 * blocks, split into directions and magnitudes as they come; the per-face
 * datasets whole. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embeddings_impl.h"
#include "h5_schema_impl.h"
#include "io_impl.h"
#include "magclust/embeddings.h"
#include "util_impl.h"

/* Elements per block read of the embeddings. Bounds the scratch buffer that
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

typedef struct {
    const char *file;  /* for messages */
    mc_h5_schema *s;
    const char *emb;   /* the embeddings' path, for messages */
    int skip;          /* skip_bad_rows */
    uint8_t *bad;      /* with skip: one flag a file row, set by read_rows and read_quality */
    size_t first, rows; /* the file rows read: all of them, or a slice (mc_embeddings_read_h5_rows) */
} reader;

/* The embeddings, read in row blocks straight into the directions (float
 * sources, normalised in place) or through a block-sized double buffer
 * (wider sources), so the raw data is never held twice. */
static mc_status read_rows(reader *c, mc_embeddings_t **out)
{
    *out = NULL;
    size_t n = c->rows, d = mc_h5_schema_dim(c->s);
    double *dbuf = NULL;
    mc_status st = MC_OK;
    mc_embeddings_t *e = mc_embeddings_alloc(n, d);
    if (!e)
        return mc_fail(MC_ERR_NOMEM, "%s: out of memory for %zu x %zu embeddings", c->file, n, d);
    if (c->skip && !(c->bad = calloc(n, 1))) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory", c->file);
        goto cleanup;
    }
    size_t block = MC_EMB_BLOCK_ELEMS / d;
    if (block < 1) block = 1;
    if (block > MC_EMB_BLOCK_ROWS) block = MC_EMB_BLOCK_ROWS;
    if (block > n) block = n;
    int wide = mc_h5_schema_wide(c->s);
    if (wide && !(dbuf = mc_malloc_array(block * d, sizeof *dbuf))) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for a read buffer", c->file);
        goto cleanup;
    }
    for (size_t r0 = 0; r0 < n; r0 += block) {
        size_t rows = n - r0 < block ? n - r0 : block;
        float *dst = mc_embeddings_directions_mut(e) + r0 * d;
        float *mag = mc_embeddings_magnitudes_mut(e) + r0;
        if ((st = mc_h5_schema_read_rows(c->s, c->first + r0, rows, wide, wide ? (void *)dbuf : dst)) != MC_OK)
            goto cleanup;
        for (size_t i = 0; i < rows; i++) {
            int code = wide ? mc_split_row_d(dbuf + i * d, d, dst + i * d, &mag[i])
                            : mc_split_row_f(dst + i * d, d, dst + i * d, &mag[i]);
            if (code && c->skip) {
                c->bad[r0 + i] = 1;
                memset(dst + i * d, 0, d * sizeof *dst);
                mag[i] = 0.0f;
            } else if (code) {
                char what[300];
                snprintf(what, sizeof what, "%s: %s", c->file, c->emb);
                st = mc_split_row_fail(code, what, c->first + r0 + i);
                goto cleanup;
            }
        }
    }
    *out = e;
    e = NULL;
cleanup:
    free(dbuf);
    mc_embeddings_free(e);
    return st;
}

static mc_status read_labels(reader *c, mc_embeddings_t *e)
{
    size_t n = mc_embeddings_n(e);
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    if (!labels)
        return mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file,
                       mc_h5_schema_field_path(c->s, MC_H5_LABELS));
    mc_status st = mc_h5_schema_read_ints(c->s, MC_H5_LABELS, 0, n, labels);
    if (st != MC_OK) {
        free(labels);
        return st;
    }
    mc_embeddings_take_labels(e, labels);
    return MC_OK;
}

static mc_status read_paths(reader *c, mc_embeddings_t *e)
{
    char **paths = NULL, *buf = NULL;
    mc_status st =
        mc_h5_schema_read_strings(c->s, MC_H5_PATHS, 0, mc_embeddings_n(e), &paths, &buf);
    if (st == MC_OK) mc_embeddings_take_paths(e, paths, buf);
    return st;
}

/* Any number type, read as float; its name is the key without the '/'. */
static mc_status read_quality(reader *c, mc_embeddings_t *e)
{
    size_t n = mc_embeddings_n(e);
    const char *path = mc_h5_schema_field_path(c->s, MC_H5_QUALITY);
    float *q = mc_malloc_array(n, sizeof *q);
    char *qname = strdup(path + 1);
    mc_status st = MC_OK;
    if (!q || !qname) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        goto fail;
    }
    if ((st = mc_h5_schema_read_floats(c->s, MC_H5_QUALITY, c->first, n, q)) != MC_OK) goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(q[i]) && c->skip) {
            c->bad[i] = 1;
            q[i] = 0.0f;
        } else if (!isfinite(q[i])) {
            /* a double beyond the float range reads as Inf: say so */
            st = mc_fail_reason(MC_REASON_BAD_ROW, MC_ERR_BAD_DATA, "%s: %s row %zu is NaN or Inf%s",
                                c->file, path, c->first + i,
                                isinf(q[i]) ? " (or a number beyond the float range, +-3.4e38)" : "");
            goto fail;
        }
    }
    mc_embeddings_take_quality(e, q, qname);
    return MC_OK;
fail:
    free(q);
    free(qname);
    return st;
}

/* Group keys (photos): integers or strings, renumbered 0.. in order of first
 * appearance; negative integers and empty strings are no group. */
static mc_status read_groups(reader *c, mc_embeddings_t *e)
{
    size_t n = mc_embeddings_n(e);
    const char *path = mc_h5_schema_field_path(c->s, MC_H5_GROUPS);
    mc_status st = MC_OK;
    int64_t *g = mc_malloc_array(n, sizeof *g);
    char *name = strdup(path + 1);
    mc_label_map *map = mc_label_map_new();
    if (!g || !name || !map) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        goto fail;
    }
    if (mc_h5_schema_field_class(c->s, MC_H5_GROUPS) == H5T_STRING) {
        char **keys = NULL, *buf = NULL;
        st = mc_h5_schema_read_strings(c->s, MC_H5_GROUPS, 0, n, &keys, &buf);
        for (size_t i = 0; st == MC_OK && i < n; i++) {
            size_t len = strlen(keys[i]);
            g[i] = len ? mc_label_map_id(map, keys[i], len) : -1;
            if (len && g[i] < 0)
                st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        }
        free(keys);
        free(buf);
    } else if ((st = mc_h5_schema_read_ints(c->s, MC_H5_GROUPS, 0, n, g)) == MC_OK) {
        char num[32];
        int u64 = mc_h5_schema_field_u64(c->s, MC_H5_GROUPS); /* every value a photo, exactly */
        for (size_t i = 0; st == MC_OK && i < n; i++) {
            if (!u64 && g[i] < 0) {
                g[i] = -1;
                continue;
            }
            int len = u64 ? snprintf(num, sizeof num, "%llu", (unsigned long long)(uint64_t)g[i])
                          : snprintf(num, sizeof num, "%lld", (long long)g[i]);
            g[i] = mc_label_map_id(map, num, (size_t)len);
            if (g[i] < 0) st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %s", c->file, path);
        }
    }
    if (st != MC_OK) goto fail;
    mc_embeddings_take_groups(e, g, mc_label_map_count(map), name);
    mc_label_map_free(map);
    return MC_OK;
fail:
    mc_label_map_free(map);
    free(g);
    free(name);
    return st;
}

/* One optional per-face dataset: read when the schema finds it. */
static mc_status read_field(reader *c, mc_h5_field f, mc_embeddings_t *e,
                            mc_status (*read)(reader *, mc_embeddings_t *))
{
    mc_status st = MC_OK;
    int there = mc_h5_schema_field(c->s, f, &st);
    return there > 0 ? read(c, e) : st;
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
    const char *k = p->embeddings_key;
    if (!k || k[strspn(k, "/")] == '\0')
        return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_read_h5: embeddings_key is empty");

    reader c = {path, NULL, NULL, p->skip_bad_rows != 0, NULL, 0, 0};
    mc_status st = mc_h5_schema_open(path, p, 1, &c.s);
    if (st != MC_OK) return st;
    c.rows = (size_t)mc_h5_schema_rows(c.s);
    c.emb = mc_h5_schema_embeddings_path(c.s);
    mc_embeddings_t *e = NULL;
    st = read_rows(&c, &e);
    if (st == MC_OK) st = read_field(&c, MC_H5_LABELS, e, read_labels);
    if (st == MC_OK) st = read_field(&c, MC_H5_PATHS, e, read_paths);
    if (st == MC_OK) st = read_field(&c, MC_H5_QUALITY, e, read_quality);
    if (st == MC_OK) st = read_field(&c, MC_H5_GROUPS, e, read_groups);
    if (st == MC_OK && c.bad) st = mc_embeddings_drop_rows(e, c.bad, path, c.emb);
    st = mc_h5_schema_close(c.s, st);
    free(c.bad);
    if (st != MC_OK) {
        mc_embeddings_free(e);
        return st;
    }
    *out = e;
    return MC_OK;
}

/* A slice: only the embeddings and the quality are read (knn_mpi.c). */
static mc_status read_slice(const char *path, const mc_h5_read_params *p, size_t first,
                            size_t rows, size_t *out_n, size_t *out_d, mc_embeddings_t **out)
{
    mc_clear_error();
    *out = NULL;
    *out_n = *out_d = 0;
    if (!path || !*path) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_read_h5_rows: no path");
    mc_h5_read_params defaults = mc_h5_read_params_default();
    if (!p) p = &defaults;
    const char *k = p->embeddings_key;
    if (!k || k[strspn(k, "/")] == '\0')
        return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_read_h5_rows: embeddings_key is empty");
    if (p->skip_bad_rows)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: skipping bad rows needs the whole file in one "
                       "process (a slice cannot renumber the rows after it)", path);
    reader c = {path, NULL, NULL, 0, NULL, first, rows};
    mc_status st = mc_h5_schema_open(path, p, 0, &c.s);
    if (st != MC_OK) return st;
    c.emb = mc_h5_schema_embeddings_path(c.s);
    size_t n = (size_t)mc_h5_schema_rows(c.s);
    mc_embeddings_t *e = NULL;
    if (out_n) *out_n = n;
    *out_d = mc_h5_schema_dim(c.s);
    if (first > n || rows > n - first)
        st = mc_fail(MC_ERR_INVALID_ARG, "%s: rows %zu to %zu of %zu", path, first, first + rows, n);
    else if (rows > 0) {
        st = read_rows(&c, &e);
        if (st == MC_OK) st = read_field(&c, MC_H5_QUALITY, e, read_quality);
    }
    st = mc_h5_schema_close(c.s, st);
    if (st != MC_OK) {
        mc_embeddings_free(e);
        *out_n = *out_d = 0;
        return st;
    }
    *out = e;
    return MC_OK;
}

mc_status mc_embeddings_h5_shape(const char *path, const mc_h5_read_params *p, size_t *out_n,
                                 size_t *out_d)
{
    mc_embeddings_t *e = NULL;
    return read_slice(path, p, 0, 0, out_n, out_d, &e);
}

mc_status mc_embeddings_read_h5_rows(const char *path, const mc_h5_read_params *p, size_t first,
                                     size_t rows, mc_embeddings_t **out)
{
    size_t n, d;
    return read_slice(path, p, first, rows, &n, &d, out);
}

mc_status mc_h5_read_quality(const char *path, const mc_h5_read_params *p, const char *key,
                             float **out, size_t *out_n)
{
    mc_clear_error();
    if (!path || !key || !out || !out_n)
        return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_h5_read_quality");
    *out = NULL;
    *out_n = 0;
    mc_h5_read_params rp = p ? *p : mc_h5_read_params_default();
    rp.quality_key = key;
    rp.labels_key = rp.paths_key = rp.group_key = NULL;
    mc_h5_schema *s = NULL;
    mc_status st = mc_h5_schema_open(path, &rp, 0, &s);
    if (st != MC_OK) return st;
    size_t n = (size_t)mc_h5_schema_rows(s);
    float *q = NULL;
    int there = mc_h5_schema_field(s, MC_H5_QUALITY, &st);
    if (there < 0) goto done;
    if (there == 0) {
        st = mc_fail(MC_ERR_INVALID_ARG, "mc_h5_read_quality: the key names no dataset");
        goto done;
    }
    if (!(q = mc_malloc_array(n, sizeof *q))) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for %zu values", path, n);
        goto done;
    }
    if ((st = mc_h5_schema_read_floats(s, MC_H5_QUALITY, 0, n, q)) != MC_OK) goto done;
    for (size_t i = 0; i < n && st == MC_OK; i++)
        if (!isfinite(q[i]))
            st = mc_fail(MC_ERR_BAD_DATA, "%s: %s row %zu is NaN or Inf", path,
                         mc_h5_schema_field_path(s, MC_H5_QUALITY), i);
done:
    st = mc_h5_schema_close(s, st);
    if (st != MC_OK) {
        free(q);
        return st;
    }
    *out = q;
    *out_n = n;
    return MC_OK;
}
