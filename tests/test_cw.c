/* Quality-aware Chinese whispers: the quality rules on hand-built graphs,
 * validity of every result (each voting face holds a heaviest label of its
 * neighbourhood), determinism, recovery of blobs, parameter errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/cw.h"
#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "cw";

/* Like tr_blobs(), but also returns the truth: blob index, -1 for an outlier. */
static float *blobs_with_truth(size_t n, size_t d, size_t n_centers, double spread, uint64_t seed,
                               int64_t *truth)
{
    uint64_t s = seed;
    float *x = malloc(n * d * sizeof *x);
    double *c = malloc(n_centers * d * sizeof *c);
    for (size_t i = 0; i < n_centers * d; i++) c[i] = tr_gauss(&s);
    for (size_t i = 0; i < n; i++) {
        int outlier = tr_uniform(&s) < 0.1;
        size_t ci = (size_t)(tr_uniform(&s) * (double)n_centers) % n_centers;
        double mag = 1.0 + 2.0 * tr_uniform(&s);
        truth[i] = outlier ? -1 : (int64_t)ci;
        for (size_t j = 0; j < d; j++) {
            double v = outlier ? tr_gauss(&s) : c[ci * d + j] + spread * tr_gauss(&s);
            x[i * d + j] = (float)(mag * v);
        }
    }
    free(c);
    return x;
}

/* Count the faces of a result that break the Chinese whispers rules, checked
 * from the definition against the k-NN graph g:
 *  - a core face with a core neighbour over an edge (similarity >= thr, in
 *    either row, the larger value of the two) holds a label of maximal total
 *    weight among its core neighbours' labels;
 *  - a core face without one is alone in its cluster apart from border faces;
 *  - a border face sits in the cluster of a most similar core neighbour;
 *  - a noise face has no core neighbour, or is below the noise gate (kept = 0).
 * kept may be NULL (every face passes the noise gate). */
static size_t count_violations(const mc_knn_graph_t *g, double thr, const mc_clustering_t *c,
                               const uint8_t *kept)
{
    size_t n = mc_knn_graph_n(g), k = mc_knn_graph_k(g);
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    const int64_t *lab = mc_clustering_labels(c);
    const uint8_t *role = mc_clustering_roles(c);
    double *w = malloc(n * n * sizeof *w);
    for (size_t i = 0; i < n * n; i++) w[i] = NAN; /* no edge */
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < k; t++) {
            int64_t j = ids[i * k + t];
            double s = sims[i * k + t];
            if (j < 0 || (size_t)j == i || s < thr) continue;
            if (kept && (!kept[i] || !kept[j])) continue;
            if (isnan(w[i * n + (size_t)j]) || s > w[i * n + (size_t)j])
                w[i * n + (size_t)j] = w[(size_t)j * n + i] = s;
        }
    size_t nc = mc_clustering_n_clusters(c), bad = 0;
    double *tot = calloc(nc, sizeof *tot);
    size_t *members = calloc(nc, sizeof *members);
    for (size_t i = 0; i < n; i++)
        if (lab[i] >= 0 && role[i] == MC_ROLE_CORE) members[lab[i]]++;
    for (size_t i = 0; i < n; i++) {
        int any = 0;
        double best_s = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            if (isnan(w[i * n + j]) || role[j] != MC_ROLE_CORE) continue;
            any = 1;
            if (w[i * n + j] > best_s) best_s = w[i * n + j];
            if (role[i] == MC_ROLE_CORE) tot[lab[j]] += w[i * n + j];
        }
        if (role[i] == MC_ROLE_CORE) {
            if (lab[i] < 0) bad++;
            else if (!any) bad += members[lab[i]] != 1;
            else {
                double mx = -INFINITY;
                for (size_t l = 0; l < nc; l++)
                    if (tot[l] != 0.0 && tot[l] > mx) mx = tot[l];
                bad += !(tot[lab[i]] >= mx - 1e-9);
            }
            memset(tot, 0, nc * sizeof *tot);
        } else if (role[i] == MC_ROLE_BORDER) {
            int ok = 0;
            for (size_t j = 0; j < n && !ok; j++)
                ok = !isnan(w[i * n + j]) && role[j] == MC_ROLE_CORE && w[i * n + j] == best_s &&
                     lab[j] == lab[i];
            bad += !ok || (kept && !kept[i]);
        } else {
            bad += lab[i] != -1 || (any && (!kept || kept[i]));
        }
    }
    free(w);
    free(tot);
    free(members);
    return bad;
}

static void test_defaults(void)
{
    mc_cw_params p = mc_cw_params_default();
    CU_ASSERT_DOUBLE_EQUAL(p.threshold, 0.5, 0);
    CU_ASSERT_EQUAL(p.iterations, 100);
    CU_ASSERT_EQUAL(p.seed, 1);
    CU_ASSERT_EQUAL(p.core_quality.kind, MC_THRESH_PERCENTILE);
    CU_ASSERT_DOUBLE_EQUAL(p.core_quality.value, 30.0, 0);
    CU_ASSERT_EQUAL(p.noise_quality.kind, MC_THRESH_OFF);
    CU_ASSERT_EQUAL(p.n_threads, 0);
}

/* Two groups with no edge between them: two clusters, every face core. */
static void test_two_groups(void)
{
    enum { N = 8 };
    float s[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) s[i * N + j] = i == j ? 1.0f : (i < 4) == (j < 4) ? 0.8f : 0.1f;
    mc_knn_graph_t *g = graph_from_matrix(N, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    mc_cw_params cp = mc_cw_params_default();
    cp.core_quality = mc_threshold_off();
    mc_clustering_t *c = NULL;
    double cq = 0, nq = 0;
    CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, NULL, &cp, &c, &cq, &nq), MC_OK);
    CU_ASSERT(isinf(cq) && cq < 0);
    CU_ASSERT(isinf(nq) && nq < 0);
    const int64_t *lab = mc_clustering_labels(c);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_CORE), N);
    for (int i = 1; i < 4; i++) CU_ASSERT_EQUAL(lab[i], lab[0]);
    for (int i = 5; i < N; i++) CU_ASSERT_EQUAL(lab[i], lab[4]);
    CU_ASSERT_NOT_EQUAL(lab[0], lab[4]);
    CU_ASSERT_EQUAL(count_violations(g, cp.threshold, c, NULL), 0);
    mc_clustering_free(c);
    /* NULL params: the defaults, whose core gate (p30) needs quality. */
    float q[N] = {9, 8, 7, 6, 5, 4, 3, 2};
    CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, q, NULL, &c, &cq, NULL), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(cq, 4.1, 1e-9);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_CORE), 5);
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_BORDER), 3);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

/* Groups {0,1,2} and {4,5,6} are loose (0.45 inside); face 3 is very close to
 * every face of both (0.95, and 0.96 to face 1). As a voting face it is every
 * face's heaviest neighbour, and the only fixed point of the votes is one
 * cluster: Chinese whispers merges the identities, whatever the seed. As a
 * poor face it does not vote: the groups stay apart and it joins the cluster
 * of its most similar core neighbour as a border face. */
static void test_low_quality_never_links(void)
{
    enum { N = 7 };
    float s[N * N];
    bridge_matrix(s, 0.45f, 0.95f, 1, 0.96f);
    mc_knn_graph_t *g = graph_from_matrix(N, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    mc_cw_params cp = mc_cw_params_default();
    cp.threshold = 0.4;
    cp.core_quality = mc_threshold_off();
    float poor[N] = {20, 20, 20, 5, 20, 20, 20};
    mc_clustering_t *c = NULL;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        cp.seed = seed;
        CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, poor, &cp, &c, NULL, NULL), MC_OK);
        CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 1);
        CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_CORE), N);
        mc_clustering_free(c);
    }
    cp.core_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 10.0};
    for (uint64_t seed = 1; seed <= 8; seed++) {
        cp.seed = seed;
        double cq;
        CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, poor, &cp, &c, &cq, NULL), MC_OK);
        CU_ASSERT_DOUBLE_EQUAL(cq, 10.0, 0);
        const int64_t *lab = mc_clustering_labels(c);
        const uint8_t *role = mc_clustering_roles(c);
        CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
        CU_ASSERT(lab[0] == lab[1] && lab[1] == lab[2]);
        CU_ASSERT(lab[4] == lab[5] && lab[5] == lab[6]);
        CU_ASSERT_NOT_EQUAL(lab[0], lab[4]);
        CU_ASSERT_EQUAL(role[3], MC_ROLE_BORDER);
        CU_ASSERT_EQUAL(lab[3], lab[1]); /* its most similar core neighbour */
        CU_ASSERT_EQUAL(lab[3], 0);      /* so that cluster is the larger */
        CU_ASSERT_EQUAL(count_violations(g, cp.threshold, c, NULL), 0);
        mc_clustering_free(c);
    }
    /* A tie between core neighbours goes to the lowest index: face 4. */
    s[3 * N + 1] = s[1 * N + 3] = 0.95f;
    s[3 * N + 4] = s[4 * N + 3] = 0.97f;
    s[3 * N + 5] = s[5 * N + 3] = 0.97f;
    mc_knn_graph_free(g);
    g = graph_from_matrix(N, s);
    CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, poor, &cp, &c, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_labels(c)[3], mc_clustering_labels(c)[4]);
    CU_ASSERT_EQUAL(mc_clustering_roles(c)[3], MC_ROLE_BORDER);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

/* Faces below the noise gate are noise and carry no edge: the bridge of the
 * previous test vanishes, and so does the only link of face 7. */
static void test_noise_gate(void)
{
    enum { N = 8 };
    float s[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int gi = i < 3 ? 0 : (i > 3 && i < 7) ? 1 : 2 + i;
            int gj = j < 3 ? 0 : (j > 3 && j < 7) ? 1 : 2 + j;
            s[i * N + j] = i == j ? 1.0f : gi == gj ? 0.45f : 0.0f;
        }
    for (int j = 0; j < 7; j++)
        if (j != 3) s[3 * N + j] = s[j * N + 3] = 0.95f;
    s[7 * N + 3] = s[3 * N + 7] = 0.9f; /* face 7's only edge: to face 3 */
    mc_knn_graph_t *g = graph_from_matrix(N, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    float q[N] = {20, 21, 22, 1, 23, 24, 25, 2};
    mc_cw_params cp = mc_cw_params_default();
    cp.threshold = 0.4;
    cp.core_quality = mc_threshold_off();
    cp.noise_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 1.5};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, q, &cp, &c, NULL, NULL), MC_OK);
    const int64_t *lab = mc_clustering_labels(c);
    const uint8_t *role = mc_clustering_roles(c);
    /* Face 3 is noise, so 7 is a core face with no edge: a singleton. */
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 3);
    CU_ASSERT_EQUAL(lab[3], -1);
    CU_ASSERT_EQUAL(role[3], MC_ROLE_NOISE);
    CU_ASSERT(lab[0] == lab[1] && lab[1] == lab[2]);
    CU_ASSERT(lab[4] == lab[5] && lab[5] == lab[6]);
    CU_ASSERT_NOT_EQUAL(lab[0], lab[4]);
    CU_ASSERT_EQUAL(lab[7], 2);
    CU_ASSERT_EQUAL(role[7], MC_ROLE_CORE);
    uint8_t kept[N];
    for (int i = 0; i < N; i++) kept[i] = q[i] >= 1.5f;
    CU_ASSERT_EQUAL(count_violations(g, cp.threshold, c, kept), 0);
    mc_clustering_free(c);
    /* A percentile gate: p25 of the qualities is 15.5; faces 3 and 7 go. */
    cp.noise_quality = (mc_threshold){MC_THRESH_PERCENTILE, 25.0};
    double nq;
    CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, q, &cp, &c, NULL, &nq), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(nq, 15.5, 1e-9);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    CU_ASSERT_EQUAL(mc_clustering_n_noise(c), 2);
    CU_ASSERT_EQUAL(mc_clustering_labels(c)[7], -1);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

/* Isolated and poorly connected faces: a core face with no edge is its own
 * cluster (role core), a non-core face with no core neighbour is noise, and a
 * core face whose only neighbours are non-core still takes them as border. */
static void test_singletons(void)
{
    enum { N = 5 };
    float s[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) s[i * N + j] = i == j ? 1.0f : 0.0f;
    s[0 * N + 1] = s[1 * N + 0] = 0.9f; /* core 0 - poor 1 */
    s[3 * N + 4] = s[4 * N + 3] = 0.9f; /* poor 3 - poor 4 */
    mc_knn_graph_t *g = graph_from_matrix(N, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    float q[N] = {10, 1, 10, 1, 1};
    mc_cw_params cp = mc_cw_params_default();
    cp.core_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 5.0};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, q, &cp, &c, NULL, NULL), MC_OK);
    const int64_t *lab = mc_clustering_labels(c);
    const uint8_t *role = mc_clustering_roles(c);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    CU_ASSERT(lab[0] == 0 && lab[1] == 0 && lab[2] == 1);
    CU_ASSERT(role[0] == MC_ROLE_CORE && role[1] == MC_ROLE_BORDER && role[2] == MC_ROLE_CORE);
    CU_ASSERT(lab[3] == -1 && lab[4] == -1);
    CU_ASSERT(role[3] == MC_ROLE_NOISE && role[4] == MC_ROLE_NOISE);
    CU_ASSERT_EQUAL(count_violations(g, cp.threshold, c, NULL), 0);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

/* Same seed: same labels, run after run and whatever the thread count; ids
 * by decreasing size; more rounds change nothing once a round is idle. */
static void test_deterministic_and_ordered(void)
{
    const size_t n = 2000, d = 32;
    float *raw = tr_blobs(n, d, 20, 0.5, 99);
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
    free(raw);
    mc_knn_params kp = mc_knn_params_default();
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
    mc_cw_params cp = mc_cw_params_default();
    cp.threshold = 0.4;
    cp.seed = 12345;
    int64_t *first = malloc(n * sizeof *first);
    for (int run = 0; run < 5; run++) {
        cp.n_threads = run < 3 ? 1 : 2;
        if (run == 4) cp.iterations = 100000;
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, mc_embeddings_quality(e), &cp, &c, NULL, NULL), MC_OK);
        const int64_t *lab = mc_clustering_labels(c);
        if (run == 0) {
            memcpy(first, lab, n * sizeof *first);
            size_t nc = mc_clustering_n_clusters(c);
            CU_ASSERT(nc >= 5);
            CU_ASSERT(sizes_decreasing(lab, n, nc));
        } else {
            CU_ASSERT_EQUAL(memcmp(first, lab, n * sizeof *first), 0);
        }
        mc_clustering_free(c);
    }
    free(first);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

/* Same hash of a partition for equal partitions (labels are canonical). */
static uint64_t labels_hash(const mc_clustering_t *c)
{
    uint64_t h = 1469598103934665603ull;
    const int64_t *lab = mc_clustering_labels(c);
    for (size_t i = 0; i < mc_clustering_n(c); i++) h = (h ^ (uint64_t)(lab[i] + 1)) * 1099511628211ull;
    return h;
}

/* On ambiguous graphs the seed picks among several fixed points: a sparse
 * graph of random weights, and overlapping blobs. Every result is a valid
 * Chinese whispers result, and the seeds do not all agree. A ring of equal
 * edges is not ambiguous: at the end of an arc a face sees two labels of the
 * same weight, and the tie rule hands it the smaller, so the smallest label
 * floods the ring whatever the seed. */
static void test_seeds_valid(void)
{
    enum { R = 12, N = 40 };
    float s[N * N];
    for (int i = 0; i < R; i++)
        for (int j = 0; j < R; j++) {
            int dist = abs(i - j);
            s[i * R + j] = i == j ? 1.0f : (dist == 1 || dist == R - 1) ? 0.8f : 0.0f;
        }
    mc_knn_graph_t *g = graph_from_matrix(R, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    mc_cw_params cp = mc_cw_params_default();
    cp.core_quality = mc_threshold_off();
    for (uint64_t seed = 1; seed <= 20; seed++) {
        cp.seed = seed;
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, NULL, &cp, &c, NULL, NULL), MC_OK);
        CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 1);
        CU_ASSERT_EQUAL(count_violations(g, cp.threshold, c, NULL), 0);
        mc_clustering_free(c);
    }
    mc_knn_graph_free(g);

    uint64_t r = 42;
    for (int i = 0; i < N; i++)
        for (int j = 0; j <= i; j++)
            s[i * N + j] = s[j * N + i] =
                i == j ? 1.0f : tr_uniform(&r) < 0.1 ? (float)(0.5 + 0.5 * tr_uniform(&r)) : 0.0f;
    g = graph_from_matrix(N, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    uint64_t h0 = 0;
    int differ = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        cp.seed = seed;
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, NULL, &cp, &c, NULL, NULL), MC_OK);
        CU_ASSERT_EQUAL(count_violations(g, cp.threshold, c, NULL), 0);
        uint64_t h = labels_hash(c);
        if (seed == 1) h0 = h;
        differ += h != h0;
        mc_clustering_free(c);
    }
    CU_ASSERT(differ > 0);
    mc_knn_graph_free(g);

    const size_t n = 400, d = 16;
    float *raw = tr_blobs(n, d, 6, 0.8, 3);
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
    free(raw);
    mc_knn_params kp = mc_knn_params_default();
    kp.k = 10;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
    cp = mc_cw_params_default();
    cp.threshold = 0.3;
    differ = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        cp.seed = seed * 0x9E3779B97F4A7C15ull;
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, mc_embeddings_quality(e), &cp, &c, NULL, NULL), MC_OK);
        CU_ASSERT_EQUAL(count_violations(g, cp.threshold, c, NULL), 0);
        CU_ASSERT(mc_clustering_n_role(c, MC_ROLE_BORDER) > 0);
        uint64_t h = labels_hash(c);
        if (seed == 1) h0 = h;
        differ += h != h0;
        mc_clustering_free(c);
    }
    CU_ASSERT(differ > 0);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

/* Well-separated blobs (plus 10% outliers, each its own class) come back:
 * BCubed F above 0.9, with the gates off and with the default gates. */
static void test_recovers_blobs(void)
{
    const size_t n = 3000, d = 32;
    int64_t *truth = malloc(n * sizeof *truth);
    float *raw = blobs_with_truth(n, d, 20, 0.3, 7, truth);
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
    free(raw);
    mc_knn_params kp = mc_knn_params_default();
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
    for (int gates = 0; gates < 2; gates++) {
        mc_cw_params cp = mc_cw_params_default();
        cp.threshold = 0.6;
        if (!gates) cp.core_quality = mc_threshold_off();
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, mc_embeddings_quality(e), &cp, &c, NULL, NULL), MC_OK);
        mc_metrics m;
        CU_ASSERT_EQUAL_FATAL(mc_metrics_compute(truth, mc_clustering_labels(c), n, &m), MC_OK);
        CU_ASSERT(m.bcubed_f > 0.9);
        CU_ASSERT(mc_clustering_n_clusters(c) >= 20);
        mc_clustering_free(c);
    }
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
    free(truth);
}

static void test_param_errors(void)
{
    float s[9] = {1, .9f, .9f, .9f, 1, .9f, .9f, .9f, 1};
    mc_knn_graph_t *g = graph_from_matrix(3, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    float q[3] = {1, 2, 3};
    mc_clustering_t *c = NULL;
    mc_cw_params cp = mc_cw_params_default();
    const double bad_thr[] = {-1.5, 1.01, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_thr / sizeof *bad_thr; i++) {
        cp.threshold = bad_thr[i];
        CU_ASSERT_EQUAL(mc_cw_run(g, q, &cp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "threshold"));
        CU_ASSERT_PTR_NULL(c);
    }
    cp = mc_cw_params_default();
    cp.iterations = 0;
    CU_ASSERT_EQUAL(mc_cw_run(g, q, &cp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "iterations"));
    cp = mc_cw_params_default();
    CU_ASSERT_EQUAL(mc_cw_run(g, NULL, &cp, &c, NULL, NULL), MC_ERR_INVALID_ARG); /* gate, no quality */
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "quality"));
    cp.core_quality = mc_threshold_off();
    cp.noise_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 1.0};
    CU_ASSERT_EQUAL(mc_cw_run(g, NULL, &cp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_cw_run(g, NULL, NULL, &c, NULL, NULL), MC_ERR_INVALID_ARG); /* defaults gate */
    CU_ASSERT_EQUAL(mc_cw_run(NULL, q, &cp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_cw_run(g, q, &cp, NULL, NULL, NULL), MC_ERR_INVALID_ARG);
    /* the edges of the range are accepted; the error detail is cleared */
    cp.threshold = -1.0;
    cp.iterations = 1;
    CU_ASSERT_EQUAL(mc_cw_run(g, q, &cp, &c, NULL, NULL), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), "");
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 1);
    mc_clustering_free(c);
    cp.threshold = 1.0; /* no similarity reaches 1: three core singletons */
    CU_ASSERT_EQUAL(mc_cw_run(g, q, &cp, &c, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 3);
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_CORE), 3);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

void mc_test_register(void)
{
    add_test("defaults", test_defaults);
    add_test("two_groups", test_two_groups);
    add_test("low_quality_never_links", test_low_quality_never_links);
    add_test("noise_gate", test_noise_gate);
    add_test("singletons", test_singletons);
    add_test("deterministic_and_ordered", test_deterministic_and_ordered);
    add_test("seeds_valid", test_seeds_valid);
    add_test("recovers_blobs", test_recovers_blobs);
    add_test("param_errors", test_param_errors);
}
