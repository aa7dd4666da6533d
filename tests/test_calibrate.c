/* Label-free calibration: the measured random-pair statistics against a
 * direct computation, determinism, the quality gate, sampling versus all
 * pairs, centring, and errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/calibrate.h"
#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "calibrate";

/* n Gaussian rows of dimension d, plus an offset shared by all rows (the
 * direction dlib-like descriptors have in common), row i scaled by 1 + i % 3. */
static mc_embeddings_t *make_set(size_t n, size_t d, double offset, uint64_t seed)
{
    uint64_t s = seed;
    float *x = malloc(n * d * sizeof *x);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = (float)((1.0 + (double)(i % 3)) * (tr_gauss(&s) + (j == 0 ? offset : 0.0)));
    mc_embeddings_t *e = NULL;
    CU_ASSERT_FATAL(mc_embeddings_new(x, n, d, &e) == MC_OK);
    free(x);
    return e;
}

/* mean and sd of the cosine over all pairs among faces with q >= gate */
static void direct_stats(const mc_embeddings_t *e, const float *q, double gate, double *mean, double *sd,
                         size_t *faces)
{
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e), m = 0, cnt = 0;
    const float *u = mc_embeddings_directions(e);
    double s1 = 0, s2 = 0;
    for (size_t a = 0; a < n; a++) {
        if (q && q[a] < gate) continue;
        m++;
        for (size_t b = a + 1; b < n; b++) {
            if (q && q[b] < gate) continue;
            double dot = 0;
            for (size_t j = 0; j < d; j++) dot += (double)u[a * d + j] * u[b * d + j];
            s1 += dot;
            s2 += dot * dot;
            cnt++;
        }
    }
    *mean = s1 / (double)cnt;
    *sd = sqrt((s2 - s1 * s1 / (double)cnt) / (double)(cnt - 1));
    *faces = m;
}

static void test_all_pairs_exact(void)
{
    mc_embeddings_t *e = make_set(60, 16, 0.0, 1);
    mc_calibrate_params p = mc_calibrate_params_default();
    p.sample_quality = mc_threshold_off();
    mc_calibration c;
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, NULL, NULL, &p, &c), MC_OK);
    double mean, sd;
    size_t faces;
    direct_stats(e, NULL, 0, &mean, &sd, &faces);
    CU_ASSERT_EQUAL(c.n_faces, 60);
    CU_ASSERT_EQUAL(c.n_pairs, 60 * 59 / 2);
    CU_ASSERT_DOUBLE_EQUAL(c.mean, mean, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.sd, sd, 1e-12);
    /* isotropic Gaussian directions in 16-d: cosine mean 0, sd 1/4 */
    CU_ASSERT(fabs(c.mean) < 0.03);
    CU_ASSERT(fabs(c.sd - 0.25) < 0.03);
    /* robust statistics: the median and 1.4826 MAD of the same pairs */
    CU_ASSERT(fabs(c.median - c.mean) < 0.03);
    CU_ASSERT(fabs(c.mad - c.sd) < 0.03);
    CU_ASSERT(isnan(c.nn_median)); /* no graph */
    CU_ASSERT_DOUBLE_EQUAL(mc_calibration_threshold(&c, 0.5, 3.0), c.median + 3.0 * c.mad, 1e-15);
    CU_ASSERT(mc_calibration_threshold(&c, 0.5, 2.0) < mc_calibration_threshold(&c, 0.5, 3.0));
    CU_ASSERT_EQUAL(mc_calibration_threshold(&c, 0.5, 1e6), 1.0);  /* clamped */
    CU_ASSERT_EQUAL(mc_calibration_threshold(&c, 0.5, -1e6), -1.0);
    mc_embeddings_free(e);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median and MAD against a direct sort, and the nearest-good-neighbour term */
static void test_robust_and_nn(void)
{
    size_t n = 40, d = 8;
    mc_embeddings_t *e = make_set(n, d, 0.0, 7);
    float q[40];
    for (size_t i = 0; i < n; i++) q[i] = (float)(i % 2); /* odd faces are good */
    mc_knn_params kp = mc_knn_params_default();
    kp.k = 5;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_FATAL(mc_knn_graph_build(e, &kp, &g) == MC_OK);
    mc_calibrate_params p = mc_calibrate_params_default();
    mc_threshold_parse("1", &p.sample_quality);
    mc_calibration c;
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, q, g, &p, &c), MC_OK);
    const float *u = mc_embeddings_directions(e);
    double v[20 * 19 / 2], nn[20];
    size_t m = 0, nn_n = 0;
    for (size_t a = 1; a < n; a += 2)
        for (size_t b = a + 2; b < n; b += 2) {
            double s = 0;
            for (size_t j = 0; j < d; j++) s += (double)u[a * d + j] * u[b * d + j];
            v[m++] = s;
        }
    qsort(v, m, sizeof *v, cmp_d);
    double med = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
    for (size_t i = 0; i < m; i++) v[i] = fabs(v[i] - med);
    qsort(v, m, sizeof *v, cmp_d);
    double mad = 1.4826 * (m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]));
    CU_ASSERT_DOUBLE_EQUAL(c.median, med, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.mad, mad, 1e-12);
    /* nearest good neighbour within each good face's 5 nearest */
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    for (size_t i = 1; i < n; i += 2)
        for (size_t t = 0; t < 5; t++)
            if (ids[i * 5 + t] % 2 == 1) {
                nn[nn_n++] = sims[i * 5 + t];
                break;
            }
    qsort(nn, nn_n, sizeof *nn, cmp_d);
    CU_ASSERT_EQUAL(c.n_nn, nn_n);
    CU_ASSERT_DOUBLE_EQUAL(c.nn_median, nn_n % 2 ? nn[nn_n / 2] : 0.5 * (nn[nn_n / 2 - 1] + nn[nn_n / 2]), 1e-12);
    /* the threshold: the larger of the two terms */
    double tw = c.median + 0.45 * (c.nn_median - c.median), tz = c.median + 2.5 * c.mad;
    CU_ASSERT_DOUBLE_EQUAL(mc_calibration_threshold(&c, 0.45, 2.5), tw > tz ? tw : tz, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(mc_calibration_threshold(&c, 1.0, -10.0), c.nn_median, 1e-15);
    /* a graph of another size is refused */
    mc_embeddings_t *e2 = make_set(n + 1, d, 0.0, 8);
    CU_ASSERT_EQUAL(mc_calibrate(e2, NULL, g, NULL, &c), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e2);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

static void test_quality_gate(void)
{
    mc_embeddings_t *e = make_set(50, 8, 0.0, 2);
    float q[50];
    for (int i = 0; i < 50; i++) q[i] = (float)i;
    mc_calibration c;
    /* default gate: the median (24.5) -> faces 25..49 */
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, q, NULL, NULL, &c), MC_OK);
    double mean, sd;
    size_t faces;
    direct_stats(e, q, 24.5, &mean, &sd, &faces);
    CU_ASSERT_EQUAL(c.n_faces, 25);
    CU_ASSERT_EQUAL(faces, 25);
    CU_ASSERT_DOUBLE_EQUAL(c.quality_gate, 24.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(c.mean, mean, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.sd, sd, 1e-12);
    mc_embeddings_free(e);
}

static void test_sampled_deterministic(void)
{
    mc_embeddings_t *e = make_set(400, 32, 0.0, 3);
    mc_calibrate_params p = mc_calibrate_params_default();
    p.sample_quality = mc_threshold_off();
    p.max_pairs = 5000; /* < 400*399/2: sampled */
    mc_calibration a, b, full;
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, NULL, NULL, &p, &a), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, NULL, NULL, &p, &b), MC_OK);
    CU_ASSERT_EQUAL(a.n_pairs, 5000);
    CU_ASSERT(memcmp(&a, &b, sizeof a) == 0); /* same data, same choice */
    p.seed = 99;
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, NULL, NULL, &p, &b), MC_OK);
    CU_ASSERT(a.mean != b.mean); /* another sample */
    p.max_pairs = 1000000;
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, NULL, NULL, &p, &full), MC_OK);
    CU_ASSERT_EQUAL(full.n_pairs, 400 * 399 / 2);
    /* the sample estimates the full statistics */
    CU_ASSERT(fabs(a.mean - full.mean) < 0.01);
    CU_ASSERT(fabs(a.sd - full.sd) < 0.01);
    mc_embeddings_free(e);
}

static void test_centering(void)
{
    /* a shared offset compresses the cosines (mean near 0.8 here) */
    mc_embeddings_t *e = make_set(300, 16, 8.0, 4);
    mc_calibrate_params p = mc_calibrate_params_default();
    p.sample_quality = mc_threshold_off();
    mc_calibration before, after;
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, NULL, NULL, &p, &before), MC_OK);
    CU_ASSERT(before.mean > 0.7);
    float mags[300];
    memcpy(mags, mc_embeddings_magnitudes(e), sizeof mags);
    double shift = 0;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_center(e, NULL, -INFINITY, &shift), MC_OK);
    CU_ASSERT(shift > 0.9);
    CU_ASSERT(memcmp(mags, mc_embeddings_magnitudes(e), sizeof mags) == 0); /* quality kept */
    size_t d = 16;
    const float *u = mc_embeddings_directions(e);
    double mean[16] = {0};
    for (size_t i = 0; i < 300; i++) {
        double nn = 0;
        for (size_t j = 0; j < d; j++) {
            nn += (double)u[i * d + j] * u[i * d + j];
            mean[j] += u[i * d + j] / 300.0;
        }
        CU_ASSERT_DOUBLE_EQUAL(nn, 1.0, 1e-5); /* unit rows again */
    }
    CU_ASSERT_EQUAL_FATAL(mc_calibrate(e, NULL, NULL, &p, &after), MC_OK);
    CU_ASSERT(fabs(after.mean) < 0.05); /* spread back around 0 */
    CU_ASSERT(after.sd > before.sd);
    /* centring twice removes (almost) nothing more */
    CU_ASSERT_EQUAL(mc_embeddings_center(e, NULL, -INFINITY, &shift), MC_OK);
    CU_ASSERT(shift < 0.1);
    mc_embeddings_free(e);
}

static void test_center_gate(void)
{
    /* only faces with q >= 1 define the mean: 4 x (1, 0) and 4 x (0, 1),
     * mean (.5, .5); the last face (-1, 0) does not count */
    float x[9 * 2] = {1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, -1, 0};
    float q[9] = {1, 1, 1, 1, 1, 1, 1, 1, 0};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_FATAL(mc_embeddings_new(x, 9, 2, &e) == MC_OK);
    double shift = 0;
    float mean[2];
    CU_ASSERT_EQUAL(mc_embeddings_center_ex(e, q, 1.0, &shift, mean), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(shift, sqrt(0.5), 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(mean[0], 0.5, 1e-7);
    const float *u = mc_embeddings_directions(e);
    /* (1, 0) becomes (1, -1)/sqrt 2; (-1, 0) becomes (-3, -1)/sqrt 10 */
    CU_ASSERT_DOUBLE_EQUAL(u[0], sqrt(0.5), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(u[1], -sqrt(0.5), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(u[16], -3 / sqrt(10), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(u[17], -1 / sqrt(10), 1e-6);
    mc_embeddings_free(e);
    /* the same mean from two faces only is no more than two random
     * directions give (norm^2 x 2 = 1 < 3): nothing is removed */
    CU_ASSERT_FATAL(mc_embeddings_new(x + 6, 3, 2, &e) == MC_OK);
    float q2[3] = {1, 1, 0};
    CU_ASSERT_EQUAL(mc_embeddings_center_ex(e, q2, 1.0, &shift, mean), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(shift, sqrt(0.5), 1e-9);
    CU_ASSERT(!mc_center_removes(shift, 2) && mc_center_removes(shift, 8));
    CU_ASSERT(mean[0] == 0.0f && mean[1] == 0.0f);
    CU_ASSERT(mc_embeddings_directions(e)[0] == 1.0f);
    mc_embeddings_free(e);
    /* the good faces all point one way (copies): nothing is removed, the
     * mean stored is zeros, and the shift says why */
    float y[3 * 2] = {1, 0, 1, 0, 0, 1};
    CU_ASSERT_FATAL(mc_embeddings_new(y, 3, 2, &e) == MC_OK);
    CU_ASSERT_EQUAL(mc_embeddings_center_ex(e, q2, 1.0, &shift, mean), MC_OK);
    CU_ASSERT(shift >= MC_CENTER_MAX_SHIFT);
    CU_ASSERT(mean[0] == 0.0f && mean[1] == 0.0f);
    u = mc_embeddings_directions(e);
    CU_ASSERT(u[0] == 1.0f && u[1] == 0.0f && u[4] == 0.0f && u[5] == 1.0f);
    CU_ASSERT(mc_embeddings_is_centered(e));
    mc_embeddings_free(e);
}

/* A synthetic MagFace-like collection (norm = quality), 64-d. */
static mc_embeddings_t *synth_faces(size_t n_ids, uint64_t seed)
{
    mc_synth_params sp = mc_synth_params_default();
    sp.n_ids = n_ids;
    sp.dim = 64;
    sp.seed = seed;
    float *raw = NULL;
    int64_t *labels = NULL;
    size_t n = 0;
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_synth_generate(&sp, &raw, &labels, &n), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, sp.dim, &e), MC_OK);
    free(raw);
    free(labels);
    return e;
}

/* Fisher-Yates, from rs. */
static void shuffle(float *v, size_t n, uint64_t *rs)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(tr_uniform(rs) * (double)(i + 1));
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* synth_faces(60, 3) and its centred k-NN graph; the tests weigh three
 * qualities on it: the norm (strong), the norm plus noise (weak), and the
 * norm shuffled (meaningless). */
static void synth_graph(mc_embeddings_t **e, mc_knn_graph_t **g)
{
    *e = synth_faces(60, 3);
    size_t n = mc_embeddings_n(*e);
    const float *mag = mc_embeddings_magnitudes(*e);
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_center(*e, mag, mc_percentile(mag, n, 50), NULL), MC_OK);
    mc_knn_params kp = mc_knn_params_default();
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(*e, &kp, g), MC_OK);
}

static void test_quality_check_verdicts(void)
{
    mc_embeddings_t *e = NULL;
    mc_knn_graph_t *g = NULL;
    synth_graph(&e, &g);
    size_t n = mc_embeddings_n(e);
    const float *mag = mc_embeddings_magnitudes(e);
    float *weak = malloc(n * sizeof *weak), *shuffled = malloc(n * sizeof *shuffled);
    uint64_t rs = 11;
    /* weak: the norm plus noise of twice its spread */
    double lo = mc_percentile(mag, n, 5), hi = mc_percentile(mag, n, 95);
    for (size_t i = 0; i < n; i++) weak[i] = mag[i] + (float)(2.0 * (hi - lo) * tr_gauss(&rs));
    memcpy(shuffled, mag, n * sizeof *shuffled);
    shuffle(shuffled, n, &rs);
    mc_quality_check_result strong_r, weak_r, shuf_r;
    CU_ASSERT_EQUAL_FATAL(mc_quality_check(g, mag, &strong_r), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_quality_check(g, weak, &weak_r), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_quality_check(g, shuffled, &shuf_r), MC_OK);
    CU_ASSERT_EQUAL(strong_r.n, n);
    CU_ASSERT(strong_r.informative && strong_r.rho > 0.4);
    CU_ASSERT(weak_r.rho < strong_r.rho && weak_r.rho > shuf_r.rho);
    CU_ASSERT(!shuf_r.informative && fabs(shuf_r.rho) < 0.1);
    /* ties get their mean rank: a constant quality correlates with nothing */
    for (size_t i = 0; i < n; i++) weak[i] = 1.0f;
    CU_ASSERT_EQUAL(mc_quality_check(g, weak, &weak_r), MC_OK);
    CU_ASSERT(weak_r.rho == 0.0 && !weak_r.informative);
    /* deterministic: the same numbers again */
    CU_ASSERT_EQUAL(mc_quality_check(g, mag, &weak_r), MC_OK);
    CU_ASSERT(weak_r.rho == strong_r.rho);
    CU_ASSERT_EQUAL(mc_quality_check(NULL, mag, &weak_r), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_quality_check(g, NULL, &weak_r), MC_ERR_INVALID_ARG);
    free(weak);
    free(shuffled);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

/* The recipe turns the gates off for a meaningless quality (and says so),
 * keeps them for a real one, and keeps them whatever with MC_QUALITY_GATE. */
static void test_quality_check_drops_gates(void)
{
    uint64_t rs = 7;
    for (int shuffled = 0; shuffled <= 1; shuffled++)
        for (int use = MC_QUALITY_AUTO; use <= MC_QUALITY_GATE; use++) {
            mc_embeddings_t *e = synth_faces(40, 5);
            if (shuffled) {
                size_t n = mc_embeddings_n(e);
                float *q = malloc(n * sizeof *q);
                memcpy(q, mc_embeddings_magnitudes(e), n * sizeof *q);
                shuffle(q, n, &rs);
                CU_ASSERT_EQUAL_FATAL(mc_embeddings_set_quality(e, q, "shuffled"), MC_OK);
                free(q);
            }
            mc_cluster_params p = mc_cluster_params_default(MC_ALGO_CW);
            p.quality_use = (mc_quality_use)use;
            mc_cluster_result_t *r = NULL;
            CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, &p, &r), MC_OK);
            const mc_cluster_info *in = mc_cluster_result_info(r);
            CU_ASSERT(in->quality_checked);
            CU_ASSERT_EQUAL(in->quality_check.informative, !shuffled);
            int dropped = shuffled && use == MC_QUALITY_AUTO;
            CU_ASSERT_EQUAL(in->gates_dropped, dropped);
            CU_ASSERT_EQUAL(in->core_quality.kind, dropped ? MC_THRESH_OFF : MC_THRESH_PERCENTILE);
            CU_ASSERT(dropped ? isinf(in->core_q) : isfinite(in->core_q));
            mc_cluster_result_free(r);
            mc_embeddings_free(e);
        }
}

static void test_errors(void)
{
    mc_embeddings_t *e = make_set(5, 4, 0.0, 5);
    mc_calibration c;
    CU_ASSERT_EQUAL(mc_calibrate(NULL, NULL, NULL, NULL, &c), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_calibrate(e, NULL, NULL, NULL, NULL), MC_ERR_INVALID_ARG);
    mc_calibrate_params p = mc_calibrate_params_default();
    p.max_pairs = 0;
    CU_ASSERT_EQUAL(mc_calibrate(e, NULL, NULL, &p, &c), MC_ERR_INVALID_ARG);
    float q[5] = {0, 0, 0, 0, 9};
    p = mc_calibrate_params_default();
    mc_threshold_parse("5", &p.sample_quality); /* only one face passes */
    CU_ASSERT_EQUAL(mc_calibrate(e, q, NULL, &p, &c), MC_ERR_BAD_DATA);
    CU_ASSERT(strstr(mc_last_error_detail(), "at least 2 faces") != NULL);
    CU_ASSERT_EQUAL(mc_embeddings_center(NULL, NULL, 0, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT(isnan(mc_calibration_threshold(NULL, 0.5, 3.0)));
    mc_embeddings_free(e);
}

void mc_test_register(void)
{
    add_test("all_pairs_exact", test_all_pairs_exact);
    add_test("robust_and_nn", test_robust_and_nn);
    add_test("quality_gate", test_quality_gate);
    add_test("sampled_deterministic", test_sampled_deterministic);
    add_test("centering", test_centering);
    add_test("center_gate", test_center_gate);
    add_test("errors", test_errors);
    add_test("quality_check_verdicts", test_quality_check_verdicts);
    add_test("quality_check_drops_gates", test_quality_check_drops_gates);
}
