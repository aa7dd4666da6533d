/* NumPy .npy files: the streaming float reader (versions 1.0, 2.0, 3.0;
 * float16/float32/float64), the whole-file integer reader used for label
 * files, and the float32 writer (version 1.0) with its optional int64 labels
 * file.
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
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "io_impl.h"

/* numpy refuses headers over 10000 bytes by default; allow more, but bound
 * the allocation a corrupt length field can cause. */
#define NPY_MAX_HEADER ((uint32_t)1 << 20)
#define NPY_MAX_RANK 64
/* Staging buffer for rows that need converting: small enough to stay in
 * cache, large enough that fread calls are few. */
#define NPY_STAGE_BYTES ((size_t)1 << 20)
/* Labels per block when the writer encodes them. */
#define NPY_LABEL_CHUNK 1024
/* The writer's fixed header: 10 bytes of magic, version and length, then the
 * dict padded with spaces to 118 bytes ending in '\n'. 128 is a multiple of
 * 64, numpy's alignment of the data, and the dict leaves room for 20-digit N
 * and D (the longest dict is 97 bytes). */
#define NPY_WRITE_HEADER 128
#define NPY_WRITE_DICT (NPY_WRITE_HEADER - 10)

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* ---- bytes -------------------------------------------------------------- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static uint64_t load_uint(const unsigned char *p, unsigned size, int big)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned k = big ? i : size - 1 - i;
        v = (v << 8) | p[k];
    }
    return v;
}

static void store_le(unsigned char *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) p[i] = (unsigned char)(v >> (8 * i));
}

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

/* ---- header ------------------------------------------------------------- */

typedef struct {
    char kind;      /* 'f', 'i', 'u', or 0 when the descr is not a simple type */
    unsigned size;  /* bytes per element */
    int big;        /* stored big-endian */
    char descr[48]; /* the descr as written, for messages */
    int fortran;
    int rank;
    uint64_t shape[NPY_MAX_RANK];
    uint64_t data_offset; /* bytes before the array data */
    uint64_t data_bytes;  /* bytes after them in the file */
} npy_header;

typedef struct {
    const char *s;
    size_t len, pos;
    const char *path;
    uint64_t base; /* file offset of s[0] */
} hdr_cursor;

static int hc_peek(const hdr_cursor *c) { return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1; }

static void hc_skip_ws(hdr_cursor *c)
{
    while (c->pos < c->len &&
           (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
        c->pos++;
}

static mc_status hc_expected(const hdr_cursor *c, const char *what)
{
    return mc_fail(MC_ERR_BAD_DATA, "%s: malformed .npy header: expected %s at byte offset %" PRIu64,
                   c->path, what, c->base + c->pos);
}

/* A quoted Python string; *out points inside the header, escapes are kept. */
static mc_status hc_string(hdr_cursor *c, const char **out, size_t *out_len)
{
    int q = hc_peek(c);
    if (q != '\'' && q != '"') return hc_expected(c, "a quoted string");
    size_t start = ++c->pos;
    while (c->pos < c->len && c->s[c->pos] != q) {
        if (c->s[c->pos] == '\\') c->pos++;
        c->pos++;
    }
    if (c->pos >= c->len) return hc_expected(c, "the end of a string");
    *out = c->s + start;
    *out_len = c->pos - start;
    c->pos++;
    return MC_OK;
}

static int is_digit(int ch) { return ch >= '0' && ch <= '9'; }
static int is_name_char(int ch)
{
    return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

/* A non-negative integer, with Python 2's optional 'L' suffix ("(3L, 4L)"). */
static mc_status hc_uint(hdr_cursor *c, uint64_t *out)
{
    if (!is_digit(hc_peek(c))) return hc_expected(c, "a non-negative integer");
    uint64_t v = 0;
    while (is_digit(hc_peek(c))) {
        unsigned d = (unsigned)(hc_peek(c) - '0');
        if (v > (UINT64_MAX - d) / 10)
            return mc_fail(MC_ERR_BAD_DATA, "%s: .npy header: dimension too large at byte offset %" PRIu64,
                           c->path, c->base + c->pos);
        v = v * 10 + d;
        c->pos++;
    }
    if (hc_peek(c) == 'L' || hc_peek(c) == 'l') c->pos++;
    *out = v;
    return MC_OK;
}

static mc_status hc_bool(hdr_cursor *c, int *out)
{
    if (c->len - c->pos >= 4 && memcmp(c->s + c->pos, "True", 4) == 0 &&
        !is_name_char(c->pos + 4 < c->len ? (unsigned char)c->s[c->pos + 4] : 0)) {
        c->pos += 4;
        *out = 1;
        return MC_OK;
    }
    if (c->len - c->pos >= 5 && memcmp(c->s + c->pos, "False", 5) == 0 &&
        !is_name_char(c->pos + 5 < c->len ? (unsigned char)c->s[c->pos + 5] : 0)) {
        c->pos += 5;
        *out = 0;
        return MC_OK;
    }
    return hc_expected(c, "True or False");
}

/* Skip any Python literal (a structured descr is a list of tuples). */
static mc_status hc_skip_value(hdr_cursor *c, int depth)
{
    if (depth > 32) return hc_expected(c, "a less deeply nested value");
    int ch = hc_peek(c);
    if (ch == '\'' || ch == '"') {
        const char *s;
        size_t n;
        return hc_string(c, &s, &n);
    }
    if (ch == '(' || ch == '[' || ch == '{') {
        int close = ch == '(' ? ')' : ch == '[' ? ']' : '}';
        c->pos++;
        for (;;) {
            hc_skip_ws(c);
            if (hc_peek(c) == close) {
                c->pos++;
                return MC_OK;
            }
            mc_status st = hc_skip_value(c, depth + 1);
            if (st != MC_OK) return st;
            hc_skip_ws(c);
            if (hc_peek(c) == ',' || hc_peek(c) == ':') {
                c->pos++;
                continue;
            }
            if (hc_peek(c) != close) return hc_expected(c, "',' or a closing bracket");
        }
    }
    size_t start = c->pos;
    while (c->pos < c->len && (is_name_char(hc_peek(c)) || hc_peek(c) == '-' || hc_peek(c) == '+' ||
                               hc_peek(c) == '.'))
        c->pos++;
    return c->pos > start ? MC_OK : hc_expected(c, "a value");
}

static mc_status hc_shape(hdr_cursor *c, npy_header *h)
{
    if (hc_peek(c) != '(') return hc_expected(c, "a shape tuple");
    c->pos++;
    h->rank = 0;
    for (;;) {
        hc_skip_ws(c);
        if (hc_peek(c) == ')') break;
        if (h->rank == NPY_MAX_RANK) return hc_expected(c, "at most 64 dimensions");
        mc_status st = hc_uint(c, &h->shape[h->rank]);
        if (st != MC_OK) return st;
        h->rank++;
        hc_skip_ws(c);
        if (hc_peek(c) == ',') {
            c->pos++;
            continue;
        }
        if (hc_peek(c) != ')') return hc_expected(c, "',' or ')' in the shape");
    }
    c->pos++;
    return MC_OK;
}

/* Split a simple descr such as '<f4', '>i8', '|u1' into kind, size, order.
 * '|' is accepted only for one-byte types; '=' is the host's order. */
static void parse_descr(npy_header *h, const char *d, size_t len)
{
    h->kind = 0;
    if (len < 3 || len > 4) return;
    char order = d[0], kind = d[1];
    unsigned size = 0;
    for (size_t i = 2; i < len; i++) {
        if (!is_digit((unsigned char)d[i])) return;
        size = size * 10 + (unsigned)(d[i] - '0');
    }
    if (kind != 'f' && kind != 'i' && kind != 'u') return;
    if (size != 1 && size != 2 && size != 4 && size != 8) return;
    if (order == '|') {
        if (size != 1) return;
    } else if (order != '<' && order != '>' && order != '=') {
        return;
    }
    h->kind = kind;
    h->size = size;
    h->big = order == '>' || (order == '=' && !host_is_little_endian());
}

/* Parse the dict literal: keys in any order, any spacing, a trailing comma. */
static mc_status parse_dict(hdr_cursor *c, npy_header *h)
{
    int have_descr = 0, have_fortran = 0, have_shape = 0;
    mc_status st;
    hc_skip_ws(c);
    if (hc_peek(c) != '{') return hc_expected(c, "'{'");
    c->pos++;
    for (;;) {
        hc_skip_ws(c);
        if (hc_peek(c) == '}') break;
        const char *key;
        size_t klen;
        if ((st = hc_string(c, &key, &klen)) != MC_OK) return st;
        hc_skip_ws(c);
        if (hc_peek(c) != ':') return hc_expected(c, "':'");
        c->pos++;
        hc_skip_ws(c);
        if (klen == 5 && memcmp(key, "descr", 5) == 0) {
            size_t start = c->pos;
            if (hc_peek(c) == '\'' || hc_peek(c) == '"') {
                const char *d;
                size_t dlen;
                if ((st = hc_string(c, &d, &dlen)) != MC_OK) return st;
                parse_descr(h, d, dlen);
                snprintf(h->descr, sizeof h->descr, "'%.*s'", dlen > 40 ? 40 : (int)dlen, d);
            } else {
                if ((st = hc_skip_value(c, 0)) != MC_OK) return st;
                size_t n = c->pos - start;
                h->kind = 0;
                snprintf(h->descr, sizeof h->descr, "%.*s%s", n > 40 ? 40 : (int)n, c->s + start,
                         n > 40 ? "..." : "");
            }
            have_descr = 1;
        } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
            if ((st = hc_bool(c, &h->fortran)) != MC_OK) return st;
            have_fortran = 1;
        } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
            if ((st = hc_shape(c, h)) != MC_OK) return st;
            have_shape = 1;
        } else {
            /* numpy refuses such headers too ("does not contain the correct keys"). */
            return mc_fail(MC_ERR_BAD_DATA, "%s: malformed .npy header: unexpected key '%.*s'", c->path,
                           klen > 40 ? 40 : (int)klen, key);
        }
        hc_skip_ws(c);
        if (hc_peek(c) == ',') {
            c->pos++;
            continue;
        }
        if (hc_peek(c) != '}') return hc_expected(c, "',' or '}'");
    }
    c->pos++;
    hc_skip_ws(c);
    if (c->pos != c->len) return hc_expected(c, "the end of the header");
    if (!have_descr || !have_fortran || !have_shape)
        return mc_fail(MC_ERR_BAD_DATA, "%s: malformed .npy header: no '%s' key", c->path,
                       !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
    return MC_OK;
}

/* "(5,)", "(2, 3, 4)" */
static void format_shape(const npy_header *h, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < h->rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRIu64, i ? ", " : "", h->shape[i]);
    if (used < size) snprintf(buf + used, size - used, h->rank == 1 ? ",)" : ")");
}

static mc_status open_regular(const char *path, FILE **out, uint64_t *out_size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) {
        int err = errno;
        fclose(fp);
        return mc_fail(MC_ERR_IO, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(sb.st_mode)) {
        fclose(fp);
        return mc_fail(MC_ERR_IO, "%s: not a regular file", path);
    }
    *out = fp;
    *out_size = (uint64_t)sb.st_size;
    return MC_OK;
}

/* Read and parse the header; the file is left at the start of the data. */
static mc_status read_header(FILE *fp, const char *path, uint64_t file_size, npy_header *h)
{
    memset(h, 0, sizeof *h);
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, fp);
    if (got < 6 || memcmp(pre, npy_magic, 6) != 0)
        return mc_fail(MC_ERR_BAD_DATA, "%s: not a .npy file (bad magic: no \\x93NUMPY at byte offset 0)",
                       path);
    if (got < 8) return mc_fail(MC_ERR_BAD_DATA, "%s: truncated .npy header", path);
    unsigned major = pre[6], minor = pre[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: unsupported .npy version %u.%u (versions 1.0, 2.0 and 3.0 are read)", path,
                       major, minor);
    unsigned lenbytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, lenbytes, fp) != lenbytes)
        return mc_fail(MC_ERR_BAD_DATA, "%s: truncated .npy header", path);
    uint64_t hlen = load_uint(pre + 8, lenbytes, 0);
    if (hlen > NPY_MAX_HEADER)
        return mc_fail(MC_ERR_BAD_DATA, "%s: .npy header length %" PRIu64 " is implausibly large", path,
                       hlen);
    char *text = malloc(hlen ? (size_t)hlen : 1);
    if (!text) return mc_fail(MC_ERR_NOMEM, "out of memory");
    got = fread(text, 1, (size_t)hlen, fp);
    if (got != hlen) {
        free(text);
        return mc_fail(MC_ERR_BAD_DATA, "%s: truncated .npy header: expected %" PRIu64
                       " header bytes, found %zu", path, hlen, got);
    }
    /* Version 1 and 2 headers are latin-1 and version 3 UTF-8: every byte
     * that matters is ASCII either way, and only ASCII is interpreted. */
    hdr_cursor c = {text, (size_t)hlen, 0, path, 8 + lenbytes};
    mc_status st = parse_dict(&c, h);
    free(text);
    if (st != MC_OK) return st;
    h->data_offset = 8 + lenbytes + hlen;
    h->data_bytes = file_size > h->data_offset ? file_size - h->data_offset : 0;
    return MC_OK;
}

/* Compare the data size with the shape's; expected = prod(shape) * size. */
static mc_status check_data_size(const char *path, const npy_header *h)
{
    uint64_t expected = h->size;
    for (int i = 0; i < h->rank; i++) {
        if (h->shape[i] != 0 && expected > UINT64_MAX / h->shape[i])
            return mc_fail(MC_ERR_BAD_DATA, "%s: shape too large (the data size overflows)", path);
        expected *= h->shape[i];
    }
    if (h->data_bytes < expected)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: truncated: expected %" PRIu64 " bytes of data after the header, found %" PRIu64,
                       path, expected, h->data_bytes);
    if (h->data_bytes > expected)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: expected %" PRIu64 " bytes of data after the header, found %" PRIu64
                       " (trailing bytes)", path, expected, h->data_bytes);
    return MC_OK;
}

static mc_status read_fail(FILE *fp, const char *path, uint64_t offset)
{
    if (ferror(fp))
        return mc_fail(MC_ERR_IO, "%s: read error near byte offset %" PRIu64 ": %s", path, offset,
                       strerror(errno));
    return mc_fail(MC_ERR_BAD_DATA, "%s: truncated: the file ended near byte offset %" PRIu64
                   " (changed while being read?)", path, offset);
}

/* ---- float reader ------------------------------------------------------- */

typedef struct {
    FILE *fp;
    npy_header h;
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

/* Bit test for NaN and Inf: exponent all ones. Robust under -ffast-math,
 * where isfinite() may be folded to 1. */
static int f32_bits_bad(uint32_t u) { return (u & 0x7f800000u) == 0x7f800000u; }

/* Convert `count` float16/float64 values (or byte-swapped float32) of the
 * rows starting at row `first` into dst, refusing NaN, Inf and float64
 * values beyond the float32 range. */
static mc_status decode_rows(const npy_reader *s, const char *path, const unsigned char *src,
                             size_t count, uint64_t first, float *dst)
{
    const npy_header *h = &s->h;
    for (size_t i = 0; i < count; i++) {
        uint64_t bits = load_uint(src + i * h->size, h->size, h->big);
        uint64_t row = first + i / s->dim, offset = h->data_offset + (first * s->dim + i) * h->size;
        uint32_t fb;
        int bad;
        if (h->size == 2) {
            bad = ((bits >> 10) & 0x1f) == 0x1f;
            fb = half_to_float_bits((uint16_t)bits);
        } else if (h->size == 4) {
            fb = (uint32_t)bits;
            bad = f32_bits_bad(fb);
        } else {
            bad = ((bits >> 52) & 0x7ff) == 0x7ff;
            double d;
            memcpy(&d, &bits, sizeof d);
            float f = bad ? 0.0f : (float)d;
            memcpy(&fb, &f, sizeof fb);
            if (!bad && f32_bits_bad(fb))
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
        if (fread(rows, s->row_bytes, n, s->fp) != n) return read_fail(s->fp, path, offset);
        size_t count = n * s->dim;
        /* One branch-free pass (vectorises); the offender is looked for
         * only when there is one. */
        int bad = 0;
        for (size_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, rows + i, sizeof u);
            bad |= f32_bits_bad(u);
        }
        if (!bad) return MC_OK;
        for (size_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, rows + i, sizeof u);
            if (f32_bits_bad(u)) return bad_value(path, s->row + i / s->dim, offset + i * 4);
        }
        return MC_OK;
    }
    for (size_t done = 0; done < n;) {
        size_t k = n - done < s->stage_rows ? n - done : s->stage_rows;
        uint64_t at = offset + done * s->row_bytes;
        if (fread(s->stage, s->row_bytes, k, s->fp) != k) return read_fail(s->fp, path, at);
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
    uint64_t size = 0;
    mc_status st = open_regular(path, &s->fp, &size);
    if (st != MC_OK) goto fail;
    npy_header *h = &s->h;
    if ((st = read_header(s->fp, path, size, h)) != MC_OK) goto fail;
    if (h->kind != 'f') {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: dtype %s is not float16/float32/float64", path, h->descr);
        goto fail;
    }
    char shape[96];
    format_shape(h, shape, sizeof shape);
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
    if ((st = check_data_size(path, h)) != MC_OK) goto fail;
    if (h->shape[1] > SIZE_MAX / 8) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: dimension %" PRIu64 " is too large", path, h->shape[1]);
        goto fail;
    }
    s->n = h->shape[0];
    s->dim = (size_t)h->shape[1];
    s->row_bytes = s->dim * h->size;
    if (h->size != 4 || h->big != !host_is_little_endian()) {
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

/* ---- integer reader (label files) --------------------------------------- */

mc_status mc_npy_read_int64(const char *path, int64_t **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    FILE *fp = NULL;
    uint64_t size = 0;
    int64_t *vals = NULL;
    unsigned char *stage = NULL;
    npy_header h;
    mc_status st = open_regular(path, &fp, &size);
    if (st != MC_OK) return st;
    if ((st = read_header(fp, path, size, &h)) != MC_OK) goto done;
    if (h.kind != 'i' && h.kind != 'u') {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: dtype %s is not an integer type (int8..int64, uint8..uint64)",
                     path, h.descr);
        goto done;
    }
    /* (N,) or (N, 1): both orders lay the values out the same way. */
    if (h.rank != 1 && !(h.rank == 2 && h.shape[1] == 1)) {
        char shape[96];
        format_shape(&h, shape, sizeof shape);
        st = mc_fail(MC_ERR_BAD_DATA, "%s: shape %s: labels must be (N,) or (N, 1)", path, shape);
        goto done;
    }
    if ((st = check_data_size(path, &h)) != MC_OK) goto done;
    if (h.shape[0] > SIZE_MAX / sizeof(int64_t)) {
        st = mc_fail(MC_ERR_NOMEM, "%s: %" PRIu64 " labels do not fit in memory", path, h.shape[0]);
        goto done;
    }
    size_t n = (size_t)h.shape[0];
    vals = mc_malloc_array(n, sizeof *vals);
    size_t chunk = NPY_STAGE_BYTES / h.size;
    stage = malloc(NPY_STAGE_BYTES);
    if (!vals || !stage) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for %zu labels", n);
        goto done;
    }
    for (size_t done = 0; done < n;) {
        size_t k = n - done < chunk ? n - done : chunk;
        uint64_t at = h.data_offset + (uint64_t)done * h.size;
        if (fread(stage, h.size, k, fp) != k) {
            st = read_fail(fp, path, at);
            goto done;
        }
        for (size_t i = 0; i < k; i++) {
            uint64_t u = load_uint(stage + i * h.size, h.size, h.big);
            int64_t v;
            if (h.kind == 'u') {
                if (u > (uint64_t)INT64_MAX) {
                    st = mc_fail(MC_ERR_BAD_DATA,
                                 "%s: label %zu (byte offset %" PRIu64 "): value %" PRIu64
                                 " does not fit in int64", path, done + i, at + i * h.size, u);
                    goto done;
                }
                v = (int64_t)u;
            } else {
                /* Sign-extend from h.size bytes. */
                unsigned shift = 64 - 8 * h.size;
                uint64_t ext = shift ? (u << shift) : u;
                int64_t sv;
                memcpy(&sv, &ext, sizeof sv);
                v = shift ? sv / ((int64_t)1 << shift) : sv;
            }
            vals[done + i] = v;
        }
        done += k;
    }
    *out = vals;
    *out_n = n;
    vals = NULL;
done:
    free(vals);
    free(stage);
    fclose(fp);
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

/* The 128-byte version 1.0 header, written at open with N = 0 and again at
 * commit. d == 0: rank 1, (N,). */
static void make_header(unsigned char out[NPY_WRITE_HEADER], const char *descr, uint64_t n, size_t d)
{
    char dict[NPY_WRITE_DICT + 1];
    int len;
    if (d)
        len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64
                       ", %zu), }", descr, n, d);
    else
        len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64
                       ",), }", descr, n);
    MC_ASSERT(len > 0 && len < NPY_WRITE_DICT);
    memset(dict + len, ' ', (size_t)(NPY_WRITE_DICT - len));
    dict[NPY_WRITE_DICT - 1] = '\n';
    memcpy(out, npy_magic, 6);
    out[6] = 1;
    out[7] = 0;
    store_le(out + 8, NPY_WRITE_DICT, 2);
    memcpy(out + 10, dict, NPY_WRITE_DICT);
}

static mc_status write_header(FILE *fp, const char *dest, const char *descr, uint64_t n, size_t d)
{
    unsigned char hdr[NPY_WRITE_HEADER];
    make_header(hdr, descr, n, d);
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
    if (host_is_little_endian()) {
        if (fwrite(rows, sizeof *rows * s->dim, n, s->data.fp) != n)
            return mc_fail(MC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    } else {
        for (size_t done = 0; done < count;) {
            size_t k = count - done < sizeof s->buf / 4 ? count - done : sizeof s->buf / 4;
            for (size_t i = 0; i < k; i++) {
                uint32_t u;
                memcpy(&u, rows + done + i, 4);
                store_le(s->buf + 4 * i, u, 4);
            }
            if (fwrite(s->buf, 4, k, s->data.fp) != k)
                return mc_fail(MC_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
            done += k;
        }
    }
    if (s->with_labels) {
        for (size_t done = 0; done < n;) {
            size_t k = n - done < NPY_LABEL_CHUNK ? n - done : NPY_LABEL_CHUNK;
            for (size_t i = 0; i < k; i++) store_le(s->buf + 8 * i, (uint64_t)labels[done + i], 8);
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
