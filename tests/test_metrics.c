/* CUnit suite for metrics.h: hand-computed tables, the singleton convention
 * for negative labels, invariances, a cross-check against scikit-learn /
 * learn-to-cluster numbers, and the error paths.
 *
 * Notation in the comments: a_i = |true class i|, b_j = |predicted cluster j|,
 * x_ij = items in class i and cluster j, n items.
 *   BCubed P = sum x^2/b / n,  R = sum x^2/a / n
 *   pairwise tk = sum x^2 - n, pk = sum b^2 - n, qk = sum a^2 - n, P = tk/pk, R = tk/qk
 *   NMI = MI / ((H(U) + H(V)) / 2), MI = sum (x/n) log(n x / (a b)) */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/metrics.h"
#include "test_common.h"

const char *mc_test_suite_name = "metrics";

#define TOL 1e-12

static mc_metrics compute_ok(const int64_t *truth, const int64_t *pred, size_t n)
{
    mc_metrics m;
    memset(&m, 0, sizeof m);
    CU_ASSERT_EQUAL_FATAL(mc_metrics_compute(truth, pred, n, &m), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), "");
    CU_ASSERT_EQUAL(m.n, n);
    return m;
}

static void assert_same(const mc_metrics *a, const mc_metrics *b, double tol)
{
    CU_ASSERT_DOUBLE_EQUAL(a->bcubed_precision, b->bcubed_precision, tol);
    CU_ASSERT_DOUBLE_EQUAL(a->bcubed_recall, b->bcubed_recall, tol);
    CU_ASSERT_DOUBLE_EQUAL(a->bcubed_f, b->bcubed_f, tol);
    CU_ASSERT_DOUBLE_EQUAL(a->pairwise_precision, b->pairwise_precision, tol);
    CU_ASSERT_DOUBLE_EQUAL(a->pairwise_recall, b->pairwise_recall, tol);
    CU_ASSERT_DOUBLE_EQUAL(a->pairwise_f, b->pairwise_f, tol);
    CU_ASSERT_DOUBLE_EQUAL(a->nmi, b->nmi, tol);
    CU_ASSERT_EQUAL(a->n, b->n);
    CU_ASSERT_EQUAL(a->n_classes, b->n_classes);
    CU_ASSERT_EQUAL(a->n_clusters, b->n_clusters);
}

/* Mixed example used by several tests. n = 8
 *   truth = 0 0 0 1 1 2 2 2     classes A{0,1,2} a=3, B{3,4} a=2, C{5,6,7} a=3
 *   pred  = 0 0 1 1 1 2 2 0     clusters c0{0,1,7} b=3, c1{2,3,4} b=3, c2{5,6} b=2
 *          c0 c1 c2
 *     A     2  1  .
 *     B     .  2  .
 *     C     1  .  2
 *   sum x^2 = 4+1+4+4+1 = 14
 *   BCubed P = (4/3 + 1/3 + 4/3 + 4/2 + 1/3)/8 = (16/3)/8 = 2/3
 *          R = (4/3 + 1/3 + 4/2 + 4/3 + 1/3)/8 = 2/3, F = 2/3
 *   pairwise tk = 14-8 = 6, pk = 9+9+4-8 = 14, qk = 9+4+9-8 = 14: P = R = F = 3/7
 *   MI = [2 log(16/9) + log(8/9) + 2 log(16/6) + 2 log(16/6) + log(8/9)] / 8
 *   H(U) = H(V) = -(2 (3/8) log(3/8) + (2/8) log(2/8)), NMI = MI/H (= 0.5588730382170326) */
static const int64_t mixed_truth[8] = {0, 0, 0, 1, 1, 2, 2, 2};
static const int64_t mixed_pred[8] = {0, 0, 1, 1, 1, 2, 2, 0};

static double mixed_nmi(void)
{
    double mi = (2 * log(16.0 / 9) + log(8.0 / 9) + 4 * log(16.0 / 6) + log(8.0 / 9)) / 8;
    double h = -(2 * (3.0 / 8) * log(3.0 / 8) + (2.0 / 8) * log(2.0 / 8));
    return mi / h;
}

static void test_mixed_hand(void)
{
    mc_metrics m = compute_ok(mixed_truth, mixed_pred, 8);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_precision, 2.0 / 3, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_recall, 2.0 / 3, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_f, 2.0 / 3, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_precision, 3.0 / 7, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_recall, 3.0 / 7, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_f, 3.0 / 7, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, mixed_nmi(), TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 0.5588730382170326, 1e-14);
    CU_ASSERT_EQUAL(m.n_classes, 3);
    CU_ASSERT_EQUAL(m.n_clusters, 3);
}

/* Perfect: the same partition under other ids. Every cell is x = a = b, so
 * every ratio is 1, MI = H(U) = H(V) and NMI = 1. */
static void test_perfect(void)
{
    const int64_t truth[6] = {0, 0, 1, 1, 1, 2};
    const int64_t pred[6] = {5, 5, 9, 9, 9, 7};
    mc_metrics m = compute_ok(truth, pred, 6);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_precision, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_recall, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_precision, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_recall, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 1.0, TOL);
    CU_ASSERT_EQUAL(m.n_classes, 3);
    CU_ASSERT_EQUAL(m.n_clusters, 3);

    /* Both partitions a single set (and n = 1): all 1 by convention. */
    const int64_t same[4] = {3, 3, 3, 3};
    mc_metrics s = compute_ok(same, same, 4);
    CU_ASSERT_DOUBLE_EQUAL(s.bcubed_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(s.pairwise_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(s.nmi, 1.0, TOL);
    const int64_t one = 0, noise = -1;
    mc_metrics o = compute_ok(&one, &noise, 1);
    CU_ASSERT_DOUBLE_EQUAL(o.bcubed_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(o.pairwise_precision, 1.0, TOL); /* pk = 0 */
    CU_ASSERT_DOUBLE_EQUAL(o.pairwise_recall, 1.0, TOL);    /* qk = 0 */
    CU_ASSERT_DOUBLE_EQUAL(o.pairwise_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(o.nmi, 1.0, TOL);
}

/* Everything in one cluster. truth = 0 0 0 1 1 2 (a = 3, 2, 1), pred all 4 (b = 6)
 *   column: x = 3, 2, 1; sum x^2 = 14
 *   BCubed P = (9/6 + 4/6 + 1/6)/6 = 14/36 = 7/18, R = (9/3 + 4/2 + 1/1)/6 = 1
 *          F = 2 (7/18) / (25/18) = 14/25
 *   pairwise tk = 14-6 = 8, pk = 36-6 = 30, qk = 14-6 = 8: P = 4/15, R = 1, F = 8/19
 *   NMI: one cluster, so MI = 0 and NMI = 0 (scikit-learn gives 0). */
static void test_one_cluster(void)
{
    const int64_t truth[6] = {0, 0, 0, 1, 1, 2};
    const int64_t pred[6] = {4, 4, 4, 4, 4, 4};
    mc_metrics m = compute_ok(truth, pred, 6);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_precision, 7.0 / 18, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_recall, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_f, 14.0 / 25, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_precision, 4.0 / 15, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_recall, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_f, 8.0 / 19, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 0.0, TOL);
    CU_ASSERT_EQUAL(m.n_classes, 3);
    CU_ASSERT_EQUAL(m.n_clusters, 1);
}

/* Everything a singleton. truth = 0 0 0 1 1 2 (a = 3, 2, 1), pred = 0..5 (b = 1)
 *   six cells x = 1
 *   BCubed P = 6 (1/1)/6 = 1, R = (3 (1/3) + 2 (1/2) + 1/1)/6 = 1/2, F = 2/3
 *   pairwise tk = 6-6 = 0, pk = 6-6 = 0 -> P = 1, qk = 14-6 = 8 -> R = 0, F = 0
 *   MI = H(U) (the prediction determines the truth), H(V) = log 6
 *   H(U) = (1/2) log 2 + (1/3) log 3 + (1/6) log 6, NMI = 2 H(U) / (H(U) + log 6)
 * An all-noise prediction (every label -1, or distinct negatives) is the same. */
static void test_all_singletons(void)
{
    const int64_t truth[6] = {0, 0, 0, 1, 1, 2};
    const int64_t pred[6] = {0, 1, 2, 3, 4, 5};
    const int64_t noise[6] = {-1, -1, -1, -1, -1, -1};
    const int64_t negs[6] = {-1, -2, -3, -1000, INT64_MIN, -7};
    double hu = 0.5 * log(2.0) + log(3.0) / 3 + log(6.0) / 6;
    mc_metrics m = compute_ok(truth, pred, 6);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_precision, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_recall, 0.5, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_f, 2.0 / 3, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_precision, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_recall, 0.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_f, 0.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 2 * hu / (hu + log(6.0)), TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 0.7216162598446757, 1e-14);
    CU_ASSERT_EQUAL(m.n_classes, 3);
    CU_ASSERT_EQUAL(m.n_clusters, 6);

    mc_metrics a = compute_ok(truth, noise, 6);
    assert_same(&a, &m, TOL);
    mc_metrics b = compute_ok(truth, negs, 6);
    assert_same(&b, &m, TOL);

    /* Singletons on both sides: a perfect match of six sets. */
    mc_metrics c = compute_ok(noise, pred, 6);
    CU_ASSERT_DOUBLE_EQUAL(c.bcubed_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(c.pairwise_f, 1.0, TOL); /* pk = qk = 0 */
    CU_ASSERT_DOUBLE_EQUAL(c.nmi, 1.0, TOL);
    CU_ASSERT_EQUAL(c.n_classes, 6);
}

/* Negative labels in the truth are singleton classes, not one class "-1".
 *   truth = -1 -1 0 0 1 1   classes {0} {1} {2,3} {4,5}: a = 1, 1, 2, 2
 *   pred  =  0  0 0 0 1 1   clusters {0,1,2,3} b = 4, {4,5} b = 2
 *                c0 c1
 *     {0}         1  .
 *     {1}         1  .
 *     {2,3}       2  .
 *     {4,5}       .  2
 *   sum x^2 = 1+1+4+4 = 10
 *   BCubed P = (1/4 + 1/4 + 4/4 + 4/2)/6 = 7/12, R = (1 + 1 + 4/2 + 4/2)/6 = 1, F = 14/19
 *   pairwise tk = 4, pk = 16+4-6 = 14, qk = 10-6 = 4: P = 2/7, R = 1, F = 4/9
 *   MI = H(V) (the truth determines the prediction)
 *   H(V) = (2/3) log(3/2) + (1/3) log 3, H(U) = (1/3) log 6 + (2/3) log 3
 *   NMI = 2 H(V) / (H(U) + H(V)) */
static void test_negative_truth(void)
{
    const int64_t truth[6] = {-1, -1, 0, 0, 1, 1};
    const int64_t pred[6] = {0, 0, 0, 0, 1, 1};
    double hv = (2.0 / 3) * log(1.5) + log(3.0) / 3;
    double hu = log(6.0) / 3 + (2.0 / 3) * log(3.0);
    mc_metrics m = compute_ok(truth, pred, 6);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_precision, 7.0 / 12, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_recall, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_f, 14.0 / 19, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_precision, 2.0 / 7, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_recall, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_f, 4.0 / 9, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 2 * hv / (hu + hv), TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 0.64746423983306256, 1e-14);
    CU_ASSERT_EQUAL(m.n_classes, 4);
    CU_ASSERT_EQUAL(m.n_clusters, 2);

    /* Same as giving the two unknowns distinct fresh ids. */
    const int64_t fresh[6] = {10, 11, 0, 0, 1, 1};
    mc_metrics f = compute_ok(fresh, pred, 6);
    assert_same(&f, &m, TOL);
}

/* Noise (negative) in the prediction: each noise item is its own cluster.
 *   truth = 0 0  0 1 1  1   a = 3, 3
 *   pred  = 0 0 -1 1 1 -1   clusters {0,1} b=2, {2} b=1, {3,4} b=2, {5} b=1
 *   cells: class 0: 2 (in {0,1}), 1 (in {2}); class 1: 2 (in {3,4}), 1 (in {5})
 *   sum x^2 = 10
 *   BCubed P = (4/2 + 1/1 + 4/2 + 1/1)/6 = 1, R = (4/3 + 1/3 + 4/3 + 1/3)/6 = 5/9, F = 5/7
 *   pairwise tk = 4, pk = 4+1+4+1-6 = 4, qk = 9+9-6 = 12: P = 1, R = 1/3, F = 1/2
 *   MI = H(U) = log 2, H(V) = (2/3) log 3 + (1/3) log 6
 *   NMI = 2 log 2 / (log 2 + H(V)) */
static void test_negative_pred(void)
{
    const int64_t truth[6] = {0, 0, 0, 1, 1, 1};
    const int64_t pred[6] = {0, 0, -1, 1, 1, -1};
    double hv = (2.0 / 3) * log(3.0) + log(6.0) / 3;
    mc_metrics m = compute_ok(truth, pred, 6);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_precision, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_recall, 5.0 / 9, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_f, 5.0 / 7, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_precision, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_recall, 1.0 / 3, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_f, 0.5, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 2 * log(2.0) / (log(2.0) + hv), TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 0.68533147896158653, 1e-14);
    CU_ASSERT_EQUAL(m.n_classes, 2);
    CU_ASSERT_EQUAL(m.n_clusters, 4);

    /* Noise is not one cluster: labelling it 7 would merge items 2 and 5. */
    const int64_t merged[6] = {0, 0, 7, 1, 1, 7};
    mc_metrics g = compute_ok(truth, merged, 6);
    CU_ASSERT(g.bcubed_precision < 1.0 - 1e-3);
    CU_ASSERT_EQUAL(g.n_clusters, 3);
}

/* Large, non-contiguous and negative label values give the same numbers as
 * the mixed example: only the partition matters. These values also take the
 * sorting path of the renumbering (range far above n). */
static void test_label_values(void)
{
    const int64_t truth[8] = {INT64_MAX, INT64_MAX, INT64_MAX, 1000000000000000,
                              1000000000000000, 3, 3, 3};
    const int64_t pred[8] = {42, 42, INT64_MAX - 1, INT64_MAX - 1, INT64_MAX - 1,
                             0, 0, 42};
    mc_metrics ref = compute_ok(mixed_truth, mixed_pred, 8);
    mc_metrics m = compute_ok(truth, pred, 8);
    assert_same(&m, &ref, TOL);

    /* Compact but shifted ids (table path with an offset). */
    const int64_t t2[8] = {500, 500, 500, 502, 502, 501, 501, 501};
    const int64_t p2[8] = {9, 9, 7, 7, 7, 8, 8, 9};
    mc_metrics m2 = compute_ok(t2, p2, 8);
    assert_same(&m2, &ref, TOL);

    /* Distinct negative values are distinct singletons, never merged with
     * one another nor with a non-negative label of the same magnitude. */
    const int64_t t3[5] = {-1, -5, INT64_MIN, 1, 5};
    const int64_t p3[5] = {0, 1, 2, 3, 4};
    mc_metrics m3 = compute_ok(t3, p3, 5);
    CU_ASSERT_EQUAL(m3.n_classes, 5);
    CU_ASSERT_DOUBLE_EQUAL(m3.bcubed_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m3.pairwise_f, 1.0, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m3.nmi, 1.0, TOL);
}

/* Tiny 64-bit LCG (Knuth's MMIX constants); the Python in test_sklearn
 * reproduces it exactly. */
static uint64_t lcg_next(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

/* n items: truth in 0..6 plus -1 (1 in 8), pred = the true class 60% of the
 * time (class "-1" draws cluster 7), a random cluster 0..8 30%, noise 10%. */
static void lcg_example(size_t n, uint64_t seed, int64_t *truth, int64_t *pred)
{
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        int64_t c = (int64_t)(lcg_next(&s) % 8);
        truth[i] = c == 7 ? -1 : c;
        uint64_t u = lcg_next(&s) % 10;
        pred[i] = u < 6 ? c : u < 9 ? (int64_t)(lcg_next(&s) % 9) : -1;
    }
}

/* Expected values: /usr/bin/python3 (numpy 1.24, scikit-learn 1.2.1) running
 *
 * import numpy as np
 * from sklearn.metrics import normalized_mutual_info_score
 * from sklearn.metrics.cluster import contingency_matrix
 *
 * def example(n=200, s=12345):  # the LCG of lcg_example() in tests/test_metrics.c
 *     t, p = [], []
 *     def nxt():
 *         nonlocal s
 *         s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
 *         return s >> 33
 *     for _ in range(n):
 *         c = nxt() % 8
 *         t.append(-1 if c == 7 else c)
 *         u = nxt() % 10
 *         p.append(c if u < 6 else (nxt() % 9 if u < 9 else -1))
 *     return np.array(t), np.array(p)
 *
 * def singletons(a):  # each negative label becomes a fresh id of its own
 *     a = a.copy(); neg = a < 0
 *     a[neg] = a.max() + 1 + np.arange(neg.sum())
 *     return a
 *
 * t, p = example()
 * t, p = singletons(t), singletons(p)
 * c = contingency_matrix(t, p, sparse=True).tocoo()
 * x = c.data.astype(float); n = len(t)
 * a = np.asarray(c.sum(axis=1)).ravel(); b = np.asarray(c.sum(axis=0)).ravel()
 * # BCubed as learn-to-cluster's bcubed(): sum n_ij^2/|C_j| and n_ij^2/|L_i| over n
 * bp = np.sum(x**2 / b[c.col]) / n; br = np.sum(x**2 / a[c.row]) / n
 * # pairwise as learn-to-cluster's pairwise()
 * tk = np.dot(x, x) - n; pk = np.sum(b**2) - n; qk = np.sum(a**2) - n
 * pp, pr = tk / pk, tk / qk
 * for v in (bp, br, 2*bp*br/(bp+br), pp, pr, 2*pp*pr/(pp+pr),
 *           normalized_mutual_info_score(t, p), len(a), len(b)):
 *     print('%.17g' % v)
 *
 * The first twelve items are truth 0 2 4 3 2 -1 0 4 -1 2 3 1 and
 * pred 0 2 4 3 2 2 0 4 7 6 6 4 (checked below). */
static void test_sklearn(void)
{
    enum { N = 200 };
    int64_t truth[N], pred[N];
    lcg_example(N, 12345, truth, pred);
    const int64_t head_t[12] = {0, 2, 4, 3, 2, -1, 0, 4, -1, 2, 3, 1};
    const int64_t head_p[12] = {0, 2, 4, 3, 2, 2, 0, 4, 7, 6, 6, 4};
    CU_ASSERT_EQUAL_FATAL(memcmp(truth, head_t, sizeof head_t), 0);
    CU_ASSERT_EQUAL_FATAL(memcmp(pred, head_p, sizeof head_p), 0);

    mc_metrics m = compute_ok(truth, pred, N);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_precision, 0.54045008076959467, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_recall, 0.49410290148448044, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.bcubed_f, 0.51623833210351111, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_precision, 0.48136804492087798, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_recall, 0.41323400525854515, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.pairwise_f, 0.44470643716104685, TOL);
    CU_ASSERT_DOUBLE_EQUAL(m.nmi, 0.53528706537410609, TOL);
    CU_ASSERT_EQUAL(m.n_classes, 29);
    CU_ASSERT_EQUAL(m.n_clusters, 28);
}

/* Renaming clusters or classes, reordering items, or swapping truth and
 * prediction (P and R trade places) must not change the result. */
static void test_invariance(void)
{
    enum { N = 200 };
    int64_t truth[N], pred[N], t2[N], p2[N];
    lcg_example(N, 12345, truth, pred);
    mc_metrics ref = compute_ok(truth, pred, N);

    /* Bijective renaming: cluster k -> 1000 - 37 k, class c -> c * 2^40 + 3
     * (the second forces the sorting path). Negatives stay negative. */
    for (size_t i = 0; i < N; i++) {
        p2[i] = pred[i] < 0 ? pred[i] : 1000 - 37 * pred[i];
        t2[i] = truth[i] < 0 ? truth[i] : truth[i] * ((int64_t)1 << 40) + 3;
    }
    mc_metrics r = compute_ok(t2, p2, N);
    assert_same(&r, &ref, TOL);

    /* Fisher-Yates shuffle of the items (the same permutation on both). */
    memcpy(t2, truth, sizeof truth);
    memcpy(p2, pred, sizeof pred);
    uint64_t s = 777;
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = (size_t)(lcg_next(&s) % (i + 1));
        int64_t tt = t2[i], tp = p2[i];
        t2[i] = t2[j];
        p2[i] = p2[j];
        t2[j] = tt;
        p2[j] = tp;
    }
    mc_metrics sh = compute_ok(t2, p2, N);
    assert_same(&sh, &ref, TOL);

    mc_metrics sw = compute_ok(pred, truth, N);
    CU_ASSERT_DOUBLE_EQUAL(sw.bcubed_precision, ref.bcubed_recall, TOL);
    CU_ASSERT_DOUBLE_EQUAL(sw.bcubed_recall, ref.bcubed_precision, TOL);
    CU_ASSERT_DOUBLE_EQUAL(sw.bcubed_f, ref.bcubed_f, TOL);
    CU_ASSERT_DOUBLE_EQUAL(sw.pairwise_precision, ref.pairwise_recall, TOL);
    CU_ASSERT_DOUBLE_EQUAL(sw.pairwise_recall, ref.pairwise_precision, TOL);
    CU_ASSERT_DOUBLE_EQUAL(sw.pairwise_f, ref.pairwise_f, TOL);
    CU_ASSERT_DOUBLE_EQUAL(sw.nmi, ref.nmi, TOL);
    CU_ASSERT_EQUAL(sw.n_classes, ref.n_clusters);
    CU_ASSERT_EQUAL(sw.n_clusters, ref.n_classes);
}

/* A larger input through both renumbering paths: the same partition with
 * compact ids (direct table) and with scrambled 63-bit ids (radix sort over
 * all four 16-bit digits) must agree; values stay in range. */
static void test_large_paths(void)
{
    const size_t n = 100000;
    int64_t *truth = malloc(n * sizeof *truth), *pred = malloc(n * sizeof *pred);
    int64_t *t2 = malloc(n * sizeof *t2), *p2 = malloc(n * sizeof *p2);
    CU_ASSERT_FATAL(truth && pred && t2 && p2);
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++) {
        uint64_t c = lcg_next(&s) % 5000;
        truth[i] = (lcg_next(&s) % 50 == 0) ? -1 : (int64_t)c;
        uint64_t u = lcg_next(&s) % 10;
        pred[i] = u < 7 ? (int64_t)(c / 2) : u < 9 ? (int64_t)(lcg_next(&s) % 6000) : -1;
    }
    /* Multiplying by an odd constant is a bijection mod 2^64 and, for these
     * small ids, clearing the top bit keeps it one: no two ids collide. */
    for (size_t i = 0; i < n; i++) {
        t2[i] = truth[i] < 0 ? truth[i]
                             : (int64_t)(((uint64_t)truth[i] * 0x9E3779B97F4A7C15u) & INT64_MAX);
        p2[i] = pred[i] < 0 ? pred[i]
                            : (int64_t)(((uint64_t)pred[i] * 0xD1B54A32D192ED03u) & INT64_MAX);
    }
    mc_metrics a = compute_ok(truth, pred, n);
    mc_metrics b = compute_ok(t2, p2, n);
    assert_same(&a, &b, TOL);
    CU_ASSERT(a.n_classes > 5000 && a.n_classes < 5000 + n / 25);
    CU_ASSERT(a.bcubed_precision > 0.0 && a.bcubed_precision <= 1.0);
    CU_ASSERT(a.bcubed_recall > 0.0 && a.bcubed_recall <= 1.0);
    CU_ASSERT(a.pairwise_precision > 0.0 && a.pairwise_precision <= 1.0);
    CU_ASSERT(a.pairwise_recall > 0.0 && a.pairwise_recall <= 1.0);
    CU_ASSERT(a.nmi > 0.0 && a.nmi <= 1.0);
    free(truth);
    free(pred);
    free(t2);
    free(p2);
}

static void expect_invalid(const int64_t *truth, const int64_t *pred, size_t n, mc_metrics *out)
{
    CU_ASSERT_EQUAL(mc_metrics_compute(truth, pred, n, out), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mc_last_error_detail());
    CU_ASSERT(strlen(mc_last_error_detail()) > 0);
}

/* Error versus reject on a hand-checked case: faces set aside by quality,
 * ties broken by index. */
static void test_reject_curve(void)
{
    const int64_t truth[4] = {0, 0, 1, 1}, pred[4] = {0, 1, 1, 1};
    const float q[4] = {3.0f, 1.0f, 1.0f, 2.0f}; /* order: face 1, 2 (tie), 3, 0 */
    CU_ASSERT_EQUAL(mc_reject_curve_points(25.0, 50.0), 3);
    CU_ASSERT_EQUAL(mc_reject_curve_points(5.0, 50.0), 11);
    CU_ASSERT_EQUAL(mc_reject_curve_points(0.0, 50.0), 0);
    CU_ASSERT_EQUAL(mc_reject_curve_points(NAN, 50.0), 0);
    mc_reject_point pt[3];
    CU_ASSERT_EQUAL_FATAL(mc_reject_curve(truth, pred, q, 4, 25.0, 50.0, pt), MC_OK);
    /* 0 %: every face; BCubed P = (1 + 1/3 + 2/3 + 2/3) / 4, R = 3/4 */
    CU_ASSERT_EQUAL(pt[0].reject_pct, 0.0);
    CU_ASSERT_EQUAL(pt[0].faces, 4);
    CU_ASSERT(isnan(pt[0].quality_below));
    CU_ASSERT_DOUBLE_EQUAL(pt[0].m.bcubed_precision, 2.0 / 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(pt[0].m.bcubed_recall, 0.75, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(pt[0].m.bcubed_f, 12.0 / 17.0, 1e-12);
    /* 25 %: face 1 (lowest, first of the tie) set aside: the rest is exact */
    CU_ASSERT_EQUAL(pt[1].reject_pct, 25.0);
    CU_ASSERT_EQUAL(pt[1].faces, 3);
    CU_ASSERT_EQUAL(pt[1].quality_below, 1.0);
    CU_ASSERT_DOUBLE_EQUAL(pt[1].m.bcubed_f, 1.0, 1e-12);
    /* 50 %: faces 1 and 2 set aside; the first kept has quality 2 */
    CU_ASSERT_EQUAL(pt[2].faces, 2);
    CU_ASSERT_EQUAL(pt[2].quality_below, 2.0);
    CU_ASSERT_EQUAL(pt[2].m.n, 2);

    CU_ASSERT_EQUAL(mc_reject_curve(NULL, pred, q, 4, 25.0, 50.0, pt), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_reject_curve(truth, pred, q, 0, 25.0, 50.0, pt), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_reject_curve(truth, pred, q, 4, 0.0, 50.0, pt), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_reject_curve(truth, pred, q, 4, 25.0, 100.0, pt), MC_ERR_INVALID_ARG);
    CU_ASSERT(strstr(mc_last_error_detail(), "max_pct") != NULL);
    /* one face: setting 50 % aside leaves none */
    CU_ASSERT_EQUAL(mc_reject_curve(truth, pred, q, 1, 50.0, 50.0, pt), MC_ERR_BAD_DATA);
    CU_ASSERT(strstr(mc_last_error_detail(), "too few faces") != NULL);
}

static void test_errors(void)
{
    const int64_t lab[3] = {0, 1, 1};
    mc_metrics m;
    expect_invalid(NULL, lab, 3, &m);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "truth"));
    expect_invalid(lab, NULL, 3, &m);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "pred"));
    expect_invalid(lab, lab, 3, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "out"));
    expect_invalid(lab, lab, 0, &m);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "n == 0"));
    /* A later success clears the detail. */
    CU_ASSERT_EQUAL(mc_metrics_compute(lab, lab, 3, &m), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), "");
    CU_ASSERT_STRING_EQUAL(mc_strerror(MC_ERR_INVALID_ARG), "invalid argument");
}

void mc_test_register(void)
{
    add_test("mixed_hand", test_mixed_hand);
    add_test("perfect", test_perfect);
    add_test("one_cluster", test_one_cluster);
    add_test("all_singletons", test_all_singletons);
    add_test("negative_truth", test_negative_truth);
    add_test("negative_pred", test_negative_pred);
    add_test("label_values", test_label_values);
    add_test("sklearn_crosscheck", test_sklearn);
    add_test("invariance", test_invariance);
    add_test("large_paths", test_large_paths);
    add_test("errors", test_errors);
    add_test("reject_curve", test_reject_curve);
}
