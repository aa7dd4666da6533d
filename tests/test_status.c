/* CUnit suite for status.h: mc_strerror, mc_version and the per-thread
 * error detail. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "magclust/calibrate.h"
#include "magclust/embeddings.h"
#include "magclust/status.h"
#include "test_common.h"
#include "util_impl.h"

const char *mc_test_suite_name = "status";

static void test_strerror_every_code(void)
{
    for (int a = 0; a < MC_STATUS_COUNT; a++) {
        const char *sa = mc_strerror((mc_status)a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
        CU_ASSERT(sa[0] != '\0');
        CU_ASSERT_STRING_NOT_EQUAL(sa, "unknown error");
        for (int b = 0; b < a; b++) CU_ASSERT_STRING_NOT_EQUAL(sa, mc_strerror((mc_status)b));
    }
    CU_ASSERT_STRING_EQUAL(mc_strerror(MC_OK), "success");
    CU_ASSERT_STRING_EQUAL(mc_strerror((mc_status)MC_STATUS_COUNT), "unknown error");
    CU_ASSERT_STRING_EQUAL(mc_strerror((mc_status)12345), "unknown error");
    CU_ASSERT_STRING_EQUAL(mc_strerror((mc_status)-1), "unknown error");
}

static void test_version(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(mc_version());
    CU_ASSERT_STRING_EQUAL(mc_version(), MC_VERSION_STRING);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", MC_VERSION_MAJOR, MC_VERSION_MINOR, MC_VERSION_PATCH);
    CU_ASSERT_STRING_EQUAL(mc_version(), want);
}

static void test_detail_set_and_cleared(void)
{
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL(mc_embeddings_new(NULL, 0, 0, &e), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mc_last_error_detail());
    CU_ASSERT_STRING_NOT_EQUAL(mc_last_error_detail(), "");
    const float raw[2] = {3, 4};
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 1, 2, &e), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), "");
    mc_embeddings_free(e);
}

typedef struct {
    char before[256]; /* the thread's detail before its own call */
    char after[256];  /* and after its failing call */
    mc_status st;
} thread_result;

static void *fail_in_thread(void *arg)
{
    thread_result *r = arg;
    snprintf(r->before, sizeof r->before, "%s", mc_last_error_detail());
    mc_embeddings_t *e = NULL;
    r->st = mc_embeddings_new(NULL, 0, 0, &e);
    snprintf(r->after, sizeof r->after, "%s", mc_last_error_detail());
    return NULL;
}

static void test_detail_per_thread(void)
{
    /* The main thread holds one detail ... */
    const float raw[1] = {1};
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 1, 1, NULL), MC_ERR_INVALID_ARG);
    char mine[256];
    snprintf(mine, sizeof mine, "%s", mc_last_error_detail());
    CU_ASSERT_STRING_NOT_EQUAL(mine, "");

    /* ... a second thread fails differently ... */
    thread_result r;
    memset(&r, 0, sizeof r);
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, fail_in_thread, &r), 0);
    CU_ASSERT_EQUAL_FATAL(pthread_join(th, NULL), 0);
    CU_ASSERT_STRING_EQUAL(r.before, ""); /* it did not see the main thread's detail */
    CU_ASSERT_EQUAL(r.st, MC_ERR_BAD_DATA);
    CU_ASSERT_STRING_NOT_EQUAL(r.after, "");
    CU_ASSERT_STRING_NOT_EQUAL(r.after, mine);

    /* ... and the main thread's detail is unchanged. */
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), mine);
}

/* The reason travels with the detail: set by the error that has one, reset
 * by the next error without one and by the next call. */
/* The per-thread memory cap: the one set, or the memory available (never 0). */
static void test_memory_limit(void)
{
    mc_set_memory_limit(0);
    uint64_t avail = mc_memory_limit();
    CU_ASSERT_TRUE(avail > 0);
    mc_set_memory_limit((uint64_t)3 << 20);
    CU_ASSERT_EQUAL(mc_memory_limit(), (uint64_t)3 << 20);
    char path[1024];
    snprintf(path, sizeof path, "%s/datasets/sample.h5", mc_test_source_dir);
    mc_set_memory_limit((uint64_t)1 << 20);
    CU_ASSERT_EQUAL(mc_memory_limit(), (uint64_t)1 << 20);
    /* sample.h5 is 1926 x 512 float32, 3.8 MiB: over a 1 MiB cap, under 8 MiB */
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(path, NULL, &e), MC_ERR_NOMEM);
    CU_ASSERT_PTR_NULL(e);
    mc_set_memory_limit((uint64_t)8 << 20);
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(path, NULL, &e), MC_OK);
    mc_embeddings_free(e);
    mc_set_memory_limit(0); /* back to the default */
    CU_ASSERT_TRUE(mc_memory_limit() > ((uint64_t)1 << 20));
}

static void test_reason(void)
{
    CU_ASSERT_EQUAL(mc_check_memory("big.h5", "/embeddings", 1ull << 40, 1ull << 10, 4), MC_ERR_NOMEM);
    CU_ASSERT_EQUAL(mc_last_error_reason(), MC_REASON_MEMORY_LIMIT);
    float raw[6] = {1, 2, 3, 0, 0, 0};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 2, 3, &e), MC_ERR_BAD_DATA);
    CU_ASSERT_EQUAL(mc_last_error_reason(), MC_REASON_BAD_ROW);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "row 1"));
    CU_ASSERT_EQUAL(mc_embeddings_new(NULL, 2, 3, &e), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_last_error_reason(), MC_REASON_NONE);
    raw[3] = 1;
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 2, 3, &e), MC_OK);
    float q[2] = {1, NAN};
    CU_ASSERT_EQUAL(mc_embeddings_set_quality(e, q, "det_score"), MC_ERR_BAD_DATA);
    CU_ASSERT_EQUAL(mc_last_error_reason(), MC_REASON_BAD_ROW);
    CU_ASSERT_FALSE(mc_embeddings_is_centered(e));
    CU_ASSERT_EQUAL(mc_embeddings_group_pairs(e), 0);
    CU_ASSERT_EQUAL(mc_embeddings_center(e, NULL, 0.0, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_last_error_reason(), MC_REASON_NONE);
    CU_ASSERT_TRUE(mc_embeddings_is_centered(e));
    mc_embeddings_free(e);
}

void mc_test_register(void)
{
    add_test("test_strerror_every_code", test_strerror_every_code);
    add_test("test_version", test_version);
    add_test("test_detail_set_and_cleared", test_detail_set_and_cleared);
    add_test("test_detail_per_thread", test_detail_per_thread);
    add_test("test_memory_limit", test_memory_limit);
    add_test("test_reason", test_reason);
}
