/* Face embeddings: the object (unit directions, magnitudes and the optional
 * labels, paths, quality and photo groups), splitting raw rows and leaving
 * out bad ones, the getters and setters, and centring. Readers build it
 * through embeddings_impl.h (the HDF5 one is embeddings_h5.c). */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embeddings_impl.h"
#include "magclust/embeddings.h"
#include "util_impl.h"

struct mc_embeddings {
    size_t n, d;
    float *dir;         /* n*d, unit rows */
    float *mag;         /* n, L2 norms of the raw rows */
    float *quality;     /* n, or NULL: the magnitudes are the quality */
    char *quality_name; /* NULL with quality == NULL ("magnitude") */
    int64_t *labels;    /* n, or NULL */
    char **paths;       /* n pointers into path_buf, or NULL */
    char *path_buf;     /* one block holding every path, NUL-terminated */
    int64_t *groups;    /* n group ids (0.., -1 none), or NULL */
    size_t n_groups;
    char *group_name;
    size_t *source_row; /* n file rows, NULL when no row was skipped */
    size_t *skipped;    /* n_skipped file rows left out (skip_bad_rows), or NULL */
    size_t n_skipped;
    int centered;       /* a mean direction was removed (center_ex / center_by) */
};

/* ---- rows --------------------------------------------------------------- */

/* Split one row (float or double source) into direction and magnitude. The
 * norm is scaled by the largest |x| first so that neither float64 input near
 * DBL_MAX nor tiny values overflow or underflow in the sum of squares. */
#define MC_SPLIT_ROW_BODY                                                                      \
    double amax = 0.0;                                                                         \
    for (size_t j = 0; j < d; j++) {                                                           \
        double v = (double)src[j];                                                             \
        if (!isfinite(v)) return 1;                                                            \
        double a = fabs(v);                                                                    \
        if (a > amax) amax = a;                                                                \
    }                                                                                          \
    if (amax == 0.0) return 2;                                                                 \
    double ss = 0.0;                                                                           \
    for (size_t j = 0; j < d; j++) {                                                           \
        double v = (double)src[j] / amax;                                                      \
        ss += v * v;                                                                           \
    }                                                                                          \
    double norm = amax * sqrt(ss);                                                             \
    if (!(norm <= (double)FLT_MAX) || (float)norm == 0.0f) return 3;                           \
    for (size_t j = 0; j < d; j++) dst[j] = (float)((double)src[j] / norm);                    \
    *out_mag = (float)norm;                                                                    \
    return 0;

/* 0: ok; 1: NaN/Inf; 2: zero norm; 3: norm outside the float32 range.
 * src and dst may alias (float input normalised in place). */
int mc_split_row_f(const float *src, size_t d, float *dst, float *out_mag)
{
    MC_SPLIT_ROW_BODY
}

int mc_split_row_d(const double *src, size_t d, float *dst, float *out_mag)
{
    MC_SPLIT_ROW_BODY
}

#undef MC_SPLIT_ROW_BODY

/* Turn split_row_* codes into a status naming the (0-based) row. */
mc_status mc_split_row_fail(int code, const char *what, size_t row)
{
    switch (code) {
    case 1: return mc_fail_reason(MC_REASON_BAD_ROW, MC_ERR_BAD_DATA, "%s row %zu has a NaN or Inf value", what, row);
    case 2: return mc_fail_reason(MC_REASON_BAD_ROW, MC_ERR_BAD_DATA, "%s row %zu is all zeros (norm 0)", what, row);
    default:
        return mc_fail_reason(MC_REASON_BAD_ROW, MC_ERR_BAD_DATA,
                              "%s row %zu has a norm outside the float32 range", what, row);
    }
}

/* ---- object ------------------------------------------------------------- */

mc_embeddings_t *mc_embeddings_alloc(size_t n, size_t d)
{
    mc_embeddings_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->n = n;
    e->d = d;
    e->dir = (n && d && n > SIZE_MAX / d) ? NULL : mc_malloc_array(n * d, sizeof(float));
    e->mag = mc_malloc_array(n, sizeof(float));
    if (!e->dir || !e->mag) {
        free(e->dir);
        free(e->mag);
        free(e);
        return NULL;
    }
    return e;
}

void mc_embeddings_free(mc_embeddings_t *e)
{
    if (!e) return;
    free(e->dir);
    free(e->mag);
    free(e->quality);
    free(e->quality_name);
    free(e->labels);
    free(e->paths);
    free(e->path_buf);
    free(e->groups);
    free(e->group_name);
    free(e->source_row);
    free(e->skipped);
    free(e);
}

float *mc_embeddings_directions_mut(mc_embeddings_t *e) { return e->dir; }

float *mc_embeddings_magnitudes_mut(mc_embeddings_t *e) { return e->mag; }

void mc_embeddings_take_labels(mc_embeddings_t *e, int64_t *labels)
{
    free(e->labels);
    e->labels = labels;
}

void mc_embeddings_take_paths(mc_embeddings_t *e, char **paths, char *buf)
{
    free(e->paths);
    free(e->path_buf);
    e->paths = paths;
    e->path_buf = buf;
}

void mc_embeddings_take_quality(mc_embeddings_t *e, float *quality, char *name)
{
    free(e->quality);
    free(e->quality_name);
    e->quality = quality;
    e->quality_name = name;
}

void mc_embeddings_take_groups(mc_embeddings_t *e, int64_t *groups, size_t n_groups, char *name)
{
    free(e->groups);
    free(e->group_name);
    e->groups = groups;
    e->n_groups = n_groups;
    e->group_name = name;
}

/* A path table: n pointers into one buffer of total_chars + n bytes. */
mc_status mc_paths_alloc(size_t n, size_t total_chars, char ***out_paths, char **out_buf)
{
    *out_paths = NULL;
    *out_buf = NULL;
    if (total_chars > SIZE_MAX - n) return mc_fail(MC_ERR_NOMEM, "paths too large");
    char **paths = mc_malloc_array(n, sizeof *paths);
    char *buf = malloc(total_chars + n ? total_chars + n : 1);
    if (!paths || !buf) {
        free(paths);
        free(buf);
        return mc_fail(MC_ERR_NOMEM, "out of memory for %zu paths", n);
    }
    *out_paths = paths;
    *out_buf = buf;
    return MC_OK;
}

/* Copy n C strings (NULL entries become "") into a fresh path table. */
mc_status mc_paths_copy(size_t n, const char *const *src, char ***out_paths, char **out_buf)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = src[i] ? strlen(src[i]) : 0;
        if (len > SIZE_MAX - total) return mc_fail(MC_ERR_NOMEM, "paths too large");
        total += len;
    }
    mc_status st = mc_paths_alloc(n, total, out_paths, out_buf);
    if (st != MC_OK) return st;
    char *w = *out_buf;
    for (size_t i = 0; i < n; i++) {
        size_t len = src[i] ? strlen(src[i]) : 0;
        if (len) memcpy(w, src[i], len);
        w[len] = '\0';
        (*out_paths)[i] = w;
        w += len + 1;
    }
    return MC_OK;
}

mc_status mc_embeddings_new(const float *raw, size_t n, size_t d, mc_embeddings_t **out)
{
    mc_clear_error();
    if (!out) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_new: out is NULL");
    *out = NULL;
    if (n == 0 || d == 0)
        return mc_fail(MC_ERR_BAD_DATA, "mc_embeddings_new: no data (%zu rows x %zu columns)", n,
                       d);
    if (!raw) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_new: raw is NULL");
    if (n > SIZE_MAX / d || n * d > SIZE_MAX / sizeof(float))
        return mc_fail(MC_ERR_NOMEM, "mc_embeddings_new: %zu x %zu floats do not fit in memory",
                       n, d);
    mc_embeddings_t *e = mc_embeddings_alloc(n, d);
    if (!e) return mc_fail(MC_ERR_NOMEM, "out of memory for %zu x %zu embeddings", n, d);
    for (size_t i = 0; i < n; i++) {
        int code = mc_split_row_f(raw + i * d, d, e->dir + i * d, &e->mag[i]);
        if (code) {
            mc_embeddings_free(e);
            return mc_split_row_fail(code, "embeddings", i);
        }
    }
    *out = e;
    return MC_OK;
}

mc_status mc_embeddings_set_labels(mc_embeddings_t *e, const int64_t *labels)
{
    mc_clear_error();
    if (!e) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_set_labels: e is NULL");
    int64_t *copy = NULL;
    if (labels) {
        copy = mc_malloc_array(e->n, sizeof *copy);
        if (!copy) return mc_fail(MC_ERR_NOMEM, "out of memory for %zu labels", e->n);
        memcpy(copy, labels, e->n * sizeof *copy);
    }
    free(e->labels);
    e->labels = copy;
    return MC_OK;
}

mc_status mc_embeddings_set_paths(mc_embeddings_t *e, const char *const *paths)
{
    mc_clear_error();
    if (!e) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_set_paths: e is NULL");
    char **table = NULL;
    char *buf = NULL;
    if (paths) {
        mc_status st = mc_paths_copy(e->n, paths, &table, &buf);
        if (st != MC_OK) return st;
    }
    free(e->paths);
    free(e->path_buf);
    e->paths = table;
    e->path_buf = buf;
    return MC_OK;
}

mc_status mc_embeddings_set_quality(mc_embeddings_t *e, const float *quality, const char *name)
{
    mc_clear_error();
    if (!e) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_set_quality: e is NULL");
    if (!quality) {
        free(e->quality);
        free(e->quality_name);
        e->quality = NULL;
        e->quality_name = NULL;
        return MC_OK;
    }
    for (size_t i = 0; i < e->n; i++)
        if (!isfinite(quality[i]))
            return mc_fail_reason(MC_REASON_BAD_ROW, MC_ERR_BAD_DATA, "%s row %zu is NaN or Inf",
                           name && *name ? name : "quality", i);
    float *copy = mc_malloc_array(e->n, sizeof *copy);
    char *name_copy = strdup(name && *name ? name : "quality");
    if (!copy || !name_copy) {
        free(copy);
        free(name_copy);
        return mc_fail(MC_ERR_NOMEM, "out of memory for %zu quality values", e->n);
    }
    memcpy(copy, quality, e->n * sizeof *copy);
    free(e->quality);
    free(e->quality_name);
    e->quality = copy;
    e->quality_name = name_copy;
    return MC_OK;
}

/* A group value and the face it belongs to, sorted by value then face. */
typedef struct {
    int64_t value;
    size_t face;
} group_entry;

static int group_entry_cmp(const void *a, const void *b)
{
    const group_entry *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return x->face < y->face ? -1 : x->face > y->face;
}

mc_status mc_embeddings_set_groups(mc_embeddings_t *e, const int64_t *groups, const char *name)
{
    mc_clear_error();
    if (!e) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_set_groups: e is NULL");
    if (!groups) {
        mc_embeddings_take_groups(e, NULL, 0, NULL);
        return MC_OK;
    }
    /* Renumber as the HDF5 reader does (0.. in order of first appearance), so
     * that groups given here and groups read with group_key agree. Sorting
     * (value, face) finds each value's first face in O(n log n). */
    int64_t *ids = mc_malloc_array(e->n, sizeof *ids);
    group_entry *s = mc_malloc_array(e->n, sizeof *s);
    size_t *first = mc_malloc_array(e->n, sizeof *first);
    char *name_copy = strdup(name && *name ? name : "photo");
    if (!ids || !s || !first || !name_copy) {
        free(ids);
        free(s);
        free(first);
        free(name_copy);
        return mc_fail(MC_ERR_NOMEM, "out of memory for %zu photo groups", e->n);
    }
    size_t m = 0;
    for (size_t i = 0; i < e->n; i++)
        if (groups[i] >= 0) s[m++] = (group_entry){groups[i], i};
    qsort(s, m, sizeof *s, group_entry_cmp);
    for (size_t a = 0, b; a < m; a = b) {
        for (b = a; b < m && s[b].value == s[a].value; b++) first[s[b].face] = s[a].face;
    }
    size_t n_groups = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (groups[i] < 0) ids[i] = -1;
        else if (first[i] == i) ids[i] = (int64_t)n_groups++;
        else ids[i] = ids[first[i]]; /* first[i] < i: numbered already */
    }
    free(s);
    free(first);
    mc_embeddings_take_groups(e, ids, n_groups, name_copy);
    return MC_OK;
}

/* Getters leave the error detail alone, so that cleanup code running between
 * a failure and its report does not wipe the message. */
size_t mc_embeddings_n(const mc_embeddings_t *e) { return e ? e->n : 0; }

size_t mc_embeddings_dim(const mc_embeddings_t *e) { return e ? e->d : 0; }

const float *mc_embeddings_directions(const mc_embeddings_t *e) { return e ? e->dir : NULL; }

const float *mc_embeddings_magnitudes(const mc_embeddings_t *e) { return e ? e->mag : NULL; }

const float *mc_embeddings_quality(const mc_embeddings_t *e)
{
    if (!e) return NULL;
    return e->quality ? e->quality : e->mag;
}

const char *mc_embeddings_quality_name(const mc_embeddings_t *e)
{
    if (!e) return NULL;
    return e->quality_name ? e->quality_name : "magnitude";
}

const int64_t *mc_embeddings_labels(const mc_embeddings_t *e) { return e ? e->labels : NULL; }

const int64_t *mc_embeddings_groups(const mc_embeddings_t *e) { return e ? e->groups : NULL; }
size_t mc_embeddings_n_groups(const mc_embeddings_t *e) { return e ? e->n_groups : 0; }
const char *mc_embeddings_group_name(const mc_embeddings_t *e) { return e ? e->group_name : NULL; }

size_t mc_embeddings_group_pairs(const mc_embeddings_t *e)
{
    if (!e || !e->groups) return 0;
    size_t *cnt = calloc(e->n_groups + 1, sizeof *cnt), pairs = 0;
    if (!cnt) return 0;
    for (size_t i = 0; i < e->n; i++)
        if (e->groups[i] >= 0 && (size_t)e->groups[i] < e->n_groups) pairs += cnt[e->groups[i]]++;
    free(cnt);
    return pairs;
}

int mc_embeddings_is_centered(const mc_embeddings_t *e) { return e ? e->centered : 0; }

size_t mc_embeddings_n_skipped(const mc_embeddings_t *e) { return e ? e->n_skipped : 0; }

const size_t *mc_embeddings_skipped_rows(const mc_embeddings_t *e)
{
    return e && e->n_skipped ? e->skipped : NULL;
}

size_t mc_embeddings_source_row(const mc_embeddings_t *e, size_t i)
{
    return e && e->source_row && i < e->n ? e->source_row[i] : i;
}

const char *mc_embeddings_path(const mc_embeddings_t *e, size_t i)
{
    if (!e || !e->paths || i >= e->n) return NULL;
    return e->paths[i];
}

/* ---- bad rows ------------------------------------------------------------- */

/* skip_bad_rows: keep the rows not flagged in bad, in order, in every
 * per-face array; record which file rows were left out. */
mc_status mc_embeddings_drop_rows(mc_embeddings_t *e, const uint8_t *bad, const char *file,
                                  const char *what)
{
    size_t n = e->n, d = e->d, nb = 0;
    for (size_t i = 0; i < n; i++) nb += bad[i];
    if (nb == 0) return MC_OK;
    if (nb == n)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: %s: every one of its %zu rows has a NaN or Inf value or a zero norm",
                       file, what, n);
    size_t *src = mc_malloc_array(n - nb, sizeof *src), *skipped = mc_malloc_array(nb, sizeof *skipped);
    if (!src || !skipped) {
        free(src);
        free(skipped);
        return mc_fail(MC_ERR_NOMEM, "%s: out of memory", file);
    }
    size_t k = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        if (bad[i]) {
            skipped[s++] = i;
            continue;
        }
        if (k != i) {
            memmove(e->dir + k * d, e->dir + i * d, d * sizeof *e->dir);
            e->mag[k] = e->mag[i];
            if (e->quality) e->quality[k] = e->quality[i];
            if (e->labels) e->labels[k] = e->labels[i];
            if (e->paths) e->paths[k] = e->paths[i];
            if (e->groups) e->groups[k] = e->groups[i];
        }
        src[k++] = i;
    }
    e->n = k;
    e->source_row = src;
    e->skipped = skipped;
    e->n_skipped = nb;
    return MC_OK;
}

/* ---- centring ------------------------------------------------------------ */

/* Subtract mean (d doubles) from each of the n rows of dir and renormalise;
 * a row that is the mean itself keeps its value. */
static void subtract_mean(float *dir, size_t n, size_t d, const double *mean)
{
    for (size_t i = 0; i < n; i++) {
        float *r = dir + i * d;
        double ss = 0.0;
        for (size_t j = 0; j < d; j++) {
            double v = (double)r[j] - mean[j];
            ss += v * v;
        }
        double norm = sqrt(ss);
        if (!(norm > 1e-6)) continue; /* the row is the mean itself: keep it */
        for (size_t j = 0; j < d; j++) r[j] = (float)(((double)r[j] - mean[j]) / norm);
    }
}

/* m random directions have a mean of norm about 1/sqrt(m): a shorter one is
 * no common direction, and removing it would only add noise; a mean of norm
 * near 1 would leave rounding noise. */
int mc_center_removes(double shift, size_t n_faces)
{
    return shift > 0.0 && shift < MC_CENTER_MAX_SHIFT &&
           shift * shift * (double)n_faces >= MC_CENTER_MIN_SIGNIFICANCE;
}

void mc_center_sum_rows(const float *dir, size_t n, size_t d, const float *quality,
                        double min_quality, double *sum, size_t *count)
{
    for (size_t i = 0; i < n; i++) {
        if (quality && !((double)quality[i] >= min_quality)) continue;
        const float *r = dir + i * d;
        for (size_t j = 0; j < d; j++) sum[j] += (double)r[j];
        (*count)++;
    }
}

double mc_center_mean(double *sum, size_t d, size_t m)
{
    double shift = 0.0;
    if (m > 0) {
        for (size_t j = 0; j < d; j++) {
            sum[j] /= (double)m;
            shift += sum[j] * sum[j];
        }
        shift = sqrt(shift);
    }
    return shift;
}

void mc_directions_subtract_mean(float *dir, size_t n, size_t d, const double *mean)
{
    subtract_mean(dir, n, d, mean);
}

mc_status mc_embeddings_center_ex(mc_embeddings_t *e, const float *quality, double min_quality,
                                  double *out_shift, float *out_mean)
{
    mc_clear_error();
    if (!e) return mc_fail(MC_ERR_INVALID_ARG, "mc_embeddings_center: e is NULL");
    size_t n = e->n, d = e->d, m = 0;
    double *mean = calloc(d ? d : 1, sizeof *mean);
    if (!mean) return mc_fail(MC_ERR_NOMEM, "out of memory for a %zu-d mean", d);
    mc_center_sum_rows(e->dir, n, d, quality, min_quality, mean, &m);
    double shift = mc_center_mean(mean, d, m);
    int removed = mc_center_removes(shift, m);
    if (removed) subtract_mean(e->dir, n, d, mean);
    e->centered = 1;
    if (out_mean)
        for (size_t j = 0; j < d; j++) out_mean[j] = removed ? (float)mean[j] : 0.0f;
    free(mean);
    if (out_shift) *out_shift = shift;
    return MC_OK;
}

mc_status mc_embeddings_center(mc_embeddings_t *e, const float *quality, double min_quality,
                               double *out_shift)
{
    return mc_embeddings_center_ex(e, quality, min_quality, out_shift, NULL);
}

mc_status mc_embeddings_center_by(mc_embeddings_t *e, const float *mean)
{
    mc_clear_error();
    if (!e || !mean) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_embeddings_center_by");
    mc_status st = mc_directions_center_by(e->dir, e->n, e->d, mean);
    if (st == MC_OK) e->centered = 1;
    return st;
}

mc_status mc_directions_center_by(float *dir, size_t n, size_t d, const float *mean)
{
    double *m = malloc((d ? d : 1) * sizeof *m);
    if (!m) return mc_fail(MC_ERR_NOMEM, "out of memory for a %zu-d mean", d);
    double nn = 0.0;
    for (size_t j = 0; j < d; j++) {
        m[j] = (double)mean[j];
        nn += m[j] * m[j];
    }
    if (nn > 0.0) subtract_mean(dir, n, d, m);
    free(m);
    return MC_OK;
}
