#include "json.h"

#include <math.h>

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

/* A JSON string. File names need not be UTF-8 and JSON must be: a byte
 * that starts no well-formed sequence becomes U+FFFD, as a decoder would
 * show it. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x80) {
            size_t n = utf8_len(p);
            if (n == 0) {
                fputs("\\ufffd", f);
            } else {
                fwrite(p, 1, n, f);
                p += n - 1;
            }
            continue;
        }
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void key(json_out *j, const char *k)
{
    if (j->need_comma) fputc(',', j->f);
    put_string(j->f, k);
    fputc(':', j->f);
    j->need_comma = 1;
}

void json_begin(json_out *j, FILE *f)
{
    j->f = f;
    j->need_comma = 0;
    fputc('{', f);
}

void json_end(json_out *j) { fputs("}\n", j->f); }

void json_key_object(json_out *j, const char *k)
{
    key(j, k);
    fputc('{', j->f);
    j->need_comma = 0;
}

void json_close_object(json_out *j)
{
    fputc('}', j->f);
    j->need_comma = 1;
}

void json_str(json_out *j, const char *k, const char *value)
{
    key(j, k);
    if (value)
        put_string(j->f, value);
    else
        fputs("null", j->f);
}

void json_num(json_out *j, const char *k, double value)
{
    key(j, k);
    if (isfinite(value))
        fprintf(j->f, "%.10g", value);
    else
        fputs("null", j->f);
}

void json_uint(json_out *j, const char *k, uint64_t value)
{
    key(j, k);
    fprintf(j->f, "%llu", (unsigned long long)value);
}

void json_null(json_out *j, const char *k)
{
    key(j, k);
    fputs("null", j->f);
}

void json_bool(json_out *j, const char *k, int value)
{
    key(j, k);
    fputs(value ? "true" : "false", j->f);
}
