/* Quality gates: parsing, formatting and resolving against a collection. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "magclust/quality.h"
#include "util_impl.h"

mc_threshold mc_threshold_off(void)
{
    mc_threshold t = {MC_THRESH_OFF, 0.0};
    return t;
}

mc_status mc_threshold_parse(const char *s, mc_threshold *out)
{
    mc_clear_error();
    if (!s || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument");
    if (strcasecmp(s, "off") == 0 || strcasecmp(s, "none") == 0) {
        *out = mc_threshold_off();
        return MC_OK;
    }
    int pct = (s[0] == 'p' || s[0] == 'P');
    const char *num = s + pct;
    char *end = NULL;
    errno = 0;
    double v = strtod(num, &end);
    if (*num == '\0' || isspace((unsigned char)*num) || end == num || *end != '\0' ||
        errno == ERANGE || !isfinite(v))
        return mc_fail(MC_ERR_INVALID_ARG,
                       "quality threshold '%s' is not a number, a percentile like p20, or off", s);
    if (pct && (v < 0.0 || v > 100.0))
        return mc_fail(MC_ERR_INVALID_ARG, "percentile '%s' is outside p0..p100", s);
    out->kind = pct ? MC_THRESH_PERCENTILE : MC_THRESH_ABSOLUTE;
    out->value = v;
    return MC_OK;
}

void mc_threshold_format(const mc_threshold *t, char *buf, size_t size)
{
    if (!buf || size == 0) return;
    if (!t || t->kind == MC_THRESH_OFF)
        snprintf(buf, size, "off");
    else if (t->kind == MC_THRESH_PERCENTILE)
        snprintf(buf, size, "p%g", t->value);
    else
        snprintf(buf, size, "%g", t->value);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double mc_percentile(const float *q, size_t n, double pct)
{
    if (!q || n == 0) return NAN;
    float *s = mc_malloc_array(n, sizeof *s);
    if (!s) return NAN;
    memcpy(s, q, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_float);
    if (pct < 0.0) pct = 0.0;
    if (pct > 100.0) pct = 100.0;
    /* numpy's default ("linear"): position (n-1)*p/100 between order statistics. */
    double pos = (double)(n - 1) * pct / 100.0;
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    double v = (double)s[lo] + frac * ((double)s[hi] - (double)s[lo]);
    free(s);
    return v;
}

double mc_threshold_resolve(const mc_threshold *t, const float *q, size_t n)
{
    if (!t || t->kind == MC_THRESH_OFF) return -INFINITY;
    if (t->kind == MC_THRESH_ABSOLUTE) return t->value;
    return mc_percentile(q, n, t->value);
}
