/* MagFace feature lists (inference/gen_feat.py): one face per line, the image
 * path then D floats, separated by spaces or tabs. Read line by line: memory
 * is one line plus the caller's block (and the paths of that block). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "io_impl.h"

typedef struct {
    mc_line_reader lr;
    size_t dim;
    uint64_t dim_line;   /* the line that fixed D */
    uint64_t rows;       /* rows delivered so far */
    uint64_t blank_line; /* first blank line not yet followed by a face; 0 = none */
    int have_line;       /* the first line was read by the opener, not yet delivered */
    char *line;
    size_t line_len;
    int eof, failed;
    int label_from_dir;
    mc_label_map *map;
    mc_label_stream *ls;
    /* this block's paths: NUL-terminated, back to back */
    char *arena;
    size_t arena_len, arena_cap;
    size_t *path_offs;
    size_t path_offs_cap;
} magface_state;

static int is_space(char c) { return c == ' ' || c == '\t'; }

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_space(s[i])) return 0;
    return 1;
}

/* The next line with a face: 1, 0 at the end (blank lines there are fine),
 * -1 with *err. A blank line followed by a face is refused, at its number. */
static int next_face_line(magface_state *m, const char *path, mc_status *err)
{
    if (m->have_line) {
        m->have_line = 0;
        return 1;
    }
    for (;;) {
        int rc = mc_lines_next(&m->lr, &m->line, &m->line_len, err);
        if (rc <= 0) return rc;
        if (is_blank(m->line, m->line_len)) {
            if (!m->blank_line) m->blank_line = m->lr.line;
            continue;
        }
        if (m->blank_line) {
            *err = mc_fail(MC_ERR_BAD_DATA,
                           "%s: line %" PRIu64 ": blank line (one face per line; only the end of "
                           "the file may have blank lines)",
                           path, m->blank_line);
            return -1;
        }
        return 1;
    }
}

/* Split the current line: the path token, then the values into row (up to
 * m->dim of them; row may be NULL to only count). *out_count gets the number
 * of values. */
static mc_status parse_line(magface_state *m, const char *path, float *row, const char **out_path,
                            size_t *out_path_len, size_t *out_count)
{
    const char *s = m->line;
    size_t len = m->line_len, i = 0;
    while (i < len && is_space(s[i])) i++;
    size_t p0 = i;
    while (i < len && !is_space(s[i])) i++;
    *out_path = s + p0;
    *out_path_len = i - p0;
    size_t k = 0;
    for (;;) {
        while (i < len && is_space(s[i])) i++;
        if (i == len) break;
        size_t t0 = i;
        while (i < len && !is_space(s[i])) i++;
        if (row && k < m->dim) {
            int rc = mc_parse_float(s + t0, i - t0, &row[k]);
            if (rc == MC_PARSE_NOT_NUMBER) {
                int tl = (int)(i - t0 > 64 ? 64 : i - t0);
                return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": value %zu '%.*s' is not a number%s",
                               path, m->lr.line, k + 1, tl, s + t0,
                               k == 0 ? " (image paths may not contain spaces)" : "");
            }
            if (rc == MC_PARSE_NOT_FINITE) {
                char c = s[t0] == '+' || s[t0] == '-' ? s[t0 + 1] : s[t0];
                if ((c >= '0' && c <= '9') || c == '.') {
                    int tl = (int)(i - t0 > 64 ? 64 : i - t0);
                    return mc_fail(MC_ERR_BAD_DATA,
                                   "%s: line %" PRIu64 ": value %zu '%.*s' is beyond the float32 range",
                                   path, m->lr.line, k + 1, tl, s + t0);
                }
                return mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": value %zu is NaN or infinite",
                               path, m->lr.line, k + 1);
            }
        }
        k++;
    }
    *out_count = k;
    return MC_OK;
}

/* Append a path to the block's arena; returns its offset via *off. */
static int arena_add(magface_state *m, size_t idx, const char *p, size_t len)
{
    if (m->arena_len + len + 1 > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap : 4096;
        while (cap < m->arena_len + len + 1) cap *= 2;
        char *a = realloc(m->arena, cap);
        if (!a) return -1;
        m->arena = a;
        m->arena_cap = cap;
    }
    if (idx >= m->path_offs_cap) {
        size_t cap = m->path_offs_cap ? 2 * m->path_offs_cap : 64;
        while (cap <= idx) cap *= 2;
        size_t *o = mc_malloc_array(cap, sizeof *o);
        if (!o) return -1;
        if (m->path_offs_cap) memcpy(o, m->path_offs, m->path_offs_cap * sizeof *o);
        free(m->path_offs);
        m->path_offs = o;
        m->path_offs_cap = cap;
    }
    m->path_offs[idx] = m->arena_len;
    memcpy(m->arena + m->arena_len, p, len);
    m->arena[m->arena_len + len] = '\0';
    m->arena_len += len + 1;
    return 0;
}

static mc_status magface_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                              const char **paths, size_t *out_n)
{
    magface_state *m = r->state;
    *out_n = 0;
    if (m->failed) return mc_fail(MC_ERR_INVALID_ARG, "%s: read after an error", r->path);
    if (m->eof) return MC_OK;
    mc_status st = MC_OK;
    size_t k = 0;
    m->arena_len = 0;
    while (k < max) {
        int rc = next_face_line(m, r->path, &st);
        if (rc < 0) goto fail;
        if (rc == 0) {
            m->eof = 1;
            break;
        }
        const char *p;
        size_t plen, count = 0;
        st = parse_line(m, r->path, rows + k * m->dim, &p, &plen, &count);
        if (st != MC_OK) goto fail;
        if (count != m->dim) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": %zu values, expected %zu (from line %" PRIu64 ")",
                         r->path, m->lr.line, count, m->dim, m->dim_line);
            goto fail;
        }
        /* The path is copied whether wanted or not: the folder label needs a
         * NUL-terminated copy, and it costs little next to D floats. */
        if (arena_add(m, k, p, plen) != 0) goto nomem;
        if (m->label_from_dir) {
            const char *dir;
            size_t dlen;
            mc_path_parent(m->arena + m->path_offs[k], &dir, &dlen);
            if (dlen == 0) {
                st = mc_fail(MC_ERR_BAD_DATA,
                             "%s: line %" PRIu64 ": image path '%.*s' has no parent folder to take "
                             "the label from",
                             r->path, m->lr.line, (int)(plen > 200 ? 200 : plen), p);
                goto fail;
            }
            int64_t id = mc_label_map_id(m->map, dir, dlen);
            if (id < 0) goto nomem;
            if (labels) labels[k] = id;
        }
        k++;
    }
    if (m->ls) {
        st = mc_label_stream_next(m->ls, k, labels, r->path);
        if (st != MC_OK) goto fail;
    }
    m->rows += k;
    if (m->eof && m->ls) {
        st = mc_label_stream_finish(m->ls, m->rows, r->path);
        if (st != MC_OK) goto fail;
    }
    if (paths)
        for (size_t i = 0; i < k; i++) paths[i] = m->arena + m->path_offs[i];
    *out_n = k;
    return MC_OK;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "%s: line %" PRIu64 ": out of memory", r->path, m->lr.line);
fail:
    m->failed = 1;
    return st;
}

static size_t magface_label_names(const mc_reader_t *r, const char *const **out)
{
    const magface_state *m = r->state;
    if (m->map) {
        *out = mc_label_map_names(m->map);
        return mc_label_map_count(m->map);
    }
    if (m->ls) return mc_label_stream_names(m->ls, out);
    *out = NULL;
    return 0;
}

static void magface_free_state(magface_state *m)
{
    if (!m) return;
    mc_lines_close(&m->lr);
    mc_label_map_free(m->map);
    mc_label_stream_free(m->ls);
    free(m->arena);
    free(m->path_offs);
    free(m);
}

static void magface_close(mc_reader_t *r)
{
    magface_free_state(r->state);
    r->state = NULL;
}

mc_status mc_io_open_magface(mc_reader_t *r, const mc_reader_params *p)
{
    r->state = NULL;
    if (p->label_from_dir && p->labels_path)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: labels from the parent folder and from a labels file: choose one", r->path);
    magface_state *m = calloc(1, sizeof *m);
    if (!m) return mc_fail(MC_ERR_NOMEM, "out of memory");
    float *first = NULL;
    mc_status st = mc_lines_open(&m->lr, r->path);
    if (st != MC_OK) goto fail;
    int rc = next_face_line(m, r->path, &st);
    if (rc < 0) goto fail;
    if (rc == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: empty file (no faces)", r->path);
        goto fail;
    }
    /* D from the first line; its values are checked now so that a file that
     * is not a feature list fails at open. */
    const char *path_tok;
    size_t path_len, count = 0;
    st = parse_line(m, r->path, NULL, &path_tok, &path_len, &count);
    if (st != MC_OK) goto fail;
    if (count == 0) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: line %" PRIu64 ": no values after the image path (expected 'PATH v1 v2 ... vD')",
                     r->path, m->lr.line);
        goto fail;
    }
    m->dim = count;
    m->dim_line = m->lr.line;
    first = mc_malloc_array(count, sizeof *first);
    if (!first) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for a row of %zu values", count);
        goto fail;
    }
    st = parse_line(m, r->path, first, &path_tok, &path_len, &count);
    if (st != MC_OK) goto fail;
    m->have_line = 1;
    if (p->label_from_dir) {
        m->label_from_dir = 1;
        m->map = mc_label_map_new();
        if (!m->map) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
            goto fail;
        }
    } else if (p->labels_path) {
        st = mc_label_stream_open(p->labels_path, &m->ls);
        if (st != MC_OK) goto fail;
    }
    free(first);
    r->dim = m->dim;
    r->count = 0;
    r->has_labels = m->map || m->ls;
    r->has_paths = 1;
    r->state = m;
    r->next = magface_next;
    r->label_names = magface_label_names;
    r->close = magface_close;
    return MC_OK;
fail:
    free(first);
    magface_free_state(m);
    return st;
}
