/* k-NN graph: exact against brute force, canonical order, blocks, threads;
 * FAISS factory indexes; the automatic choice. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/magclust.h"
#include "knn_impl.h"
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

/* Rows of g that are not as every index promises: an id that is not a
 * face, or the face itself; a similarity that is not the true cosine of
 * the directions x (n x d); a row out of descending order. 0 when all
 * hold. */
static size_t check_true_rows(const float *x, size_t n, size_t d, const mc_knn_graph_t *g)
{
    size_t k = mc_knn_graph_k(g), bad = 0;
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++) {
            int64_t j = ids[i * k + c];
            if (j < 0 || (size_t)j >= n || (size_t)j == i) {
                bad++;
                continue;
            }
            if (fabs(dot(x + i * d, x + (size_t)j * d, d) - sims[i * k + c]) > 1e-5) bad++;
            if (c > 0 && sims[i * k + c] > sims[i * k + c - 1]) bad++;
        }
    return bad;
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
    CU_ASSERT_EQUAL(check_true_rows(x, n, d, g), 0);
    /* and no face left out is nearer than the row's last */
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        char *in_row = calloc(n, 1);
        for (size_t c = 0; c < k; c++)
            if (ids[i * k + c] >= 0 && (size_t)ids[i * k + c] < n) in_row[ids[i * k + c]] = 1;
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

/* More faces than one sgemm block of the data (4096): still exact, and the
 * same graph for any thread count. */
static void test_multi_block(void)
{
    size_t n = 5000, d = 8, k = 5;
    mc_embeddings_t *e = random_embeddings(n, d, 21);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    p.n_threads = 1;
    mc_knn_graph_t *g1 = NULL, *g2 = NULL;
    mc_knn_info info;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &g1, &info), MC_OK);
    CU_ASSERT_STRING_EQUAL(info.index, "Flat");
    CU_ASSERT_EQUAL(info.exact, 1);
    /* the thread count changes nothing, bit for bit */
    p.n_threads = 2;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g2), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(g1), mc_knn_graph_ids(g2), n * k * sizeof(int64_t)), 0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(g1), mc_knn_graph_sims(g2), n * k * sizeof(float)), 0);
    mc_knn_graph_free(g2);
    /* another query block size may round the last bit differently */
    p.block_size = 333;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g2), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(g1), mc_knn_graph_ids(g2), n * k * sizeof(int64_t)), 0);
    size_t diff = 0;
    for (size_t i = 0; i < n * k; i++)
        diff += fabsf(mc_knn_graph_sims(g1)[i] - mc_knn_graph_sims(g2)[i]) > 1e-6f;
    CU_ASSERT_EQUAL(diff, 0);
    const float *x = mc_embeddings_directions(e);
    const int64_t *ids = mc_knn_graph_ids(g1);
    const float *sims = mc_knn_graph_sims(g1);
    size_t bad = 0;
    for (size_t i = 0; i < n; i += 97) {
        double kth = sims[i * k + k - 1];
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            int kept = 0;
            for (size_t c = 0; c < k; c++) kept |= ids[i * k + c] == (int64_t)j;
            if (!kept && dot(x + i * d, x + j * d, d) > kth + 1e-5) bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    mc_knn_graph_free(g1);
    mc_knn_graph_free(g2);
    mc_embeddings_free(e);
}

typedef struct {
    char phase[16];
    uint64_t done, total;
    size_t calls;
} progress_log;

static int record_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
{
    progress_log *l = ud;
    snprintf(l->phase, sizeof l->phase, "%s", phase);
    l->done = done;
    l->total = total;
    l->calls++;
    return 0;
}

/* A FAISS index from the factory: IVF visiting every list is exact, so it
 * must give the exact graph; HNSW finds most neighbours; info says what ran. */
static void test_factory(void)
{
    size_t n = 800, d = 16, k = 8;
    mc_embeddings_t *e = random_embeddings(n, d, 22);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    mc_knn_graph_t *ge = NULL, *gi = NULL, *gh = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &ge), MC_OK);
    p.index = "IVF16,Flat";
    p.nprobe = 16;
    progress_log log = {{0}, 0, 0, 0};
    p.progress = record_progress;
    p.progress_data = &log;
    mc_knn_info info;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &gi, &info), MC_OK);
    CU_ASSERT_STRING_EQUAL(info.index, "IVF16,Flat");
    CU_ASSERT_EQUAL(info.exact, 0);
    CU_ASSERT_EQUAL(info.nprobe, 16);
    CU_ASSERT_EQUAL(info.train_size, n);
    CU_ASSERT_STRING_EQUAL(log.phase, "search");
    CU_ASSERT_EQUAL(log.done, n);
    CU_ASSERT_EQUAL(log.total, n);
    size_t same = 0;
    for (size_t i = 0; i < n * k; i++) same += mc_knn_graph_ids(ge)[i] == mc_knn_graph_ids(gi)[i];
    CU_ASSERT(same >= n * k - n / 50); /* rounding may swap a near tie */
    p.index = "HNSW16,Flat"; /* FAISS's; "HNSW16" alone is hnswlib's */
    p.nprobe = 0;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &gh, &info), MC_OK);
    CU_ASSERT(info.ef_search >= 64);
    size_t hit = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++)
                hit += mc_knn_graph_ids(ge)[i * k + a] == mc_knn_graph_ids(gh)[i * k + b];
    CU_ASSERT((double)hit >= 0.9 * (double)(n * k));
    mc_knn_graph_free(ge);
    mc_knn_graph_free(gi);
    mc_knn_graph_free(gh);
    mc_embeddings_free(e);
}

/* Row i lists only candidates, never i, with true similarities, sorted, and
 * no candidate left out is more similar than the k-th. Returns the faults. */
static size_t check_candidate_rows(const mc_embeddings_t *e, const mc_knn_graph_t *g,
                                   const uint8_t *cand, size_t step)
{
    size_t n = mc_knn_graph_n(g), k = mc_knn_graph_k(g), d = mc_embeddings_dim(e), bad = 0;
    const float *x = mc_embeddings_directions(e);
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    for (size_t i = 0; i < n; i += step) {
        const int64_t *ri = ids + i * k;
        const float *rs = sims + i * k;
        for (size_t c = 0; c < k; c++) {
            if (ri[c] < 0 || (size_t)ri[c] == i || !cand[ri[c]]) bad++;
            else if (fabs(dot(x + i * d, x + (size_t)ri[c] * d, d) - rs[c]) > 1e-5) bad++;
            if (c > 0 && rs[c] > rs[c - 1]) bad++;
        }
        for (size_t j = 0; j < n; j++) {
            if (j == i || !cand[j]) continue;
            int kept = 0;
            for (size_t c = 0; c < k; c++) kept |= ri[c] == (int64_t)j;
            if (!kept && dot(x + i * d, x + j * d, d) > rs[k - 1] + 1e-5) bad++;
        }
    }
    return bad;
}

/* Entries of b's rows found anywhere in a's row: the shared neighbours. */
static size_t shared_ids(const mc_knn_graph_t *a, const mc_knn_graph_t *b)
{
    size_t n = mc_knn_graph_n(a), k = mc_knn_graph_k(a), found = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++)
            for (size_t e = 0; e < k; e++)
                if (mc_knn_graph_ids(b)[i * k + c] == mc_knn_graph_ids(a)[i * k + e]) {
                    found++;
                    break;
                }
    return found;
}

static size_t same_ids(const mc_knn_graph_t *a, const mc_knn_graph_t *b)
{
    size_t n = mc_knn_graph_n(a) * mc_knn_graph_k(a), same = 0;
    for (size_t i = 0; i < n; i++) same += mc_knn_graph_ids(a)[i] == mc_knn_graph_ids(b)[i];
    return same;
}

/* Candidates: the exact search against brute force over the candidates;
 * FAISS IVF and Cells visiting every list/cell agree with it. */
static void test_candidates(void)
{
    size_t n = 1500, d = 16, k = 7;
    mc_embeddings_t *e = random_embeddings(n, d, 31);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    uint8_t *cand = calloc(n, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cand);
    uint64_t s = 5;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) nc += cand[i] = (tr_next(&s) % 3) != 0;
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    p.candidates = cand;
    p.block_size = 200; /* several query blocks */
    mc_knn_graph_t *ge = NULL, *gi = NULL, *gc = NULL;
    mc_knn_info info;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &ge, &info), MC_OK);
    CU_ASSERT_EQUAL(info.n_candidates, nc);
    CU_ASSERT_EQUAL(check_candidate_rows(e, ge, cand, 1), 0);
    p.index = "IVF8,Flat";
    p.nprobe = 8;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &gi, &info), MC_OK);
    CU_ASSERT_EQUAL(info.train_size, nc);
    CU_ASSERT(same_ids(ge, gi) >= n * k - n / 50); /* rounding may swap a near tie */
    p.index = "Cells8";
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &gc, &info), MC_OK);
    CU_ASSERT(same_ids(ge, gc) >= n * k - n / 50);
    CU_ASSERT(fabs(info.scan_frac - 1.0) < 1e-9);
    CU_ASSERT_EQUAL(check_candidate_rows(e, gc, cand, 7), 0);
    /* no candidate at all */
    memset(cand, 0, n);
    mc_knn_graph_t *g0 = NULL;
    p.index = "Flat";
    CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g0), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "candidate"));
    CU_ASSERT_PTR_NULL(g0);
    mc_knn_graph_free(ge);
    mc_knn_graph_free(gi);
    mc_knn_graph_free(gc);
    free(cand);
    mc_embeddings_free(e);
}

static int cancel_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
{
    (void)ud;
    (void)phase;
    (void)total;
    return done > 0;
}

/* Int8: near the exact graph (a near tie may swap), every listed
 * similarity the true float cosine, rows sorted and self-free; the same rows
 * bit for bit on the portable kernel, on any thread count, by symmetric
 * tiles or one block at a time, and in shards;
 * candidates honoured; k close to N lists everyone; cancellable. d is not a
 * multiple of 4 and N not one of the panel, kernel or block sizes. */
static void test_int8(void)
{
    size_t n = 1500, d = 50, k = 12;
    mc_embeddings_t *e = random_embeddings(n, d, 41);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const float *x = mc_embeddings_directions(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    mc_knn_graph_t *ge = NULL, *g8 = NULL, *gg = NULL, *g1 = NULL;
    mc_knn_info info;
    p.index = "Flat";
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &ge), MC_OK);
    p.index = "Int8";
    progress_log log = {{0}, 0, 0, 0};
    p.progress = record_progress;
    p.progress_data = &log;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &g8, &info), MC_OK);
    CU_ASSERT_STRING_EQUAL(info.index, "Int8");
    CU_ASSERT_EQUAL(info.exact, 0);
    CU_ASSERT(fabs(info.scan_frac - 1.0) < 1e-12);
    CU_ASSERT_STRING_EQUAL(log.phase, "search");
    CU_ASSERT_EQUAL(log.done, n);
    CU_ASSERT(same_ids(ge, g8) >= n * k - n / 50);
    const int64_t *ids = mc_knn_graph_ids(g8);
    const float *sims = mc_knn_graph_sims(g8);
    CU_ASSERT_EQUAL(check_true_rows(x, n, d, g8), 0);
    /* the portable kernel, one thread: the same bytes */
    mc_knn_int8_force_generic(1);
    p.n_threads = 1;
    p.progress = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &gg), MC_OK);
    mc_knn_int8_force_generic(0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(gg), ids, n * k * sizeof *ids), 0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(gg), sims, n * k * sizeof *sims), 0);
    p.n_threads = 2;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g1), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(g1), ids, n * k * sizeof *ids), 0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(g1), sims, n * k * sizeof *sims), 0);
    /* one block at a time instead of the symmetric tiles, portable kernel
     * on three threads: the same bytes */
    mc_knn_graph_t *go = NULL;
    mc_knn_int8_force_one_sided(1);
    mc_knn_int8_force_generic(1);
    p.n_threads = 3;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &go), MC_OK);
    mc_knn_int8_force_generic(0);
    mc_knn_int8_force_one_sided(0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(go), ids, n * k * sizeof *ids), 0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(go), sims, n * k * sizeof *sims), 0);
    mc_knn_graph_free(go);
    /* a memory limit too small for every row's candidates: one block at a
     * time, the same bytes */
    mc_set_memory_limit(1u << 20);
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &go), MC_OK);
    mc_set_memory_limit(0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(go), ids, n * k * sizeof *ids), 0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(go), sims, n * k * sizeof *sims), 0);
    mc_knn_graph_free(go);
    p.n_threads = 2;
    /* three shards: the whole graph's rows */
    for (size_t sh = 0; sh < 3; sh++) {
        mc_knn_part_t *pt = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_part_build(e, &p, sh, 3, &pt, &info), MC_OK);
        CU_ASSERT_STRING_EQUAL(info.index, "Int8");
        size_t f = mc_knn_part_first_row(pt), r = mc_knn_part_rows(pt);
        CU_ASSERT_EQUAL(memcmp(mc_knn_part_ids(pt), ids + f * k, r * k * sizeof *ids), 0);
        CU_ASSERT_EQUAL(memcmp(mc_knn_part_sims(pt), sims + f * k, r * k * sizeof *sims), 0);
        mc_knn_part_free(pt);
    }
    /* candidates */
    uint8_t *cand = calloc(n, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cand);
    for (size_t i = 0; i < n; i++) cand[i] = i % 3 != 1;
    mc_knn_graph_t *gce = NULL, *gc8 = NULL;
    p.candidates = cand;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &gc8), MC_OK);
    p.index = "Flat";
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &gce), MC_OK);
    CU_ASSERT(same_ids(gce, gc8) >= n * k - n / 50);
    size_t bad = 0;
    for (size_t a = 0; a < n * k; a++) bad += mc_knn_graph_ids(gc8)[a] >= 0 && !cand[mc_knn_graph_ids(gc8)[a]];
    CU_ASSERT_EQUAL(bad, 0);
    p.candidates = NULL;
    free(cand);
    /* k = N - 1: every other face, as the exact graph lists them */
    mc_embeddings_t *es = random_embeddings(40, 7, 43);
    CU_ASSERT_PTR_NOT_NULL_FATAL(es);
    mc_knn_graph_t *gs8 = NULL, *gse = NULL;
    p.k = 39;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(es, &p, &gse), MC_OK);
    p.index = "Int8";
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(es, &p, &gs8), MC_OK);
    for (size_t i = 0; i < 40; i++) {
        int64_t sum8 = 0, sume = 0;
        for (size_t c = 0; c < 39; c++) {
            sum8 += mc_knn_graph_ids(gs8)[i * 39 + c];
            sume += mc_knn_graph_ids(gse)[i * 39 + c];
        }
        CU_ASSERT_EQUAL(sum8, sume);
    }
    /* cancelled */
    mc_knn_graph_t *gx = NULL;
    p.k = k;
    p.progress = cancel_progress;
    CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &gx), MC_ERR_CANCELLED);
    CU_ASSERT_PTR_NULL(gx);
    mc_knn_graph_free(ge);
    mc_knn_graph_free(g8);
    mc_knn_graph_free(gg);
    mc_knn_graph_free(g1);
    mc_knn_graph_free(gce);
    mc_knn_graph_free(gc8);
    mc_knn_graph_free(gs8);
    mc_knn_graph_free(gse);
    mc_embeddings_free(es);
    mc_embeddings_free(e);
}

/* PCA<d>,Int8: candidates from 8-bit codes on the top principal axes, then
 * the full codes and the floats: near the exact graph, true cosines, the
 * same bytes on the portable kernel, any thread count, and by symmetric
 * tiles or one block at a time; bad specs named. */
static void test_pca_int8(void)
{
    size_t n = 1500, d = 50, k = 12;
    mc_embeddings_t *e = random_embeddings(n, d, 47);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const float *x = mc_embeddings_directions(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    mc_knn_graph_t *ge = NULL, *gp = NULL, *gg = NULL;
    mc_knn_info info;
    p.index = "Flat";
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &ge), MC_OK);
    p.index = "PCA40,Int8";
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &gp, &info), MC_OK);
    CU_ASSERT_STRING_EQUAL(info.index, "PCA40,Int8");
    CU_ASSERT_EQUAL(info.train_size, n);
    CU_ASSERT_EQUAL(info.exact, 0);
    CU_ASSERT(shared_ids(ge, gp) >= n * k * 95 / 100); /* 98.5 % when written */
    const int64_t *ids = mc_knn_graph_ids(gp);
    const float *sims = mc_knn_graph_sims(gp);
    CU_ASSERT_EQUAL(check_true_rows(x, n, d, gp), 0);
    mc_knn_int8_force_generic(1);
    p.n_threads = 1;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &gg), MC_OK);
    mc_knn_int8_force_generic(0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(gg), ids, n * k * sizeof *ids), 0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(gg), sims, n * k * sizeof *sims), 0);
    /* the symmetric tiles (the default here) and one block at a time, on
     * one and three threads: the same bytes */
    for (int one_sided = 0; one_sided <= 1; one_sided++) {
        mc_knn_graph_t *gt = NULL;
        mc_knn_int8_force_one_sided(one_sided);
        p.n_threads = 3;
        CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &gt), MC_OK);
        mc_knn_int8_force_one_sided(0);
        CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(gt), ids, n * k * sizeof *ids), 0);
        CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(gt), sims, n * k * sizeof *sims), 0);
        mc_knn_graph_free(gt);
    }
    const char *specs[] = {"PCA2,Int8", "PCA50,Int8", "PCA99999999,Int8", "PCA24,Int8x"};
    for (size_t a = 0; a < sizeof specs / sizeof *specs; a++) {
        mc_knn_graph_t *gb = NULL;
        p.index = specs[a];
        CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &gb), MC_ERR_INVALID_ARG);
        CU_ASSERT_PTR_NULL(gb);
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "PCA<d>,Int8"));
    }
    mc_knn_graph_free(ge);
    mc_knn_graph_free(gp);
    mc_knn_graph_free(gg);
    mc_embeddings_free(e);
}

/* Cells: every cell visited is the exact graph; fewer cells visited still
 * find most neighbours of clustered data for a fraction of the products; the
 * graph does not depend on the thread count, bit for bit; info says what
 * ran; progress reaches the end. */
static void test_cells(void)
{
    size_t n = 4000, d = 16, k = 8;
    mc_embeddings_t *e = random_embeddings(n, d, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    mc_knn_graph_t *ge = NULL, *ga = NULL, *g1 = NULL, *g2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &ge), MC_OK);
    p.index = "Cells32";
    p.nprobe = 32;
    mc_knn_info info;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &ga, &info), MC_OK);
    CU_ASSERT_STRING_EQUAL(info.index, "Cells32");
    CU_ASSERT_EQUAL(info.exact, 0);
    CU_ASSERT_EQUAL(info.nprobe, 32);
    CU_ASSERT_EQUAL(info.train_size, n); /* 64 x 32 < 10000 > n */
    CU_ASSERT(same_ids(ge, ga) >= n * k - n / 50);
    progress_log log = {{0}, 0, 0, 0};
    p.progress = record_progress;
    p.progress_data = &log;
    p.nprobe = 4;
    p.n_threads = 1;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &g1, &info), MC_OK);
    CU_ASSERT(info.scan_frac > 0.0 && info.scan_frac < 0.4);
    CU_ASSERT_STRING_EQUAL(log.phase, "search");
    CU_ASSERT_EQUAL(log.done, n);
    size_t hit = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++)
                hit += mc_knn_graph_ids(ge)[i * k + a] == mc_knn_graph_ids(g1)[i * k + b];
    CU_ASSERT((double)hit >= 0.8 * (double)(n * k));
    p.n_threads = 2;
    p.progress = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g2), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(g1), mc_knn_graph_ids(g2), n * k * sizeof(int64_t)), 0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(g1), mc_knn_graph_sims(g2), n * k * sizeof(float)), 0);
    mc_knn_graph_free(g2);
    g2 = NULL;
    /* "Cells" alone picks the cell count */
    p.index = "Cells";
    p.nprobe = 0;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &g2, &info), MC_OK);
    char want[32];
    snprintf(want, sizeof want, "Cells%zu", mc_knn_auto_cells(n));
    CU_ASSERT_STRING_EQUAL(info.index, want);
    CU_ASSERT_EQUAL(info.nprobe, mc_knn_auto_cells_nprobe(mc_knn_auto_cells(n)));
    mc_knn_graph_free(ge);
    mc_knn_graph_free(ga);
    mc_knn_graph_free(g1);
    mc_knn_graph_free(g2);
    mc_embeddings_free(e);
}

static void test_index_errors(void)
{
    mc_embeddings_t *e = random_embeddings(200, 8, 23);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = 5;
    mc_knn_graph_t *g = NULL;
    p.index = "Bogus";
    CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "Bogus"));
    CU_ASSERT_PTR_NULL(g);
    p.index = "IVF4096,Flat";
    CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "4096 lists"));
    const char *bad_cells[] = {"Cells0", "Cells12x", "Cells-3", "Cells300"};
    for (size_t b = 0; b < sizeof bad_cells / sizeof *bad_cells; b++) {
        p.index = bad_cells[b];
        CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_ERR_INVALID_ARG);
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), bad_cells[b] + 5));
        CU_ASSERT_PTR_NULL(g);
    }
    p.index = "auto";
    CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &g), MC_OK);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

static void test_auto_choice(void)
{
    char buf[64];
    mc_knn_auto_index(1000, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "Flat");
    mc_knn_auto_index(MC_KNN_AUTO_FLAT_MAX, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "Flat");
    /* above, the 8-bit search where it is fast */
    mc_knn_auto_index(MC_KNN_AUTO_EXACT_MAX, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, mc_knn_int8_fast() ? "Int8" : "Flat");
    mc_knn_auto_index(MC_KNN_AUTO_FLAT_MAX + 1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, mc_knn_int8_fast() ? "Int8" : "Flat");
    int fast = mc_knn_int8_fast();
    mc_knn_auto_index(1000000, buf, sizeof buf); /* 2 L^2 >= 1e6 */
    CU_ASSERT_STRING_EQUAL(buf, fast ? "PCA128,Int8" : "Cells1024");
    mc_knn_auto_index(250000, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, fast ? "PCA256,Int8" : "Cells512");
    mc_knn_auto_index_dim(250000, 128, buf, sizeof buf); /* no axes to drop */
    CU_ASSERT_STRING_EQUAL(buf, fast ? "Int8" : "Cells512");
    mc_knn_auto_index_dim(1000000, 200, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, fast ? "PCA128,Int8" : "Cells1024");
    mc_knn_auto_index_dim(1000000, 128, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, fast ? "Int8" : "Cells1024");
    CU_ASSERT_EQUAL(mc_knn_auto_cells(2048), 32);
    CU_ASSERT_EQUAL(mc_knn_auto_cells(2049), 64);
    CU_ASSERT_EQUAL(mc_knn_auto_cells(1), 1);
    CU_ASSERT_EQUAL(mc_knn_auto_cells_nprobe(1024), 128);
    CU_ASSERT_EQUAL(mc_knn_auto_cells_nprobe(32), 8);
    CU_ASSERT_EQUAL(mc_knn_auto_cells_nprobe(4), 4);
    CU_ASSERT_EQUAL(mc_knn_auto_nprobe(4096), 128);
    CU_ASSERT_EQUAL(mc_knn_auto_nprobe(64), 16);
    CU_ASSERT_EQUAL(mc_knn_auto_nprobe(8), 8);
}

static void test_faiss_spec(void)
{
    char b[64];
    CU_ASSERT_EQUAL(mc_knn_faiss_spec("IVF16,PQ8", b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "IVF16,PQ8np");
    CU_ASSERT_EQUAL(mc_knn_faiss_spec("PQ16x4", b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "PQ16x4np");
    CU_ASSERT_EQUAL(mc_knn_faiss_spec("IVF64,PQ8np", b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "IVF64,PQ8np");
    CU_ASSERT_EQUAL(mc_knn_faiss_spec("OPQ8,IVF64,PQ8", b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "OPQ8,IVF64,PQ8np");
    CU_ASSERT_EQUAL(mc_knn_faiss_spec("HNSW32", b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "HNSW32");
    CU_ASSERT_EQUAL(mc_knn_faiss_spec("IVF4096,Flat", b, sizeof b), 0);
    CU_ASSERT_STRING_EQUAL(b, "IVF4096,Flat");
    CU_ASSERT_EQUAL(mc_knn_faiss_spec("IVF16,PQ8", b, 11), -1); /* "IVF16,PQ8np" needs 12 */
}

/* Recall sample: the exact graph is found whole; a graph whose worse-half
 * rows lost their last 3 of 10 neighbours scores exactly what was removed,
 * and its better half 1; a sample is the same for a seed whatever the
 * thread count; candidates; errors. */
static void test_recall_sample(void)
{
    size_t n = 200, d = 16, k = 10;
    mc_embeddings_t *e = random_embeddings(n, d, 41);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    float q[200];
    for (size_t i = 0; i < n; i++) q[i] = (float)((i * 37) % n); /* distinct, median 99.5 */
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_set_quality(e, q, "q"), MC_OK);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    mc_knn_graph_t *g = NULL, *bad = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g), MC_OK);
    mc_knn_recall_params rp = mc_knn_recall_params_default();
    CU_ASSERT_EQUAL(rp.n_sample, 1000);
    mc_knn_recall r;
    CU_ASSERT_EQUAL_FATAL(mc_knn_recall_sample(g, e, &rp, &r), MC_OK);
    CU_ASSERT_EQUAL(r.n_sampled, n); /* clipped to N */
    CU_ASSERT_EQUAL(r.k, k);
    CU_ASSERT_EQUAL(r.n_better, n / 2);
    CU_ASSERT_DOUBLE_EQUAL(r.median_quality, 99.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(r.recall, 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.recall_better, 1.0, 1e-12);

    int64_t *ids = malloc(n * k * sizeof *ids);
    float *sims = malloc(n * k * sizeof *sims);
    CU_ASSERT_FATAL(ids && sims);
    memcpy(ids, mc_knn_graph_ids(g), n * k * sizeof *ids);
    memcpy(sims, mc_knn_graph_sims(g), n * k * sizeof *sims);
    for (size_t i = 0; i < n; i++)
        if (q[i] < 99.5f)
            for (size_t c = k - 3; c < k; c++) ids[i * k + c] = -1;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_new(n, k, ids, sims, &bad), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_knn_recall_sample(bad, e, NULL, &r), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(r.recall, (100.0 * 10 + 100.0 * 7) / 2000.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.recall_better, 1.0, 1e-12);
    /* a sample: the same faces for a seed, any thread count */
    rp.n_sample = 50;
    rp.seed = 7;
    rp.n_threads = 1;
    mc_knn_recall r1, r2, r3;
    CU_ASSERT_EQUAL(mc_knn_recall_sample(bad, e, &rp, &r1), MC_OK);
    rp.n_threads = 3;
    CU_ASSERT_EQUAL(mc_knn_recall_sample(bad, e, &rp, &r2), MC_OK);
    CU_ASSERT_EQUAL(r1.n_sampled, 50);
    CU_ASSERT_EQUAL(r1.n_better, r2.n_better);
    CU_ASSERT_EQUAL(r1.recall, r2.recall);
    CU_ASSERT(r1.recall > 0.7 && r1.recall < 1.0);
    CU_ASSERT_EQUAL(r1.recall_better, 1.0);
    rp.seed = 8;
    CU_ASSERT_EQUAL(mc_knn_recall_sample(bad, e, &rp, &r3), MC_OK);
    CU_ASSERT_EQUAL(r3.n_sampled, 50);
    /* recall@7 of the damaged graph: its first 7 are whole */
    rp = mc_knn_recall_params_default();
    rp.k = 7;
    CU_ASSERT_EQUAL(mc_knn_recall_sample(bad, e, &rp, &r3), MC_OK);
    CU_ASSERT_EQUAL(r3.k, 7);
    CU_ASSERT_DOUBLE_EQUAL(r3.recall, 1.0, 1e-12);
    rp.k = 8; /* the worse half has 7 of 8 */
    CU_ASSERT_EQUAL(mc_knn_recall_sample(bad, e, &rp, &r3), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(r3.recall, (100.0 * 8 + 100.0 * 7) / 1600.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r3.recall_better, 1.0, 1e-12);
    rp.k = k + 1;
    CU_ASSERT_EQUAL(mc_knn_recall_sample(bad, e, &rp, &r3), MC_ERR_INVALID_ARG);

    /* a graph built among candidates, measured among the same */
    uint8_t cand[200];
    for (size_t i = 0; i < n; i++) cand[i] = i % 3 != 0;
    mc_knn_graph_t *gc = NULL;
    p.candidates = cand;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &gc), MC_OK);
    rp = mc_knn_recall_params_default();
    rp.candidates = cand;
    CU_ASSERT_EQUAL(mc_knn_recall_sample(gc, e, &rp, &r), MC_OK);
    CU_ASSERT_DOUBLE_EQUAL(r.recall, 1.0, 1e-12);
    rp.candidates = NULL; /* against every face: the non-candidates are missed */
    CU_ASSERT_EQUAL(mc_knn_recall_sample(gc, e, &rp, &r), MC_OK);
    CU_ASSERT(r.recall < 0.9);

    /* errors */
    CU_ASSERT_EQUAL(mc_knn_recall_sample(NULL, e, NULL, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_recall_sample(g, NULL, NULL, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_recall_sample(g, e, NULL, NULL), MC_ERR_INVALID_ARG);
    rp.n_sample = 0;
    CU_ASSERT_EQUAL(mc_knn_recall_sample(g, e, &rp, &r), MC_ERR_INVALID_ARG);
    mc_embeddings_t *e2 = random_embeddings(n + 1, d, 3);
    CU_ASSERT_EQUAL(mc_knn_recall_sample(g, e2, NULL, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "faces"));
    mc_embeddings_free(e2);
    mc_knn_graph_free(gc);
    mc_knn_graph_free(bad);
    mc_knn_graph_free(g);
    free(ids);
    free(sims);
    mc_embeddings_free(e);
}

/* HNSW<M> (hnswlib): high recall on a small set; one thread is a function of
 * the faces and the seed; the spec is read and bad ones refused; candidates
 * only are listed; info says what ran. */
static void test_hnsw(void)
{
    size_t n = 2000, d = 32, k = 10;
    mc_embeddings_t *e = random_embeddings(n, d, 51);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    p.index = "HNSW16";
    p.n_threads = 1;
    progress_log log = {{0}, 0, 0, 0};
    p.progress = record_progress;
    p.progress_data = &log;
    mc_knn_graph_t *g1 = NULL, *g2 = NULL, *gt = NULL, *gc = NULL, *gb = NULL;
    mc_knn_info info;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &g1, &info), MC_OK);
    CU_ASSERT_STRING_EQUAL(info.index, "HNSW16");
    CU_ASSERT_EQUAL(info.exact, 0);
    CU_ASSERT_EQUAL(info.ef_search, 128);
    CU_ASSERT_EQUAL(info.ef_construction, 128);
    CU_ASSERT_STRING_EQUAL(log.phase, "search");
    CU_ASSERT_EQUAL(log.done, n);
    mc_knn_recall_params rp = mc_knn_recall_params_default();
    rp.n_sample = n;
    mc_knn_recall r;
    CU_ASSERT_EQUAL_FATAL(mc_knn_recall_sample(g1, e, &rp, &r), MC_OK);
    CU_ASSERT(r.recall >= 0.99);
    /* rows: never the face itself, sorted */
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++) {
            int64_t j = mc_knn_graph_ids(g1)[i * k + c];
            if (j < 0 || (size_t)j == i) bad++;
            if (c && mc_knn_graph_sims(g1)[i * k + c] > mc_knn_graph_sims(g1)[i * k + c - 1]) bad++;
        }
    CU_ASSERT_EQUAL(bad, 0);
    p.progress = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g2), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(g1), mc_knn_graph_ids(g2), n * k * sizeof(int64_t)), 0);
    CU_ASSERT_EQUAL(memcmp(mc_knn_graph_sims(g1), mc_knn_graph_sims(g2), n * k * sizeof(float)), 0);
    /* more threads: as good, if not bit for bit the same */
    p.n_threads = 3;
    p.index = "HNSW";
    p.ef_search = 40;
    p.ef_construction = 60;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build_ex(e, &p, &gt, &info), MC_OK);
    CU_ASSERT_STRING_EQUAL(info.index, "HNSW32");
    CU_ASSERT_EQUAL(info.ef_search, 40);
    CU_ASSERT_EQUAL(info.ef_construction, 60);
    CU_ASSERT_EQUAL(mc_knn_recall_sample(gt, e, &rp, &r), MC_OK);
    CU_ASSERT(r.recall >= 0.97);
    /* candidates only */
    uint8_t *cand = calloc(n, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cand);
    for (size_t i = 0; i < n; i++) cand[i] = i % 4 != 0;
    p.candidates = cand;
    p.index = "HNSW8";
    p.ef_search = 0;
    p.ef_construction = 0;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &gc), MC_OK);
    for (size_t i = 0; i < n * k; i++) {
        int64_t j = mc_knn_graph_ids(gc)[i];
        if (j >= 0 && !cand[j]) bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    rp.candidates = cand;
    CU_ASSERT_EQUAL(mc_knn_recall_sample(gc, e, &rp, &r), MC_OK);
    CU_ASSERT(r.recall >= 0.97);
    /* bad specs */
    p.candidates = NULL;
    const char *specs[] = {"HNSW1", "HNSW0", "HNSW257", "HNSW99999999999999999999", "HNSWx", "HNSW16x"};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        p.index = specs[s];
        CU_ASSERT_EQUAL(mc_knn_graph_build(e, &p, &gb), MC_ERR_INVALID_ARG);
        CU_ASSERT_PTR_NULL(gb);
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "HNSW<M>"));
    }
    free(cand);
    mc_knn_graph_free(g1);
    mc_knn_graph_free(g2);
    mc_knn_graph_free(gt);
    mc_knn_graph_free(gc);
    mc_embeddings_free(e);
}

void mc_test_register(void)
{
    add_test("hnsw", test_hnsw);
    add_test("recall_sample", test_recall_sample);
    add_test("faiss_spec", test_faiss_spec);
    add_test("multi_block", test_multi_block);
    add_test("factory", test_factory);
    add_test("index_errors", test_index_errors);
    add_test("candidates", test_candidates);
    add_test("cells", test_cells);
    add_test("int8", test_int8);
    add_test("pca_int8", test_pca_int8);
    add_test("auto_choice", test_auto_choice);
    add_test("against_brute_force", test_against_brute_force);
    add_test("blocks_and_threads", test_blocks_and_threads);
    add_test("duplicates", test_duplicates);
    add_test("errors", test_errors);
    add_test("from_arrays", test_from_arrays);
}
