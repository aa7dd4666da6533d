/* CSV embeddings (RFC 4180): a header row, an optional path column, an
 * optional photo column, an optional label column, then one column per value or one column holding the
 * whole vector. Read record by record on top of the line reader, so a quoted
 * field may span lines and memory is one record plus the caller's block. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io_impl.h"

#define NONE SIZE_MAX

enum { LABELS_NONE = 0, LABELS_INTEGERS, LABELS_NAMES, LABELS_FROM_DIR };

typedef struct {
    mc_csv_records rs;   /* the record reader (io_text.c) */
    int have_rec;        /* the first data record was read by the opener */
    int eof, failed;
    /* the header */
    char *header;
    size_t *hoffs;
    size_t ncols;
    size_t col_path, col_label, col_vec, col_photo;
    size_t *emb_cols; /* column of each value (column mode) */
    size_t dim;
    uint64_t dim_line;  /* vector mode: the row that fixed D */
    int label_mode;
    uint64_t label_mode_line;
    mc_label_map *map;
    uint64_t rows;
    /* this block's paths and photos */
    char *arena;
    size_t arena_len, arena_cap;
    size_t *path_offs, *photo_offs;
    size_t path_offs_cap, photo_offs_cap;
    const char **photo_ptrs;
    size_t photo_ptrs_cap;
} csv_state;

static const char *const path_names[] = {"path", "file", "filename", "image", NULL};
static const char *const label_names[] = {"label", "labels", "identity", "id", "person", "class", NULL};
static const char *const photo_names[] = {"photo", "photo_id", NULL};

/* ---- records -------------------------------------------------------------- */

static const char *col_name(const csv_state *c, size_t j) { return c->header + c->hoffs[j]; }

static int name_in(const char *s, size_t len, const char *const *names)
{
    for (; *names; names++) {
        size_t n = strlen(*names);
        if (n != len) continue;
        size_t i = 0;
        while (i < n && tolower((unsigned char)s[i]) == (*names)[i]) i++;
        if (i == n) return 1;
    }
    return 0;
}

/* The most frequent of ',', ';' and tab outside quotes; ',' when none. */
static char detect_delimiter(const char *s, size_t len)
{
    size_t n_comma = 0, n_semi = 0, n_tab = 0;
    int inq = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') inq = !inq;
        if (inq) continue;
        if (s[i] == ',') n_comma++;
        if (s[i] == ';') n_semi++;
        if (s[i] == '\t') n_tab++;
    }
    if (n_semi > n_comma && n_semi >= n_tab) return ';';
    if (n_tab > n_comma && n_tab > n_semi) return '\t';
    return ',';
}

/* ---- values --------------------------------------------------------------- */

static mc_status value_error(const csv_state *c, const char *path, size_t col, size_t idx,
                             const char *t, size_t tl, int rc)
{
    char where[96];
    if (idx)
        snprintf(where, sizeof where, " value %zu", idx);
    else
        where[0] = '\0';
    int shown = (int)(tl > 64 ? 64 : tl);
    if (rc == MC_PARSE_NOT_NUMBER)
        return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s'%s '%.*s' is not a number",
                       path, c->rs.line, col_name(c, col), where, shown, t);
    char ch = tl > 1 && (t[0] == '+' || t[0] == '-') ? t[1] : t[0];
    if ((ch >= '0' && ch <= '9') || ch == '.')
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: line %" PRIu64 ": column '%s'%s '%.*s' is beyond the float32 range", path,
                       c->rs.line, col_name(c, col), where, shown, t);
    return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s'%s is NaN or infinite", path,
                   c->rs.line, col_name(c, col), where);
}

static int is_vsep(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* The vector cell: numbers separated by spaces and/or one comma, optionally
 * inside [ ]. Parses up to `cap` values into row (row may be NULL: count
 * only); *out_count gets how many there are. */
static mc_status parse_vector(const csv_state *c, const char *path, float *row, size_t cap,
                              size_t *out_count)
{
    size_t col = c->col_vec;
    const char *s = mc_csv_field(&c->rs, col);
    size_t len = mc_csv_field_len(&c->rs, col), i = 0;
    while (len > 0 && is_vsep(s[len - 1])) len--;
    while (i < len && is_vsep(s[i])) i++;
    if (i < len && s[i] == '[') {
        if (s[len - 1] != ']')
            return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s': '[' without a closing ']'",
                           path, c->rs.line, col_name(c, col));
        i++;
        len--;
    }
    size_t k = 0;
    for (;;) {
        while (i < len && is_vsep(s[i])) i++;
        if (i == len) {
            if (k > 0)
                return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s': a comma after the last value",
                               path, c->rs.line, col_name(c, col));
            break;
        }
        size_t t0 = i;
        while (i < len && !is_vsep(s[i]) && s[i] != ',') i++;
        if (i == t0)
            return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s' value %zu is empty",
                           path, c->rs.line, col_name(c, col), k + 1);
        if (row && k < cap) {
            int rc = mc_parse_float(s + t0, i - t0, &row[k]);
            if (rc != MC_PARSE_OK) return value_error(c, path, col, k + 1, s + t0, i - t0, rc);
        }
        k++;
        while (i < len && is_vsep(s[i])) i++;
        if (i == len) break;
        if (s[i] == ',') i++; /* then another value must follow */
    }
    *out_count = k;
    return MC_OK;
}

/* ---- rows ----------------------------------------------------------------- */

/* Text field j (a path, a photo, a name) without the ' that a spreadsheet
 * guard added (mc_csv_put_field), and its length. */
static const char *text_field(const csv_state *c, size_t j, size_t *len)
{
    const char *raw = mc_csv_field(&c->rs, j), *t = mc_csv_text(&c->rs, j);
    *len = mc_csv_field_len(&c->rs, j) - (size_t)(t - raw);
    return t;
}

/* Copies field text p (len bytes) into the block's arena; offs[idx] is its
 * offset (offs grown as needed). */
static int arena_add(csv_state *c, size_t **offs, size_t *offs_cap, size_t idx, const char *p, size_t len)
{
    if (c->arena_len + len + 1 > c->arena_cap) {
        size_t cap = c->arena_cap ? c->arena_cap : 4096;
        while (cap < c->arena_len + len + 1) cap *= 2;
        char *a = realloc(c->arena, cap);
        if (!a) return -1;
        c->arena = a;
        c->arena_cap = cap;
    }
    if (idx >= *offs_cap && mc_grow_array((void **)offs, offs_cap, idx + 1, sizeof **offs) != 0)
        return -1;
    (*offs)[idx] = c->arena_len;
    memcpy(c->arena + c->arena_len, p, len);
    c->arena[c->arena_len + len] = '\0';
    c->arena_len += len + 1;
    return 0;
}

/* Decide at the first data row whether labels are integers or names. */
static mc_status decide_label_mode(csv_state *c)
{
    if (c->label_mode != LABELS_NONE || c->col_label == NONE) return MC_OK;
    const char *t = mc_csv_field(&c->rs, c->col_label);
    size_t tl = mc_csv_field_len(&c->rs, c->col_label);
    mc_trim(&t, &tl);
    int64_t v;
    c->label_mode_line = c->rs.line;
    if (mc_parse_int64(t, tl, &v) == MC_PARSE_OK) {
        c->label_mode = LABELS_INTEGERS;
        return MC_OK;
    }
    c->label_mode = LABELS_NAMES;
    c->map = mc_label_map_new();
    return c->map ? MC_OK : mc_fail(MC_ERR_NOMEM, "out of memory");
}

/* Parse the current record into row k of the block. */
static mc_status parse_row(csv_state *c, const char *path, size_t k, float *row, int64_t *labels)
{
    if (c->rs.nf != c->ncols)
        return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": %zu fields, the header has %zu", path,
                       c->rs.line, c->rs.nf, c->ncols);
    if (c->col_vec != NONE) {
        size_t count = 0;
        mc_status st = parse_vector(c, path, row, c->dim, &count);
        if (st != MC_OK) return st;
        if (count != c->dim)
            return mc_fail(MC_ERR_BAD_DATA,
                           "%s: line %" PRIu64 ": column '%s' has %zu values, expected %zu (from line %" PRIu64 ")",
                           path, c->rs.line, col_name(c, c->col_vec), count, c->dim, c->dim_line);
    } else {
        for (size_t j = 0; j < c->dim; j++) {
            size_t col = c->emb_cols[j];
            const char *t = mc_csv_field(&c->rs, col);
            size_t tl = mc_csv_field_len(&c->rs, col);
            mc_trim(&t, &tl);
            int rc = mc_parse_float(t, tl, &row[j]);
            if (rc != MC_PARSE_OK) return value_error(c, path, col, 0, t, tl, rc);
        }
    }
    if (c->col_path != NONE) {
        size_t tl;
        const char *t = text_field(c, c->col_path, &tl);
        if (arena_add(c, &c->path_offs, &c->path_offs_cap, k, t, tl) != 0)
            return mc_fail(MC_ERR_NOMEM, "%s: line %" PRIu64 ": out of memory", path, c->rs.line);
    }
    if (c->col_photo != NONE) {
        size_t tl;
        const char *t = text_field(c, c->col_photo, &tl);
        mc_trim(&t, &tl);
        if (arena_add(c, &c->photo_offs, &c->photo_offs_cap, k, t, tl) != 0)
            return mc_fail(MC_ERR_NOMEM, "%s: line %" PRIu64 ": out of memory", path, c->rs.line);
    }
    int64_t label = -1;
    if (c->label_mode == LABELS_FROM_DIR) {
        const char *dir;
        size_t dlen;
        const char *p = c->arena + c->path_offs[k];
        mc_path_parent(p, &dir, &dlen);
        if (dlen == 0)
            return mc_fail(MC_ERR_BAD_DATA,
                           "%s: line %" PRIu64 ": path '%.200s' has no parent folder to take the label from",
                           path, c->rs.line, p);
        label = mc_label_map_id(c->map, dir, dlen);
        if (label < 0) return mc_fail(MC_ERR_NOMEM, "%s: out of memory", path);
    } else if (c->label_mode != LABELS_NONE) {
        const char *t = mc_csv_field(&c->rs, c->col_label);
        size_t tl = mc_csv_field_len(&c->rs, c->col_label);
        mc_trim(&t, &tl);
        if (tl == 0)
            return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s' is empty (no label)", path,
                           c->rs.line, col_name(c, c->col_label));
        if (c->label_mode == LABELS_INTEGERS) {
            if (mc_parse_int64(t, tl, &label) != MC_PARSE_OK)
                return mc_fail(MC_ERR_BAD_DATA,
                               "%s: line %" PRIu64 ": label '%.*s' is not an integer (line %" PRIu64
                               " has one, so every label must be)",
                               path, c->rs.line, (int)(tl > 64 ? 64 : tl), t, c->label_mode_line);
        } else {
            t = text_field(c, c->col_label, &tl);
            mc_trim(&t, &tl);
            label = mc_label_map_id(c->map, t, tl);
            if (label < 0) return mc_fail(MC_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    if (labels && c->label_mode != LABELS_NONE) labels[k] = label;
    return MC_OK;
}

static mc_status csv_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                          const char **paths, size_t *out_n)
{
    csv_state *c = r->state;
    *out_n = 0;
    if (c->failed) return mc_fail(MC_ERR_INVALID_ARG, "%s: read after an error", r->path);
    if (c->eof) return MC_OK;
    mc_status st = MC_OK;
    size_t k = 0;
    c->arena_len = 0;
    while (k < max) {
        if (c->have_rec) {
            c->have_rec = 0;
        } else {
            int rc = mc_csv_next(&c->rs, &st);
            if (rc < 0) goto fail;
            if (rc == 0) {
                c->eof = 1;
                break;
            }
        }
        st = parse_row(c, r->path, k, rows + k * c->dim, labels);
        if (st != MC_OK) goto fail;
        k++;
    }
    c->rows += k;
    if (paths && c->col_path != NONE)
        for (size_t i = 0; i < k; i++) paths[i] = c->arena + c->path_offs[i];
    if (c->col_photo != NONE) {
        if (k > c->photo_ptrs_cap &&
            mc_grow_array((void **)&c->photo_ptrs, &c->photo_ptrs_cap, k, sizeof *c->photo_ptrs) != 0) {
            st = mc_fail(MC_ERR_NOMEM, "%s: out of memory", r->path);
            goto fail;
        }
        for (size_t i = 0; i < k; i++) c->photo_ptrs[i] = c->arena + c->photo_offs[i];
        r->block_photos = c->photo_ptrs;
    }
    *out_n = k;
    return MC_OK;
fail:
    c->failed = 1;
    return st;
}

static size_t csv_label_names(const mc_reader_t *r, const char *const **out)
{
    const csv_state *c = r->state;
    *out = c->map ? mc_label_map_names(c->map) : NULL;
    return mc_label_map_count(c->map);
}

static void csv_free_state(csv_state *c)
{
    if (!c) return;
    mc_csv_close(&c->rs);
    free(c->header);
    free(c->hoffs);
    free(c->emb_cols);
    mc_label_map_free(c->map);
    free(c->arena);
    free(c->path_offs);
    free(c->photo_offs);
    free(c->photo_ptrs);
    free(c);
}

static void csv_close(mc_reader_t *r)
{
    csv_free_state(r->state);
    r->state = NULL;
}

/* The columns from the header record (in c->rs.buf): copies the names, finds
 * the path and label columns, and the value columns. */
static mc_status read_header(csv_state *c, const char *path, const mc_reader_params *p)
{
    c->ncols = c->rs.nf;
    c->header = malloc(c->rs.len);
    c->hoffs = mc_malloc_array(c->rs.nf, sizeof *c->hoffs);
    c->emb_cols = mc_malloc_array(c->rs.nf, sizeof *c->emb_cols);
    if (!c->header || !c->hoffs || !c->emb_cols) return mc_fail(MC_ERR_NOMEM, "out of memory");
    memcpy(c->header, c->rs.buf, c->rs.len);
    memcpy(c->hoffs, c->rs.offs, c->rs.nf * sizeof *c->hoffs);
    c->col_path = c->col_label = c->col_vec = c->col_photo = NONE;
    size_t ne = 0, numeric = 0;
    int sequence = 1; /* pandas writes integer column names 0, 1, 2, ... */
    for (size_t j = 0; j < c->ncols; j++) {
        const char *t = mc_csv_field(&c->rs, j);
        size_t tl = mc_csv_field_len(&c->rs, j);
        mc_trim(&t, &tl);
        if (tl == 0)
            return mc_fail(MC_ERR_BAD_DATA,
                           "%s: line %" PRIu64 ": column %zu has no name (an unnamed index column? "
                           "write the CSV without it)",
                           path, c->rs.line, j + 1);
        float f;
        int64_t iv;
        if (mc_parse_float(t, tl, &f) != MC_PARSE_NOT_NUMBER) {
            numeric++;
            if (mc_parse_int64(t, tl, &iv) != MC_PARSE_OK || iv != (int64_t)j) sequence = 0;
        }
        if (name_in(t, tl, path_names)) {
            if (c->col_path != NONE)
                return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": two path columns, '%s' and '%s'",
                               path, c->rs.line, col_name(c, c->col_path), col_name(c, j));
            c->col_path = j;
        } else if (name_in(t, tl, photo_names)) {
            if (c->col_photo != NONE)
                return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": two photo columns, '%s' and '%s'",
                               path, c->rs.line, col_name(c, c->col_photo), col_name(c, j));
            c->col_photo = j;
        } else if (name_in(t, tl, label_names)) {
            if (c->col_label != NONE)
                return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": two label columns, '%s' and '%s'",
                               path, c->rs.line, col_name(c, c->col_label), col_name(c, j));
            c->col_label = j;
        } else {
            c->emb_cols[ne++] = j;
        }
    }
    if (numeric == c->ncols && !sequence)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: line %" PRIu64 ": looks like data, not a header: a header row is required "
                       "(e.g. path,label,e0,e1,...)",
                       path, c->rs.line);
    if (ne == 0)
        return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": no embedding columns in the header", path,
                       c->rs.line);
    if (ne == 1)
        c->col_vec = c->emb_cols[0]; /* one number or the whole vector: D from the first row */
    else
        c->dim = ne;
    if (p->label_from_dir) {
        if (c->col_path == NONE)
            return mc_fail(MC_ERR_BAD_DATA,
                           "%s: line %" PRIu64 ": labels from the parent folder need a path column "
                           "(path, file, filename or image)",
                           path, c->rs.line);
        /* the folder wins over a label column, which is then ignored */
        c->label_mode = LABELS_FROM_DIR;
        c->map = mc_label_map_new();
        if (!c->map) return mc_fail(MC_ERR_NOMEM, "out of memory");
    }
    return MC_OK;
}

mc_status mc_io_open_csv(mc_reader_t *r, const mc_reader_params *p)
{
    r->state = NULL;
    if (p->labels_path)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: a separate labels file is not used for CSV; put the labels in a 'label' column",
                       r->path);
    if (p->delimiter == '"' || p->delimiter == '\n' || p->delimiter == '\r')
        return mc_fail(MC_ERR_INVALID_ARG, "%s: the CSV delimiter cannot be a quote or a line end", r->path);
    csv_state *c = calloc(1, sizeof *c);
    if (!c) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_status st = mc_csv_open(&c->rs, r->path, p->delimiter);
    if (st != MC_OK) goto fail;
    char *first;
    size_t first_len;
    int rc = mc_csv_peek(&c->rs, &first, &first_len, &st);
    if (rc < 0) goto fail;
    if (rc == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: empty file (no faces)", r->path);
        goto fail;
    }
    if (!c->rs.delim) c->rs.delim = detect_delimiter(first, first_len);
    rc = mc_csv_next(&c->rs, &st);
    if (rc < 0) goto fail;
    if (rc == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: empty file (no faces)", r->path);
        goto fail;
    }
    st = read_header(c, r->path, p);
    if (st != MC_OK) goto fail;
    rc = mc_csv_next(&c->rs, &st);
    if (rc < 0) goto fail;
    if (rc == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: a header and no rows (no faces)", r->path);
        goto fail;
    }
    if (c->rs.nf != c->ncols) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": %zu fields, the header has %zu", r->path,
                     c->rs.line, c->rs.nf, c->ncols);
        goto fail;
    }
    if (c->col_vec != NONE) {
        size_t count = 0;
        st = parse_vector(c, r->path, NULL, 0, &count);
        if (st != MC_OK) goto fail;
        if (count == 0) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s' holds no values", r->path,
                         c->rs.line, col_name(c, c->col_vec));
            goto fail;
        }
        c->dim = count;
        c->dim_line = c->rs.line;
    }
    st = decide_label_mode(c);
    if (st != MC_OK) goto fail;
    c->have_rec = 1;
    r->dim = c->dim;
    r->count = 0;
    r->has_labels = c->label_mode != LABELS_NONE;
    r->has_paths = c->col_path != NONE;
    r->has_photos = c->col_photo != NONE;
    r->state = c;
    r->next = csv_next;
    r->label_names = csv_label_names;
    r->close = csv_close;
    return MC_OK;
fail:
    csv_free_state(c);
    return st;
}

/* ---- writer --------------------------------------------------------------- */

typedef struct {
    mc_atomic_file af;
} csv_writer_state;

/* RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled. */
/* "%.9g" gives every float32 back exactly. printf writes LC_NUMERIC's
 * decimal point, so whatever stands between the digits is turned into '.'. */
static void put_float(FILE *fp, float v)
{
    char buf[64], out[64];
    snprintf(buf, sizeof buf, "%.9g", (double)v);
    size_t k = 0;
    int in_point = 0;
    for (const char *s = buf; *s && k + 1 < sizeof out; s++) {
        char ch = *s;
        if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == 'e') {
            out[k++] = ch;
            in_point = 0;
        } else if (!in_point) {
            out[k++] = '.';
            in_point = 1;
        }
    }
    out[k] = '\0';
    fputs(out, fp);
}

static mc_status csv_append(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                            const char *const *paths, const char *const *photos)
{
    csv_writer_state *s = w->state;
    if ((w->with_labels && !labels) || (w->with_paths && !paths) || (n > 0 && !rows))
        return mc_fail(MC_ERR_INVALID_ARG, "%s: rows without the labels or paths declared at open", w->path);
    FILE *fp = s->af.fp;
    for (size_t i = 0; i < n; i++) {
        const float *row = rows + i * w->dim;
        for (size_t j = 0; j < w->dim; j++)
            if (!isfinite(row[j]))
                return mc_fail(MC_ERR_BAD_DATA, "%s: row %" PRIu64 " value %zu is NaN or infinite",
                               w->path, w->rows + i, j + 1);
        int first = 1;
        if (w->with_paths) {
            mc_csv_put_field(fp, paths[i] ? paths[i] : "");
            first = 0;
        }
        if (w->with_photos) {
            if (!first) fputc(',', fp);
            mc_csv_put_field(fp, photos[i] ? photos[i] : "");
            first = 0;
        }
        if (w->with_labels) {
            fprintf(fp, first ? "%" PRId64 : ",%" PRId64, labels[i]);
            first = 0;
        }
        for (size_t j = 0; j < w->dim; j++) {
            if (!first) fputc(',', fp);
            put_float(fp, row[j]);
            first = 0;
        }
        fputs("\r\n", fp);
    }
    if (ferror(fp)) return mc_fail(MC_ERR_IO, "%s: write failed", w->path);
    return MC_OK;
}

static mc_status csv_commit(mc_writer_t *w)
{
    csv_writer_state *s = w->state;
    mc_status st = mc_atomic_commit(&s->af);
    free(s);
    w->state = NULL;
    return st;
}

static void csv_abort(mc_writer_t *w)
{
    csv_writer_state *s = w->state;
    if (s) mc_atomic_abort(&s->af);
    free(s);
    w->state = NULL;
}

mc_status mc_io_writer_csv(mc_writer_t *w, const mc_writer_params *p)
{
    (void)p;
    w->state = NULL;
    if (w->dim == 0) return mc_fail(MC_ERR_INVALID_ARG, "%s: dimension 0", w->path);
    csv_writer_state *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_status st = mc_atomic_open(&s->af, w->path);
    if (st != MC_OK) {
        free(s);
        return st;
    }
    FILE *fp = s->af.fp;
    int first = 1;
    if (w->with_paths) {
        fputs("path", fp);
        first = 0;
    }
    if (w->with_photos) {
        fputs(first ? "photo" : ",photo", fp);
        first = 0;
    }
    if (w->with_labels) {
        fputs(first ? "label" : ",label", fp);
        first = 0;
    }
    for (size_t j = 0; j < w->dim; j++) {
        fprintf(fp, first ? "e%zu" : ",e%zu", j);
        first = 0;
    }
    fputs("\r\n", fp);
    if (ferror(fp)) {
        mc_atomic_abort(&s->af);
        free(s);
        return mc_fail(MC_ERR_IO, "%s: write failed", w->path);
    }
    w->state = s;
    w->append = csv_append;
    w->set_label_names = NULL;
    w->commit = csv_commit;
    w->abort = csv_abort;
    return MC_OK;
}
