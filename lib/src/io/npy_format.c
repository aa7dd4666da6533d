/* The .npy format: the header parser (a small reader of the Python dict
 * literal numpy writes, keys in any order, Python 2's "3L"), the checks of
 * the data size against the shape, the whole-file integer reader used for
 * label files, and the writer's fixed header. */
#define _POSIX_C_SOURCE 200809L
#include "npy_format_impl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bytes_impl.h"

/* numpy refuses headers over 10000 bytes by default; allow more, but bound
 * the allocation a corrupt length field can cause. */
#define NPY_MAX_HEADER ((uint32_t)1 << 20)
/* Staging buffer of the integer reader. */
#define NPY_STAGE_BYTES ((size_t)1 << 20)
#define MC_NPY_WRITE_DICT (MC_NPY_WRITE_HEADER - 10)

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

int mc_npy_has_magic(const unsigned char *p, size_t n) { return n >= 6 && memcmp(p, npy_magic, 6) == 0; }

/* ---- header ------------------------------------------------------------- */

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

static mc_status hc_shape(hdr_cursor *c, mc_npy_header *h)
{
    if (hc_peek(c) != '(') return hc_expected(c, "a shape tuple");
    c->pos++;
    h->rank = 0;
    for (;;) {
        hc_skip_ws(c);
        if (hc_peek(c) == ')') break;
        if (h->rank == MC_NPY_MAX_RANK) return hc_expected(c, "at most 64 dimensions");
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
static void parse_descr(mc_npy_header *h, const char *d, size_t len)
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
    h->big = order == '>' || (order == '=' && !mc_host_is_little_endian());
}

/* Parse the dict literal: keys in any order, any spacing, a trailing comma. */
static mc_status parse_dict(hdr_cursor *c, mc_npy_header *h)
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
void mc_npy_format_shape(const mc_npy_header *h, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < h->rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRIu64, i ? ", " : "", h->shape[i]);
    if (used < size) snprintf(buf + used, size - used, h->rank == 1 ? ",)" : ")");
}

/* Read and parse the header; the file is left at the start of the data. */
static mc_status read_header(FILE *fp, const char *path, uint64_t file_size, mc_npy_header *h)
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
    uint64_t hlen = mc_load_uint(pre + 8, lenbytes, 0);
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
mc_status mc_npy_check_data_size(const char *path, const mc_npy_header *h)
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

mc_status mc_npy_open(const char *path, FILE **out_fp, mc_npy_header *h)
{
    FILE *fp = NULL;
    uint64_t size = 0;
    *out_fp = NULL;
    mc_status st = mc_open_regular(path, "", &fp, &size);
    if (st != MC_OK) return st;
    if ((st = read_header(fp, path, size, h)) != MC_OK) {
        fclose(fp);
        return st;
    }
    *out_fp = fp;
    return MC_OK;
}

/* ---- integer reader (label files) --------------------------------------- */

mc_status mc_npy_read_int64(const char *path, int64_t **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    FILE *fp = NULL;
    int64_t *vals = NULL;
    unsigned char *stage = NULL;
    mc_npy_header h;
    mc_status st = mc_npy_open(path, &fp, &h);
    if (st != MC_OK) return st;
    if (h.kind != 'i' && h.kind != 'u') {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: dtype %s is not an integer type (int8..int64, uint8..uint64)",
                     path, h.descr);
        goto done;
    }
    /* (N,) or (N, 1): both orders lay the values out the same way. */
    if (h.rank != 1 && !(h.rank == 2 && h.shape[1] == 1)) {
        char shape[96];
        mc_npy_format_shape(&h, shape, sizeof shape);
        st = mc_fail(MC_ERR_BAD_DATA, "%s: shape %s: labels must be (N,) or (N, 1)", path, shape);
        goto done;
    }
    if ((st = mc_npy_check_data_size(path, &h)) != MC_OK) goto done;
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
            st = mc_read_fail(fp, path, at);
            goto done;
        }
        for (size_t i = 0; i < k; i++) {
            uint64_t u = mc_load_uint(stage + i * h.size, h.size, h.big);
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

/* ---- writer's header ---------------------------------------------------- */

void mc_npy_make_header(unsigned char out[MC_NPY_WRITE_HEADER], const char *descr, uint64_t n, size_t d)
{
    char dict[MC_NPY_WRITE_DICT + 1];
    int len;
    if (d)
        len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64
                       ", %zu), }", descr, n, d);
    else
        len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64
                       ",), }", descr, n);
    MC_ASSERT(len > 0 && len < MC_NPY_WRITE_DICT);
    memset(dict + len, ' ', (size_t)(MC_NPY_WRITE_DICT - len));
    dict[MC_NPY_WRITE_DICT - 1] = '\n';
    memcpy(out, npy_magic, 6);
    out[6] = 1;
    out[7] = 0;
    mc_store_le(out + 8, MC_NPY_WRITE_DICT, 2);
    memcpy(out + 10, dict, MC_NPY_WRITE_DICT);
}
