/* Text helpers shared by the text readers (magface, csv, label files): a line
 * reader and strict, locale-independent number parsing. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "io_impl.h"

/* ---- lines ---------------------------------------------------------------- */

mc_status mc_lines_open(mc_line_reader *lr, const char *path)
{
    memset(lr, 0, sizeof *lr);
    lr->path = path;
    lr->fp = fopen(path, "rb");
    if (!lr->fp) return mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return MC_OK;
}

int mc_lines_next(mc_line_reader *lr, char **out, size_t *out_len, mc_status *err)
{
    /* Byte by byte (getc_unlocked: the stream is this reader's alone), so
     * that an embedded NUL byte is seen instead of silently cutting the line
     * short, and a line is bounded: a file with no line end (/dev/zero, a
     * binary file) must not take all the memory. */
    uint64_t lim = mc_memory_limit() / 4;
    size_t max_len = lim < MC_MAX_LINE ? (size_t)lim : MC_MAX_LINE;
    size_t len = 0;
    int c = EOF;
    errno = 0;
    while ((c = getc_unlocked(lr->fp)) != EOF) {
        if (len + 2 > lr->cap) {
            if (len >= max_len) {
                *err = mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 " is longer than %zu bytes (no line end?)",
                               lr->path, lr->line + 1, max_len);
                return -1;
            }
            size_t cap = lr->cap ? 2 * lr->cap : 4096;
            char *nb = realloc(lr->buf, cap);
            if (!nb) {
                *err = mc_fail(MC_ERR_NOMEM, "%s: line %" PRIu64 ": out of memory", lr->path, lr->line + 1);
                return -1;
            }
            lr->buf = nb;
            lr->cap = cap;
        }
        lr->buf[len++] = (char)c;
        if (c == '\n') break;
        if (c == '\r') { /* CR LF, or a CR alone (old Mac line ends) */
            int next = getc_unlocked(lr->fp);
            if (next == '\n') lr->buf[len++] = '\n';
            else if (next != EOF) ungetc(next, lr->fp);
            break;
        }
    }
    if (c == EOF && ferror(lr->fp)) {
        *err = mc_fail(MC_ERR_IO, "%s: line %" PRIu64 ": read error: %s", lr->path, lr->line + 1,
                       strerror(errno));
        return -1;
    }
    if (len == 0) return 0;
    lr->buf[len] = '\0';
    char *s = lr->buf;
    lr->line++;
    lr->offset = lr->next_offset;
    lr->next_offset += (uint64_t)len;
    if (lr->line == 1 && len >= 2 &&
        ((s[0] == '\xFF' && s[1] == '\xFE') || (s[0] == '\xFE' && s[1] == '\xFF'))) {
        *err = mc_fail(MC_ERR_BAD_DATA, "%s: line 1: UTF-16 text is not supported (convert it to UTF-8)",
                       lr->path);
        return -1;
    }
    if (memchr(s, '\0', len)) {
        *err = mc_fail(MC_ERR_BAD_DATA, "%s: line %" PRIu64 ": NUL byte (binary file?)", lr->path,
                       lr->line);
        return -1;
    }
    /* a CSV field spanning lines keeps its line end as it was */
    size_t e = 0;
    if (len > 0 && s[len - 1] == '\n') len--, e++;
    if (len > 0 && s[len - 1] == '\r') len--, e++;
    memcpy(lr->eol, s + len, e);
    lr->eol[e] = '\0';
    s[len] = '\0';
    if (lr->line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        len -= 3;
        lr->offset += 3;
    }
    *out = s;
    *out_len = len;
    return 1;
}

void mc_lines_close(mc_line_reader *lr)
{
    if (lr->fp) fclose(lr->fp);
    free(lr->buf);
    lr->fp = NULL;
    lr->buf = NULL;
    lr->cap = 0;
}

/* ---- tokens --------------------------------------------------------------- */

/* Fields and label lines are trimmed of spaces and tabs only: any other byte
 * is part of the value (and refused by the parser if it has no place there). */
void mc_trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n > 0 && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    *s = p;
    *len = n;
}

/* ---- numbers -------------------------------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int lower_equals(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != word[i]) return 0;
    }
    return 1;
}

/* The grammar is checked here, by hand, and the value is then computed by
 * strtof (correctly rounded straight to float32, so there is no double
 * rounding through double). strtof honours LC_NUMERIC's decimal point, so
 * the token is rewritten without one first: "12.345e-3" becomes
 * "12345e-6". Digits, signs and 'e' mean the same in every locale, so the
 * result does not depend on setlocale() in the host program. */
int mc_parse_float(const char *s, size_t len, float *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i < len && !is_digit(s[i]) && s[i] != '.') {
        const char *w = s + i;
        size_t wl = len - i;
        if (lower_equals(w, wl, "nan") || lower_equals(w, wl, "inf") ||
            lower_equals(w, wl, "infinity"))
            return MC_PARSE_NOT_FINITE;
        return MC_PARSE_NOT_NUMBER;
    }
    size_t int0 = i;
    while (i < len && is_digit(s[i])) i++;
    size_t int_len = i - int0, frac0 = i, frac_len = 0;
    if (i < len && s[i] == '.') {
        frac0 = ++i;
        while (i < len && is_digit(s[i])) i++;
        frac_len = i - frac0;
    }
    if (int_len + frac_len == 0) return MC_PARSE_NOT_NUMBER;
    /* The exponent saturates at 10^15: far beyond float32 either way, and
     * no token in memory has that many digits to shift it back. */
    const long long exp_cap = 1000000000000000LL;
    long long ex = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        size_t e0 = i;
        while (i < len && is_digit(s[i])) {
            if (ex < exp_cap) ex = ex * 10 + (s[i] - '0');
            i++;
        }
        if (i == e0) return MC_PARSE_NOT_NUMBER;
        if (eneg) ex = -ex;
    }
    if (i != len) return MC_PARSE_NOT_NUMBER;
    if ((unsigned long long)frac_len > (unsigned long long)exp_cap) return MC_PARSE_NOT_NUMBER;
    ex -= (long long)frac_len;

    char stack[128];
    size_t need = 1 + int_len + frac_len + 24;
    char *buf = need <= sizeof stack ? stack : malloc(need);
    if (!buf) return MC_PARSE_NOT_NUMBER;
    size_t k = 0;
    if (neg) buf[k++] = '-';
    memcpy(buf + k, s + int0, int_len);
    k += int_len;
    memcpy(buf + k, s + frac0, frac_len);
    k += frac_len;
    /* the exponent, by hand: snprintf here costs a fifth of the parse */
    buf[k++] = 'e';
    if (ex < 0) {
        buf[k++] = '-';
        ex = -ex;
    }
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('0' + ex % 10);
        ex /= 10;
    } while (ex > 0);
    while (nd > 0) buf[k++] = digits[--nd];
    buf[k] = '\0';
    char *end = NULL;
    float v = strtof(buf, &end);
    int ok = end != buf && *end == '\0';
    if (buf != stack) free(buf);
    if (!ok) return MC_PARSE_NOT_NUMBER;
    /* Overflow gives +-HUGE_VALF (inf); underflow to a subnormal or to zero
     * is a fine value, as with Python's float(). */
    if (!isfinite(v)) return MC_PARSE_NOT_FINITE;
    *out = v;
    return MC_PARSE_OK;
}

int mc_parse_int64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i == len) return MC_PARSE_NOT_NUMBER;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (!is_digit(s[i])) return MC_PARSE_NOT_NUMBER;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (limit - d) / 10) return MC_PARSE_NOT_NUMBER;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return MC_PARSE_OK;
}

/* ---- RFC 4180 records ------------------------------------------------------ */

mc_status mc_csv_open(mc_csv_records *c, const char *path, char delim)
{
    memset(c, 0, sizeof *c);
    c->delim = delim;
    return mc_lines_open(&c->lr, path);
}

int mc_csv_peek(mc_csv_records *c, char **line, size_t *len, mc_status *err)
{
    if (!c->unread) {
        int rc = mc_lines_next(&c->lr, &c->peek, &c->peek_len, err);
        if (rc <= 0) return rc;
        c->unread = 1;
    }
    *line = c->peek;
    *len = c->peek_len;
    return 1;
}

/* Room for `extra` more characters in the record. */
static int rec_reserve(mc_csv_records *c, size_t extra)
{
    if (c->len + extra <= c->cap) return 0;
    size_t cap = c->cap ? c->cap : 1024;
    while (cap < c->len + extra) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    char *nb = realloc(c->buf, cap);
    if (!nb) return -1;
    c->buf = nb;
    c->cap = cap;
    return 0;
}

static int rec_new_field(mc_csv_records *c)
{
    if (c->nf == c->offs_cap) {
        size_t cap = c->offs_cap ? 2 * c->offs_cap : 64;
        size_t *no = realloc(c->offs, cap * sizeof *no);
        if (!no) return -1;
        c->offs = no;
        c->offs_cap = cap;
    }
    c->offs[c->nf++] = c->len;
    return 0;
}

static int get_line(mc_csv_records *c, char **line, size_t *len, mc_status *err)
{
    if (c->unread) {
        c->unread = 0;
        *line = c->peek;
        *len = c->peek_len;
        return 1;
    }
    return mc_lines_next(&c->lr, line, len, err);
}

static int is_blank_line(const mc_csv_records *c, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == ' ' || (s[i] == '\t' && c->delim != '\t'))) return 0;
    return 1;
}

int mc_csv_next(mc_csv_records *c, mc_status *err)
{
    const char *path = c->lr.path;
    char *line;
    size_t len;
    int rc;
    for (;;) {
        rc = get_line(c, &line, &len, err);
        if (rc <= 0) return rc;
        if (c->loose && (is_blank_line(c, line, len) || (len > 0 && line[0] == '#'))) continue;
        if (!is_blank_line(c, line, len)) break;
        if (!c->blank_line) c->blank_line = c->lr.line;
    }
    if (c->blank_line) {
        *err = mc_fail(MC_ERR_BAD_DATA,
                       "%s: line %" PRIu64 ": blank line (only the end of the file may have blank lines)",
                       path, c->blank_line);
        return -1;
    }
    c->line = c->lr.line;
    c->len = 0;
    c->nf = 0;
    if (rec_new_field(c) != 0) goto nomem;
    int inq = 0, was_quoted = 0;
    for (;;) {
        /* A line adds at most its length plus two (its end, CR LF, or the
         * final NUL) to the record: reserve once, then copy without checks. */
        if (rec_reserve(c, len + 3) != 0) goto nomem;
        char *dst = c->buf;
        size_t k = c->len;
        for (size_t i = 0; i < len; i++) {
            char ch = line[i];
            if (inq) {
                if (ch != '"')
                    dst[k++] = ch;
                else if (i + 1 < len && line[i + 1] == '"')
                    dst[k++] = line[i++];
                else
                    inq = 0;
            } else if (ch == c->delim) {
                dst[k++] = '\0';
                c->len = k;
                if (rec_new_field(c) != 0) goto nomem;
                was_quoted = 0;
            } else if (ch == '"' && !was_quoted && k == c->offs[c->nf - 1]) {
                inq = was_quoted = 1;
            } else {
                dst[k++] = ch;
            }
        }
        c->len = k;
        if (!inq) break;
        /* a line end inside quotes belongs to the field, as it was */
        for (const char *e = c->lr.eol; *e; e++) c->buf[c->len++] = *e;
        rc = get_line(c, &line, &len, err);
        if (rc < 0) return -1;
        if (rc == 0) {
            *err = mc_fail(MC_ERR_BAD_DATA,
                           "%s: line %" PRIu64 ": quoted field not closed before the end of the file",
                           path, c->line);
            return -1;
        }
    }
    c->buf[c->len++] = '\0';
    return 1;
nomem:
    *err = mc_fail(MC_ERR_NOMEM, "%s: line %" PRIu64 ": out of memory", path, c->lr.line);
    return -1;
}

static int formula_start(char ch)
{
    return ch == '=' || ch == '+' || ch == '-' || ch == '@' || ch == '\t' || ch == '\r';
}

int mc_csv_needs_guard(const char *s)
{
    while (*s == '\'') s++;
    return formula_start(*s);
}

const char *mc_csv_text(const mc_csv_records *c, size_t i)
{
    const char *s = mc_csv_field(c, i);
    return s[0] == '\'' && mc_csv_needs_guard(s) ? s + 1 : s;
}

void mc_csv_put_field(FILE *fp, const char *s)
{
    int guard = mc_csv_needs_guard(s);
    if (strpbrk(s, ",\"\r\n") == NULL) {
        if (guard) fputc('\'', fp);
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    if (guard) fputc('\'', fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

const char *mc_csv_field(const mc_csv_records *c, size_t i) { return c->buf + c->offs[i]; }

size_t mc_csv_field_len(const mc_csv_records *c, size_t i)
{
    size_t end = i + 1 < c->nf ? c->offs[i + 1] - 1 : c->len - 1;
    return end - c->offs[i];
}

void mc_csv_close(mc_csv_records *c)
{
    mc_lines_close(&c->lr);
    free(c->buf);
    free(c->offs);
    c->buf = NULL;
    c->offs = NULL;
}
