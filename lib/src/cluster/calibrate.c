/* Label-free threshold: the random-pair (impostor) similarity of good faces. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "magclust/calibrate.h"
#include "util_impl.h"

mc_calibrate_params mc_calibrate_params_default(void)
{
    mc_calibrate_params p;
    p.sample_quality.kind = MC_THRESH_PERCENTILE;
    p.sample_quality.value = 50.0;
    p.max_pairs = 200000;
    p.seed = 1;
    return p;
}

/* Uniform in [0, m) without modulo bias (Lemire's rejection on the low part). */
static size_t below(uint64_t *x, size_t m)
{
    uint64_t lim = UINT64_MAX - UINT64_MAX % (uint64_t)m;
    uint64_t r;
    do r = mc_splitmix64(x); while (r >= lim);
    return (size_t)(r % (uint64_t)m);
}

static double dot(const float *a, const float *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) s += (double)a[j] * (double)b[j];
    return s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static double median_of(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

mc_status mc_calibrate(const mc_embeddings_t *e, const float *quality, const mc_knn_graph_t *g,
                       const mc_calibrate_params *p, mc_calibration *out)
{
    mc_clear_error();
    if (!e || !out) return mc_fail(MC_ERR_INVALID_ARG, "mc_calibrate: e and out are required");
    if (g && mc_knn_graph_n(g) != mc_embeddings_n(e))
        return mc_fail(MC_ERR_INVALID_ARG, "mc_calibrate: the graph has %zu faces, the embeddings %zu",
                       mc_knn_graph_n(g), mc_embeddings_n(e));
    mc_calibrate_params par = p ? *p : mc_calibrate_params_default();
    if (par.max_pairs < 1) return mc_fail(MC_ERR_INVALID_ARG, "mc_calibrate: max_pairs must be >= 1");
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    const float *dir = mc_embeddings_directions(e);
    double gate = quality ? mc_threshold_resolve(&par.sample_quality, quality, n) : -INFINITY;
    size_t *idx = mc_malloc_array(n ? n : 1, sizeof *idx);
    if (!idx) return mc_fail(MC_ERR_NOMEM, "out of memory for %zu indices", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!quality || (double)quality[i] >= gate) idx[m++] = i;
    if (m < 2) {
        free(idx);
        return mc_fail(MC_ERR_BAD_DATA, "calibration needs at least 2 faces at or above the quality gate, found %zu", m);
    }
    size_t count = 0;
    double all_pairs = (double)m * (double)(m - 1) / 2.0;
    int exhaustive = all_pairs <= (double)par.max_pairs;
    size_t cap = exhaustive ? (size_t)all_pairs : par.max_pairs;
    double *vals = mc_malloc_array(cap, sizeof *vals);
    if (!vals) {
        free(idx);
        return mc_fail(MC_ERR_NOMEM, "out of memory for %zu pair similarities", cap);
    }
    if (exhaustive) {
        for (size_t a = 0; a < m; a++)
            for (size_t b = a + 1; b < m; b++) vals[count++] = dot(dir + idx[a] * d, dir + idx[b] * d, d);
    } else {
        uint64_t state = par.seed;
        while (count < cap) {
            size_t a = below(&state, m), b = below(&state, m - 1);
            if (b >= a) b++;
            vals[count++] = dot(dir + idx[a] * d, dir + idx[b] * d, d);
        }
    }
    /* two passes over the stored values: stable for 200k pairs near 0.9 */
    double mean = 0.0, ss = 0.0;
    for (size_t i = 0; i < count; i++) mean += vals[i];
    mean /= (double)count;
    for (size_t i = 0; i < count; i++) ss += (vals[i] - mean) * (vals[i] - mean);
    free(idx);
    double med = median_of(vals, count);
    for (size_t i = 0; i < count; i++) vals[i] = fabs(vals[i] - med);
    double mad = 1.4826 * median_of(vals, count);
    free(vals);
    /* nearest good neighbour of each good face: rows are sorted by similarity */
    double nn_med = NAN;
    size_t n_nn = 0;
    if (g) {
        size_t k = mc_knn_graph_k(g);
        const int64_t *ids = mc_knn_graph_ids(g);
        const float *sims = mc_knn_graph_sims(g);
        double *nn = mc_malloc_array(n ? n : 1, sizeof *nn);
        if (!nn) return mc_fail(MC_ERR_NOMEM, "out of memory for %zu similarities", n);
        for (size_t i = 0; i < n; i++) {
            if (quality && !((double)quality[i] >= gate)) continue;
            for (size_t t = 0; t < k; t++) {
                int64_t j = ids[i * k + t];
                if (j < 0 || (size_t)j == i) continue;
                if (quality && !((double)quality[j] >= gate)) continue;
                nn[n_nn++] = (double)sims[i * k + t];
                break;
            }
        }
        if (n_nn) nn_med = median_of(nn, n_nn);
        free(nn);
    }
    out->median = med;
    out->mad = mad;
    out->nn_median = nn_med;
    out->n_nn = n_nn;
    out->mean = mean;
    out->sd = count > 1 ? sqrt(ss / (double)(count - 1)) : 0.0;
    out->n_faces = m;
    out->n_pairs = count;
    out->quality_gate = gate;
    return MC_OK;
}

double mc_calibration_threshold(const mc_calibration *c, double w, double z)
{
    if (!c) return NAN;
    double t = c->median + z * c->mad;
    if (!isnan(c->nn_median)) {
        double tw = c->median + w * (c->nn_median - c->median);
        if (tw > t) t = tw;
    }
    if (t > 1.0) t = 1.0;
    if (t < -1.0) t = -1.0;
    return t;
}

/* ---- the quality check ------------------------------------------------------ */

typedef struct {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v) return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i);
}

/* Ranks 1..m of v (ties: their mean rank) into out, in v's order; r is scratch. */
static void ranks(ranked *r, size_t m, double *out)
{
    qsort(r, m, sizeof *r, cmp_ranked);
    for (size_t a = 0; a < m;) {
        size_t b = a + 1;
        while (b < m && r[b].v == r[a].v) b++;
        double mean = 0.5 * (double)(a + 1 + b); /* ranks a+1 .. b */
        for (size_t j = a; j < b; j++) out[r[j].i] = mean;
        a = b;
    }
}

mc_status mc_quality_check(const mc_knn_graph_t *g, const float *quality,
                           mc_quality_check_result *out)
{
    mc_clear_error();
    if (!g || !quality || !out)
        return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_quality_check");
    size_t n = mc_knn_graph_n(g), k = mc_knn_graph_k(g), m = 0;
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    ranked *r = mc_malloc_array(n ? n : 1, sizeof *r);
    double *rq = mc_malloc_array(n ? n : 1, sizeof *rq), *rs = mc_malloc_array(n ? n : 1, sizeof *rs);
    mc_status st = MC_OK;
    if (!r || !rq || !rs) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the quality check of %zu faces", n);
        goto done;
    }
    /* the faces with a neighbour (rows are sorted, nearest first) */
    for (size_t i = 0; i < n; i++)
        if (k > 0 && ids[i * k] >= 0) {
            r[m] = (ranked){(double)quality[i], m};
            m++;
        }
    if (m < 3) {
        st = mc_fail(MC_ERR_INVALID_ARG, "the quality check needs 3 faces with a neighbour, found %zu", m);
        goto done;
    }
    ranks(r, m, rq);
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (k > 0 && ids[i * k] >= 0) {
            r[m] = (ranked){(double)sims[i * k], m};
            m++;
        }
    ranks(r, m, rs);
    /* Pearson correlation of the ranks */
    double mean = 0.5 * (double)(m + 1), sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < m; i++) {
        double x = rq[i] - mean, y = rs[i] - mean;
        sxy += x * y;
        sxx += x * x;
        syy += y * y;
    }
    out->rho = sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0.0;
    out->n = m;
    out->informative = out->rho >= MC_QUALITY_MIN_RHO;
done:
    free(r);
    free(rq);
    free(rs);
    return st;
}
