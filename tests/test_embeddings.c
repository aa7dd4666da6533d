/* CUnit suite for embeddings.h: reading the fixtures of tests/make_fixtures.c
 * (good and bad), mc_embeddings_new, the setters and getters, and
 * mc_strerror. The raw fixture data are re-read here with HDF5 directly, and
 * the "tiny" formula of make_fixtures.c is repeated in tiny_*() below. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "magclust/embeddings.h"
#include "test_common.h"

const char *mc_test_suite_name = "embeddings";

#define TINY_N 40
#define TINY_D 8

/* ---- helpers ------------------------------------------------------------ */

/* Path of a fixture; a few rotating buffers so two can be live at once. */
static const char *fx(const char *name)
{
    static char bufs[4][4096];
    static unsigned next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", mc_test_fixture_dir, name);
    return b;
}

static int64_t tiny_label(size_t i) { return 100 + (int64_t)(i / 10); }
static double tiny_mag(size_t i) { return 2.0 + 2.0 * (double)(i % 10); }
static double tiny_det(size_t i) { return 0.30 + 0.07 * (double)(i % 10); }

static void tiny_path(size_t i, char *buf, size_t size)
{
    if (i == 39)
        snprintf(buf, size, "id3/caf\xc3\xa9_09.jpg");
    else
        snprintf(buf, size, "id%zu/img_%02zu.jpg", i / 10, i % 10);
}

static int close_rel(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Read a whole dataset with HDF5 itself; mtype < 0: as stored (file type). */
static int read_raw(const char *file, const char *name, hid_t mtype, void *buf)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return -1;
    hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
    int rc = -1;
    if (ds >= 0) {
        hid_t t = mtype >= 0 ? H5Tcopy(mtype) : H5Dget_type(ds);
        if (t >= 0 && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) rc = 0;
        if (t >= 0) H5Tclose(t);
        H5Dclose(ds);
    }
    H5Fclose(f);
    return rc;
}

static mc_embeddings_t *read_ok(const char *name, const mc_h5_read_params *p)
{
    mc_embeddings_t *e = NULL;
    mc_status st = mc_embeddings_read_h5(fx(name), p, &e);
    if (st != MC_OK)
        fprintf(stderr, "\n  %s: %s: %s\n", name, mc_strerror(st), mc_last_error_detail());
    CU_ASSERT_EQUAL(st, MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), "");
    return e;
}

static int has(const char *detail, const char *what)
{
    if (!what || strstr(detail, what)) return 1;
    fprintf(stderr, "\n  detail \"%s\" lacks \"%s\"\n", detail, what);
    return 0;
}

/* A read that must fail with status want and a detail naming the file and
 * containing what1 and what2 (either may be NULL). */
static void expect_read_fail(const char *name, const mc_h5_read_params *p, mc_status want,
                             const char *what1, const char *what2)
{
    int sentinel = 0;
    mc_embeddings_t *e = (mc_embeddings_t *)(void *)&sentinel;
    mc_status st = mc_embeddings_read_h5(fx(name), p, &e);
    if (st != want)
        fprintf(stderr, "\n  %s: got %s (%s), want %s\n", name, mc_strerror(st),
                mc_last_error_detail(), mc_strerror(want));
    CU_ASSERT_EQUAL(st, want);
    CU_ASSERT_PTR_NULL(e);
    const char *detail = mc_last_error_detail();
    CU_ASSERT(has(detail, name));
    CU_ASSERT(has(detail, what1));
    CU_ASSERT(has(detail, what2));
    if (st == MC_OK) mc_embeddings_free(e);
}

static void check_unit_rows(const mc_embeddings_t *e)
{
    const float *dir = mc_embeddings_directions(e);
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    for (size_t i = 0; i < n; i++) {
        double ss = 0.0;
        for (size_t j = 0; j < d; j++) ss += (double)dir[i * d + j] * dir[i * d + j];
        CU_ASSERT(fabs(sqrt(ss) - 1.0) < 1e-6);
    }
}

/* Directions of e and ref agree within tol, element by element. */
static void check_same_directions(const mc_embeddings_t *e, const mc_embeddings_t *ref,
                                  double tol)
{
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_n(e), mc_embeddings_n(ref));
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_dim(e), mc_embeddings_dim(ref));
    const float *a = mc_embeddings_directions(e), *b = mc_embeddings_directions(ref);
    double worst = 0.0;
    for (size_t i = 0; i < mc_embeddings_n(e) * mc_embeddings_dim(e); i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    CU_ASSERT(worst <= tol);
}

static void check_tiny_labels_paths(const mc_embeddings_t *e)
{
    const int64_t *lab = mc_embeddings_labels(e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lab);
    for (size_t i = 0; i < TINY_N; i++) {
        char want[64];
        tiny_path(i, want, sizeof want);
        CU_ASSERT_EQUAL(lab[i], tiny_label(i));
        const char *p = mc_embeddings_path(e, i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_STRING_EQUAL(p, want);
    }
    CU_ASSERT_PTR_NULL(mc_embeddings_path(e, TINY_N));
}

static mc_embeddings_t *read_tiny_ref(void) { return read_ok("tiny.h5", NULL); }

/* ---- reading good files ------------------------------------------------- */

static void test_params_default(void)
{
    mc_h5_read_params p = mc_h5_read_params_default();
    CU_ASSERT_STRING_EQUAL(p.embeddings_key, "embeddings");
    CU_ASSERT_STRING_EQUAL(p.labels_key, "labels");
    CU_ASSERT_STRING_EQUAL(p.paths_key, "paths");
    CU_ASSERT_PTR_NULL(p.quality_key);
}

static void test_read_tiny(void)
{
    mc_embeddings_t *e = read_ok("tiny.h5", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(mc_embeddings_n(e), TINY_N);
    CU_ASSERT_EQUAL(mc_embeddings_dim(e), TINY_D);
    check_unit_rows(e);

    static float raw[TINY_N][TINY_D];
    CU_ASSERT_EQUAL_FATAL(read_raw(fx("tiny.h5"), "/embeddings", H5T_NATIVE_FLOAT, raw), 0);
    const float *dir = mc_embeddings_directions(e), *mag = mc_embeddings_magnitudes(e);
    for (size_t i = 0; i < TINY_N; i++) {
        double ss = 0.0;
        for (size_t j = 0; j < TINY_D; j++) ss += (double)raw[i][j] * raw[i][j];
        CU_ASSERT(close_rel(mag[i], sqrt(ss), 1e-6));
        CU_ASSERT(close_rel(mag[i], tiny_mag(i), 1e-5));
        for (size_t j = 0; j < TINY_D; j++)
            CU_ASSERT(fabs((double)dir[i * TINY_D + j] * mag[i] - raw[i][j]) < 1e-5);
    }
    /* Low magnitudes exist (j = 0, 1), as the fixture promises. */
    CU_ASSERT(mag[0] < 2.5f && mag[10] < 2.5f);
    /* Obvious clusters: cosine > 0.9 within an identity, < 0.2 across. */
    for (size_t a = 0; a < TINY_N; a++)
        for (size_t b = a + 1; b < TINY_N; b++) {
            double cs = 0.0;
            for (size_t j = 0; j < TINY_D; j++)
                cs += (double)dir[a * TINY_D + j] * dir[b * TINY_D + j];
            if (a / 10 == b / 10) {
                CU_ASSERT(cs > 0.9);
            } else {
                CU_ASSERT(cs < 0.2);
            }
        }

    check_tiny_labels_paths(e);
    const float *q = mc_embeddings_quality(e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    for (size_t i = 0; i < TINY_N; i++) CU_ASSERT_EQUAL(q[i], mag[i]);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "magnitude");
    mc_embeddings_free(e);
}

static void test_read_tiny_quality_key(void)
{
    static float det[TINY_N];
    CU_ASSERT_EQUAL_FATAL(read_raw(fx("tiny.h5"), "/det_score", H5T_NATIVE_FLOAT, det), 0);
    const char *keys[] = {"det_score", "/det_score"};
    for (size_t k = 0; k < 2; k++) {
        mc_h5_read_params p = mc_h5_read_params_default();
        p.quality_key = keys[k];
        mc_embeddings_t *e = read_ok("tiny.h5", &p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        const float *q = mc_embeddings_quality(e), *mag = mc_embeddings_magnitudes(e);
        for (size_t i = 0; i < TINY_N; i++) {
            CU_ASSERT_EQUAL(q[i], det[i]);
            CU_ASSERT(close_rel(q[i], tiny_det(i), 1e-6));
            CU_ASSERT(close_rel(mag[i], tiny_mag(i), 1e-5));
        }
        CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "det_score");
        mc_embeddings_free(e);
    }
}

static void test_read_f64(void)
{
    mc_embeddings_t *ref = read_tiny_ref();
    mc_h5_read_params p = mc_h5_read_params_default();
    p.quality_key = "det_score";
    mc_embeddings_t *e = read_ok("tiny_f64.h5", &p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    check_unit_rows(e);
    check_same_directions(e, ref, 1e-6);

    static double raw[TINY_N][TINY_D];
    CU_ASSERT_EQUAL_FATAL(read_raw(fx("tiny_f64.h5"), "/embeddings", H5T_NATIVE_DOUBLE, raw),
                          0);
    const float *mag = mc_embeddings_magnitudes(e), *q = mc_embeddings_quality(e);
    for (size_t i = 0; i < TINY_N; i++) {
        double ss = 0.0;
        for (size_t j = 0; j < TINY_D; j++) ss += raw[i][j] * raw[i][j];
        CU_ASSERT(close_rel(mag[i], sqrt(ss), 1e-7));
        CU_ASSERT(close_rel(mag[i], tiny_mag(i), 1e-6));
        CU_ASSERT(close_rel(q[i], tiny_det(i), 1e-6));
    }
    check_tiny_labels_paths(e); /* int32 labels, NUL-padded fixed strings */
    mc_embeddings_free(e);
    mc_embeddings_free(ref);
}

static float half_to_float(uint16_t h)
{
    unsigned exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    float v;
    if (exp == 0)
        v = ldexpf((float)mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexpf((float)(mant | 0x400u), (int)exp - 25);
    return (h & 0x8000u) ? -v : v;
}

static void test_read_f16(void)
{
    mc_embeddings_t *ref = read_tiny_ref();
    mc_h5_read_params p = mc_h5_read_params_default();
    p.quality_key = "det_score";
    mc_embeddings_t *e = read_ok("tiny_f16.h5", &p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    check_unit_rows(e);
    check_same_directions(e, ref, 1e-3);

    /* Decode the stored half bits by hand: HDF5's conversion must agree. */
    static uint16_t bits[TINY_N][TINY_D];
    CU_ASSERT_EQUAL_FATAL(read_raw(fx("tiny_f16.h5"), "/embeddings", -1, bits), 0);
    const float *dir = mc_embeddings_directions(e), *mag = mc_embeddings_magnitudes(e);
    const float *q = mc_embeddings_quality(e);
    for (size_t i = 0; i < TINY_N; i++) {
        double ss = 0.0, v[TINY_D];
        for (size_t j = 0; j < TINY_D; j++) {
            v[j] = half_to_float(bits[i][j]);
            ss += v[j] * v[j];
        }
        CU_ASSERT(close_rel(mag[i], sqrt(ss), 1e-6));
        CU_ASSERT(close_rel(mag[i], tiny_mag(i), 1e-3));
        for (size_t j = 0; j < TINY_D; j++)
            CU_ASSERT(fabs(dir[i * TINY_D + j] - v[j] / sqrt(ss)) < 1e-6);
        CU_ASSERT_EQUAL(q[i], (float)lround(100.0 * tiny_det(i))); /* uint8 quality */
    }
    check_tiny_labels_paths(e); /* uint16 labels */
    mc_embeddings_free(e);
    mc_embeddings_free(ref);
}

static void test_read_nolabels(void)
{
    mc_embeddings_t *ref = read_tiny_ref();
    mc_embeddings_t *e = read_ok("tiny_nolabels.h5", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    check_same_directions(e, ref, 0.0);
    CU_ASSERT_PTR_NULL(mc_embeddings_labels(e));
    CU_ASSERT_PTR_NULL(mc_embeddings_path(e, 0));
    CU_ASSERT_PTR_EQUAL(mc_embeddings_quality(e), mc_embeddings_magnitudes(e));
    mc_embeddings_free(e);
    mc_embeddings_free(ref);
}

static void test_read_altkeys(void)
{
    mc_embeddings_t *ref = read_tiny_ref();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    const char *keys[2][4] = {{"feats", "ids", "files", "meta/quality"},
                              {"/feats", "/ids", "/files", "/meta/quality"}};
    for (size_t k = 0; k < 2; k++) {
        mc_h5_read_params p = {keys[k][0], keys[k][1], keys[k][2], keys[k][3], NULL, 0};
        mc_embeddings_t *e = read_ok("tiny_altkeys.h5", &p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        check_same_directions(e, ref, 0.0);
        check_tiny_labels_paths(e); /* N x 1 labels; space-padded strings stripped */
        const float *q = mc_embeddings_quality(e);
        for (size_t i = 0; i < TINY_N; i++) CU_ASSERT(close_rel(q[i], tiny_det(i), 1e-6));
        CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "meta/quality");
        mc_embeddings_free(e);
    }
    mc_embeddings_free(ref);
}

static void test_read_small_k(void)
{
    mc_embeddings_t *e = read_ok("small_k.h5", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(mc_embeddings_n(e), 3);
    CU_ASSERT_EQUAL(mc_embeddings_dim(e), 4);
    const float *mag = mc_embeddings_magnitudes(e);
    CU_ASSERT(close_rel(mag[0], 3.0, 1e-6));
    CU_ASSERT(close_rel(mag[1], sqrt(2.7 * 2.7 + 0.3 * 0.3), 1e-6));
    CU_ASSERT(close_rel(mag[2], 1.5, 1e-6));
    CU_ASSERT_EQUAL(mc_embeddings_labels(e)[2], 1);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_path(e, 1), "b.jpg");
    mc_embeddings_free(e);
}

static void test_read_disabled_keys(void)
{
    mc_h5_read_params p = mc_h5_read_params_default();
    p.labels_key = "";
    p.paths_key = NULL;
    mc_embeddings_t *e = read_ok("tiny.h5", &p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_PTR_NULL(mc_embeddings_labels(e));
    CU_ASSERT_PTR_NULL(mc_embeddings_path(e, 0));
    mc_embeddings_free(e);

    /* A NaN quality is harmless while nobody asks for that dataset. */
    e = read_ok("bad_quality_nan.h5", NULL);
    CU_ASSERT_PTR_NOT_NULL(e);
    mc_embeddings_free(e);
}

/* ---- reading bad files -------------------------------------------------- */

static void test_read_explicit_missing_keys(void)
{
    mc_h5_read_params p = mc_h5_read_params_default();
    p.labels_key = "ids";
    expect_read_fail("tiny.h5", &p, MC_ERR_HDF5, "no dataset /ids", NULL);
    p = mc_h5_read_params_default();
    p.paths_key = "/files";
    expect_read_fail("tiny.h5", &p, MC_ERR_HDF5, "no dataset /files", NULL);
    p = mc_h5_read_params_default();
    p.quality_key = "nope";
    expect_read_fail("tiny.h5", &p, MC_ERR_HDF5, "no dataset /nope", NULL);
    p = mc_h5_read_params_default();
    p.quality_key = "meta/det_score"; /* the group is missing too */
    expect_read_fail("tiny.h5", &p, MC_ERR_HDF5, "no dataset /meta/det_score", NULL);
    p = mc_h5_read_params_default();
    p.embeddings_key = "feats";
    expect_read_fail("tiny.h5", &p, MC_ERR_HDF5, "no dataset /feats", NULL);
    /* Default names absent: only /embeddings is required. */
    expect_read_fail("tiny_altkeys.h5", NULL, MC_ERR_HDF5, "no dataset /embeddings", NULL);
}

static void test_read_group_not_dataset(void)
{
    mc_h5_read_params p = mc_h5_read_params_default();
    p.embeddings_key = "meta";
    expect_read_fail("tiny_altkeys.h5", &p, MC_ERR_HDF5, "/meta is not a dataset", NULL);
}

/* skip_bad_rows: the bad row is left out of every per-face array, the rest
 * keep their values and order, and the file rows are reported. */
static void check_skip(const char *fixture, const char *qkey, size_t bad_row)
{
    mc_embeddings_t *ref = read_tiny_ref();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
    mc_h5_read_params p = mc_h5_read_params_default();
    p.quality_key = qkey;
    p.skip_bad_rows = 1;
    mc_embeddings_t *e = read_ok(fixture, &p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    size_t n = mc_embeddings_n(ref), d = mc_embeddings_dim(ref);
    CU_ASSERT_EQUAL(mc_embeddings_n(e), n - 1);
    CU_ASSERT_EQUAL(mc_embeddings_n_skipped(e), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mc_embeddings_skipped_rows(e));
    CU_ASSERT_EQUAL(mc_embeddings_skipped_rows(e)[0], bad_row);
    for (size_t i = 0; i < n - 1; i++) {
        size_t r = mc_embeddings_source_row(e, i);
        CU_ASSERT_EQUAL(r, i < bad_row ? i : i + 1);
        CU_ASSERT_EQUAL(memcmp(mc_embeddings_directions(e) + i * d,
                               mc_embeddings_directions(ref) + r * d, d * sizeof(float)), 0);
        CU_ASSERT_EQUAL(mc_embeddings_magnitudes(e)[i], mc_embeddings_magnitudes(ref)[r]);
        CU_ASSERT_EQUAL(mc_embeddings_labels(e)[i], mc_embeddings_labels(ref)[r]);
        CU_ASSERT_STRING_EQUAL(mc_embeddings_path(e, i), mc_embeddings_path(ref, r));
        CU_ASSERT(isfinite(mc_embeddings_quality(e)[i]));
    }
    mc_embeddings_free(e);
    /* without skip_bad_rows: refused; a clean file: nothing skipped */
    p.skip_bad_rows = 0;
    e = NULL;
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(fx(fixture), &p, &e), MC_ERR_BAD_DATA);
    p.skip_bad_rows = 1;
    p.quality_key = NULL;
    e = read_ok("tiny.h5", &p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(mc_embeddings_n_skipped(e), 0);
    CU_ASSERT_PTR_NULL(mc_embeddings_skipped_rows(e));
    CU_ASSERT_EQUAL(mc_embeddings_source_row(e, 5), 5);
    mc_embeddings_free(e);
    mc_embeddings_free(ref);
}

static void test_skip_bad_rows(void)
{
    check_skip("bad_nan.h5", NULL, 3);
    check_skip("bad_zero.h5", NULL, 2);
    check_skip("bad_quality_nan.h5", "det_score", 7);
}

static void test_read_bad_nan(void)
{
    expect_read_fail("bad_nan.h5", NULL, MC_ERR_BAD_DATA, "/embeddings row 3 ", "NaN or Inf");
}

static void test_read_bad_inf(void)
{
    expect_read_fail("bad_inf.h5", NULL, MC_ERR_BAD_DATA, "/embeddings row 5 ", "NaN or Inf");
}

static void test_read_bad_zero(void)
{
    expect_read_fail("bad_zero.h5", NULL, MC_ERR_BAD_DATA, "/embeddings row 2 ",
                     "all zeros (norm 0)");
}

static void test_read_bad_rank3(void)
{
    expect_read_fail("bad_rank3.h5", NULL, MC_ERR_HDF5, "/embeddings has rank 3",
                     "expected 2 (N x D)");
}

static void test_read_bad_rank1(void)
{
    expect_read_fail("bad_rank1.h5", NULL, MC_ERR_HDF5, "/embeddings has rank 1",
                     "expected 2 (N x D)");
}

static void test_read_bad_n0(void)
{
    expect_read_fail("bad_n0.h5", NULL, MC_ERR_BAD_DATA, "/embeddings is empty", "0 rows");
}

static void test_read_bad_d0(void)
{
    expect_read_fail("bad_d0.h5", NULL, MC_ERR_BAD_DATA, "/embeddings is empty", "0 columns");
}

static void test_read_bad_labels_len(void)
{
    expect_read_fail("bad_labels_len.h5", NULL, MC_ERR_DIM_MISMATCH,
                     "/labels has 39 values, /embeddings has 40 rows", NULL);
}

static void test_read_bad_paths_len(void)
{
    expect_read_fail("bad_paths_len.h5", NULL, MC_ERR_DIM_MISMATCH,
                     "/paths has 41 values, /embeddings has 40 rows", NULL);
}

static void test_read_bad_quality_len(void)
{
    mc_h5_read_params p = mc_h5_read_params_default();
    p.labels_key = NULL;
    p.quality_key = "labels";
    expect_read_fail("bad_labels_len.h5", &p, MC_ERR_DIM_MISMATCH,
                     "/labels has 39 values, /embeddings has 40 rows", NULL);
}

static void test_read_bad_noemb(void)
{
    expect_read_fail("bad_noemb.h5", NULL, MC_ERR_HDF5, "no dataset /embeddings", NULL);
}

static void test_read_bad_int_emb(void)
{
    expect_read_fail("bad_int_emb.h5", NULL, MC_ERR_HDF5, "/embeddings has an integer type",
                     "floating point");
}

static void test_read_bad_quality_nan(void)
{
    mc_h5_read_params p = mc_h5_read_params_default();
    p.quality_key = "det_score";
    expect_read_fail("bad_quality_nan.h5", &p, MC_ERR_BAD_DATA, "/det_score row 7 ",
                     "NaN or Inf");
}

static void test_read_bad_labels_float(void)
{
    expect_read_fail("bad_labels_float.h5", NULL, MC_ERR_HDF5, "/labels has a floating-point",
                     "must be integers");
}

static void test_read_bad_paths_type(void)
{
    expect_read_fail("bad_paths_type.h5", NULL, MC_ERR_HDF5, "/paths has an integer",
                     "must be strings");
}

static void test_read_not_hdf5(void)
{
    expect_read_fail("not_hdf5.h5", NULL, MC_ERR_IO, "cannot open (not an HDF5 file", NULL);
}

static void test_read_missing_file(void)
{
    expect_read_fail("no_such_file.h5", NULL, MC_ERR_IO, "no such file", NULL);
}

static void test_read_directory(void)
{
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(mc_test_fixture_dir, NULL, &e), MC_ERR_IO);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT(has(mc_last_error_detail(), "is a directory"));
}

static void test_read_null_args(void)
{
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(NULL, NULL, &e), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(fx("tiny.h5"), NULL, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_STRING_NOT_EQUAL(mc_last_error_detail(), "");
    mc_h5_read_params p = mc_h5_read_params_default();
    p.embeddings_key = "";
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(fx("tiny.h5"), &p, &e), MC_ERR_INVALID_ARG);
    p.embeddings_key = "/";
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(fx("tiny.h5"), &p, &e), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(e);
}

static void test_read_clears_detail(void)
{
    mc_embeddings_t *e = NULL;
    CU_ASSERT_NOT_EQUAL(mc_embeddings_read_h5(fx("bad_nan.h5"), NULL, &e), MC_OK);
    CU_ASSERT_STRING_NOT_EQUAL(mc_last_error_detail(), "");
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(fx("tiny.h5"), NULL, &e), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), "");
    mc_embeddings_free(e);
}

/* ---- mc_embeddings_new, setters, getters -------------------------------- */

static void test_new_ok(void)
{
    const float raw[2 * 3] = {3, 0, 4, 0, -2, 0};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 2, 3, &e), MC_OK);
    CU_ASSERT_EQUAL(mc_embeddings_n(e), 2);
    CU_ASSERT_EQUAL(mc_embeddings_dim(e), 3);
    const float *dir = mc_embeddings_directions(e), *mag = mc_embeddings_magnitudes(e);
    CU_ASSERT_DOUBLE_EQUAL(mag[0], 5.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(mag[1], 2.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(dir[0], 0.6, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(dir[2], 0.8, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(dir[4], -1.0, 1e-7);
    CU_ASSERT_PTR_NOT_EQUAL(dir, raw);
    CU_ASSERT_PTR_NULL(mc_embeddings_labels(e));
    CU_ASSERT_PTR_NULL(mc_embeddings_path(e, 0));
    CU_ASSERT_PTR_EQUAL(mc_embeddings_quality(e), mag);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "magnitude");
    mc_embeddings_free(e);
}

static void test_new_extreme_norms(void)
{
    /* Norms are taken in double with scaling: no overflow or underflow. */
    const float raw[3 * 2] = {3e30f, 4e30f, 3e-30f, 4e-30f, FLT_MAX, FLT_MAX};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 2, 2, &e), MC_OK);
    CU_ASSERT(close_rel(mc_embeddings_magnitudes(e)[0], 5e30, 1e-6));
    CU_ASSERT(fabs(mc_embeddings_magnitudes(e)[1] - 5e-30) < 1e-35);
    CU_ASSERT_DOUBLE_EQUAL(mc_embeddings_directions(e)[3], 0.8, 1e-6);
    mc_embeddings_free(e);
    e = NULL;
    /* A norm above FLT_MAX cannot be stored as a float32 magnitude. */
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 3, 2, &e), MC_ERR_BAD_DATA);
    CU_ASSERT(has(mc_last_error_detail(), "row 2 "));
    CU_ASSERT_PTR_NULL(e);
}

static void test_new_nan_inf_zero(void)
{
    float raw[4 * 2] = {1, 0, 0, 1, 1, 1, 2, 2};
    mc_embeddings_t *e = NULL;
    raw[3] = NAN;
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 4, 2, &e), MC_ERR_BAD_DATA);
    CU_ASSERT(has(mc_last_error_detail(), "row 1 has a NaN or Inf"));
    CU_ASSERT_PTR_NULL(e);
    raw[3] = 1;
    raw[6] = -INFINITY;
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 4, 2, &e), MC_ERR_BAD_DATA);
    CU_ASSERT(has(mc_last_error_detail(), "row 3 has a NaN or Inf"));
    raw[6] = 2;
    raw[4] = raw[5] = 0.0f;
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 4, 2, &e), MC_ERR_BAD_DATA);
    CU_ASSERT(has(mc_last_error_detail(), "row 2 is all zeros"));
    raw[4] = -0.0f;
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 4, 2, &e), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NULL(e);
}

static void test_new_empty_and_null(void)
{
    const float raw[2] = {1, 2};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 0, 2, &e), MC_ERR_BAD_DATA);
    CU_ASSERT(has(mc_last_error_detail(), "0 rows"));
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 1, 0, &e), MC_ERR_BAD_DATA);
    CU_ASSERT_EQUAL(mc_embeddings_new(NULL, 0, 0, &e), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(mc_embeddings_new(NULL, 1, 2, &e), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, 1, 2, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_EQUAL(mc_embeddings_new(raw, SIZE_MAX / 2, 4, &e), MC_ERR_NOMEM);
    CU_ASSERT_PTR_NULL(e);
}

static void test_set_labels(void)
{
    const float raw[3] = {1, 2, 3};
    int64_t labels[3] = {7, -1, 7};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 3, 1, &e), MC_OK);
    CU_ASSERT_EQUAL(mc_embeddings_set_labels(e, labels), MC_OK);
    labels[0] = 99; /* copied, not kept */
    const int64_t *got = mc_embeddings_labels(e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(got[0], 7);
    CU_ASSERT_EQUAL(got[1], -1);
    CU_ASSERT_EQUAL(mc_embeddings_set_labels(e, NULL), MC_OK);
    CU_ASSERT_PTR_NULL(mc_embeddings_labels(e));
    CU_ASSERT_EQUAL(mc_embeddings_set_labels(NULL, labels), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e);
}

static void test_set_paths(void)
{
    const float raw[3] = {1, 2, 3};
    char first[8] = "a.jpg";
    const char *paths[3] = {first, NULL, "c/d.png"};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 3, 1, &e), MC_OK);
    CU_ASSERT_EQUAL(mc_embeddings_set_paths(e, paths), MC_OK);
    first[0] = 'z'; /* copied, not kept */
    CU_ASSERT_STRING_EQUAL(mc_embeddings_path(e, 0), "a.jpg");
    CU_ASSERT_STRING_EQUAL(mc_embeddings_path(e, 1), "");
    CU_ASSERT_STRING_EQUAL(mc_embeddings_path(e, 2), "c/d.png");
    CU_ASSERT_PTR_NULL(mc_embeddings_path(e, 3));
    const char *again[3] = {"x", "y", "z"};
    CU_ASSERT_EQUAL(mc_embeddings_set_paths(e, again), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_path(e, 2), "z");
    CU_ASSERT_EQUAL(mc_embeddings_set_paths(e, NULL), MC_OK);
    CU_ASSERT_PTR_NULL(mc_embeddings_path(e, 0));
    CU_ASSERT_EQUAL(mc_embeddings_set_paths(NULL, paths), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e);
}

static void test_set_quality(void)
{
    const float raw[3] = {1, 2, 3};
    float q[3] = {0.5f, 0.25f, 1.0f};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 3, 1, &e), MC_OK);
    CU_ASSERT_EQUAL(mc_embeddings_set_quality(e, q, "det_score"), MC_OK);
    q[0] = 9.0f; /* copied, not kept */
    CU_ASSERT_EQUAL(mc_embeddings_quality(e)[0], 0.5f);
    CU_ASSERT_EQUAL(mc_embeddings_quality(e)[2], 1.0f);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "det_score");

    /* Non-finite values are refused and leave the object as it was. */
    float bad[3] = {1.0f, NAN, 2.0f};
    CU_ASSERT_EQUAL(mc_embeddings_set_quality(e, bad, "blur"), MC_ERR_BAD_DATA);
    CU_ASSERT(has(mc_last_error_detail(), "blur row 1 "));
    bad[1] = INFINITY;
    CU_ASSERT_EQUAL(mc_embeddings_set_quality(e, bad, "blur"), MC_ERR_BAD_DATA);
    CU_ASSERT_EQUAL(mc_embeddings_quality(e)[0], 0.5f);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "det_score");

    CU_ASSERT_EQUAL(mc_embeddings_set_quality(e, q, NULL), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "quality");
    CU_ASSERT_EQUAL(mc_embeddings_set_quality(e, NULL, NULL), MC_OK);
    CU_ASSERT_PTR_EQUAL(mc_embeddings_quality(e), mc_embeddings_magnitudes(e));
    CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "magnitude");
    CU_ASSERT_EQUAL(mc_embeddings_set_quality(NULL, q, "x"), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e);
}

static void test_set_groups(void)
{
    const float raw[6] = {1, 2, 3, 4, 5, 6};
    int64_t g[6] = {7, -1, 3, 7, 3, -5};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 6, 1, &e), MC_OK);
    CU_ASSERT_EQUAL(mc_embeddings_set_groups(e, g, NULL), MC_OK);
    g[0] = 99; /* copied, not kept */
    const int64_t want[6] = {0, -1, 1, 0, 1, -1}; /* renumbered by first appearance */
    const int64_t *got = mc_embeddings_groups(e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(got[i], want[i]);
    CU_ASSERT_EQUAL(mc_embeddings_n_groups(e), 2);
    CU_ASSERT_EQUAL(mc_embeddings_group_pairs(e), 2);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_group_name(e), "photo");
    CU_ASSERT_EQUAL(mc_embeddings_set_groups(e, g, "frame"), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_group_name(e), "frame");
    CU_ASSERT_EQUAL(mc_embeddings_set_groups(e, NULL, NULL), MC_OK);
    CU_ASSERT_PTR_NULL(mc_embeddings_groups(e));
    CU_ASSERT_EQUAL(mc_embeddings_n_groups(e), 0);
    CU_ASSERT_PTR_NULL(mc_embeddings_group_name(e));
    CU_ASSERT_EQUAL(mc_embeddings_set_groups(NULL, g, NULL), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e);

    /* the same ids as the HDF5 reader gives tiny_photo.h5's /photo */
    mc_h5_read_params rp = mc_h5_read_params_default();
    rp.group_key = "photo";
    mc_embeddings_t *f = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(fx("tiny_photo.h5"), &rp, &f), MC_OK);
    size_t n = mc_embeddings_n(f);
    int64_t photo[40];
    CU_ASSERT_EQUAL_FATAL(n, 40);
    for (size_t i = 0; i < n; i++) photo[i] = i < 20 ? (int64_t)(i % 10) + 1000 : -1;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(mc_embeddings_directions(f), n, mc_embeddings_dim(f), &e), MC_OK);
    CU_ASSERT_EQUAL(mc_embeddings_set_groups(e, photo, "photo"), MC_OK);
    for (size_t i = 0; i < n; i++) CU_ASSERT_EQUAL(mc_embeddings_groups(e)[i], mc_embeddings_groups(f)[i]);
    CU_ASSERT_EQUAL(mc_embeddings_n_groups(e), mc_embeddings_n_groups(f));
    CU_ASSERT_EQUAL(mc_embeddings_group_pairs(e), mc_embeddings_group_pairs(f));
    mc_embeddings_free(e);
    mc_embeddings_free(f);
}

static void test_getters_null(void)
{
    CU_ASSERT_EQUAL(mc_embeddings_n(NULL), 0);
    CU_ASSERT_EQUAL(mc_embeddings_dim(NULL), 0);
    CU_ASSERT_PTR_NULL(mc_embeddings_directions(NULL));
    CU_ASSERT_PTR_NULL(mc_embeddings_magnitudes(NULL));
    CU_ASSERT_PTR_NULL(mc_embeddings_quality(NULL));
    CU_ASSERT_PTR_NULL(mc_embeddings_quality_name(NULL));
    CU_ASSERT_PTR_NULL(mc_embeddings_labels(NULL));
    CU_ASSERT_PTR_NULL(mc_embeddings_path(NULL, 0));
}

static void test_free_null(void)
{
    mc_embeddings_free(NULL);
    /* Freeing keeps a pending error detail for the caller's report. */
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL(mc_embeddings_new(NULL, 1, 1, &e), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e);
    CU_ASSERT_STRING_NOT_EQUAL(mc_last_error_detail(), "");
}

void mc_test_register(void)
{
    add_test("test_params_default", test_params_default);
    add_test("test_read_tiny", test_read_tiny);
    add_test("test_read_tiny_quality_key", test_read_tiny_quality_key);
    add_test("test_read_f64", test_read_f64);
    add_test("test_read_f16", test_read_f16);
    add_test("test_read_nolabels", test_read_nolabels);
    add_test("test_read_altkeys", test_read_altkeys);
    add_test("test_read_small_k", test_read_small_k);
    add_test("test_read_disabled_keys", test_read_disabled_keys);
    add_test("test_read_explicit_missing_keys", test_read_explicit_missing_keys);
    add_test("test_read_group_not_dataset", test_read_group_not_dataset);
    add_test("test_read_bad_nan", test_read_bad_nan);
    add_test("test_skip_bad_rows", test_skip_bad_rows);
    add_test("test_read_bad_inf", test_read_bad_inf);
    add_test("test_read_bad_zero", test_read_bad_zero);
    add_test("test_read_bad_rank3", test_read_bad_rank3);
    add_test("test_read_bad_rank1", test_read_bad_rank1);
    add_test("test_read_bad_n0", test_read_bad_n0);
    add_test("test_read_bad_d0", test_read_bad_d0);
    add_test("test_read_bad_labels_len", test_read_bad_labels_len);
    add_test("test_read_bad_paths_len", test_read_bad_paths_len);
    add_test("test_read_bad_quality_len", test_read_bad_quality_len);
    add_test("test_read_bad_noemb", test_read_bad_noemb);
    add_test("test_read_bad_int_emb", test_read_bad_int_emb);
    add_test("test_read_bad_quality_nan", test_read_bad_quality_nan);
    add_test("test_read_bad_labels_float", test_read_bad_labels_float);
    add_test("test_read_bad_paths_type", test_read_bad_paths_type);
    add_test("test_read_not_hdf5", test_read_not_hdf5);
    add_test("test_read_missing_file", test_read_missing_file);
    add_test("test_read_directory", test_read_directory);
    add_test("test_read_null_args", test_read_null_args);
    add_test("test_read_clears_detail", test_read_clears_detail);
    add_test("test_new_ok", test_new_ok);
    add_test("test_new_extreme_norms", test_new_extreme_norms);
    add_test("test_new_nan_inf_zero", test_new_nan_inf_zero);
    add_test("test_new_empty_and_null", test_new_empty_and_null);
    add_test("test_set_labels", test_set_labels);
    add_test("test_set_paths", test_set_paths);
    add_test("test_set_quality", test_set_quality);
    add_test("test_set_groups", test_set_groups);
    add_test("test_getters_null", test_getters_null);
    add_test("test_free_null", test_free_null);
}
