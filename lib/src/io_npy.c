/* NumPy .npy files of embeddings: the streaming float reader (versions 1.0,
 * 2.0, 3.0; float16/float32/float64) and the float32 writer (version 1.0)
 * with its optional int64 labels file. The format itself (the header, the
 * integer reader of label files) is npy_format.c's.
 *
 * The reader never maps or loads the whole array: float32 rows stored in the
 * host's byte order are read by fread straight into the caller's buffer, and
 * anything else (float16, float64, the other byte order) goes through a
 * staging buffer of at most NPY_STAGE_BYTES (or one row). Big-endian arrays
 * ('>f4', '>f8', '>f2') are byte-swapped rather than refused: they hold the
 * same values, and `astype('>f4')` makes them on any machine. '=' means the
 * host's order, as numpy reads it; '|' (no order) is refused for floats.
 *
 * Values are decoded from their bytes by hand, so the half -> float
 * conversion is exact (every float16 is a float32) and no compiler or
 * library support for _Float16 is needed. float64 values are rounded to the
 * nearest float32; a finite float64 beyond the float32 range is refused
 * rather than turned into an infinity. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes_impl.h"
#include "io_impl.h"
#include "npy_format_impl.h"

/* Staging buffer for rows that need converting: small enough to stay in
 * cache, large enough that fread calls are few. */
#define NPY_STAGE_BYTES ((size_t)1 << 20)
/* Labels per block when the writer encodes them. */
#define NPY_LABEL_CHUNK 1024

static float bits_to_float(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* float16 bits -> float32 bits, exactly. Subnormal halves (m * 2^-24) are
 * normalised: shifting m left until its bit 10 is set takes s steps, and the
 * value is 1.m' * 2^(-14-s), a float32 exponent field of 127-14-s. */
static uint32_t half_to_float_bits(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) return sign | 0x7f800000u | (mant << 13); /* Inf, NaN */
    if (exp != 0) return sign | ((exp + 112u) << 23) | (mant << 13);
    if (mant == 0) return sign; /* +-0 */
    uint32_t e = 113;
    while (!(mant & 0x400u)) {
        mant <<= 1;
        e--;
    }
    return sign | (e << 23) | ((mant & 0x3ffu) << 13);
}

/* ---- float reader ------------------------------------------------------- */

typedef struct {
    FILE *fp;
    mc_npy_header h;
    uint64_t n, row;     /* rows in the file, next row */
    size_t dim, row_bytes;
    unsigned char *stage; /* NULL when rows are read straight into the caller's buffer */
    size_t stage_rows;
    mc_label_stream *labels;
} npy_reader;

static mc_status bad_value(const char *path, uint64_t row, uint64_t offset)
{
    return mc_fail(MC_ERR_BAD_DATA, "%s: row %" PRIu64 " (byte offset %" PRIu64 "): NaN or infinite value",
                   path, row, offset);
}

/* Convert `count` float16/float64 values (or byte-swapped float32) of the
 * rows starting at row `first` into dst, refusing NaN, Inf and float64
 * values beyond the float32 range. */
static mc_status decode_rows(const npy_reader *s, const char *path, const unsigned char *src,
                             size_t count, uint64_t first, float *dst)
{
    const mc_npy_header *h = &s->h;
    for (size_t i = 0; i < count; i++) {
        uint64_t bits = mc_load_uint(src + i * h->size, h->size, h->big);
        uint64_t row = first + i / s->dim, offset = h->data_offset + (first * s->dim + i) * h->size;
        uint32_t fb;
        int bad;
        if (h->size == 2) {
            bad = ((bits >> 10) & 0x1f) == 0x1f;
            fb = half_to_float_bits((uint16_t)bits);
        } else if (h->size == 4) {
            fb = (uint32_t)bits;
            bad = mc_f32_bits_bad(fb);
        } else {
            bad = ((bits >> 52) & 0x7ff) == 0x7ff;
            double d;
            memcpy(&d, &bits, sizeof d);
            float f = bad ? 0.0f : (float)d;
            memcpy(&fb, &f, sizeof fb);
            if (!bad && mc_f32_bits_bad(fb))
                return mc_fail(MC_ERR_BAD_DATA,
                               "%s: row %" PRIu64 " (byte offset %" PRIu64
                               "): value %g is beyond the float32 range", path, row, offset, d);
        }
        if (bad) return bad_value(path, row, offset);
        dst[i] = bits_to_float(fb);
    }
    return MC_OK;
}

static mc_status npy_read_rows(npy_reader *s, const char *path, size_t n, float *rows)
{
    uint64_t offset = s->h.data_offset + s->row * s->row_bytes;
    if (!s->stage) {
        /* float32 in the host's order: straight into the caller's buffer. */
        if (fread(rows, s->row_bytes, n, s->fp) != n) return mc_npy_read_fail(s->fp, path, offset);
        size_t count = n * s->dim;
        /* One branch-free pass (vectorises); the offender is looked for
         * only when there is one. */
        int bad = 0;
        for (size_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, rows + i, sizeof u);
            bad |= mc_f32_bits_bad(u);
        }
        if (!bad) return MC_OK;
        for (size_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, rows + i, sizeof u);
            if (mc_f32_bits_bad(u)) return bad_value(path, s->row + i / s->dim, offset + i * 4);
        }
        return MC_OK;
    }
    for (size_t done = 0; done < n;) {
        size_t k = n - done < s->stage_rows ? n - done : s->stage_rows;
        uint64_t at = offset + done * s->row_bytes;
        if (fread(s->stage, s->row_bytes, k, s->fp) != k) return mc_npy_read_fail(s->fp, path, at);
        mc_status st =
            decode_rows(s, path, s->stage, k * s->dim, s->row + done, rows + done * s->dim);
        if (st != MC_OK) return st;
        done += k;
    }
    return MC_OK;
}

/* Advance the labels in step with n rows (into the caller's buffer, or
 * discarded when the caller wants none). */
static mc_status npy_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                          const char **paths, size_t *out_n)
{
    npy_reader *s = r->state;
    (void)paths;
    *out_n = 0;
    uint64_t left = s->n - s->row;
    size_t n = left < max ? (size_t)left : max;
    if (n == 0) return MC_OK;
    mc_status st = npy_read_rows(s, r->path, n, rows);
    if (st == MC_OK && s->labels)
        st = mc_label_stream_step(s->labels, n, labels, s->row, s->n, r->path);
    if (st != MC_OK) return st;
    s->row += n;
    *out_n = n;
    return MC_OK;
}

static size_t npy_label_names(const mc_reader_t *r, const char *const **out)
{
    const npy_reader *s = r->state;
    return s && s->labels ? mc_label_stream_names(s->labels, out) : 0;
}

static void npy_close(mc_reader_t *r)
{
    npy_reader *s = r->state;
    if (!s) return;
    if (s->fp) fclose(s->fp);
    mc_label_stream_free(s->labels);
    free(s->stage);
    free(s);
    r->state = NULL;
}

mc_status mc_io_open_npy(mc_reader_t *r, const mc_reader_params *p)
{
    const char *path = r->path;
    r->state = NULL;
    if (p->label_from_dir)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: labels from folder names need image paths, which .npy files do not have",
                       path);
    npy_reader *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_npy_header *h = &s->h;
    mc_status st = mc_npy_open(path, &s->fp, h);
    if (st != MC_OK) goto fail;
    if (h->kind != 'f') {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: dtype %s is not float16/float32/float64", path, h->descr);
        goto fail;
    }
    char shape[96];
    mc_npy_format_shape(h, shape, sizeof shape);
    if (h->rank != 2) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: shape %s has rank %d; expected (N, D)", path, shape, h->rank);
        goto fail;
    }
    if (h->shape[0] == 0 || h->shape[1] == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: shape %s: %s", path, shape,
                     h->shape[0] == 0 ? "no faces (N = 0)" : "dimension D = 0");
        goto fail;
    }
    /* Fortran order is only a problem with more than one column and row. */
    if (h->fortran && h->shape[0] > 1 && h->shape[1] > 1) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: Fortran-order arrays are not supported; save with np.ascontiguousarray",
                     path);
        goto fail;
    }
    if ((st = mc_npy_check_data_size(path, h)) != MC_OK) goto fail;
    if (h->shape[1] > SIZE_MAX / 8) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: dimension %" PRIu64 " is too large", path, h->shape[1]);
        goto fail;
    }
    s->n = h->shape[0];
    s->dim = (size_t)h->shape[1];
    s->row_bytes = s->dim * h->size;
    if (h->size != 4 || h->big != !mc_host_is_little_endian()) {
        s->stage_rows = NPY_STAGE_BYTES / s->row_bytes ? NPY_STAGE_BYTES / s->row_bytes : 1;
        s->stage = mc_malloc_array(s->stage_rows, s->row_bytes);
        if (!s->stage) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory for a row buffer of %zu bytes", s->row_bytes);
            goto fail;
        }
    }
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
    r->next = npy_next;
    r->label_names = npy_label_names;
    r->close = npy_close;
    return MC_OK;
fail:
    r->state = s;
    npy_close(r);
    return st;
}

/* ---- writer ------------------------------------------------------------- */

typedef struct {
    mc_atomic_file data, labels;
    int with_labels;
    uint64_t n;
    size_t dim;
    unsigned char buf[8 * NPY_LABEL_CHUNK]; /* encoding scratch */
} npy_writer;

static mc_status write_header(FILE *fp, const char *dest, const char *descr, uint64_t n, size_t d)
{
    unsigned char hdr[MC_NPY_WRITE_HEADER];
    mc_npy_make_header(hdr, descr, n, d);
    if (fseek(fp, 0, SEEK_SET) != 0 || fwrite(hdr, 1, sizeof hdr, fp) != sizeof hdr)
        return mc_fail(MC_ERR_IO, "%s: write failed: %s", dest, strerror(errno));
    return MC_OK;
}

/* The labels file of a destination: "x.npy" -> "x.labels.npy", "x" -> "x.labels.npy". */
static char *labels_path_for(const char *path)
{
    size_t len = strlen(path);
    if (len >= 4 && strcasecmp(path + len - 4, ".npy") == 0) len -= 4;
    char *out = malloc(len + sizeof ".labels.npy");
    if (!out) return NULL;
    memcpy(out, path, len);
    memcpy(out + len, ".labels.npy", sizeof ".labels.npy");
    return out;
}

static void npy_writer_free(mc_writer_t *w)
{
    npy_writer *s = w->state;
    if (!s) return;
    mc_atomic_abort(&s->data);
    mc_atomic_abort(&s->labels);
    free(s);
    w->state = NULL;
}

static mc_status npy_append(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                            const char *const *paths,
                          const char *const *photos)
{
    (void)photos; /* refused at open */
    npy_writer *s = w->state;
    (void)paths; /* .npy has no place for paths: they are dropped */
    size_t count = n * s->dim;
    if (s->with_labels && !labels)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: rows need labels", w->path);
    if (mc_host_is_little_endian()) {
        if (fwrite(rows, sizeof *rows * s->dim, n, s->data.fp) != n)
            return mc_fail(MC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    } else {
        for (size_t done = 0; done < count;) {
            size_t k = count - done < sizeof s->buf / 4 ? count - done : sizeof s->buf / 4;
            for (size_t i = 0; i < k; i++) {
                uint32_t u;
                memcpy(&u, rows + done + i, 4);
                mc_store_le(s->buf + 4 * i, u, 4);
            }
            if (fwrite(s->buf, 4, k, s->data.fp) != k)
                return mc_fail(MC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
            done += k;
        }
    }
    if (s->with_labels) {
        for (size_t done = 0; done < n;) {
            size_t k = n - done < NPY_LABEL_CHUNK ? n - done : NPY_LABEL_CHUNK;
            for (size_t i = 0; i < k; i++) mc_store_le(s->buf + 8 * i, (uint64_t)labels[done + i], 8);
            if (fwrite(s->buf, 8, k, s->labels.fp) != k)
                return mc_fail(MC_ERR_IO, "%s: write failed: %s", s->labels.final_path,
                               strerror(errno));
            done += k;
        }
    }
    s->n += n;
    return MC_OK;
}

/* Flush, fsync and close a finished temporary (no rename yet). */
/* The real N goes into both headers, then both files are committed as one. */
static mc_status npy_commit(mc_writer_t *w)
{
    npy_writer *s = w->state;
    mc_status st = write_header(s->data.fp, w->path, "<f4", s->n, s->dim);
    if (st == MC_OK && s->with_labels)
        st = write_header(s->labels.fp, s->labels.final_path, "<i8", s->n, 0);
    if (st == MC_OK) st = mc_atomic_commit_pair(&s->data, s->with_labels ? &s->labels : NULL);
    npy_writer_free(w);
    return st;
}

static void npy_abort(mc_writer_t *w) { npy_writer_free(w); }

mc_status mc_io_writer_npy(mc_writer_t *w, const mc_writer_params *p)
{
    (void)p;
    w->state = NULL;
    if (w->dim == 0) return mc_fail(MC_ERR_INVALID_ARG, "%s: dimension 0", w->path);
    npy_writer *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    s->dim = w->dim;
    s->with_labels = w->with_labels;
    w->state = s;
    mc_status st = mc_atomic_open(&s->data, w->path);
    if (st == MC_OK) st = write_header(s->data.fp, w->path, "<f4", 0, s->dim);
    if (st == MC_OK && s->with_labels) {
        char *lp = labels_path_for(w->path);
        if (!lp) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
        } else {
            st = mc_atomic_open(&s->labels, lp);
            free(lp);
            if (st == MC_OK) st = write_header(s->labels.fp, s->labels.final_path, "<i8", 0, 0);
        }
    }
    if (st != MC_OK) {
        npy_writer_free(w);
        return st;
    }
    w->append = npy_append;
    w->set_label_names = NULL;
    w->commit = npy_commit;
    w->abort = npy_abort;
    return MC_OK;
}
