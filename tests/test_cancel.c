/* Cancellation through the progress callback (status.h, mc_progress_fn): a
 * callback that returns non-zero at its first, a middle and its last call
 * stops the k-NN build (exact, Cells, HNSW, a FAISS index, a shard) and
 * mc_cluster_run with MC_ERR_CANCELLED, no output and the detail naming the
 * phase; it is not called again after it asked to stop; and the same call
 * made again afterwards succeeds with the result of an uncancelled run. The
 * suite runs under ASan/UBSan in the sanitizer build (scripts/test.sh), so a
 * leak on the cancelled path fails it there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "cancel";

/* Counts the calls; returns 1 (cancel) at call number cancel_at (0: never). */
typedef struct {
    size_t calls, cancel_at;
    uint64_t last_done, last_total;
    char phase[16];
} canceller;

static int cancel_cb(void *ud, const char *phase, uint64_t done, uint64_t total)
{
    canceller *c = ud;
    c->calls++;
    c->last_done = done;
    c->last_total = total;
    snprintf(c->phase, sizeof c->phase, "%s", phase);
    return c->cancel_at && c->calls == c->cancel_at;
}

/* The detail names the phase the callback last reported. */
static void check_detail(const canceller *c)
{
    char want[96];
    snprintf(want, sizeof want, "cancelled by the progress callback during %s", c->phase);
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), want);
}

/* One index: an uncancelled run counts the calls (C); cancelling at call 1,
 * 2, C/2 and C (the final "done == total" report) returns MC_ERR_CANCELLED
 * with no graph after exactly that many calls; a run after them gives the
 * same graph as the first (one thread: every index here is then
 * deterministic). */
static void cancel_index(const char *index, size_t n, size_t d, size_t min_calls)
{
    mc_embeddings_t *e = tr_blob_embeddings(n, d, 41);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = 8;
    p.index = index;
    p.n_threads = 1;
    p.block_size = 128; /* several exact blocks, so several reports */
    canceller c = {0, 0, 0, 0, ""};
    p.progress = cancel_cb;
    p.progress_data = &c;
    mc_knn_graph_t *g0 = NULL, *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g0), MC_OK);
    size_t total_calls = c.calls;
    CU_ASSERT(total_calls >= min_calls);
    CU_ASSERT_STRING_EQUAL(c.phase, "search");
    CU_ASSERT_EQUAL(c.last_done, n);
    size_t at[4] = {1, 2, total_calls / 2, total_calls};
    for (size_t a = 0; a < 4; a++) {
        if (at[a] == 0 || at[a] > total_calls) continue;
        c = (canceller){0, at[a], 0, 0, ""};
        g = (mc_knn_graph_t *)1; /* must be set to NULL */
        mc_knn_info info;
        CU_ASSERT_EQUAL(mc_knn_graph_build_ex(e, &p, &g, &info), MC_ERR_CANCELLED);
        CU_ASSERT_PTR_NULL(g);
        CU_ASSERT_EQUAL(c.calls, at[a]); /* not called again once it said stop */
        check_detail(&c);
        if (g != (mc_knn_graph_t *)1) mc_knn_graph_free(g);
    }
    /* the same call again, not cancelled */
    c = (canceller){0, 0, 0, 0, ""};
    g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g), MC_OK);
    CU_ASSERT_EQUAL(c.calls, total_calls);
    CU_ASSERT(tr_same_graph(g0, g));
    mc_knn_graph_free(g);
    mc_knn_graph_free(g0);
    mc_embeddings_free(e);
}

static void test_exact(void) { cancel_index("Flat", 2000, 16, 8); }
static void test_cells(void) { cancel_index("Cells16", 2000, 16, 8); }
/* HNSW reports every 4096 faces: 9000 faces give two reports in each phase
 * before the final ones */
static void test_hnsw(void) { cancel_index("HNSW16", 9000, 16, 6); }
static void test_faiss(void) { cancel_index("IVF16,Flat", 2000, 16, 4); }

/* With threads, the workers finish their block and the call still stops:
 * cancelled at the first report, the exact search returns at once. */
static void test_exact_threads(void)
{
    size_t n = 3000;
    mc_embeddings_t *e = tr_blob_embeddings(n, 16, 43);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = 8;
    p.index = "Flat";
    p.n_threads = 4;
    p.block_size = 64;
    const char *indexes[] = {"Flat", "Cells16", "HNSW16"};
    for (size_t i = 0; i < 3; i++) {
        p.index = indexes[i];
        canceller c = {0, 1, 0, 0, ""};
        p.progress = cancel_cb;
        p.progress_data = &c;
        mc_knn_graph_t *g = NULL;
        CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_ERR_CANCELLED);
        CU_ASSERT_PTR_NULL(g);
        CU_ASSERT_EQUAL(c.calls, 1);
        check_detail(&c);
        mc_knn_graph_free(g);
        p.progress = NULL;
        CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_OK);
        mc_knn_graph_free(g);
    }
    mc_embeddings_free(e);
}

/* One shard's rows (knn_shard.h): cancelled like the whole graph. */
static void test_shard(void)
{
    size_t n = 2000;
    mc_embeddings_t *e = tr_blob_embeddings(n, 16, 47);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = 8;
    p.index = "Flat";
    p.n_threads = 1;
    p.block_size = 100;
    canceller c = {0, 2, 0, 0, ""};
    p.progress = cancel_cb;
    p.progress_data = &c;
    mc_knn_part_t *part = NULL;
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &p, 1, 2, &part, NULL), MC_ERR_CANCELLED);
    CU_ASSERT_PTR_NULL(part);
    CU_ASSERT_EQUAL(c.calls, 2);
    check_detail(&c);
    mc_knn_part_free(part);
    c = (canceller){0, 0, 0, 0, ""};
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &p, 1, 2, &part, NULL), MC_OK);
    CU_ASSERT_PTR_NOT_NULL(part);
    mc_knn_part_free(part);
    mc_embeddings_free(e);
}

/* The whole recipe: cancelled in its search at the first and a later report,
 * no result; a run on fresh faces (a run centres its faces in place, so it
 * does not take the same object twice) then gives the uncancelled result. */
static void test_cluster_run(void)
{
    size_t n = 2000, d = 16;
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_DEFAULT);
    p.n_threads = 1;
    p.knn.block_size = 128;
    canceller c = {0, 0, 0, 0, ""};
    p.progress = cancel_cb;
    p.progress_data = &c;
    mc_embeddings_t *e = tr_blob_embeddings(n, d, 53);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_cluster_result_t *r0 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, &p, &r0), MC_OK);
    size_t total_calls = c.calls;
    CU_ASSERT(total_calls >= 4);
    size_t at[3] = {1, total_calls / 2, total_calls};
    for (size_t a = 0; a < 3; a++) {
        mc_embeddings_t *e2 = tr_blob_embeddings(n, d, 53);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
        c = (canceller){0, at[a], 0, 0, ""};
        mc_cluster_result_t *r = (mc_cluster_result_t *)1;
        CU_ASSERT_EQUAL(mc_cluster_run(e2, NULL, &p, &r), MC_ERR_CANCELLED);
        CU_ASSERT_PTR_NULL(r);
        CU_ASSERT_EQUAL(c.calls, at[a]);
        check_detail(&c);
        if (r != (mc_cluster_result_t *)1) mc_cluster_result_free(r);
        mc_embeddings_free(e2);
    }
    mc_embeddings_t *e3 = tr_blob_embeddings(n, d, 53);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e3);
    c = (canceller){0, 0, 0, 0, ""};
    mc_cluster_result_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e3, NULL, &p, &r), MC_OK);
    CU_ASSERT_EQUAL(c.calls, total_calls);
    const mc_clustering_t *a = mc_cluster_result_clustering(r0), *b = mc_cluster_result_clustering(r);
    CU_ASSERT_EQUAL_FATAL(mc_clustering_n(a), mc_clustering_n(b));
    CU_ASSERT_EQUAL(memcmp(mc_clustering_labels(a), mc_clustering_labels(b), n * sizeof(int64_t)), 0);
    mc_cluster_result_free(r);
    mc_cluster_result_free(r0);
    mc_embeddings_free(e3);
    mc_embeddings_free(e);
}

/* A callback that never cancels changes nothing; the status has its name. */
static void test_status_name(void)
{
    CU_ASSERT_STRING_EQUAL(mc_strerror(MC_ERR_CANCELLED), "cancelled");
    CU_ASSERT_EQUAL(MC_ERR_CANCELLED, MC_STATUS_COUNT - 1);
}

void mc_test_register(void)
{
    add_test("status_name", test_status_name);
    add_test("exact", test_exact);
    add_test("exact_threads", test_exact_threads);
    add_test("cells", test_cells);
    add_test("hnsw", test_hnsw);
    add_test("faiss", test_faiss);
    add_test("shard", test_shard);
    add_test("cluster_run", test_cluster_run);
}
