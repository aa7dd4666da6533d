/* Quality-aware DBSCAN: agreement with exact brute-force DBSCAN when the
 * gates are off, the quality rules on hand-built graphs, determinism. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "dbscan";

/* ---- reference: DBSCAN from its definition, O(N^2), double precision ---- */
typedef struct {
    int *core;
    int64_t *comp; /* component of core points, -1 otherwise */
    int *has_core_neighbour;
} brute_result;

static void brute_dbscan(const float *x, size_t n, size_t d, double eps, size_t min_samples,
                         brute_result *r, double *min_gap)
{
    double *dist = malloc(n * n * sizeof *dist);
    r->core = calloc(n, sizeof *r->core);
    r->comp = malloc(n * sizeof *r->comp);
    r->has_core_neighbour = calloc(n, sizeof *r->has_core_neighbour);
    *min_gap = INFINITY;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t t = 0; t < d; t++) s += (double)x[i * d + t] * (double)x[j * d + t];
            dist[i * n + j] = 1.0 - s;
            if (i != j && fabs(dist[i * n + j] - eps) < *min_gap) *min_gap = fabs(dist[i * n + j] - eps);
        }
    for (size_t i = 0; i < n; i++) {
        size_t cnt = 0;
        for (size_t j = 0; j < n; j++) cnt += dist[i * n + j] <= eps;
        r->core[i] = cnt >= min_samples;
    }
    /* connected components of core points by flood fill */
    size_t *stack = malloc(n * sizeof *stack);
    for (size_t i = 0; i < n; i++) r->comp[i] = -1;
    int64_t next = 0;
    for (size_t i = 0; i < n; i++) {
        if (!r->core[i] || r->comp[i] >= 0) continue;
        size_t top = 0;
        stack[top++] = i;
        r->comp[i] = next;
        while (top) {
            size_t a = stack[--top];
            for (size_t b = 0; b < n; b++)
                if (r->core[b] && r->comp[b] < 0 && dist[a * n + b] <= eps) {
                    r->comp[b] = next;
                    stack[top++] = b;
                }
        }
        next++;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (r->core[j] && j != i && dist[i * n + j] <= eps) r->has_core_neighbour[i] = 1;
    free(stack);
    free(dist);
}

static void brute_free(brute_result *r)
{
    free(r->core);
    free(r->comp);
    free(r->has_core_neighbour);
}

/* With both gates off and k = N-1, same core points, same noise, same
 * partition of core points; each border face sits in a cluster of one of its
 * core neighbours. Over several data sets and parameter settings. */
static void test_equals_brute_force(void)
{
    const size_t n = 240, d = 12;
    const double eps_list[] = {0.08, 0.15, 0.3, 0.5};
    const size_t ms_list[] = {1, 2, 4, 8};
    size_t checked = 0, clusters_seen = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        float *raw = tr_blobs(n, d, 6, 0.25, seed);
        mc_embeddings_t *e = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
        free(raw);
        mc_knn_params kp = mc_knn_params_default();
        kp.k = n - 1;
        mc_knn_graph_t *g = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
        const float *x = mc_embeddings_directions(e);
        for (size_t a = 0; a < 4; a++)
            for (size_t b = 0; b < 4; b++) {
                brute_result br;
                double gap;
                brute_dbscan(x, n, d, eps_list[a], ms_list[b], &br, &gap);
                /* float vs double similarities could disagree only for a pair
                 * at eps within rounding; such a setting proves nothing. */
                if (gap < 1e-5) {
                    brute_free(&br);
                    continue;
                }
                mc_dbscan_params dp = mc_dbscan_params_default();
                dp.eps = eps_list[a];
                dp.min_samples = ms_list[b];
                dp.core_quality = mc_threshold_off();
                dp.noise_quality = mc_threshold_off();
                mc_clustering_t *c = NULL;
                CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, NULL, &dp, &c, NULL, NULL), MC_OK);
                const int64_t *lab = mc_clustering_labels(c);
                const uint8_t *role = mc_clustering_roles(c);
                int64_t *map = malloc(n * sizeof *map), *inv = malloc(n * sizeof *inv);
                for (size_t i = 0; i < n; i++) map[i] = inv[i] = -1;
                size_t mism = 0;
                for (size_t i = 0; i < n; i++) {
                    mism += (role[i] == MC_ROLE_CORE) != (br.core[i] != 0);
                    int brute_noise = !br.core[i] && !br.has_core_neighbour[i];
                    mism += (lab[i] < 0) != brute_noise;
                    if (br.core[i] && lab[i] >= 0) {
                        /* partition equality: a bijection between component ids */
                        if (map[br.comp[i]] < 0) map[br.comp[i]] = lab[i];
                        if (inv[lab[i]] < 0) inv[lab[i]] = br.comp[i];
                        mism += map[br.comp[i]] != lab[i] || inv[lab[i]] != br.comp[i];
                    }
                }
                /* border faces: their cluster contains one of their core neighbours */
                for (size_t i = 0; i < n; i++) {
                    if (role[i] != MC_ROLE_BORDER) continue;
                    int ok = 0;
                    for (size_t j = 0; j < n && !ok; j++) {
                        double s = 0;
                        for (size_t t = 0; t < d; t++) s += (double)x[i * d + t] * (double)x[j * d + t];
                        ok = br.core[j] && 1.0 - s <= eps_list[a] && lab[j] == lab[i];
                    }
                    mism += !ok;
                }
                CU_ASSERT_EQUAL(mism, 0);
                clusters_seen += mc_clustering_n_clusters(c);
                checked++;
                free(map);
                free(inv);
                mc_clustering_free(c);
                brute_free(&br);
            }
        mc_knn_graph_free(g);
        mc_embeddings_free(e);
    }
    /* the comparison must actually have happened, on non-trivial clusterings */
    CU_ASSERT(checked >= 40);
    CU_ASSERT(clusters_seen >= 2 * checked);
}

/* Two groups {0,1,2} and {4,5,6}; face 3 is close to both. As a good face it
 * is core and chains the groups into one cluster; as a poor face it may only
 * join one, as a border face, and the identities stay apart. */
static void test_low_quality_never_links(void)
{
    enum { N = 7 };
    float s[N * N];
    bridge_matrix(s, 0.9f, 0.8f, 2, 0.85f); /* slightly closer to the first group */
    mc_knn_graph_t *g = graph_from_matrix(N, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    mc_dbscan_params dp = mc_dbscan_params_default();
    dp.eps = 0.25;
    dp.min_samples = 3;
    dp.noise_quality = mc_threshold_off();
    dp.core_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 10.0};
    float good[N] = {20, 20, 20, 20, 20, 20, 20};
    float poor[N] = {20, 20, 20, 5, 20, 20, 20};
    mc_clustering_t *c = NULL;
    double cq, nq;
    CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, good, &dp, &c, &cq, &nq), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 1);
    CU_ASSERT_DOUBLE_EQUAL(cq, 10.0, 0);
    CU_ASSERT(isinf(nq) && nq < 0);
    mc_clustering_free(c);
    CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, poor, &dp, &c, NULL, NULL), MC_OK);
    const int64_t *lab = mc_clustering_labels(c);
    const uint8_t *role = mc_clustering_roles(c);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    CU_ASSERT(lab[0] == lab[1] && lab[1] == lab[2]);
    CU_ASSERT(lab[4] == lab[5] && lab[5] == lab[6]);
    CU_ASSERT_NOT_EQUAL(lab[0], lab[4]);
    CU_ASSERT_EQUAL(role[3], MC_ROLE_BORDER);
    CU_ASSERT_EQUAL(lab[3], lab[2]); /* joins its most similar core neighbour */
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

/* Faces below the noise gate are noise whatever their neighbours, and do not
 * count towards anyone's density. */
static void test_noise_gate(void)
{
    enum { N = 6 };
    float s[N * N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) s[i * N + j] = i == j ? 1.0f : 0.95f; /* one tight group */
    mc_knn_graph_t *g = graph_from_matrix(N, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    float q[N] = {30, 30, 30, 3, 2, 1};
    mc_dbscan_params dp = mc_dbscan_params_default();
    dp.eps = 0.1;
    dp.min_samples = 4;
    dp.core_quality = mc_threshold_off();
    dp.noise_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 5.0};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, q, &dp, &c, NULL, NULL), MC_OK);
    /* Only three faces pass the gate: nobody has 4 within eps, all noise. */
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 0);
    CU_ASSERT_EQUAL(mc_clustering_n_noise(c), N);
    mc_clustering_free(c);
    dp.min_samples = 3;
    CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, q, &dp, &c, NULL, NULL), MC_OK);
    const int64_t *lab = mc_clustering_labels(c);
    const uint8_t *role = mc_clustering_roles(c);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 1);
    CU_ASSERT(lab[0] == 0 && lab[1] == 0 && lab[2] == 0);
    for (int i = 3; i < N; i++) {
        CU_ASSERT_EQUAL(lab[i], -1);
        CU_ASSERT_EQUAL(role[i], MC_ROLE_NOISE);
    }
    mc_clustering_free(c);
    /* A percentile gate: p50 of {1,2,3,30,30,30} is 16.5: same outcome. */
    dp.noise_quality = (mc_threshold){MC_THRESH_PERCENTILE, 50.0};
    double nq;
    CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, q, &dp, &c, NULL, &nq), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(nq, 16.5, 1e-9);
    CU_ASSERT_EQUAL(mc_clustering_n_noise(c), 3);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

/* Same labels whatever the thread count; ids by decreasing size. */
static void test_deterministic_and_ordered(void)
{
    const size_t n = 2000, d = 32;
    float *raw = tr_blobs(n, d, 20, 0.35, 99);
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
    free(raw);
    mc_knn_params kp = mc_knn_params_default();
    mc_dbscan_params dp = mc_dbscan_params_default();
    dp.eps = 0.3;
    int64_t *first = malloc(n * sizeof *first);
    for (int t = 1; t <= 3; t++) {
        kp.n_threads = dp.n_threads = t;
        mc_knn_graph_t *g = NULL;
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
        CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, mc_embeddings_quality(e), &dp, &c, NULL, NULL), MC_OK);
        const int64_t *lab = mc_clustering_labels(c);
        if (t == 1) {
            memcpy(first, lab, n * sizeof *first);
            size_t nc = mc_clustering_n_clusters(c);
            CU_ASSERT(nc >= 5);
            CU_ASSERT(sizes_decreasing(lab, n, nc));
        } else {
            CU_ASSERT_EQUAL(memcmp(first, lab, n * sizeof *first), 0);
        }
        mc_clustering_free(c);
        mc_knn_graph_free(g);
    }
    free(first);
    mc_embeddings_free(e);
}

/* With a capped k every eps-edge in the graph is honoured in both
 * directions: a core face's core neighbours within its k share its cluster. */
static void test_capped_k_consistent(void)
{
    const size_t n = 600, d = 16, k = 5;
    float *raw = tr_blobs(n, d, 8, 0.3, 5);
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
    free(raw);
    mc_knn_params kp = mc_knn_params_default();
    kp.k = k;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
    mc_dbscan_params dp = mc_dbscan_params_default();
    dp.eps = 0.2;
    dp.min_samples = 3;
    dp.core_quality = dp.noise_quality = mc_threshold_off();
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, NULL, &dp, &c, NULL, NULL), MC_OK);
    const int64_t *lab = mc_clustering_labels(c), *ids = mc_knn_graph_ids(g);
    const uint8_t *role = mc_clustering_roles(c);
    const float *sims = mc_knn_graph_sims(g);
    size_t bad = 0, edges = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < k; t++) {
            int64_t j = ids[i * k + t];
            if (1.0 - sims[i * k + t] <= dp.eps && role[i] == MC_ROLE_CORE && role[j] == MC_ROLE_CORE) {
                edges++;
                bad += lab[i] != lab[j];
            }
        }
    CU_ASSERT(edges > 100);
    CU_ASSERT_EQUAL(bad, 0);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

static void test_param_errors(void)
{
    float s[9] = {1, .9f, .9f, .9f, 1, .9f, .9f, .9f, 1};
    mc_knn_graph_t *g = graph_from_matrix(3, s);
    float q[3] = {1, 2, 3};
    mc_clustering_t *c = NULL;
    mc_dbscan_params dp = mc_dbscan_params_default();
    dp.eps = -0.1;
    CU_ASSERT_EQUAL(mc_dbscan_run(g, q, &dp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    dp.eps = 2.5;
    CU_ASSERT_EQUAL(mc_dbscan_run(g, q, &dp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    dp.eps = NAN;
    CU_ASSERT_EQUAL(mc_dbscan_run(g, q, &dp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    dp = mc_dbscan_params_default();
    dp.min_samples = 0;
    CU_ASSERT_EQUAL(mc_dbscan_run(g, q, &dp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    dp.min_samples = 4; /* k = 2: at most 3 faces in a neighbourhood */
    CU_ASSERT_EQUAL(mc_dbscan_run(g, q, &dp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "k + 1"));
    dp.min_samples = 2;
    CU_ASSERT_EQUAL(mc_dbscan_run(g, NULL, &dp, &c, NULL, NULL), MC_ERR_INVALID_ARG); /* gates, no quality */
    CU_ASSERT_EQUAL(mc_dbscan_run(NULL, q, &dp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_dbscan_run(g, q, &dp, &c, NULL, NULL), MC_OK);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

void mc_test_register(void)
{
    add_test("equals_brute_force", test_equals_brute_force);
    add_test("low_quality_never_links", test_low_quality_never_links);
    add_test("noise_gate", test_noise_gate);
    add_test("deterministic_and_ordered", test_deterministic_and_ordered);
    add_test("capped_k_consistent", test_capped_k_consistent);
    add_test("param_errors", test_param_errors);
}
