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
    mc_bin_rows b; /* first: the reader's state is both */
    mc_npy_header h;
    unsigned char *stage; /* NULL when rows are read straight into the caller's buffer */
    size_t stage_rows;
} npy_reader;

/* Convert `count` float16/float64 values (or byte-swapped float32) of the
 * rows starting at row `first` into dst, refusing NaN, Inf and float64
 * values beyond the float32 range. */
static mc_status decode_rows(const npy_reader *s, const char *path, const unsigned char *src,
                             size_t count, uint64_t first, float *dst)
{
    const mc_npy_header *h = &s->h;
    for (size_t i = 0; i < count; i++) {
        uint64_t bits = mc_load_uint(src + i * h->size, h->size, h->big);
        uint64_t row = first + i / s->b.dim, offset = h->data_offset + (first * s->b.dim + i) * h->size;
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
        if (bad) return mc_f32_bad_value(path, row, offset);
        dst[i] = bits_to_float(fb);
    }
    return MC_OK;
}

static mc_status npy_read_rows(mc_bin_rows *b, const char *path, size_t n, float *rows)
{
    npy_reader *s = (npy_reader *)b;
    uint64_t offset = s->h.data_offset + b->row * b->row_bytes;
    if (!s->stage) {
        /* float32 in the host's order: straight into the caller's buffer. */
        if (fread(rows, b->row_bytes, n, b->fp) != n) return mc_read_fail(b->fp, path, offset);
        return mc_check_f32_rows(rows, n * b->dim, b->dim, b->row, offset, path);
    }
    for (size_t done = 0; done < n;) {
        size_t k = n - done < s->stage_rows ? n - done : s->stage_rows;
        uint64_t at = offset + done * b->row_bytes;
        if (fread(s->stage, b->row_bytes, k, b->fp) != k) return mc_read_fail(b->fp, path, at);
        mc_status st =
            decode_rows(s, path, s->stage, k * b->dim, b->row + done, rows + done * b->dim);
        if (st != MC_OK) return st;
        done += k;
    }
    return MC_OK;
}

static void npy_release(mc_bin_rows *b)
{
    npy_reader *s = (npy_reader *)b;
    free(s->stage);
    free(s);
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
    mc_bin_rows *b = &s->b;
    b->read = npy_read_rows;
    b->release = npy_release;
    mc_status st = mc_npy_open(path, &b->fp, h);
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
    b->n = h->shape[0];
    b->dim = (size_t)h->shape[1];
    b->row_bytes = b->dim * h->size;
    if (h->size != 4 || h->big != !mc_host_is_little_endian()) {
        s->stage_rows = NPY_STAGE_BYTES / b->row_bytes ? NPY_STAGE_BYTES / b->row_bytes : 1;
        s->stage = mc_malloc_array(s->stage_rows, b->row_bytes);
        if (!s->stage) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory for a row buffer of %zu bytes", b->row_bytes);
            goto fail;
        }
    }
    if ((st = mc_bin_rows_open_labels(b, p->labels_path, path)) != MC_OK) goto fail;
    mc_bin_rows_install(r, b);
    return MC_OK;
fail:
    mc_bin_rows_free(b);
    return st;
}

/* ---- writer ------------------------------------------------------------- */

typedef struct {
    mc_bin_writer b; /* first: the writer's state is both */
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

/* Both headers with the rows so far: N = 0 at open, holding the place of
 * the real N written before the commit. */
static mc_status npy_headers(mc_bin_writer *b)
{
    mc_status st = write_header(b->data.fp, b->data.final_path, "<f4", b->n, b->dim);
    if (st == MC_OK && b->with_labels)
        st = write_header(b->labels.fp, b->labels.final_path, "<i8", b->n, 0);
    return st;
}

static mc_status npy_put_labels(mc_bin_writer *b, size_t n, const int64_t *labels)
{
    unsigned char *buf = ((npy_writer *)b)->buf;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < NPY_LABEL_CHUNK ? n - done : NPY_LABEL_CHUNK;
        for (size_t i = 0; i < k; i++) mc_store_le(buf + 8 * i, (uint64_t)labels[done + i], 8);
        if (fwrite(buf, 8, k, b->labels.fp) != k)
            return mc_fail(MC_ERR_IO, "%s: write failed: %s", b->labels.final_path, strerror(errno));
        done += k;
    }
    return MC_OK;
}

mc_status mc_io_writer_npy(mc_writer_t *w, const mc_writer_params *p)
{
    (void)p;
    w->state = NULL;
    if (w->dim == 0) return mc_fail(MC_ERR_INVALID_ARG, "%s: dimension 0", w->path);
    npy_writer *s = calloc(1, sizeof *s);
    if (!s) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_bin_writer *b = &s->b;
    b->put_labels = npy_put_labels;
    b->finish = npy_headers;
    mc_status st = mc_bin_writer_open(b, w, ".npy", ".labels.npy");
    if (st == MC_OK) st = npy_headers(b);
    if (st != MC_OK) {
        mc_bin_writer_free(b);
        return st;
    }
    mc_bin_writer_install(w, b);
    return MC_OK;
}
