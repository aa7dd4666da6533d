/* learn-to-cluster's benchmark format: a headerless little-endian float32
 * N x D `.bin` (D given by the caller) and an optional `.meta` of labels,
 * one integer a line.
 *
 * The reader streams: rows are read by fread straight into the caller's
 * buffer, so memory does not grow with the file (benchmark files run to
 * several GB). N comes from the file size, which must be a positive multiple
 * of 4 D; sizes and offsets are 64-bit (off_t is 64-bit on the platforms we
 * build for, and _FILE_OFFSET_BITS=64 makes it so on 32-bit glibc). */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "io_impl.h"

/* Floats per conversion chunk on a big-endian host. */
#define L2C_SWAP_CHUNK 1024

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static uint32_t swap32(uint32_t u)
{
    return (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
}

/* ---- reader ------------------------------------------------------------- */

typedef struct {
    FILE *fp;
    uint64_t n, row; /* rows in the file, next row */
    size_t dim, row_bytes;
    mc_label_stream *labels;
} l2c_reader;

static mc_status l2c_read_rows(l2c_reader *s, const char *path, size_t n, float *rows)
{
    uint64_t offset = s->row * s->row_bytes;
    if (fread(rows, s->row_bytes, n, s->fp) != n) {
        if (ferror(s->fp))
            return mc_fail(MC_ERR_IO, "%s: read error near byte offset %" PRIu64 ": %s", path, offset,
                           strerror(errno));
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: truncated: the file ended near byte offset %" PRIu64
                       " (changed while being read?)", path, offset);
    }
    size_t count = n * s->dim;
    if (!host_is_little_endian())
        for (size_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, rows + i, sizeof u);
            u = swap32(u);
            memcpy(rows + i, &u, sizeof u);
        }
    /* One branch-free pass (vectorises); the offender is looked for only
     * when there is one. Bits rather than isfinite(), which -ffast-math may
     * fold to 1. */
    int bad = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, rows + i, sizeof u);
        bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    if (!bad) return MC_OK;
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, rows + i, sizeof u);
        if ((u & 0x7f800000u) == 0x7f800000u)
            return mc_fail(MC_ERR_BAD_DATA,
                           "%s: row %" PRIu64 " (byte offset %" PRIu64 "): NaN or infinite value", path,
                           s->row + i / s->dim, offset + (uint64_t)i * 4);
    }
    return MC_OK;
}

static mc_status l2c_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                          const char **paths, size_t *out_n)
{
    l2c_reader *s = r->state;
    (void)paths;
    *out_n = 0;
    uint64_t left = s->n - s->row;
    size_t n = left < max ? (size_t)left : max;
    if (n == 0) return MC_OK;
    mc_status st = l2c_read_rows(s, r->path, n, rows);
    if (st != MC_OK) return st;
    if (s->labels && (st = mc_label_stream_step(s->labels, n, labels, s->row, s->n, r->path)) != MC_OK)
        return st;
    s->row += n;
    *out_n = n;
    return MC_OK;
}

static size_t l2c_label_names(const mc_reader_t *r, const char *const **out)
{
    const l2c_reader *s = r->state;
    return s && s->labels ? mc_label_stream_names(s->labels, out) : 0;
}

static void l2c_close(mc_reader_t *r)
{
    l2c_reader *s = r->state;
    if (!s) return;
    if (s->fp) fclose(s->fp);
    mc_label_stream_free(s->labels);
    free(s);
    r->state = NULL;
}

mc_status mc_io_open_l2c(mc_reader_t *r, const mc_reader_params *p)
{
    const char *path = r->path;
    r->state = NULL;
    if (p->dim == 0)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: the l2c format needs the dimension (--dim)", path);
    if (p->label_from_dir)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: labels from folder names need image paths, which l2c files do not have",
                       path);
    if (p->dim > SIZE_MAX / 4 || (uint64_t)p->dim > UINT64_MAX / 4)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: dimension %zu is too large", path, p->dim);
    l2c_reader *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_status st = MC_OK;
    s->fp = fopen(path, "rb");
    if (!s->fp) {
        st = mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    struct stat sb;
    if (fstat(fileno(s->fp), &sb) != 0) {
        st = mc_fail(MC_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = mc_fail(MC_ERR_IO, "%s: not a regular file (the size gives N)", path);
        goto fail;
    }
    uint64_t size = (uint64_t)sb.st_size;
    s->dim = p->dim;
    s->row_bytes = s->dim * 4;
    if (size == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: empty file (no faces)", path);
        goto fail;
    }
    if (size % s->row_bytes != 0) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: size %" PRIu64 " bytes is not a multiple of D x 4 = %zu bytes (D = %zu; "
                     "truncated file, or wrong --dim?)", path, size, s->row_bytes, s->dim);
        goto fail;
    }
    s->n = size / s->row_bytes;
    if (p->labels_path) {
        if ((st = mc_label_stream_open(p->labels_path, &s->labels)) != MC_OK) goto fail;
        uint64_t k = mc_label_stream_count(s->labels);
        if (k != 0 && k != s->n) {
            st = mc_fail(MC_ERR_DIM_MISMATCH, "%s has %" PRIu64 " labels, but %s has %" PRIu64 " rows",
                         p->labels_path, k, path, s->n);
            goto fail;
        }
    }
    r->dim = s->dim;
    r->count = s->n;
    r->has_labels = s->labels != NULL;
    r->has_paths = 0;
    r->state = s;
    r->next = l2c_next;
    r->label_names = l2c_label_names;
    r->close = l2c_close;
    return MC_OK;
fail:
    r->state = s;
    l2c_close(r);
    return st;
}

/* ---- writer ------------------------------------------------------------- */

typedef struct {
    mc_atomic_file data, meta;
    int with_labels;
    size_t dim;
    uint32_t buf[L2C_SWAP_CHUNK];
} l2c_writer;

/* The .meta of a destination: "x.bin" -> "x.meta", "x" -> "x.meta". */
static char *meta_path_for(const char *path)
{
    size_t len = strlen(path);
    if (len >= 4 && strcasecmp(path + len - 4, ".bin") == 0) len -= 4;
    char *out = malloc(len + sizeof ".meta");
    if (!out) return NULL;
    memcpy(out, path, len);
    memcpy(out + len, ".meta", sizeof ".meta");
    return out;
}

static void l2c_writer_free(mc_writer_t *w)
{
    l2c_writer *s = w->state;
    if (!s) return;
    mc_atomic_abort(&s->data);
    mc_atomic_abort(&s->meta);
    free(s);
    w->state = NULL;
}

static mc_status l2c_append(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                            const char *const *paths,
                          const char *const *photos)
{
    (void)photos; /* refused at open */
    l2c_writer *s = w->state;
    (void)paths; /* the format has no place for paths: they are dropped */
    if (s->with_labels && !labels) return mc_fail(MC_ERR_INVALID_ARG, "%s: rows need labels", w->path);
    size_t count = n * s->dim;
    if (host_is_little_endian()) {
        if (fwrite(rows, sizeof *rows * s->dim, n, s->data.fp) != n)
            return mc_fail(MC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    } else {
        for (size_t done = 0; done < count;) {
            size_t k = count - done < L2C_SWAP_CHUNK ? count - done : L2C_SWAP_CHUNK;
            memcpy(s->buf, rows + done, k * 4);
            for (size_t i = 0; i < k; i++) s->buf[i] = swap32(s->buf[i]);
            if (fwrite(s->buf, 4, k, s->data.fp) != k)
                return mc_fail(MC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
            done += k;
        }
    }
    if (s->with_labels)
        for (size_t i = 0; i < n; i++)
            if (fprintf(s->meta.fp, "%" PRId64 "\n", labels[i]) < 0)
                return mc_fail(MC_ERR_IO, "%s: write failed: %s", s->meta.final_path, strerror(errno));
    return MC_OK;
}

/* Flush, fsync and close a finished temporary (no rename yet). */
static mc_status l2c_commit(mc_writer_t *w)
{
    l2c_writer *s = w->state;
    mc_status st = mc_atomic_commit_pair(&s->data, s->with_labels ? &s->meta : NULL);
    l2c_writer_free(w);
    return st;
}

static void l2c_abort(mc_writer_t *w) { l2c_writer_free(w); }

mc_status mc_io_writer_l2c(mc_writer_t *w, const mc_writer_params *p)
{
    (void)p;
    w->state = NULL;
    if (w->dim == 0) return mc_fail(MC_ERR_INVALID_ARG, "%s: dimension 0", w->path);
    l2c_writer *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    s->dim = w->dim;
    s->with_labels = w->with_labels;
    w->state = s;
    mc_status st = mc_atomic_open(&s->data, w->path);
    if (st == MC_OK && s->with_labels) {
        char *mp = meta_path_for(w->path);
        if (!mp) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
        } else {
            st = mc_atomic_open(&s->meta, mp);
            free(mp);
        }
    }
    if (st != MC_OK) {
        l2c_writer_free(w);
        return st;
    }
    w->append = l2c_append;
    w->set_label_names = NULL;
    w->commit = l2c_commit;
    w->abort = l2c_abort;
    return MC_OK;
}
