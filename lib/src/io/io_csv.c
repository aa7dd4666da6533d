/* CSV embeddings (RFC 4180): a header row, an optional path column, an
 * optional photo column, an optional label column, then one column per value or one column holding the
 * whole vector. Read record by record on top of the line reader, so a quoted
 * field may span lines and memory is one record plus the caller's block. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io_impl.h"

#define NONE SIZE_MAX

enum { LABELS_NONE = 0, LABELS_INTEGERS, LABELS_NAMES, LABELS_FROM_DIR };

/* Column roles. Every column gets one, from the options or from its name;
 * the listing of them (describe_columns) is what an error and the import's
 * summary show. */
enum {
    R_NONE = 0,  /* not decided yet */
    R_PATH,      /* the path (or a face id serving as one) */
    R_FACEID,    /* a face id, unused: there is a path column */
    R_PHOTO,
    R_LABEL,
    R_EMB,       /* one value of the embedding */
    R_VEC,       /* the column holding the whole vector */
    R_QUALITY,   /* a per-face number carried to the output */
    R_IGNORE,
    R_CANDIDATE, /* one of two or more candidates for the embedding */
    R_UNKNOWN    /* no role: refused */
};

typedef struct {
    mc_csv_records rs;   /* the record reader (io_text.c) */
    int have_rec;        /* the first data record was read by the opener */
    int eof, failed;
    /* the header */
    char *header;
    size_t *hoffs;
    char **names;        /* each column's name, trimmed */
    size_t ncols;
    size_t col_path, col_label, col_vec, col_photo;
    unsigned char *role; /* each column's R_* */
    unsigned char *explicit_role; /* 1 where an option gave the role */
    size_t *emb_cols; /* column of each value (column mode) */
    size_t dim;
    int fallback;       /* the embedding is every column left without a role */
    int ambiguous;      /* two or more candidates for the embedding */
    int face_id_path;   /* the path column is a face id */
    size_t *qual_cols;  /* the quality columns, in order */
    size_t nq;
    const char **qual_names;
    float *extras;      /* this block's quality values, n x nq */
    size_t extras_cap;
    char *columns;      /* the listing of the columns and their roles */
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

/* Names compare in lower case without '_', '-', '.' and spaces: "faceId",
 * "face_id" and "Face ID" are one name. */
static const char *const path_names[] = {"path", "file", "filename", "filepath", "image", "imagepath",
                                         "imgpath", "originalpath", NULL};
/* a face's own id, the path when there is none; in order of preference */
static const char *const face_id_names[] = {"markeruid", "faceid", "id", NULL};
static const char *const photo_names[] = {"photo", "photoid", "photouid", "assetid", "fileuid", NULL};
static const char *const label_names[] = {"label", "labels", "identity", "person", "personid", "class",
                                          "subjuid", "subject", NULL};
static const char *const quality_names[] = {"detscore", "detectionscore", "score", "quality", "qualityscore",
                                            "facequality", "confidence", "facesize", "blur", "sharpness",
                                            "magnitude", "norm", NULL};
/* where a face lies in its image (Immich's asset_faces): not the embedding */
static const char *const geometry_names[] = {"boundingboxx1", "boundingboxy1", "boundingboxx2", "boundingboxy2",
                                             "imagewidth", "imageheight", NULL};
static const char *const vector_names[] = {"embedding", "embeddings", "embeddingsjson", "faceembedding", "vector",
                                           "vec", "descriptor", "encoding", "feature", "features", NULL};

/* The index in names of s (normalised as above), or -1. */
static int name_index(const char *s, const char *const *names)
{
    char norm[64];
    size_t k = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '_' || ch == '-' || ch == '.' || ch == ' ') continue;
        if (k + 1 >= sizeof norm) return -1;
        norm[k++] = (char)tolower(ch);
    }
    norm[k] = '\0';
    for (int i = 0; names[i]; i++)
        if (strcmp(norm, names[i]) == 0) return i;
    return -1;
}

static int name_in(const char *s, const char *const *names) { return name_index(s, names) >= 0; }

/* ---- records -------------------------------------------------------------- */

static const char *col_name(const csv_state *c, size_t j) { return c->header + c->hoffs[j]; }

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
static mc_status parse_vector(const csv_state *c, const char *path, size_t col, float *row, size_t cap,
                              size_t *out_count)
{
    const char *s = mc_csv_field(&c->rs, col);
    size_t len = mc_csv_field_len(&c->rs, col), i = 0;
    while (len > 0 && is_vsep(s[len - 1])) len--;
    while (i < len && is_vsep(s[i])) i++;
    /* [v], and PhotoPrism's embeddings_json [[v]] (a list of one vector) */
    for (int depth = 0; depth < 2 && i < len && s[i] == '['; depth++) {
        if (s[len - 1] != ']')
            return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s': '[' without a closing ']'",
                           path, c->rs.line, col_name(c, col));
        i++;
        len--;
        while (len > i && is_vsep(s[len - 1])) len--;
        while (i < len && is_vsep(s[i])) i++;
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
    if (tl == 0) return MC_OK; /* an unknown identity: the first label given decides */
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
        mc_status st = parse_vector(c, path, c->col_vec, row, c->dim, &count);
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
    for (size_t q = 0; q < c->nq; q++) {
        size_t col = c->qual_cols[q];
        const char *t = mc_csv_field(&c->rs, col);
        size_t tl = mc_csv_field_len(&c->rs, col);
        mc_trim(&t, &tl);
        int rc = mc_parse_float(t, tl, &c->extras[k * c->nq + q]);
        if (rc != MC_PARSE_OK) return value_error(c, path, col, 0, t, tl, rc);
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
    } else if (c->col_label != NONE) {
        const char *t = mc_csv_field(&c->rs, c->col_label);
        size_t tl = mc_csv_field_len(&c->rs, c->col_label);
        mc_trim(&t, &tl);
        mc_status st;
        /* empty: an unknown identity (Immich's personId of a face nobody named) */
        if (tl == 0) {
            label = -1;
        } else if ((st = decide_label_mode(c)) != MC_OK) {
            return st;
        } else if (c->label_mode == LABELS_INTEGERS) {
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
    if (labels && (c->label_mode == LABELS_FROM_DIR || c->col_label != NONE)) labels[k] = label;
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
    if (c->nq && max > c->extras_cap) {
        float *x = mc_malloc_array(max, c->nq * sizeof *x);
        if (!x) {
            st = mc_fail(MC_ERR_NOMEM, "%s: out of memory", r->path);
            goto fail;
        }
        free(c->extras);
        c->extras = x;
        c->extras_cap = max;
    }
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
    r->block_extras = c->extras;
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
    free(c->qual_cols);
    free(c->qual_names);
    free(c->role);
    free(c->explicit_role);
    free(c->extras);
    free(c->columns);
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

/* ---- column roles ---------------------------------------------------------- */

/* A growing one-line text (the listing of the columns). */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) MC_PRINTF(2, 3);
static void sb_add(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) {
            b->oom = 1;
            return;
        }
        b->s = t;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* A column name as shown in a message: at most 60 bytes, control characters
 * (a line break in a quoted name) as '?', so that the message stays one line. */
static void sb_name(sbuf *b, const char *name)
{
    char t[64];
    size_t k = 0;
    for (; *name && k < 60; name++) t[k++] = (unsigned char)*name < 0x20 || *name == 0x7f ? '?' : *name;
    t[k] = '\0';
    sb_add(b, "%s%s", t, *name ? "..." : "");
}

/* The column called name (exactly, else whatever its case), or NONE. */
static size_t find_column(const csv_state *c, const char *name, size_t len)
{
    for (size_t j = 0; j < c->ncols; j++)
        if (strlen(col_name(c, j)) == len && strncmp(col_name(c, j), name, len) == 0) return j;
    for (size_t j = 0; j < c->ncols; j++)
        if (strlen(col_name(c, j)) == len && strncasecmp(col_name(c, j), name, len) == 0) return j;
    return NONE;
}

/* One column given by name or 1-based number, or NONE. */
static size_t one_column(const csv_state *c, const char *s, size_t len)
{
    mc_trim(&s, &len);
    if (len == 0) return NONE;
    size_t j = find_column(c, s, len);
    if (j != NONE) return j;
    int64_t v;
    if (mc_parse_int64(s, len, &v) == MC_PARSE_OK && v >= 1 && (uint64_t)v <= c->ncols) return (size_t)v - 1;
    return NONE;
}

/* The integer at the end of a name (up to 9 digits; -1 when none) and the
 * length of what comes before it. */
static long trailing_number(const char *name, size_t *prefix_len)
{
    size_t len = strlen(name), i = len;
    while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') i--;
    *prefix_len = i;
    if (i == len || len - i > 9) return -1;
    return strtol(name + i, NULL, 10);
}

typedef struct {
    size_t col, plen;
    const char *name;
    long num;
} numbered;

static int by_prefix_number(const void *a, const void *b)
{
    const numbered *x = a, *y = b;
    size_t n = x->plen < y->plen ? x->plen : y->plen;
    int d = strncasecmp(x->name, y->name, n);
    if (d) return d;
    if (x->plen != y->plen) return x->plen < y->plen ? -1 : 1;
    if (x->num != y->num) return x->num < y->num ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col;
}

/* Adds column j to an option's list (out, *n), refusing one given a role
 * already. */
static mc_status add_listed(csv_state *c, const char *path, const char *opt, size_t j, int role, size_t *out,
                            size_t *n)
{
    if (c->explicit_role[j])
        return mc_fail(MC_ERR_INVALID_ARG, "%s: %s: column '%s' is given a role twice", path, opt, col_name(c, j));
    c->explicit_role[j] = 1;
    c->role[j] = (unsigned char)role;
    if (out) out[*n] = j;
    (*n)++;
    return MC_OK;
}

/* An option's columns (a comma-separated list of names, numbers, ranges A-B
 * and prefixes P*) take the role; out (ncols entries, or NULL) gets them in
 * order and *n their count. */
static mc_status apply_spec(csv_state *c, const char *path, const char *opt, const char *spec, int role,
                            size_t *out, size_t *n)
{
    *n = 0;
    const char *s = spec;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        const char *item = s;
        s = e ? e + 1 : s + len;
        mc_trim(&item, &len);
        if (len == 0) continue;
        size_t j = one_column(c, item, len);
        if (j != NONE) {
            mc_status st = add_listed(c, path, opt, j, role, out, n);
            if (st != MC_OK) return st;
            continue;
        }
        if (item[len - 1] == '*') { /* a prefix: its columns by the number at their end */
            size_t plen = len - 1, m = 0;
            numbered *list = mc_malloc_array(c->ncols, sizeof *list);
            if (!list) return mc_fail(MC_ERR_NOMEM, "out of memory");
            int all_numbered = 1;
            for (size_t k = 0; k < c->ncols; k++) {
                const char *name = col_name(c, k);
                if (strncasecmp(name, item, plen) != 0 || strlen(name) < plen) continue;
                size_t pl;
                long num = trailing_number(name, &pl);
                if (num < 0 || pl != plen) all_numbered = 0;
                list[m++] = (numbered){k, 0, name, num};
            }
            if (all_numbered) qsort(list, m, sizeof *list, by_prefix_number);
            mc_status st = m ? MC_OK
                             : mc_fail(MC_ERR_INVALID_ARG, "%s: %s: no column starts with '%.*s'", path, opt,
                                       (int)(plen > 64 ? 64 : plen), item);
            for (size_t k = 0; st == MC_OK && k < m; k++) st = add_listed(c, path, opt, list[k].col, role, out, n);
            free(list);
            if (st != MC_OK) return st;
            continue;
        }
        /* a range A-B: both ends columns (names or numbers), A first */
        size_t a = NONE, b = NONE;
        for (size_t i = 1; i + 1 < len && b == NONE; i++)
            if (item[i] == '-' && (a = one_column(c, item, i)) != NONE) b = one_column(c, item + i + 1, len - i - 1);
        if (b == NONE)
            return mc_fail(MC_ERR_INVALID_ARG, "%s: %s: no column '%.*s' in the header", path, opt,
                           (int)(len > 64 ? 64 : len), item);
        if (b < a)
            return mc_fail(MC_ERR_INVALID_ARG, "%s: %s: the range '%.*s' runs backwards (column %zu to %zu)", path,
                           opt, (int)(len > 64 ? 64 : len), item, a + 1, b + 1);
        for (size_t k = a; k <= b; k++) {
            mc_status st = add_listed(c, path, opt, k, role, out, n);
            if (st != MC_OK) return st;
        }
    }
    return MC_OK;
}

/* The one column that an option names (a name or a number). */
static mc_status apply_single(csv_state *c, const char *path, const char *opt, const char *spec, int role,
                              size_t *col)
{
    size_t j = one_column(c, spec, strlen(spec));
    if (j == NONE)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: %s: no column '%.64s' in the header", path, opt, spec);
    size_t n = 0;
    mc_status st = add_listed(c, path, opt, j, role, NULL, &n);
    if (st == MC_OK) *col = j;
    return st;
}

/* The embedding from the names: one column named like a vector, or a group
 * of numbered columns (one prefix, consecutive numbers from 0 or 1, at least
 * two), the largest if several; two candidates of one size are ambiguous;
 * with none, every column left is a value (as magclust always read them). */
static mc_status find_embedding(csv_state *c)
{
    size_t nvec = 0, vec = NONE, m = 0;
    numbered *list = mc_malloc_array(c->ncols + 1, sizeof *list);
    if (!list) return mc_fail(MC_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < c->ncols; j++) {
        if (c->role[j] != R_NONE) continue;
        if (name_in(col_name(c, j), vector_names)) {
            nvec++;
            vec = j;
            continue;
        }
        size_t pl;
        long num = trailing_number(col_name(c, j), &pl);
        if (num >= 0) list[m++] = (numbered){j, pl, col_name(c, j), num};
    }
    qsort(list, m, sizeof *list, by_prefix_number);
    /* the valid groups: best = the largest, ties = how many share its size */
    size_t best = NONE, best_n = 0, ties = 0, ngroups = 0;
    for (size_t i = 0; i < m;) {
        size_t k = i + 1;
        while (k < m && list[k].plen == list[i].plen && strncasecmp(list[k].name, list[i].name, list[i].plen) == 0)
            k++;
        int ok = k - i >= 2 && list[i].num <= 1;
        for (size_t t = i; ok && t < k; t++) ok = list[t].num == list[i].num + (long)(t - i);
        if (ok) {
            ngroups++;
            if (k - i > best_n) {
                best = i;
                best_n = k - i;
                ties = 1;
            } else if (k - i == best_n) {
                ties++;
            }
        }
        i = k;
    }
    if (nvec == 1 && ngroups == 0) {
        c->role[vec] = R_VEC;
        c->col_vec = vec;
    } else if (nvec == 0 && ngroups > 0 && ties == 1) {
        for (size_t t = 0; t < best_n; t++) {
            c->role[list[best + t].col] = R_EMB;
            c->emb_cols[t] = list[best + t].col;
        }
        c->dim = best_n;
    } else if (nvec == 0 && ngroups == 0) {
        size_t ne = 0;
        for (size_t j = 0; j < c->ncols; j++)
            if (c->role[j] == R_NONE) {
                c->role[j] = R_EMB;
                c->emb_cols[ne++] = j;
            }
        c->fallback = 1;
        if (ne == 1) { /* one number or the whole vector: D from the first row */
            c->role[c->emb_cols[0]] = R_VEC;
            c->col_vec = c->emb_cols[0];
        } else {
            c->dim = ne;
        }
    } else {
        /* mark every candidate: the vector columns and the largest groups */
        c->ambiguous = 1;
        for (size_t j = 0; j < c->ncols; j++)
            if (c->role[j] == R_NONE && name_in(col_name(c, j), vector_names)) c->role[j] = R_CANDIDATE;
        for (size_t i = 0; i < m;) {
            size_t k = i + 1;
            while (k < m && list[k].plen == list[i].plen &&
                   strncasecmp(list[k].name, list[i].name, list[i].plen) == 0)
                k++;
            int ok = k - i >= 2 && list[i].num <= 1;
            for (size_t t = i; ok && t < k; t++) ok = list[t].num == list[i].num + (long)(t - i);
            if (ok && (nvec > 0 || k - i == best_n))
                for (size_t t = i; t < k; t++) c->role[list[t].col] = R_CANDIDATE;
            i = k;
        }
    }
    free(list);
    return MC_OK;
}

/* The role of every column: the options', then the names'. */
static mc_status assign_roles(csv_state *c, const char *path, const mc_reader_params *p)
{
    mc_status st = MC_OK;
    size_t n = 0;
    if (p->csv_path_column &&
        (st = apply_single(c, path, "--path-column", p->csv_path_column, R_PATH, &c->col_path)) != MC_OK)
        return st;
    if (p->csv_label_column &&
        (st = apply_single(c, path, "--label-column", p->csv_label_column, R_LABEL, &c->col_label)) != MC_OK)
        return st;
    if (p->csv_photo_column &&
        (st = apply_single(c, path, "--photo-column", p->csv_photo_column, R_PHOTO, &c->col_photo)) != MC_OK)
        return st;
    if (p->csv_ignore_columns &&
        (st = apply_spec(c, path, "--ignore-columns", p->csv_ignore_columns, R_IGNORE, NULL, &n)) != MC_OK)
        return st;
    if (p->csv_quality_columns &&
        (st = apply_spec(c, path, "--quality-columns", p->csv_quality_columns, R_QUALITY, c->qual_cols, &c->nq)) !=
            MC_OK)
        return st;
    if (p->csv_embedding_columns) {
        size_t ne = 0;
        if ((st = apply_spec(c, path, "--embedding-columns", p->csv_embedding_columns, R_EMB, c->emb_cols, &ne)) !=
            MC_OK)
            return st;
        if (ne == 0)
            return mc_fail(MC_ERR_INVALID_ARG, "%s: --embedding-columns names no column", path);
        if (ne == 1) {
            c->col_vec = c->emb_cols[0];
            c->role[c->col_vec] = R_VEC;
        } else {
            c->dim = ne;
        }
    }
    /* by name; where an option gave a role, the other columns named for it are left out */
    size_t face_id = NONE;
    int face_rank = INT32_MAX;
    for (size_t j = 0; j < c->ncols; j++) {
        if (c->role[j] != R_NONE) continue;
        const char *name = col_name(c, j);
        int rank;
        size_t *slot = NULL;
        const char *what = NULL;
        if (name_in(name, path_names)) {
            slot = &c->col_path;
            what = "path";
            c->role[j] = p->csv_path_column ? R_IGNORE : R_PATH;
        } else if (name_in(name, photo_names)) {
            slot = &c->col_photo;
            what = "photo";
            c->role[j] = p->csv_photo_column ? R_IGNORE : R_PHOTO;
        } else if (name_in(name, label_names)) {
            slot = &c->col_label;
            what = "label";
            c->role[j] = p->csv_label_column ? R_IGNORE : R_LABEL;
        } else if ((rank = name_index(name, face_id_names)) >= 0) {
            c->role[j] = R_FACEID;
            if (rank < face_rank) {
                face_rank = rank;
                face_id = j;
            }
        } else if (name_in(name, geometry_names)) {
            c->role[j] = R_IGNORE;
        } else if (name_in(name, quality_names)) {
            c->role[j] = p->csv_quality_columns ? R_IGNORE : R_QUALITY;
            if (!p->csv_quality_columns) c->qual_cols[c->nq++] = j;
        }
        if (slot && c->role[j] != R_IGNORE) {
            if (*slot != NONE)
                return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": two %s columns, '%s' and '%s'", path,
                               c->rs.line, what, col_name(c, *slot), name);
            *slot = j;
        }
    }
    if (c->col_path == NONE && face_id != NONE) {
        c->role[face_id] = R_PATH;
        c->col_path = face_id;
        c->face_id_path = 1;
    }
    if (!p->csv_embedding_columns && (st = find_embedding(c)) != MC_OK) return st;
    for (size_t j = 0; j < c->ncols; j++)
        if (c->role[j] == R_NONE) c->role[j] = R_UNKNOWN;
    /* the quality columns become datasets /NAME */
    static const char *const schema[] = {"embeddings", "labels", "paths", "photo", "label_names", NULL};
    for (size_t q = 0; q < c->nq; q++) {
        const char *name = col_name(c, c->qual_cols[q]);
        c->qual_names[q] = name;
        int taken = strchr(name, '/') != NULL || strcmp(name, ".") == 0;
        for (const char *const *s = schema; *s; s++) taken |= strcmp(name, *s) == 0;
        if (taken)
            return mc_fail(MC_ERR_BAD_DATA,
                           "%s: line %" PRIu64 ": column '%s' cannot be a quality column: /%s %s; rename it", path,
                           c->rs.line, name, name, strchr(name, '/') ? "would be a group" : "is the schema's own");
        for (size_t r = 0; r < q; r++)
            if (strcmp(name, c->qual_names[r]) == 0)
                return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": two quality columns called '%s'", path,
                               c->rs.line, name);
    }
    return MC_OK;
}

/* What the first row holds in column j: 0 a number, 1 text, K >= 2 a vector
 * of K numbers. */
static size_t first_value_kind(const csv_state *c, size_t j)
{
    const char *t = mc_csv_field(&c->rs, j);
    size_t tl = mc_csv_field_len(&c->rs, j), count = 0;
    float f;
    mc_trim(&t, &tl);
    if (mc_parse_float(t, tl, &f) == MC_PARSE_OK) return 0;
    if (parse_vector(c, "", j, NULL, 0, &count) == MC_OK && count >= 2) return count;
    return 1;
}

/* Whether columns a and b are numbered with one prefix (e0, e1). */
static int same_group(const csv_state *c, size_t a, size_t b)
{
    size_t pa, pb;
    return trailing_number(col_name(c, a), &pa) >= 0 && trailing_number(col_name(c, b), &pb) >= 0 && pa == pb &&
           strncasecmp(col_name(c, a), col_name(c, b), pa) == 0;
}

/* The listing: "path (path), det_score (quality), e0..e127 (embedding,
 * 128-d)", runs of embedding columns shortened, at most about 3000 bytes. */
static char *describe_columns(const csv_state *c)
{
    sbuf b = {0};
    int first_run = 1;
    for (size_t j = 0; j < c->ncols; j++) {
        if (b.len > 3000) {
            sb_add(&b, ", ... (%zu more)", c->ncols - j);
            break;
        }
        if (j) sb_add(&b, ", ");
        int role = c->role[j];
        size_t k = j;
        if (role == R_EMB || role == R_CANDIDATE || role == R_IGNORE)
            while (k + 1 < c->ncols && c->role[k + 1] == role && (role != R_CANDIDATE || same_group(c, k, k + 1)))
                k++;
        sb_name(&b, col_name(c, j));
        if (k > j + 1 || (k == j + 1 && role != R_IGNORE)) {
            sb_add(&b, "..");
            sb_name(&b, col_name(c, k));
        } else if (k == j + 1) {
            sb_add(&b, ", ");
            sb_name(&b, col_name(c, k));
        }
        switch (role) {
        case R_PATH: sb_add(&b, c->face_id_path ? " (face id, as the path)" : " (path)"); break;
        case R_FACEID: sb_add(&b, " (ignored: a face id; the path is '%s')", col_name(c, c->col_path)); break;
        case R_PHOTO: sb_add(&b, " (photo)"); break;
        case R_LABEL: sb_add(&b, " (label)"); break;
        case R_EMB:
            if (first_run) sb_add(&b, " (embedding, %zu-d)", c->dim);
            else sb_add(&b, " (embedding)");
            first_run = 0;
            break;
        case R_VEC:
            if (c->dim) sb_add(&b, " (embedding: the vector, %zu-d)", c->dim);
            else sb_add(&b, " (embedding: the vector)");
            break;
        case R_QUALITY: sb_add(&b, " (quality, kept as /%s)", col_name(c, j)); break;
        case R_IGNORE: sb_add(&b, " (ignored)"); break;
        case R_CANDIDATE: sb_add(&b, " (embedding?)"); break;
        default: {
            size_t kind = c->rs.nf == c->ncols ? first_value_kind(c, j) : 1;
            if (kind == 0) sb_add(&b, " (no role: a number)");
            else if (kind == 1) sb_add(&b, " (no role: text)");
            else sb_add(&b, " (no role: a vector of %zu numbers)", kind);
        }
        }
        j = k;
    }
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s ? b.s : strdup("");
}

/* After the first row: the listing, and the refusals that it explains: two
 * candidates for the embedding, a column without a role, a column taken as a
 * value (no naming convention) that holds text or a whole vector. */
static mc_status check_roles(csv_state *c, const char *path)
{
    free(c->columns);
    if (!(c->columns = describe_columns(c))) return mc_fail(MC_ERR_NOMEM, "out of memory");
    if (c->ambiguous)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: line 1: more than one candidate for the embedding (marked 'embedding?'): %s; "
                       "choose with --embedding-columns (a name, a range such as e0-e127, or a prefix such as "
                       "emb_*), and leave the other out with --ignore-columns",
                       path, c->columns);
    sbuf names = {0};
    size_t unknown = 0;
    for (size_t j = 0; j < c->ncols; j++)
        if (c->role[j] == R_UNKNOWN) {
            if (names.len < 300) {
                if (unknown) sb_add(&names, ",");
                sb_name(&names, col_name(c, j));
            } else if (names.s && names.s[names.len - 1] != '.') {
                sb_add(&names, ",...");
            }
            unknown++;
        }
    if (unknown) {
        mc_status st = mc_fail(MC_ERR_BAD_DATA,
                               "%s: line 1: no role for column%s '%s' (not a known name, not part of the embedding); "
                               "the columns: %s; say what %s: --quality-columns %s keeps %s as per-face numbers, "
                               "--ignore-columns %s leaves %s out, --embedding-columns sets the embedding",
                               path, unknown > 1 ? "s" : "", names.s ? names.s : "", c->columns,
                               unknown > 1 ? "they are" : "it is", names.s ? names.s : "",
                               unknown > 1 ? "them" : "it", names.s ? names.s : "", unknown > 1 ? "them" : "it");
        free(names.s);
        return st;
    }
    free(names.s);
    if (c->fallback && c->col_vec == NONE)
        for (size_t k = 0; k < c->dim; k++) {
            size_t j = c->emb_cols[k], kind = first_value_kind(c, j);
            if (kind == 1)
                return mc_fail(MC_ERR_BAD_DATA,
                               "%s: line %" PRIu64 ": column '%s' holds text, not a number, and no column is named "
                               "like an embedding (e0..eN, or one 'embedding' column), so every column without "
                               "another role was taken as a value; the columns: %s; --ignore-columns leaves a "
                               "column out, --embedding-columns sets the embedding",
                               path, c->rs.line, col_name(c, j), c->columns);
            if (kind >= 2)
                return mc_fail(MC_ERR_BAD_DATA,
                               "%s: line %" PRIu64 ": column '%s' holds a vector of %zu numbers, not one number; "
                               "the columns: %s; --embedding-columns '%s' takes it as the embedding",
                               path, c->rs.line, col_name(c, j), kind, c->columns, col_name(c, j));
        }
    return MC_OK;
}

/* The columns from the header record (in c->rs.buf): copies the names
 * (trimmed) and gives each column its role (assign_roles). */
static mc_status read_header(csv_state *c, const char *path, const mc_reader_params *p)
{
    c->ncols = c->rs.nf;
    c->header = malloc(c->rs.len);
    c->hoffs = mc_malloc_array(c->rs.nf, sizeof *c->hoffs);
    c->emb_cols = mc_malloc_array(c->rs.nf, sizeof *c->emb_cols);
    c->qual_cols = mc_malloc_array(c->rs.nf, sizeof *c->qual_cols);
    c->qual_names = mc_malloc_array(c->rs.nf, sizeof *c->qual_names);
    c->role = calloc(c->rs.nf, 1);
    c->explicit_role = calloc(c->rs.nf, 1);
    if (!c->header || !c->hoffs || !c->emb_cols || !c->qual_cols || !c->qual_names || !c->role ||
        !c->explicit_role)
        return mc_fail(MC_ERR_NOMEM, "out of memory");
    memcpy(c->header, c->rs.buf, c->rs.len);
    memcpy(c->hoffs, c->rs.offs, c->rs.nf * sizeof *c->hoffs);
    c->col_path = c->col_label = c->col_vec = c->col_photo = NONE;
    size_t numeric = 0;
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
        /* the name, trimmed, in place */
        c->hoffs[j] += (size_t)(t - mc_csv_field(&c->rs, j));
        c->header[c->hoffs[j] + tl] = '\0';
        float f;
        int64_t iv;
        if (mc_parse_float(t, tl, &f) != MC_PARSE_NOT_NUMBER) {
            numeric++;
            if (mc_parse_int64(t, tl, &iv) != MC_PARSE_OK || iv != (int64_t)j) sequence = 0;
        }
    }
    if (numeric == c->ncols && !sequence)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: line %" PRIu64 ": looks like data, not a header: a header row is required "
                       "(e.g. path,label,e0,e1,...)",
                       path, c->rs.line);
    mc_status st = assign_roles(c, path, p);
    if (st != MC_OK) return st;
    if (c->col_vec == NONE && c->dim == 0 && !c->ambiguous)
        return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": no embedding columns in the header", path,
                       c->rs.line);
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
    if (c->col_vec != NONE && !c->ambiguous) {
        size_t count = 0;
        st = parse_vector(c, r->path, c->col_vec, NULL, 0, &count);
        if (st != MC_OK) goto fail;
        if (count == 0) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": column '%s' holds no values", r->path,
                         c->rs.line, col_name(c, c->col_vec));
            goto fail;
        }
        c->dim = count;
        c->dim_line = c->rs.line;
    }
    st = check_roles(c, r->path);
    if (st != MC_OK) goto fail;
    st = decide_label_mode(c);
    if (st != MC_OK) goto fail;
    c->have_rec = 1;
    r->dim = c->dim;
    r->count = 0;
    r->has_labels = c->label_mode != LABELS_NONE || c->col_label != NONE;
    r->has_paths = c->col_path != NONE;
    r->has_photos = c->col_photo != NONE;
    r->n_extras = c->nq;
    r->extra_names = c->qual_names;
    r->columns = c->columns;
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
                            const char *const *paths, const char *const *photos, const float *extras)
{
    (void)extras; /* refused at open */
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
