/* Clustering results: renumbering, roles, CSV writing and reading. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magclust/magclust.h"
#include "test_common.h"

const char *mc_test_suite_name = "clustering";

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char buf[512];
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_test_clustering.XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* Clusters are renumbered by decreasing size; equal sizes by first member. */
static void test_renumber(void)
{
    const int64_t in[] = {5, 5, 7, 7, 7, -1, 9, 100, 100, -4};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new(10, in, NULL, &c), MC_OK);
    const int64_t want[] = {1, 1, 0, 0, 0, -1, 3, 2, 2, -1};
    const int64_t *got = mc_clustering_labels(c);
    for (int i = 0; i < 10; i++) CU_ASSERT_EQUAL(got[i], want[i]);
    CU_ASSERT_EQUAL(mc_clustering_n(c), 10);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 4);
    CU_ASSERT_EQUAL(mc_clustering_n_noise(c), 2);
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_CORE), 8);
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_NOISE), 2);
    mc_clustering_free(c);
    mc_clustering_free(NULL);
}

static void test_roles(void)
{
    const int64_t in[] = {0, 0, -1, 1};
    const uint8_t roles[] = {MC_ROLE_CORE, MC_ROLE_BORDER, MC_ROLE_BORDER, MC_ROLE_CORE};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new(4, in, roles, &c), MC_OK);
    const uint8_t *r = mc_clustering_roles(c);
    CU_ASSERT_EQUAL(r[0], MC_ROLE_CORE);
    CU_ASSERT_EQUAL(r[1], MC_ROLE_BORDER);
    CU_ASSERT_EQUAL(r[2], MC_ROLE_NOISE); /* unclustered faces are noise whatever was said */
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_BORDER), 1);
    CU_ASSERT_STRING_EQUAL(mc_role_name(MC_ROLE_CORE), "core");
    CU_ASSERT_STRING_EQUAL(mc_role_name(MC_ROLE_BORDER), "border");
    CU_ASSERT_STRING_EQUAL(mc_role_name(MC_ROLE_NOISE), "noise");
    CU_ASSERT_STRING_EQUAL(mc_role_name((mc_role)9), "unknown");
    mc_clustering_free(c);
    CU_ASSERT_EQUAL(mc_clustering_new(0, in, NULL, &c), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_clustering_new(4, NULL, NULL, &c), MC_ERR_INVALID_ARG);
}

static mc_embeddings_t *three_faces(void)
{
    const float raw[] = {3, 4, 0, 0, 1, 0, 2, 0, 0};
    mc_embeddings_t *e = NULL;
    if (mc_embeddings_new(raw, 3, 3, &e) != MC_OK) return NULL;
    const char *paths[] = {"plain.jpg", "a,b \"quoted\".jpg", "line\nbreak.jpg"};
    mc_embeddings_set_paths(e, paths);
    return e;
}

/* RFC 4180 output, exact bytes. */
static void test_write_csv_exact(void)
{
    mc_embeddings_t *e = three_faces();
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const int64_t in[] = {4, -1, 4};
    const uint8_t roles[] = {MC_ROLE_CORE, MC_ROLE_NOISE, MC_ROLE_BORDER};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new(3, in, roles, &c), MC_OK);
    const char *path = tmp("out.csv");
    CU_ASSERT_EQUAL_FATAL(mc_clustering_write_csv(c, e, path), MC_OK);
    char *text = slurp(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, "index,path,cluster,role,quality\r\n"
                                 "0,plain.jpg,0,core,5\r\n"
                                 "1,\"a,b \"\"quoted\"\".jpg\",-1,noise,1\r\n"
                                 "2,\"line\nbreak.jpg\",0,border,2\r\n");
    free(text);
    int64_t back[3];
    CU_ASSERT_EQUAL(mc_clustering_read_csv(path, 3, back), MC_OK);
    CU_ASSERT(back[0] == 0 && back[1] == -1 && back[2] == 0);
    /* n mismatch between result and embeddings */
    mc_clustering_t *c2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new(2, in, NULL, &c2), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_write_csv(c2, e, tmp("mismatch.csv")), MC_ERR_DIM_MISMATCH);
    CU_ASSERT_NOT_EQUAL(access(tmp("mismatch.csv"), F_OK), 0);
    mc_clustering_free(c2);
    mc_clustering_free(c);
    mc_embeddings_free(e);
}

/* A write into a missing directory fails with MC_ERR_IO and creates nothing;
 * a failed write leaves an existing file untouched. */
static void test_write_csv_failure(void)
{
    mc_embeddings_t *e = three_faces();
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const int64_t in[] = {0, 0, 0};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new(3, in, NULL, &c), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_write_csv(c, e, "/nonexistent-dir/x/out.csv"), MC_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "/nonexistent-dir/x/out.csv"));
    CU_ASSERT_NOT_EQUAL(access("/nonexistent-dir/x/out.csv", F_OK), 0);
    /* Existing file plus a failure before writing: untouched, no temporary left. */
    const char *keep = tmp("keep.csv");
    spit(keep, "precious\n");
    mc_clustering_t *c2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new(2, in, NULL, &c2), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_write_csv(c2, e, keep), MC_ERR_DIM_MISMATCH);
    char *text = slurp(keep);
    CU_ASSERT_STRING_EQUAL(text, "precious\n");
    free(text);
    mc_clustering_free(c2);
    mc_clustering_free(c);
    mc_embeddings_free(e);
}

static void test_read_csv_variants(void)
{
    int64_t out[3];
    /* BOM, CRLF, no index column, extra columns, quoted cluster field */
    spit(tmp("bom.csv"), "\xEF\xBB\xBFpath,cluster,extra\r\na,2,x\r\n\"b\",\"-1\",y\r\nc,7,z\r\n");
    CU_ASSERT_EQUAL(mc_clustering_read_csv(tmp("bom.csv"), 3, out), MC_OK);
    CU_ASSERT(out[0] == 2 && out[1] == -1 && out[2] == 7);
    /* index column places rows in any order; blank trailing lines are fine */
    spit(tmp("perm.csv"), "cluster,index\n5,2\n6,0\n7,1\n\n");
    CU_ASSERT_EQUAL(mc_clustering_read_csv(tmp("perm.csv"), 3, out), MC_OK);
    CU_ASSERT(out[0] == 6 && out[1] == 7 && out[2] == 5);
}

static void expect_bad(const char *name, const char *text, size_t n, mc_status want, const char *needle)
{
    int64_t out[8];
    spit(tmp(name), text);
    mc_status st = mc_clustering_read_csv(tmp(name), n, out);
    CU_ASSERT_EQUAL(st, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), name));
    if (needle) CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), needle));
}

static void test_read_csv_errors(void)
{
    int64_t out[3];
    CU_ASSERT_EQUAL(mc_clustering_read_csv(tmp("missing.csv"), 3, out), MC_ERR_IO);
    expect_bad("empty.csv", "", 3, MC_ERR_BAD_DATA, "empty");
    expect_bad("nocol.csv", "index,label\n0,1\n", 1, MC_ERR_BAD_DATA, "'cluster'");
    expect_bad("fields.csv", "index,cluster\n0,1\n1\n", 2, MC_ERR_BAD_DATA, "line 3");
    expect_bad("notint.csv", "index,cluster\n0,x\n", 1, MC_ERR_BAD_DATA, "line 2");
    expect_bad("dup.csv", "index,cluster\n0,1\n0,2\n", 2, MC_ERR_BAD_DATA, "twice");
    expect_bad("range.csv", "index,cluster\n0,1\n5,2\n", 2, MC_ERR_BAD_DATA, "line 3");
    expect_bad("short.csv", "index,cluster\n0,1\n", 2, MC_ERR_DIM_MISMATCH, "1 rows");
    expect_bad("long.csv", "cluster\n1\n2\n3\n", 2, MC_ERR_DIM_MISMATCH, NULL);
    expect_bad("quote.csv", "path,cluster\n\"open,1\n", 1, MC_ERR_BAD_DATA, "not closed");
}

/* Last: remove the scratch directory (MC_TEST_KEEP_TMP=1 keeps it). */
static void test_cleanup(void)
{
    if (!tmpdir[0] || getenv("MC_TEST_KEEP_TMP")) return;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

void mc_test_register(void)
{
    add_test("renumber", test_renumber);
    add_test("roles", test_roles);
    add_test("write_csv_exact", test_write_csv_exact);
    add_test("write_csv_failure", test_write_csv_failure);
    add_test("read_csv_variants", test_read_csv_variants);
    add_test("read_csv_errors", test_read_csv_errors);
    add_test("cleanup", test_cleanup);
}
