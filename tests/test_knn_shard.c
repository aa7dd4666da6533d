/* Sharded k-NN graphs: the shard rows, parts built apart and joined into the
 * one-process graph bit for bit, part files, every refusal of the merge, and
 * the centring step the shard jobs share with mc_cluster_prepare(). */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "knn_shard";

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char buf[8][512];
    static int slot;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_test_knn_shard.XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    slot = (slot + 1) % 8;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", tmpdir, name);
    return buf[slot];
}

static int mentions(const char *s) { return strstr(mc_last_error_detail(), s) != NULL; }

/* The part's rows are the graph's rows first..first+rows, bit for bit. */
static int part_matches(const mc_knn_part_t *pt, const mc_knn_graph_t *g)
{
    size_t k = mc_knn_graph_k(g), f = mc_knn_part_first_row(pt), r = mc_knn_part_rows(pt);
    return mc_knn_part_n(pt) == mc_knn_graph_n(g) && mc_knn_part_k(pt) == k &&
           memcmp(mc_knn_part_ids(pt), mc_knn_graph_ids(g) + f * k, r * k * sizeof(int64_t)) == 0 &&
           memcmp(mc_knn_part_sims(pt), mc_knn_graph_sims(g) + f * k, r * k * sizeof(float)) == 0;
}

static void test_shard_rows(void)
{
    size_t f = 99, r = 99;
    CU_ASSERT_EQUAL(mc_knn_shard_rows(10, 0, 3, &f, &r), MC_OK);
    CU_ASSERT(f == 0 && r == 3);
    CU_ASSERT_EQUAL(mc_knn_shard_rows(10, 1, 3, &f, &r), MC_OK);
    CU_ASSERT(f == 3 && r == 3);
    CU_ASSERT_EQUAL(mc_knn_shard_rows(10, 2, 3, &f, &r), MC_OK);
    CU_ASSERT(f == 6 && r == 4);
    /* every split of every small n covers the rows once, in order, none empty */
    for (size_t n = 1; n <= 40; n++)
        for (size_t ns = 1; ns <= n; ns++) {
            size_t next = 0;
            for (size_t s = 0; s < ns; s++) {
                CU_ASSERT_EQUAL_FATAL(mc_knn_shard_rows(n, s, ns, &f, &r), MC_OK);
                CU_ASSERT(f == next && r >= 1 && f == s * n / ns);
                next = f + r;
            }
            CU_ASSERT_EQUAL(next, n);
        }
    /* large n: floor(I n / N) without overflow */
    size_t big = SIZE_MAX / 2;
    CU_ASSERT_EQUAL(mc_knn_shard_rows(big, 6, 7, &f, &r), MC_OK);
    CU_ASSERT_EQUAL(f + r, big);
    CU_ASSERT_EQUAL(mc_knn_shard_rows(10, 0, 0, &f, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_shard_rows(10, 0, 11, &f, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT(mentions("11 shards of 10 faces"));
    CU_ASSERT_EQUAL(mc_knn_shard_rows(10, 3, 3, &f, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT(mentions("numbered 0 to 2"));
    CU_ASSERT_EQUAL(mc_knn_shard_rows(10, 0, 1, NULL, &r), MC_ERR_INVALID_ARG);
}

/* Parts of every split, block size and thread count are the graph's rows. */
static void test_parts_are_the_graph(void)
{
    size_t n = 2500, d = 24;
    mc_embeddings_t *e = tr_blob_embeddings(n, d, 11);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    size_t blocks[] = {1024, 300, 4096};
    for (size_t b = 0; b < 3; b++) {
        mc_knn_params kp = mc_knn_params_default();
        kp.k = 7;
        kp.index = "Flat";
        kp.block_size = blocks[b];
        kp.n_threads = 2;
        mc_knn_graph_t *g = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
        size_t splits[] = {1, 2, 3, 7, 9};
        for (size_t si = 0; si < 5; si++) {
            for (size_t s = 0; s < splits[si]; s++) {
                mc_knn_params pp = kp;
                pp.n_threads = (int)(1 + s % 2);
                pp.index = s % 2 ? NULL : "Flat"; /* auto is Flat at this size */
                mc_knn_part_t *pt = NULL;
                mc_knn_info info;
                CU_ASSERT_EQUAL_FATAL(mc_knn_part_build(e, &pp, s, splits[si], &pt, &info), MC_OK);
                CU_ASSERT(part_matches(pt, g));
                CU_ASSERT_EQUAL(mc_knn_part_shard(pt), s);
                CU_ASSERT_EQUAL(mc_knn_part_n_shards(pt), splits[si]);
                CU_ASSERT_STRING_EQUAL(info.index, "Flat");
                CU_ASSERT(info.exact == 1 && info.n_candidates == n);
                mc_knn_part_free(pt);
            }
        }
        mc_knn_graph_free(g);
    }
    /* a candidate set: the part lists the same candidates */
    uint8_t *cand = calloc(n, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cand);
    for (size_t i = 0; i < n; i++) cand[i] = i % 3 != 0;
    mc_knn_params kp = mc_knn_params_default();
    kp.k = 5;
    kp.candidates = cand;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
    for (size_t s = 0; s < 4; s++) {
        mc_knn_part_t *pt = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_part_build(e, &kp, s, 4, &pt, NULL), MC_OK);
        CU_ASSERT(part_matches(pt, g));
        mc_knn_part_free(pt);
    }
    mc_knn_graph_free(g);
    free(cand);
    mc_embeddings_free(e);
}

static void test_part_build_refusals(void)
{
    mc_embeddings_t *e = tr_blob_embeddings(50, 8, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_part_t *pt = (mc_knn_part_t *)1;
    mc_knn_params kp = mc_knn_params_default();
    kp.k = 5;
    kp.index = "Cells4";
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 0, 2, &pt, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(pt);
    CU_ASSERT(mentions("index Cells4") && mentions("only the exhaustive indexes Flat and Int8"));
    kp.index = "HNSW32";
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 0, 2, &pt, NULL), MC_ERR_INVALID_ARG);
    kp.index = "IVF4,Flat";
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 0, 2, &pt, NULL), MC_ERR_INVALID_ARG);
    kp.index = "Flat";
    kp.k = 50;
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 0, 2, &pt, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT(mentions("k must be < N"));
    kp.k = 0;
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 0, 2, &pt, NULL), MC_ERR_INVALID_ARG);
    kp.k = 5;
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 2, 2, &pt, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 0, 51, &pt, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_part_build(NULL, &kp, 0, 1, &pt, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 0, 1, NULL, NULL), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e);
    /* "auto" past MC_KNN_AUTO_EXACT_MAX faces is Cells on a CPU without
     * VNNI: refused, saying so */
    size_t n = MC_KNN_AUTO_EXACT_MAX + 1;
    float *x = malloc(n * 2 * sizeof *x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    for (size_t i = 0; i < n; i++) {
        x[2 * i] = (float)cos((double)i);
        x[2 * i + 1] = (float)sin((double)i);
    }
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, n, 2, &e), MC_OK);
    free(x);
    kp.index = NULL;
    char spec[64];
    mc_knn_auto_index_dim(n, 2, spec, sizeof spec);
    if (strncmp(spec, "Cells", 5) == 0) {
        CU_ASSERT_EQUAL(mc_knn_part_build(e, &kp, 0, 2, &pt, NULL), MC_ERR_INVALID_ARG);
        CU_ASSERT(mentions("auto = Cells"));
    } else {
        /* a CPU with VNNI: 2-d faces have no axes to drop, so every pair
         * on 8 bits, which a shard takes */
        CU_ASSERT_STRING_EQUAL(spec, "Int8");
    }
    mc_embeddings_free(e);
    /* the getters are NULL-safe */
    mc_knn_part_free(NULL);
    CU_ASSERT(mc_knn_part_n(NULL) == 0 && mc_knn_part_k(NULL) == 0 && mc_knn_part_rows(NULL) == 0 &&
              mc_knn_part_first_row(NULL) == 0 && mc_knn_part_shard(NULL) == 0 &&
              mc_knn_part_n_shards(NULL) == 0 && mc_knn_part_ids(NULL) == NULL &&
              mc_knn_part_sims(NULL) == NULL);
}

/* Writes the n_shards parts of e's graph (k, meta as given) as NAME-I.h5;
 * paths[] gets their names. */
static void write_parts(const mc_embeddings_t *e, size_t k, size_t n_shards,
                        const mc_knn_graph_meta *m, const char *name, char paths[][512])
{
    mc_knn_params kp = mc_knn_params_default();
    kp.k = k;
    for (size_t s = 0; s < n_shards; s++) {
        mc_knn_part_t *pt = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_part_build(e, &kp, s, n_shards, &pt, NULL), MC_OK);
        char fn[64];
        snprintf(fn, sizeof fn, "%s-%zu.h5", name, s);
        snprintf(paths[s], 512, "%s", tmp(fn));
        mc_knn_graph_meta mm = *m;
        mm.k = k;
        CU_ASSERT_EQUAL(mc_knn_part_write_h5(pt, &mm, paths[s]), MC_OK);
        mc_knn_part_free(pt);
    }
}

static mc_knn_graph_meta meta_of(const mc_embeddings_t *e)
{
    mc_knn_graph_meta m;
    mc_knn_graph_meta_init(&m);
    m.n = mc_embeddings_n(e);
    m.dim = mc_embeddings_dim(e);
    m.fingerprint = mc_embeddings_fingerprint(e);
    m.centered = 1;
    m.center_shift = 0.25;
    snprintf(m.source, sizeof m.source, "faces.h5");
    snprintf(m.embeddings_key, sizeof m.embeddings_key, "embeddings");
    return m;
}

static void test_merge_is_the_graph(void)
{
    mc_embeddings_t *e = tr_blob_embeddings(301, 12, 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params kp = mc_knn_params_default();
    kp.k = 6;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
    mc_knn_graph_meta m = meta_of(e);
    m.k = 6;
    char paths[5][512];
    write_parts(e, 6, 5, &m, "p", paths);
    /* in any order */
    const char *order[] = {paths[3], paths[0], paths[4], paths[2], paths[1]};
    mc_knn_graph_t *merged = NULL;
    mc_knn_graph_meta mm;
    CU_ASSERT_EQUAL_FATAL(mc_knn_parts_merge_h5(order, 5, &merged, &mm), MC_OK);
    CU_ASSERT(tr_same_graph(g, merged));
    CU_ASSERT(mm.n == 301 && mm.k == 6 && mm.dim == 12 && mm.fingerprint == m.fingerprint);
    CU_ASSERT(mm.centered == 1 && mm.center_shift == 0.25);
    CU_ASSERT_STRING_EQUAL(mm.source, "faces.h5");
    CU_ASSERT_STRING_EQUAL(mm.index, "Flat");
    mc_knn_graph_free(merged);
    /* one shard is the whole graph */
    char one[1][512];
    write_parts(e, 6, 1, &m, "one", one);
    const char *p1[] = {one[0]};
    CU_ASSERT_EQUAL_FATAL(mc_knn_parts_merge_h5(p1, 1, &merged, NULL), MC_OK);
    CU_ASSERT(tr_same_graph(g, merged));
    mc_knn_graph_free(merged);
    /* a part is no graph, and a graph no part */
    mc_knn_graph_t *r = (mc_knn_graph_t *)1;
    CU_ASSERT_EQUAL(mc_knn_graph_read_h5(paths[0], &r, NULL), MC_ERR_BAD_DATA);
    CU_ASSERT(mentions("one part of a sharded k-NN graph"));
    CU_ASSERT_PTR_NULL(r);
    const char *whole = tmp("whole.h5");
    CU_ASSERT_EQUAL(mc_knn_graph_write_h5(g, &m, whole), MC_OK);
    const char *pw[] = {paths[0], whole};
    CU_ASSERT_EQUAL(mc_knn_parts_merge_h5(pw, 2, &merged, &mm), MC_ERR_BAD_DATA);
    CU_ASSERT(mentions(whole) && mentions("a whole k-NN graph, not a part"));
    CU_ASSERT_PTR_NULL(merged);
    CU_ASSERT(mm.n == 0 && isnan(mm.center_shift));
    /* write: the meta must describe the part's graph */
    mc_knn_part_t *pt = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_part_build(e, &kp, 0, 2, &pt, NULL), MC_OK);
    mc_knn_graph_meta bad = m;
    bad.k = 7;
    CU_ASSERT_EQUAL(mc_knn_part_write_h5(pt, &bad, tmp("bad.h5")), MC_ERR_INVALID_ARG);
    CU_ASSERT(access(tmp("bad.h5"), F_OK) != 0);
    CU_ASSERT_EQUAL(mc_knn_part_write_h5(pt, NULL, tmp("nometa.h5")), MC_OK);
    CU_ASSERT_EQUAL(mc_knn_part_write_h5(NULL, NULL, tmp("x.h5")), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_part_write_h5(pt, NULL, "/nonexistent-dir/x.h5"), MC_ERR_IO);
    mc_knn_part_free(pt);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

/* Sets a uint64 attribute of /knn, or one int64 of /knn/ids, in place. */
static void tamper_attr(const char *path, const char *name, uint64_t v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "knn", H5P_DEFAULT);
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    CU_ASSERT(a >= 0 && H5Awrite(a, H5T_NATIVE_UINT64, &v) >= 0);
    H5Aclose(a);
    H5Gclose(g);
    H5Fclose(f);
}

static void tamper_id(const char *path, int64_t v)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t ds = H5Dopen2(f, "knn/ids", H5P_DEFAULT);
    hid_t fs = H5Dget_space(ds);
    hsize_t start[2] = {1, 0}, count[2] = {1, 1};
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t ms = H5Screate_simple(2, count, NULL);
    CU_ASSERT(H5Dwrite(ds, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, &v) >= 0);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Dclose(ds);
    H5Fclose(f);
}

static void expect_merge_error(const char *const *paths, size_t n, mc_status want, const char *a,
                               const char *b)
{
    mc_knn_graph_t *g = (mc_knn_graph_t *)1;
    mc_status st = mc_knn_parts_merge_h5(paths, n, &g, NULL);
    CU_ASSERT_EQUAL(st, want);
    CU_ASSERT_PTR_NULL(g);
    if (!mentions(a) || (b && !mentions(b)))
        fprintf(stderr, "\n  wanted '%s' and '%s' in: %s\n", a, b ? b : "", mc_last_error_detail());
    CU_ASSERT(mentions(a) && (!b || mentions(b)));
    mc_knn_graph_free(st == MC_OK ? g : NULL);
}

static void test_merge_refusals(void)
{
    mc_embeddings_t *e = tr_blob_embeddings(120, 10, 8);
    mc_embeddings_t *e2 = tr_blob_embeddings(120, 10, 9);
    mc_embeddings_t *e3 = tr_blob_embeddings(121, 10, 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e && e2 && e3);
    mc_knn_graph_meta m = meta_of(e);
    char p[4][512], other[4][512], k5[4][512], three[3][512], nocen[4][512], big[4][512];
    write_parts(e, 4, 4, &m, "a", p);
    mc_knn_graph_meta m2 = meta_of(e2);
    write_parts(e2, 4, 4, &m2, "other", other);
    write_parts(e, 5, 4, &m, "k5", k5);
    write_parts(e, 4, 3, &m, "three", three);
    mc_knn_graph_meta mc = m;
    mc.centered = 0;
    mc.center_shift = NAN;
    write_parts(e, 4, 4, &mc, "nocen", nocen);
    mc_knn_graph_meta m3 = meta_of(e3);
    write_parts(e3, 4, 4, &m3, "big", big);

    const char *missing[] = {p[0], p[1], p[3]};
    expect_merge_error(missing, 3, MC_ERR_BAD_DATA, "shard 2 of 4 is missing", "shards 0, 1, 3");
    const char *dup[] = {p[0], p[1], p[2], p[3], p[1]};
    expect_merge_error(dup, 5, MC_ERR_BAD_DATA, "shard 1 of 4 is given twice", p[1]);
    const char *fp[] = {p[0], p[1], other[2], p[3]};
    expect_merge_error(fp, 4, MC_ERR_BAD_DATA, other[2], "fingerprint");
    const char *kk[] = {p[0], k5[1], p[2], p[3]};
    expect_merge_error(kk, 4, MC_ERR_BAD_DATA, k5[1], "k 5");
    const char *ns[] = {p[0], p[1], three[2], p[3]};
    expect_merge_error(ns, 4, MC_ERR_BAD_DATA, three[2], "shard count 3");
    const char *cen[] = {p[0], p[1], p[2], nocen[3]};
    expect_merge_error(cen, 4, MC_ERR_BAD_DATA, nocen[3], "centring off");
    const char *nn[] = {big[0], p[1], p[2], p[3]};
    expect_merge_error(nn, 4, MC_ERR_BAD_DATA, p[1], "faces 120");
    const char *nofile[] = {p[0], tmp("nosuch.h5")};
    expect_merge_error(nofile, 2, MC_ERR_IO, "nosuch.h5: no such file", NULL);
    const char *garbage = tmp("garbage.h5");
    FILE *f = fopen(garbage, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("not hdf5\n", f);
    fclose(f);
    const char *notH5[] = {garbage};
    expect_merge_error(notH5, 1, MC_ERR_IO, garbage, NULL);
    /* a part whose rows do not match its shard (a gap or an overlap) */
    tamper_attr(p[2], "first_row", 59);
    const char *gap[] = {p[0], p[1], p[2], p[3]};
    expect_merge_error(gap, 4, MC_ERR_BAD_DATA, p[2], "a gap or an overlap");
    tamper_attr(p[2], "first_row", 60);
    tamper_attr(p[2], "shard", 9);
    expect_merge_error(gap, 4, MC_ERR_BAD_DATA, p[2], "is impossible");
    tamper_attr(p[2], "shard", 2);
    /* a corrupt row */
    tamper_id(p[3], 120);
    expect_merge_error(gap, 4, MC_ERR_BAD_DATA, p[3], "graph row 91");
    tamper_id(p[3], 0);
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL(mc_knn_parts_merge_h5(gap, 4, &g, NULL), MC_OK); /* repaired: accepted */
    mc_knn_graph_free(g);
    expect_merge_error(gap, 0, MC_ERR_INVALID_ARG, "no k-NN graph part", NULL);
    CU_ASSERT_EQUAL(mc_knn_parts_merge_h5(NULL, 1, &g, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_parts_merge_h5(gap, 4, NULL, NULL), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e);
    mc_embeddings_free(e2);
    mc_embeddings_free(e3);
}

/* mc_cluster_center is mc_cluster_prepare's centring, bit for bit. */
static void test_cluster_center(void)
{
    mc_embeddings_t *a = tr_blob_embeddings(400, 16, 21), *b = tr_blob_embeddings(400, 16, 21);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a && b);
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_DEFAULT);
    p.knn.k = 10;
    mc_cluster_result_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_prepare(a, NULL, &p, &r), MC_OK);
    double shift = 0;
    int centered = -1;
    CU_ASSERT_EQUAL(mc_cluster_center(b, &p, &shift, &centered), MC_OK);
    const mc_cluster_info *info = mc_cluster_result_info(r);
    CU_ASSERT(centered == info->centered && centered == 1);
    CU_ASSERT(memcmp(&shift, &info->center_shift, sizeof shift) == 0);
    CU_ASSERT(memcmp(mc_embeddings_directions(a), mc_embeddings_directions(b),
                     400 * 16 * sizeof(float)) == 0);
    /* and the graph of the parts of b is the prepared graph of a */
    mc_knn_params kp = p.knn;
    for (size_t s = 0; s < 3; s++) {
        mc_knn_part_t *pt = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_knn_part_build(b, &kp, s, 3, &pt, NULL), MC_OK);
        CU_ASSERT(part_matches(pt, mc_cluster_result_graph(r)));
        mc_knn_part_free(pt);
    }
    /* once only */
    CU_ASSERT_EQUAL(mc_cluster_center(b, &p, &shift, &centered), MC_ERR_INVALID_ARG);
    CU_ASSERT(mentions("centred already"));
    mc_cluster_result_free(r);
    mc_embeddings_free(a);
    mc_embeddings_free(b);
    /* center off: nothing done */
    a = tr_blob_embeddings(50, 4, 2);
    b = tr_blob_embeddings(50, 4, 2);
    p.center = 0;
    CU_ASSERT_EQUAL(mc_cluster_center(a, &p, &shift, &centered), MC_OK);
    CU_ASSERT(isnan(shift) && centered == 0 && !mc_embeddings_is_centered(a));
    CU_ASSERT(memcmp(mc_embeddings_directions(a), mc_embeddings_directions(b), 50 * 4 * sizeof(float)) == 0);
    CU_ASSERT_EQUAL(mc_cluster_center(NULL, &p, NULL, NULL), MC_ERR_INVALID_ARG);
    mc_embeddings_free(a);
    mc_embeddings_free(b);
}

static void test_cleanup(void)
{
    if (!tmpdir[0] || getenv("MC_TEST_KEEP_TMP")) return;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

void mc_test_register(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    add_test("shard_rows", test_shard_rows);
    add_test("parts_are_the_graph", test_parts_are_the_graph);
    add_test("part_build_refusals", test_part_build_refusals);
    add_test("merge_is_the_graph", test_merge_is_the_graph);
    add_test("merge_refusals", test_merge_refusals);
    add_test("cluster_center", test_cluster_center);
    add_test("cleanup", test_cleanup);
}
