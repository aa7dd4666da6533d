/* Exact k-NN graph: against brute force, canonical order, blocks, threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "knn";

static mc_embeddings_t *random_embeddings(size_t n, size_t d, uint64_t seed)
{
    float *x = tr_blobs(n, d, 5, 0.5, seed);
    mc_embeddings_t *e = NULL;
    if (x) mc_embeddings_new(x, n, d, &e);
    free(x);
    return e;
}

static double dot(const float *a, const float *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++) s += (double)a[j] * (double)b[j];
    return s;
}

/* Every row: self excluded, sorted, similarities equal to the true inner
 * products, and the k-th similarity at least that of every face left out. */
static void test_against_brute_force(void)
{
    size_t n = 300, d = 16, k = 10;
    mc_embeddings_t *e = random_embeddings(n, d, 11);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g), MC_OK);
    CU_ASSERT_EQUAL(mc_knn_graph_n(g), n);
    CU_ASSERT_EQUAL(mc_knn_graph_k(g), k);
    const float *x = mc_embeddings_directions(e);
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        char *in_row = calloc(n, 1);
        for (size_t c = 0; c < k; c++) {
            int64_t j = ids[i * k + c];
            if (j < 0 || (size_t)j >= n || (size_t)j == i) {
                bad++;
                continue;
            }
            in_row[j] = 1;
            if (fabs(dot(x + i * d, x + (size_t)j * d, d) - sims[i * k + c]) > 1e-5) bad++;
            if (c > 0 && sims[i * k + c] > sims[i * k + c - 1]) bad++;
        }
        for (size_t j = 0; j < n; j++)
            if (j != i && !in_row[j] && dot(x + i * d, x + j * d, d) > sims[i * k + k - 1] + 1e-5) bad++;
        free(in_row);
    }
    CU_ASSERT_EQUAL(bad, 0);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

/* Small query blocks and any thread count give the same graph, bit for bit. */
static void test_blocks_and_threads(void)
{
    size_t n = 500, d = 24;
    mc_embeddings_t *e = random_embeddings(n, d, 12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = 15;
    p.n_threads = 1;
    p.block_size = 4096;
    mc_knn_graph_t *g1 = NULL, *g2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g1), MC_OK);
    p.n_threads = 2;
    p.block_size = 7;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g2), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(g1), mc_knn_graph_ids(g2), n * 15 * sizeof(int64_t)), 0);
    size_t diff = 0;
    for (size_t i = 0; i < n * 15; i++)
        diff += fabsf(mc_knn_graph_sims(g1)[i] - mc_knn_graph_sims(g2)[i]) > 1e-6f;
    CU_ASSERT_EQUAL(diff, 0);
    mc_knn_graph_free(g1);
    mc_knn_graph_free(g2);
    mc_embeddings_free(e);
}

/* Identical vectors: the face itself is dropped, its twins stay with
 * similarity 1, ties are ordered by id. */
static void test_duplicates(void)
{
    float raw[6 * 2] = {1, 0, 2, 0, 3, 0, 0, 1, 0, 2, 1, 1};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 6, 2, &e), MC_OK);
    mc_knn_params p = mc_knn_params_default();
    p.k = 2;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g), MC_OK);
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *s = mc_knn_graph_sims(g);
    CU_ASSERT(ids[0] == 1 && ids[1] == 2); /* face 0: twins 1 and 2 */
    CU_ASSERT(ids[2] == 0 && ids[3] == 2);
    CU_ASSERT(ids[4] == 0 && ids[5] == 1);
    CU_ASSERT(ids[6] == 4 && ids[7] == 5); /* face 3: twin 4, then the diagonal */
    CU_ASSERT_DOUBLE_EQUAL(s[0], 1.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(s[7], sqrt(0.5), 1e-6);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

static void test_errors(void)
{
    mc_embeddings_t *e = random_embeddings(10, 4, 13);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    mc_knn_graph_t *g = NULL;
    p.k = 10;
    CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "k must be < N"));
    CU_ASSERT_PTR_NULL(g);
    p.k = 0;
    CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_ERR_INVALID_ARG);
    p.k = 9;
    CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_OK);
    mc_knn_graph_free(g);
    CU_ASSERT_EQUAL(mc_knn_graph_build(NULL, &p, &g), MC_ERR_INVALID_ARG);
    mc_knn_graph_free(NULL);
    mc_embeddings_free(e);
}

/* A graph from arrays is validated and put in canonical order. */
static void test_from_arrays(void)
{
    const int64_t ids[] = {2, 1, -1, 0, 1, 0};
    const float sims[] = {0.5f, 0.9f, 0.f, 0.7f, 0.5f, 0.5f};
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_new(3, 2, ids, sims, &g), MC_OK);
    const int64_t *gi = mc_knn_graph_ids(g);
    CU_ASSERT(gi[0] == 1 && gi[1] == 2);  /* by similarity */
    CU_ASSERT(gi[2] == 0 && gi[3] == -1); /* -1 last */
    CU_ASSERT(gi[4] == 0 && gi[5] == 1);  /* equal similarity: by id */
    mc_knn_graph_free(g);
    const int64_t bad[] = {5, 1, 0, 0, 1, 0};
    CU_ASSERT_EQUAL(mc_knn_graph_new(3, 2, bad, sims, &g), MC_ERR_BAD_DATA);
    CU_ASSERT_EQUAL(mc_knn_graph_new(0, 2, ids, sims, &g), MC_ERR_INVALID_ARG);
}

void mc_test_register(void)
{
    add_test("against_brute_force", test_against_brute_force);
    add_test("blocks_and_threads", test_blocks_and_threads);
    add_test("duplicates", test_duplicates);
    add_test("errors", test_errors);
    add_test("from_arrays", test_from_arrays);
}
