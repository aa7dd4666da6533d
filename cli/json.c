#include "json.h"

#include <math.h>

static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
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
