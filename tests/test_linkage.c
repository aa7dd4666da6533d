/* Quality-aware linkage: against a brute-force agglomeration for each kind
 * (complete graph, gates off), the quality rules on hand-built graphs,
 * determinism, parameter errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "linkage";

/* Textbook agglomeration, O(n^3): merge the pair of clusters with the
 * highest linkage similarity while it is >= thr. */
static void brute_linkage(const double *s, size_t n, mc_linkage_kind kind, double thr, int64_t *lab)
{
    int64_t *cl = malloc(n * sizeof *cl);
    for (size_t i = 0; i < n; i++) cl[i] = (int64_t)i;
    for (;;) {
        double best = -INFINITY;
        int64_t ba = -1, bb = -1;
        for (int64_t a = 0; a < (int64_t)n; a++)
            for (int64_t b = a + 1; b < (int64_t)n; b++) {
                double sum = 0, mn = INFINITY, mx = -INFINITY;
                size_t cnt = 0;
                for (size_t i = 0; i < n; i++) {
                    if (cl[i] != a) continue;
                    for (size_t j = 0; j < n; j++) {
                        if (cl[j] != b) continue;
                        double v = s[i * n + j];
                        sum += v;
                        cnt++;
                        if (v < mn) mn = v;
                        if (v > mx) mx = v;
                    }
                }
                if (!cnt) continue;
                double v = kind == MC_LINKAGE_SINGLE ? mx : kind == MC_LINKAGE_COMPLETE ? mn : sum / (double)cnt;
                if (v > best) {
                    best = v;
                    ba = a;
                    bb = b;
                }
            }
        if (ba < 0 || best < thr) break;
        for (size_t i = 0; i < n; i++)
            if (cl[i] == bb) cl[i] = ba;
    }
    memcpy(lab, cl, n * sizeof *lab);
    free(cl);
}

/* Same partition up to renaming. */
static int same_partition(const int64_t *x, const int64_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if ((x[i] == x[j]) != (y[i] == y[j])) return 0;
    return 1;
}

/* With copies of faces among them (the last n_copies rows repeat the first
 * ones, each three times), the complete graph still gives the textbook result. */
static void equals_brute_force(size_t n_copies)
{
    const size_t n = 70, d = 10;
    size_t checked = 0, nontrivial = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        float *raw = tr_blobs(n, d, 5, 0.4, seed);
        for (size_t i = 0; i < n_copies; i++)
            memcpy(raw + (n - 1 - i) * d, raw + (i / 3) * d, d * sizeof *raw);
        mc_embeddings_t *e = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
        free(raw);
        mc_knn_params kp = mc_knn_params_default();
        kp.k = n - 1;
        mc_knn_graph_t *g = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
        /* the reference reads the graph's own similarities (symmetrised as
         * the library does: the larger of the two directions) */
        double *s = malloc(n * n * sizeof *s);
        const int64_t *ids = mc_knn_graph_ids(g);
        const float *sims = mc_knn_graph_sims(g);
        for (size_t i = 0; i < n * n; i++) s[i] = -INFINITY;
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < n - 1; c++) {
                size_t j = (size_t)ids[i * (n - 1) + c];
                double v = sims[i * (n - 1) + c];
                if (v > s[i * n + j]) s[i * n + j] = s[j * n + i] = v;
            }
        for (int kind = MC_LINKAGE_SINGLE; kind <= MC_LINKAGE_COMPLETE; kind++)
            for (double thr = 0.2; thr < 0.95; thr += 0.15) {
                mc_linkage_params lp = mc_linkage_params_default();
                lp.kind = (mc_linkage_kind)kind;
                lp.threshold = thr;
                lp.core_quality = lp.noise_quality = mc_threshold_off();
                mc_clustering_t *c = NULL;
                CU_ASSERT_EQUAL_FATAL(mc_linkage_run(g, NULL, &lp, &c, NULL, NULL), MC_OK);
                int64_t ref[70];
                brute_linkage(s, n, (mc_linkage_kind)kind, thr, ref);
                CU_ASSERT(same_partition(mc_clustering_labels(c), ref, n));
                size_t nc = mc_clustering_n_clusters(c);
                nontrivial += nc > 1 && nc < n;
                checked++;
                mc_clustering_free(c);
            }
        free(s);
        mc_knn_graph_free(g);
        mc_embeddings_free(e);
    }
    CU_ASSERT_EQUAL(checked, 3 * 3 * 5);
    CU_ASSERT(nontrivial >= checked / 2);
}

static void test_equals_brute_force(void) { equals_brute_force(0); }
static void test_equals_brute_force_with_copies(void) { equals_brute_force(24); }

/* Copies of one face are one face seen several times: however many there
 * are beyond k, they form one cluster (missing pairs among them do not count
 * 0), and a face near them joins them. */
static void test_copies_are_one_face(void)
{
    const size_t n = 400, d = 16;
    float *raw = malloc(n * d * sizeof *raw);
    uint64_t rs = 5;
    float v[16], w[16];
    for (size_t j = 0; j < d; j++) {
        v[j] = (float)tr_gauss(&rs);
        w[j] = (float)tr_gauss(&rs);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            /* 250 copies of v, 130 of w, 20 faces near v */
            float noise = i >= 380 ? 0.15f * (float)tr_gauss(&rs) : 0.0f;
            raw[i * d + j] = (i < 250 || i >= 380 ? v[j] : w[j]) + noise;
        }
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
    free(raw);
    mc_knn_params kp = mc_knn_params_default();
    kp.k = 10;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
    for (int kind = MC_LINKAGE_SINGLE; kind <= MC_LINKAGE_COMPLETE; kind++) {
        mc_linkage_params lp = mc_linkage_params_default();
        lp.kind = (mc_linkage_kind)kind;
        lp.threshold = 0.9;
        lp.core_quality = lp.noise_quality = mc_threshold_off();
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_linkage_run(g, NULL, &lp, &c, NULL, NULL), MC_OK);
        const int64_t *lab = mc_clustering_labels(c);
        CU_ASSERT_EQUAL(mc_clustering_n_noise(c), 0);
        size_t same_v = 0, same_w = 0, near_v = 0;
        for (size_t i = 0; i < n; i++) {
            same_v += i < 250 && lab[i] == lab[0];
            same_w += i >= 250 && i < 380 && lab[i] == lab[250];
            near_v += i >= 380 && lab[i] == lab[0];
        }
        CU_ASSERT_EQUAL(same_v, 250);
        CU_ASSERT_EQUAL(same_w, 130);
        CU_ASSERT_NOT_EQUAL(lab[0], lab[250]);
        if (kind != MC_LINKAGE_COMPLETE) CU_ASSERT(near_v >= 15);
        mc_clustering_free(c);
    }
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

/* Two groups {0,1,2}, {4,5,6} and face 3 close to both: with 3 a good face,
 * single linkage chains them; as a poor face it joins one as a border face. */
static void test_low_quality_never_links(void)
{
    enum { N = 7 };
    float s[N * N];
    bridge_matrix(s, 0.9f, 0.8f, 2, 0.85f);
    mc_knn_graph_t *g = graph_from_matrix(N, s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    mc_linkage_params lp = mc_linkage_params_default();
    lp.kind = MC_LINKAGE_SINGLE;
    lp.threshold = 0.75;
    lp.noise_quality = mc_threshold_off();
    lp.core_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 10.0};
    float good[N] = {20, 20, 20, 20, 20, 20, 20}, poor[N] = {20, 20, 20, 5, 20, 20, 20};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_linkage_run(g, good, &lp, &c, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 1);
    mc_clustering_free(c);
    CU_ASSERT_EQUAL_FATAL(mc_linkage_run(g, poor, &lp, &c, NULL, NULL), MC_OK);
    const int64_t *lab = mc_clustering_labels(c);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    CU_ASSERT(lab[0] == lab[1] && lab[1] == lab[2] && lab[4] == lab[5] && lab[5] == lab[6]);
    CU_ASSERT_NOT_EQUAL(lab[0], lab[4]);
    CU_ASSERT_EQUAL(lab[3], lab[2]);
    CU_ASSERT_EQUAL(mc_clustering_roles(c)[3], MC_ROLE_BORDER);
    mc_clustering_free(c);
    /* a poor face whose best core neighbour is below the threshold is noise */
    lp.threshold = 0.88;
    CU_ASSERT_EQUAL_FATAL(mc_linkage_run(g, poor, &lp, &c, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_labels(c)[3], -1);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    mc_clustering_free(c);
    /* the noise gate demotes */
    lp.threshold = 0.75;
    lp.noise_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 6.0};
    CU_ASSERT_EQUAL_FATAL(mc_linkage_run(g, poor, &lp, &c, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_labels(c)[3], -1);
    CU_ASSERT_EQUAL(mc_clustering_roles(c)[3], MC_ROLE_NOISE);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

/* Average linkage counts pairs missing from the graph as 0: a capped k keeps
 * two halves of a loose group apart where the complete graph joins them. */
static void test_missing_pairs_count_zero(void)
{
    enum { N = 4 };
    /* 0-1 and 2-3 tight; cross pairs 0.6; with k = 1 only the tight pairs
     * are in the graph, so the cross average is 0. */
    float s[N * N] = {1, .95f, .6f, .6f, .95f, 1, .6f, .6f, .6f, .6f, 1, .95f, .6f, .6f, .95f, 1};
    mc_knn_graph_t *full = graph_from_matrix(N, s);
    const int64_t ids[] = {1, 0, 3, 2};
    const float sims[] = {.95f, .95f, .95f, .95f};
    mc_knn_graph_t *k1 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_new(N, 1, ids, sims, &k1), MC_OK);
    mc_linkage_params lp = mc_linkage_params_default();
    lp.threshold = 0.5;
    lp.core_quality = mc_threshold_off();
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_linkage_run(full, NULL, &lp, &c, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 1);
    mc_clustering_free(c);
    CU_ASSERT_EQUAL_FATAL(mc_linkage_run(k1, NULL, &lp, &c, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    mc_clustering_free(c);
    mc_knn_graph_free(full);
    mc_knn_graph_free(k1);
}

static void test_deterministic(void)
{
    const size_t n = 3000, d = 32;
    float *raw = tr_blobs(n, d, 30, 0.35, 21);
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, d, &e), MC_OK);
    free(raw);
    int64_t *first = malloc(n * sizeof *first);
    for (int t = 1; t <= 2; t++) {
        mc_knn_params kp = mc_knn_params_default();
        kp.n_threads = t;
        mc_knn_graph_t *g = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
        mc_linkage_params lp = mc_linkage_params_default();
        lp.n_threads = t;
        lp.threshold = 0.6;
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_linkage_run(g, mc_embeddings_quality(e), &lp, &c, NULL, NULL), MC_OK);
        if (t == 1) {
            memcpy(first, mc_clustering_labels(c), n * sizeof *first);
            CU_ASSERT(mc_clustering_n_clusters(c) >= 20);
        } else {
            CU_ASSERT_EQUAL(memcmp(first, mc_clustering_labels(c), n * sizeof *first), 0);
        }
        mc_clustering_free(c);
        mc_knn_graph_free(g);
    }
    free(first);
    mc_embeddings_free(e);
}

static void test_params(void)
{
    mc_linkage_kind k;
    CU_ASSERT_EQUAL(mc_linkage_parse("Average", &k), MC_OK);
    CU_ASSERT_EQUAL(k, MC_LINKAGE_AVERAGE);
    CU_ASSERT_EQUAL(mc_linkage_parse("ward", &k), MC_ERR_INVALID_ARG);
    CU_ASSERT_STRING_EQUAL(mc_linkage_name(MC_LINKAGE_COMPLETE), "complete");
    CU_ASSERT_STRING_EQUAL(mc_linkage_name((mc_linkage_kind)7), "unknown");
    float s[9] = {1, .9f, .9f, .9f, 1, .9f, .9f, .9f, 1};
    mc_knn_graph_t *g = graph_from_matrix(3, s);
    float q[3] = {1, 2, 3};
    mc_clustering_t *c = NULL;
    mc_linkage_params lp = mc_linkage_params_default();
    lp.threshold = 1.5;
    CU_ASSERT_EQUAL(mc_linkage_run(g, q, &lp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    lp.threshold = NAN;
    CU_ASSERT_EQUAL(mc_linkage_run(g, q, &lp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    lp = mc_linkage_params_default();
    lp.kind = (mc_linkage_kind)9;
    CU_ASSERT_EQUAL(mc_linkage_run(g, q, &lp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    lp = mc_linkage_params_default();
    CU_ASSERT_EQUAL(mc_linkage_run(g, NULL, &lp, &c, NULL, NULL), MC_ERR_INVALID_ARG); /* gates need quality */
    CU_ASSERT_EQUAL(mc_linkage_run(NULL, q, &lp, &c, NULL, NULL), MC_ERR_INVALID_ARG);
    double cq;
    CU_ASSERT_EQUAL(mc_linkage_run(g, q, &lp, &c, &cq, NULL), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(cq, 1.6, 1e-9);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

void mc_test_register(void)
{
    add_test("equals_brute_force", test_equals_brute_force);
    add_test("equals_brute_force_with_copies", test_equals_brute_force_with_copies);
    add_test("copies_are_one_face", test_copies_are_one_face);
    add_test("low_quality_never_links", test_low_quality_never_links);
    add_test("missing_pairs_count_zero", test_missing_pairs_count_zero);
    add_test("deterministic", test_deterministic);
    add_test("params", test_params);
}
