/* The result format (result_impl.h says what it is): the CSV and HDF5
 * writers, and the readers that mc_clustering_read_csv, the previous result
 * (previous.c), `eval` and `report` go through. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "h5_impl.h"
#include "magclust/clustering.h"
#include "result_impl.h"
#include "util_impl.h"

/* ---- CSV output -------------------------------------------------------------- */

/* ",value" with 6 decimals (a cosine needs no more), or "," alone for NaN:
 * an empty field, which spreadsheets and pandas read as missing. */
static void put_score(FILE *fp, float v)
{
    if (isnan(v))
        fputc(',', fp);
    else
        fprintf(fp, ",%.6f", (double)v);
}

mc_status mc_clustering_write_csv(const mc_clustering_t *c, const mc_embeddings_t *e,
                                  const char *path)
{
    mc_clear_error();
    if (!c || !e || !path)
        return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_clustering_write_csv");
    size_t n = mc_clustering_n(c);
    if (mc_embeddings_n(e) != n)
        return mc_fail(MC_ERR_DIM_MISMATCH, "%s: clustering has %zu faces, embeddings %zu", path,
                       n, mc_embeddings_n(e));
    mc_atomic_file af;
    mc_status st = mc_atomic_open(&af, path);
    if (st != MC_OK) return st;
    const float *q = mc_embeddings_quality(e);
    const int64_t *labels = mc_clustering_labels(c);
    const uint8_t *roles = mc_clustering_roles(c);
    int names = mc_clustering_has_names(c), scored = mc_clustering_has_confidence(c);
    const float *sim = mc_clustering_similarities(c), *margin = mc_clustering_margins(c);
    fputs(names ? "index,path,cluster,role,quality,person" : "index,path,cluster,role,quality",
          af.fp);
    fputs(scored ? ",similarity,margin,representative\r\n" : "\r\n", af.fp);
    for (size_t i = 0; i < n; i++) {
        const char *p = mc_embeddings_path(e, i);
        fprintf(af.fp, "%zu,", mc_embeddings_source_row(e, i)); /* the file row */
        mc_csv_put_field(af.fp, p ? p : "");
        fprintf(af.fp, ",%" PRId64 ",%s,%.7g", labels[i], mc_role_name((mc_role)roles[i]),
                (double)q[i]);
        if (names) {
            const char *nm = mc_clustering_name(c, labels[i]);
            fputc(',', af.fp);
            mc_csv_put_field(af.fp, nm ? nm : "");
        }
        if (scored) {
            put_score(af.fp, sim[i]);
            put_score(af.fp, margin[i]);
            fprintf(af.fp, ",%d",
                    labels[i] >= 0 && mc_clustering_representative(c, labels[i]) == (int64_t)i);
        }
        fputs("\r\n", af.fp);
    }
    return mc_atomic_commit(&af);
}

/* ---- CSV input --------------------------------------------------------------- */

/* An id or index: an integer, optionally signed, after any leading blanks
 * (as strtoll reads it); nothing may follow. */
static int parse_id(const char *s, int64_t *out)
{
    while (isspace((unsigned char)*s)) s++;
    return mc_parse_int64(s, strlen(s), out) == MC_PARSE_OK ? 0 : -1;
}

mc_status mc_result_csv_open(mc_result_csv *rc, const char *path, int need_path, size_t n_index)
{
    memset(rc, 0, sizeof *rc);
    rc->path = path;
    rc->n_index = n_index;
    rc->col_index = rc->col_path = rc->col_cluster = rc->col_role = rc->col_quality =
        rc->col_person = rc->col_similarity = rc->col_margin = rc->col_representative = SIZE_MAX;
    mc_status st = mc_csv_open(&rc->r, path, ',');
    if (st != MC_OK) return st;
    int got = mc_csv_next(&rc->r, &st);
    if (got < 0) goto fail;
    if (got == 0) {
        if (need_path)
            st = mc_fail(MC_ERR_BAD_DATA,
                         "%s: empty file (expected a result CSV with path and cluster columns)",
                         path);
        else
            st = mc_fail(MC_ERR_BAD_DATA,
                         "%s: empty file (expected a header with a 'cluster' column)", path);
        goto fail;
    }
    rc->nf = rc->r.nf;
    for (size_t f = 0; f < rc->r.nf; f++) {
        const char *h = mc_csv_field(&rc->r, f);
        if (strcmp(h, "index") == 0) rc->col_index = f;
        if (strcmp(h, "path") == 0) rc->col_path = f;
        if (strcmp(h, "cluster") == 0) rc->col_cluster = f;
        if (strcmp(h, "role") == 0) rc->col_role = f;
        if (strcmp(h, "quality") == 0) rc->col_quality = f;
        if (strcmp(h, "person") == 0) rc->col_person = f;
        if (strcmp(h, "similarity") == 0) rc->col_similarity = f;
        if (strcmp(h, "margin") == 0) rc->col_margin = f;
        if (strcmp(h, "representative") == 0) rc->col_representative = f;
    }
    if (need_path && (rc->col_path == SIZE_MAX || rc->col_cluster == SIZE_MAX)) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: line 1: the header needs 'path' and 'cluster' columns",
                     path);
        goto fail;
    }
    if (rc->col_cluster == SIZE_MAX) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: header has no 'cluster' column", path,
                     (unsigned long long)rc->r.line);
        goto fail;
    }
    return MC_OK;
fail:
    mc_csv_close(&rc->r);
    return st;
}

/* Column col as a number, NAN when absent, empty or not a number. */
static float number_field(mc_csv_records *r, size_t col)
{
    if (col == SIZE_MAX) return NAN;
    const char *s = mc_csv_field(r, col);
    float v;
    return *s && mc_parse_float(s, strlen(s), &v) == MC_PARSE_OK ? v : NAN;
}

int mc_result_csv_next(mc_result_csv *rc, mc_result_row *row, mc_status *err)
{
    int got = mc_csv_next(&rc->r, err);
    if (got <= 0) return got;
    mc_csv_records *r = &rc->r;
    unsigned long long line = (unsigned long long)r->line;
    const char *path = rc->path;
    if (r->nf != rc->nf) {
        *err = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: %zu fields, the header has %zu", path, line,
                       r->nf, rc->nf);
        return -1;
    }
    row->line = line;
    row->index = -1;
    if (rc->col_index != SIZE_MAX && rc->n_index != SIZE_MAX) {
        const char *is = mc_csv_field(r, rc->col_index);
        if (parse_id(is, &row->index) != 0 || row->index < 0 || (size_t)row->index >= rc->n_index) {
            *err = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: index '%s' is not in 0..%zu", path,
                           line, is, rc->n_index ? rc->n_index - 1 : 0);
            return -1;
        }
    }
    const char *cs = mc_csv_field(r, rc->col_cluster);
    if (parse_id(cs, &row->cluster) != 0) {
        *err = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: cluster '%s' is not an integer", path, line,
                       cs);
        return -1;
    }
    row->role = -1;
    if (rc->col_role != SIZE_MAX) {
        const char *rs = mc_csv_field(r, rc->col_role);
        for (int k = MC_ROLE_CORE; k <= MC_ROLE_UNASSIGNED; k++)
            if (strcmp(rs, mc_role_name((mc_role)k)) == 0) row->role = k;
    }
    row->quality = number_field(r, rc->col_quality);
    row->similarity = number_field(r, rc->col_similarity);
    row->margin = number_field(r, rc->col_margin);
    row->representative = -1;
    if (rc->col_representative != SIZE_MAX) {
        const char *rs = mc_csv_field(r, rc->col_representative);
        if (strcmp(rs, "0") == 0 || strcmp(rs, "1") == 0) row->representative = rs[0] - '0';
    }
    row->path = rc->col_path != SIZE_MAX ? mc_csv_text(r, rc->col_path) : NULL;
    row->person = rc->col_person != SIZE_MAX ? mc_csv_text(r, rc->col_person) : NULL;
    return 1;
}

void mc_result_csv_close(mc_result_csv *rc) { mc_csv_close(&rc->r); }

/* Records come from the RFC 4180 reader shared with the CSV importer
 * (io_text.c): quoting, CRLF, a UTF-8 BOM, blank lines only at the end. */
mc_status mc_clustering_read_csv(const char *path, size_t n, int64_t *out_labels)
{
    mc_clear_error();
    if (!path || !out_labels)
        return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_clustering_read_csv");
    uint8_t *seen = mc_calloc_array(n, 1);
    if (!seen) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_result_csv rc;
    mc_status st = mc_result_csv_open(&rc, path, 0, n); /* an index column places each row */
    if (st != MC_OK) {
        free(seen);
        return st;
    }
    mc_result_row row;
    size_t rows = 0;
    int got;
    while ((got = mc_result_csv_next(&rc, &row, &st)) == 1) {
        int64_t idx = rc.col_index != SIZE_MAX ? row.index : (int64_t)rows;
        if ((size_t)idx >= n) {
            st = mc_fail(MC_ERR_DIM_MISMATCH,
                         "%s: more than %zu rows (the embeddings have %zu faces)", path, n, n);
            goto cleanup;
        }
        if (seen[idx]) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: index %lld appears twice", path, row.line,
                         (long long)idx);
            goto cleanup;
        }
        seen[idx] = 1;
        out_labels[idx] = row.cluster;
        rows++;
    }
    if (got < 0) goto cleanup;
    if (rows != n) {
        st = mc_fail(MC_ERR_DIM_MISMATCH, "%s: %zu rows, the embeddings have %zu faces", path,
                     rows, n);
        goto cleanup;
    }
    st = MC_OK;
cleanup:
    mc_result_csv_close(&rc);
    free(seen);
    return st;
}

/* ---- HDF5 output ------------------------------------------------------------- */

static int write_attr(hid_t loc, const mc_attr *a)
{
    return a->text ? mc_h5_put_str_attr(loc, a->name, a->text)
                   : mc_h5_put_f64_attr(loc, a->name, a->number);
}

/* Variable-length UTF-8, as every writer's strings: h5py returns str. */
static hid_t utf8_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
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
    const int64_t *labels = mc_clustering_labels(c);
    const float *quality = mc_embeddings_quality(e);
    int bad = mc_h5_put_vector(f, "cluster", H5T_STD_I64LE, H5T_NATIVE_INT64, n, labels) ||
              mc_h5_put_vector(f, "role", role_t, role_t, n, mc_clustering_roles(c)) ||
              mc_h5_put_vector(f, "quality", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, n, quality);
    if (!bad && mc_embeddings_path(e, 0)) {
        paths = mc_malloc_array(n, sizeof *paths);
        if (!paths) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) paths[i] = mc_embeddings_path(e, i);
        str_t = utf8_type();
        bad = mc_h5_put_vector(f, "paths", str_t, str_t, n, paths);
    }
    if (!bad && mc_clustering_has_confidence(c)) {
        int8_t *is_rep = mc_calloc_array(n, 1);
        if (!is_rep) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t k = 0; k < mc_clustering_n_clusters(c); k++) {
            int64_t i = mc_clustering_representative(c, (int64_t)k);
            if (i >= 0) is_rep[i] = 1;
        }
        bad = mc_h5_put_vector(f, "similarity", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, n,
                               mc_clustering_similarities(c)) ||
              mc_h5_put_vector(f, "margin", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, n,
                               mc_clustering_margins(c)) ||
              mc_h5_put_vector(f, "representative", H5T_STD_I8LE, H5T_NATIVE_INT8, n, is_rep);
        free(is_rep);
    }
    if (!bad && mc_clustering_has_names(c)) {
        const char **persons = mc_malloc_array(n, sizeof *persons);
        if (!persons) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const char *nm = mc_clustering_name(c, labels[i]);
            persons[i] = nm ? nm : "";
        }
        if (str_t < 0) str_t = utf8_type();
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

/* ---- HDF5 input -------------------------------------------------------------- */

/* A 1-D dataset of n values (n = 0: learn it), or -1 when absent. */
static hid_t open_1d(hid_t f, const char *file, const char *name, int required, size_t *n,
                     mc_status *st)
{
    *st = MC_OK;
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
        if (required)
            *st = mc_fail(MC_ERR_HDF5, "%s: no dataset /%s (not a magclust result?)", file, name);
        return -1;
    }
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    if (ds < 0) { /* a group, say */
        *st = mc_h5_fail(MC_ERR_HDF5, "%s: /%s is not a vector of %zu values", file, name, *n);
        return -1;
    }
    mc_h5_shape sh = {H5T_NO_CLASS, -1, {0}};
    if ((*st = mc_h5_check_dataset(ds, file, name, 1, &sh)) != MC_OK) {
        H5Dclose(ds);
        return -1;
    }
    const hsize_t *dims = sh.dims;
    int rank = sh.rank;
    if (rank != 1 || (*n && dims[0] != *n)) {
        H5Dclose(ds);
        *st = mc_fail(MC_ERR_HDF5, "%s: /%s is not a vector of %zu values", file, name, *n);
        return -1;
    }
    /* The first vector sets n: eight arrays of one value a face. */
    if (!*n && (*st = mc_check_memory(file, "the faces", dims[0], 8, sizeof(int64_t))) != MC_OK) {
        H5Dclose(ds);
        return -1;
    }
    *n = (size_t)dims[0];
    return ds;
}

static int read_strings(hid_t ds, char **dst)
{
    hid_t ft = H5Dget_type(ds);
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        if (ft >= 0) H5Tclose(ft);
        return -1;
    }
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5Tget_cset(ft));
    H5Tclose(ft);
    int rc = H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0 ? -1 : 0;
    if (rc < 0) mc_h5_note();
    H5Tclose(t);
    return rc;
}

void mc_result_h5_free(mc_result_h5 *t)
{
    for (size_t i = 0; t->paths && i < t->n; i++) H5free_memory(t->paths[i]);
    for (size_t i = 0; t->persons && i < t->n; i++) H5free_memory(t->persons[i]);
    free(t->paths);
    free(t->persons);
    free(t->cluster);
    free(t->role);
    free(t->quality);
    free(t->similarity);
    free(t->margin);
    free(t->representative);
    free(t->quality_name);
    memset(t, 0, sizeof *t);
}

mc_status mc_result_read_h5(const char *path, mc_result_h5 *t)
{
    memset(t, 0, sizeof *t);
    if (!mc_h5_image_in_use()) { /* a missing file is an I/O error, not an HDF5 one */
        FILE *probe = fopen(path, "rb");
        if (!probe) return mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        fclose(probe);
    }
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    hid_t f = mc_h5_open_read(path), ds = -1;
    size_t n = 0;
    if (f < 0) {
        st = mc_h5_open_fail(MC_ERR_HDF5, path, "not an HDF5 file?");
        goto done;
    }
    if ((ds = open_1d(f, path, "cluster", 1, &n, &st)) < 0) goto done;
    t->n = n;
    t->cluster = mc_malloc_array(n + 1, sizeof *t->cluster);
    t->role = mc_malloc_array(n + 1, sizeof *t->role);
    t->quality = mc_malloc_array(n + 1, sizeof *t->quality);
    t->paths = calloc(n + 1, sizeof *t->paths);
    t->similarity = mc_malloc_array(n + 1, sizeof *t->similarity);
    t->margin = mc_malloc_array(n + 1, sizeof *t->margin);
    t->representative = mc_malloc_array(n + 1, sizeof *t->representative);
    if (!t->cluster || !t->role || !t->quality || !t->paths || !t->similarity || !t->margin ||
        !t->representative)
        goto nomem;
    if (H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->cluster) < 0) goto bad;
    H5Dclose(ds);
    for (size_t i = 0; i < n; i++) {
        t->role[i] = -1;
        t->quality[i] = t->similarity[i] = t->margin[i] = NAN;
        t->representative[i] = -1;
    }
    if ((ds = open_1d(f, path, "role", 0, &n, &st)) >= 0) {
        hid_t ft = H5Dget_type(ds); /* an enum over int8: read it as stored */
        int ok =
            H5Tget_size(ft) == 1 && H5Dread(ds, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->role) >= 0;
        if (!ok) mc_h5_note();
        H5Tclose(ft);
        if (!ok) goto bad;
        H5Dclose(ds);
    } else if (st != MC_OK) {
        goto done;
    }
    if ((ds = open_1d(f, path, "quality", 0, &n, &st)) >= 0) {
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->quality) < 0) goto bad;
        H5Dclose(ds);
    } else if (st != MC_OK) {
        goto done;
    }
    if ((ds = open_1d(f, path, "similarity", 0, &n, &st)) >= 0) {
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->similarity) < 0) goto bad;
        H5Dclose(ds);
    } else if (st != MC_OK) {
        goto done;
    }
    if ((ds = open_1d(f, path, "margin", 0, &n, &st)) >= 0) {
        if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->margin) < 0) goto bad;
        H5Dclose(ds);
    } else if (st != MC_OK) {
        goto done;
    }
    if ((ds = open_1d(f, path, "representative", 0, &n, &st)) >= 0) {
        if (H5Dread(ds, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->representative) < 0)
            goto bad;
        H5Dclose(ds);
        for (size_t i = 0; i < n; i++) /* anything but 0 and 1 is unknown */
            if (t->representative[i] != 0 && t->representative[i] != 1) t->representative[i] = -1;
    } else if (st != MC_OK) {
        goto done;
    }
    /* a result of embeddings without paths has none: every path NULL */
    if ((ds = open_1d(f, path, "paths", 0, &n, &st)) >= 0) {
        if (read_strings(ds, t->paths) != 0) goto bad;
        H5Dclose(ds);
    } else if (st != MC_OK) {
        goto done;
    }
    if ((ds = open_1d(f, path, "person", 0, &n, &st)) >= 0) {
        t->persons = calloc(n + 1, sizeof *t->persons);
        if (!t->persons) goto nomem;
        if (read_strings(ds, t->persons) != 0) goto bad;
        H5Dclose(ds);
    } else if (st != MC_OK) {
        goto done;
    }
    ds = -1;
    /* the quality's name is optional: an unreadable one is left out */
    char qname[256];
    int found = 0;
    if (mc_h5_get_str_attr(f, path, "/", "quality_key", qname, sizeof qname, 1, &found) != MC_OK)
        mc_clear_error();
    else if (found && !(t->quality_name = strdup(qname)))
        goto nomem;
    goto done;
bad:
    st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot read the result datasets", path);
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
    quiet_off(&q);
    if (st != MC_OK) mc_result_h5_free(t);
    return st;
}
