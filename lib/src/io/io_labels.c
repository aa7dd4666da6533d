/* Labels for the readers: a name -> id hash map, the parent folder of an
 * image path, and a labels file read in step with the rows. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "io_impl.h"
#include "npy_format_impl.h"

/* ---- name map ------------------------------------------------------------- */

/* Open addressing with linear probing over a power-of-two table kept at most
 * half full; each slot holds id + 1 (0 = empty). Hashes are kept per id so
 * that growing never rehashes the strings. */
struct mc_label_map {
    char **names;     /* by id, NUL-terminated copies */
    size_t *lens;     /* by id */
    uint64_t *hashes; /* by id */
    size_t count, ids_cap;
    size_t *slots;
    size_t n_slots;
};

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

mc_label_map *mc_label_map_new(void)
{
    mc_label_map *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->n_slots = 64;
    m->slots = mc_calloc_array(m->n_slots, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

static int map_grow_slots(mc_label_map *m)
{
    if (m->n_slots > SIZE_MAX / 2 / sizeof *m->slots) return -1;
    size_t n = m->n_slots * 2;
    size_t *slots = mc_calloc_array(n, sizeof *slots);
    if (!slots) return -1;
    for (size_t id = 0; id < m->count; id++) {
        size_t j = (size_t)m->hashes[id] & (n - 1);
        while (slots[j]) j = (j + 1) & (n - 1);
        slots[j] = id + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = n;
    return 0;
}

static int map_grow_ids(mc_label_map *m)
{
    size_t cap = m->ids_cap ? 2 * m->ids_cap : 16;
    char **names = realloc(m->names, cap * sizeof *names);
    if (!names) return -1;
    m->names = names;
    size_t *lens = realloc(m->lens, cap * sizeof *lens);
    if (!lens) return -1;
    m->lens = lens;
    uint64_t *hashes = realloc(m->hashes, cap * sizeof *hashes);
    if (!hashes) return -1;
    m->hashes = hashes;
    m->ids_cap = cap;
    return 0;
}

int64_t mc_label_map_find(const mc_label_map *m, const char *name, size_t len)
{
    uint64_t h = fnv1a(name, len);
    size_t mask = m->n_slots - 1;
    for (size_t j = (size_t)h & mask; m->slots[j]; j = (j + 1) & mask) {
        size_t id = m->slots[j] - 1;
        if (m->hashes[id] == h && m->lens[id] == len && memcmp(m->names[id], name, len) == 0)
            return (int64_t)id;
    }
    return -1;
}

int64_t mc_label_map_id(mc_label_map *m, const char *name, size_t len)
{
    uint64_t h = fnv1a(name, len);
    size_t mask = m->n_slots - 1;
    size_t j = (size_t)h & mask;
    for (; m->slots[j]; j = (j + 1) & mask) {
        size_t id = m->slots[j] - 1;
        if (m->hashes[id] == h && m->lens[id] == len && memcmp(m->names[id], name, len) == 0)
            return (int64_t)id;
    }
    if (2 * (m->count + 1) > m->n_slots) {
        if (map_grow_slots(m) != 0) return -1;
        mask = m->n_slots - 1;
        for (j = (size_t)h & mask; m->slots[j]; j = (j + 1) & mask) {
        }
    }
    if (m->count == m->ids_cap && map_grow_ids(m) != 0) return -1;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    size_t id = m->count++;
    m->names[id] = copy;
    m->lens[id] = len;
    m->hashes[id] = h;
    m->slots[j] = id + 1;
    return (int64_t)id;
}

size_t mc_label_map_count(const mc_label_map *m) { return m ? m->count : 0; }

const char *const *mc_label_map_names(const mc_label_map *m)
{
    return m ? (const char *const *)m->names : NULL;
}

void mc_label_map_free(mc_label_map *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->count; i++) free(m->names[i]);
    free(m->names);
    free(m->lens);
    free(m->hashes);
    free(m->slots);
    free(m);
}

/* ---- paths ---------------------------------------------------------------- */

static int is_sep(char c) { return c == '/' || c == '\\'; }

void mc_path_parent(const char *path, const char **out, size_t *out_len)
{
    size_t end = strlen(path);
    /* the file name */
    while (end > 0 && !is_sep(path[end - 1])) end--;
    /* the separator(s) before it: "a//b.jpg" has parent "a" */
    while (end > 0 && is_sep(path[end - 1])) end--;
    size_t start = end;
    while (start > 0 && !is_sep(path[start - 1])) start--;
    *out = path + start;
    *out_len = end - start;
}

/* ---- labels file ---------------------------------------------------------- */

enum { MODE_UNDECIDED = 0, MODE_INTEGERS, MODE_NAMES };

struct mc_label_stream {
    char *path;
    /* .npy: loaded whole */
    int is_npy;
    int64_t *npy;
    size_t npy_n;
    /* text */
    mc_line_reader lr;
    int mode;
    uint64_t mode_line;  /* the line that decided the mode */
    uint64_t blank_line; /* first blank line not yet followed by a label; 0 = none */
    mc_label_map *map;
    uint64_t taken; /* labels handed out */
    int failed;     /* a read error was reported: do not read on */
};

static int has_npy_extension(const char *path)
{
    size_t n = strlen(path);
    if (n < 4) return 0;
    const char *e = path + n - 4;
    return e[0] == '.' && tolower((unsigned char)e[1]) == 'n' &&
           tolower((unsigned char)e[2]) == 'p' && tolower((unsigned char)e[3]) == 'y';
}

mc_status mc_label_stream_open(const char *path, mc_label_stream **out)
{
    *out = NULL;
    mc_label_stream *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_status st = MC_OK;
    s->path = strdup(path);
    if (!s->path) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* .npy by its extension or its magic, whatever the name */
    s->is_npy = has_npy_extension(path);
    if (!s->is_npy) {
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            st = mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
            goto fail;
        }
        unsigned char magic[6];
        s->is_npy = mc_npy_has_magic(magic, fread(magic, 1, 6, fp));
        fclose(fp);
    }
    if (s->is_npy) {
        st = mc_npy_read_int64(path, &s->npy, &s->npy_n);
        if (st != MC_OK) goto fail;
    } else {
        st = mc_lines_open(&s->lr, s->path);
        if (st != MC_OK) goto fail;
    }
    *out = s;
    return MC_OK;
fail:
    mc_label_stream_free(s);
    return st;
}

uint64_t mc_label_stream_count(const mc_label_stream *s) { return s->is_npy ? s->npy_n : 0; }

/* One label from the text file: 1 (got one), 0 (end), -1 (*err set). */
static int text_next(mc_label_stream *s, int64_t *out, mc_status *err)
{
    if (s->failed) {
        *err = mc_fail(MC_ERR_INVALID_ARG, "%s: read after an error", s->path);
        return -1;
    }
    for (;;) {
        char *line;
        size_t len;
        int rc = mc_lines_next(&s->lr, &line, &len, err);
        if (rc < 0) {
            s->failed = 1;
            return -1;
        }
        if (rc == 0) return 0; /* blank lines at the very end are harmless */
        const char *t = line;
        mc_trim(&t, &len);
        if (len == 0) {
            if (!s->blank_line) s->blank_line = s->lr.line;
            continue;
        }
        if (s->blank_line) {
            s->failed = 1;
            *err = mc_fail(MC_ERR_BAD_DATA,
                           "%s: line %" PRIu64 ": blank line (one label per line; only the end of "
                           "the file may have blank lines)",
                           s->path, s->blank_line);
            return -1;
        }
        int64_t v;
        int is_int = mc_parse_int64(t, len, &v) == MC_PARSE_OK;
        if (s->mode == MODE_UNDECIDED) {
            s->mode = is_int ? MODE_INTEGERS : MODE_NAMES;
            s->mode_line = s->lr.line;
            if (s->mode == MODE_NAMES) {
                s->map = mc_label_map_new();
                if (!s->map) goto nomem;
            }
        }
        if (s->mode == MODE_INTEGERS) {
            if (!is_int) {
                s->failed = 1;
                *err = mc_fail(MC_ERR_BAD_DATA,
                               "%s: line %" PRIu64 ": label '%.*s' is not an integer (line %" PRIu64
                               " is, so every label must be)",
                               s->path, s->lr.line, (int)(len > 200 ? 200 : len), t, s->mode_line);
                return -1;
            }
            *out = v;
        } else {
            /* name mode: "17" is just another name */
            int64_t id = mc_label_map_id(s->map, t, len);
            if (id < 0) goto nomem;
            *out = id;
        }
        return 1;
    }
nomem:
    s->failed = 1;
    *err = mc_fail(MC_ERR_NOMEM, "%s: line %" PRIu64 ": out of memory", s->path, s->lr.line);
    return -1;
}

mc_status mc_label_stream_next(mc_label_stream *s, size_t n, int64_t *out, const char *data_path)
{
    if (s->is_npy) {
        if (n > s->npy_n - s->taken) {
            return mc_fail(MC_ERR_DIM_MISMATCH, "%s has %zu labels, fewer than the rows of %s",
                           s->path, s->npy_n, data_path);
        }
        if (out) memcpy(out, s->npy + s->taken, n * sizeof *out);
        s->taken += n;
        return MC_OK;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t v = 0;
        mc_status st = MC_OK;
        int rc = text_next(s, &v, &st);
        if (rc < 0) return st;
        if (rc == 0) {
            s->failed = 1;
            return mc_fail(MC_ERR_DIM_MISMATCH, "%s has %" PRIu64 " labels, fewer than the rows of %s",
                           s->path, s->taken, data_path);
        }
        if (out) out[i] = v;
        s->taken++;
    }
    return MC_OK;
}

mc_status mc_label_stream_step(mc_label_stream *s, size_t n, int64_t *out, uint64_t rows_done,
                               uint64_t rows_total, const char *data_path)
{
    mc_status st = mc_label_stream_next(s, n, out, data_path);
    if (st == MC_OK && rows_done + n == rows_total)
        st = mc_label_stream_finish(s, rows_total, data_path);
    return st;
}

mc_status mc_label_stream_finish(mc_label_stream *s, uint64_t rows, const char *data_path)
{
    uint64_t total;
    if (s->is_npy) {
        total = s->npy_n;
    } else {
        /* Count (and check) what is left, streaming. */
        total = s->taken;
        for (;;) {
            int64_t v;
            mc_status st = MC_OK;
            int rc = text_next(s, &v, &st);
            if (rc < 0) return st;
            if (rc == 0) break;
            total++;
        }
    }
    if (total > rows)
        return mc_fail(MC_ERR_DIM_MISMATCH, "%s has %" PRIu64 " labels, more than the %" PRIu64
                       " rows of %s", s->path, total, rows, data_path);
    if (total < rows)
        return mc_fail(MC_ERR_DIM_MISMATCH, "%s has %" PRIu64 " labels, fewer than the %" PRIu64
                       " rows of %s", s->path, total, rows, data_path);
    return MC_OK;
}

size_t mc_label_stream_names(const mc_label_stream *s, const char *const **out)
{
    if (!s || !s->map) {
        if (out) *out = NULL;
        return 0;
    }
    if (out) *out = mc_label_map_names(s->map);
    return mc_label_map_count(s->map);
}

void mc_label_stream_free(mc_label_stream *s)
{
    if (!s) return;
    mc_lines_close(&s->lr);
    mc_label_map_free(s->map);
    free(s->npy);
    free(s->path);
    free(s);
}
