/* Quality gates: parsing, formatting, percentiles, resolution. */
#include <math.h>
#include <string.h>

#include "magclust/quality.h"
#include "test_common.h"

const char *mc_test_suite_name = "quality";

static void test_parse_valid(void)
{
    mc_threshold t;
    CU_ASSERT_EQUAL(mc_threshold_parse("p20", &t), MC_OK);
    CU_ASSERT_EQUAL(t.kind, MC_THRESH_PERCENTILE);
    CU_ASSERT_DOUBLE_EQUAL(t.value, 20.0, 0);
    CU_ASSERT_EQUAL(mc_threshold_parse("P2.5", &t), MC_OK);
    CU_ASSERT_EQUAL(t.kind, MC_THRESH_PERCENTILE);
    CU_ASSERT_DOUBLE_EQUAL(t.value, 2.5, 0);
    CU_ASSERT_EQUAL(mc_threshold_parse("12.5", &t), MC_OK);
    CU_ASSERT_EQUAL(t.kind, MC_THRESH_ABSOLUTE);
    CU_ASSERT_DOUBLE_EQUAL(t.value, 12.5, 0);
    CU_ASSERT_EQUAL(mc_threshold_parse("-3", &t), MC_OK);
    CU_ASSERT_EQUAL(t.kind, MC_THRESH_ABSOLUTE);
    CU_ASSERT_DOUBLE_EQUAL(t.value, -3.0, 0);
    CU_ASSERT_EQUAL(mc_threshold_parse("off", &t), MC_OK);
    CU_ASSERT_EQUAL(t.kind, MC_THRESH_OFF);
    CU_ASSERT_EQUAL(mc_threshold_parse("NONE", &t), MC_OK);
    CU_ASSERT_EQUAL(t.kind, MC_THRESH_OFF);
    CU_ASSERT_EQUAL(mc_threshold_parse("p0", &t), MC_OK);
    CU_ASSERT_EQUAL(mc_threshold_parse("p100", &t), MC_OK);
}

static void test_parse_invalid(void)
{
    static const char *bad[] = {"", "p", "p101", "p-1", "abc", "12x", " 5", "nan", "inf",
                                "1e999", "pp5", "5 "};
    mc_threshold t;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(mc_threshold_parse(bad[i], &t), MC_ERR_INVALID_ARG);
        CU_ASSERT(strlen(mc_last_error_detail()) > 0);
    }
    CU_ASSERT_EQUAL(mc_threshold_parse(NULL, &t), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_threshold_parse("p5", NULL), MC_ERR_INVALID_ARG);
}

static void test_format_roundtrip(void)
{
    const char *in[] = {"p20", "p2.5", "12.5", "off"};
    for (size_t i = 0; i < 4; i++) {
        mc_threshold t, u;
        char buf[32];
        CU_ASSERT_EQUAL_FATAL(mc_threshold_parse(in[i], &t), MC_OK);
        mc_threshold_format(&t, buf, sizeof buf);
        CU_ASSERT_STRING_EQUAL(buf, in[i]);
        CU_ASSERT_EQUAL(mc_threshold_parse(buf, &u), MC_OK);
        CU_ASSERT_EQUAL(u.kind, t.kind);
        CU_ASSERT_DOUBLE_EQUAL(u.value, t.value, 0);
    }
}

/* numpy.percentile([4, 1, 3, 2], q) with the default linear method:
 * q=0 -> 1, 25 -> 1.75, 50 -> 2.5, 90 -> 3.7, 100 -> 4. */
static void test_percentile_numpy(void)
{
    const float v[] = {4, 1, 3, 2};
    CU_ASSERT_DOUBLE_EQUAL(mc_percentile(v, 4, 0), 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(mc_percentile(v, 4, 25), 1.75, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(mc_percentile(v, 4, 50), 2.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(mc_percentile(v, 4, 90), 3.7, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(mc_percentile(v, 4, 100), 4.0, 1e-12);
    const float one[] = {7};
    CU_ASSERT_DOUBLE_EQUAL(mc_percentile(one, 1, 37), 7.0, 0);
    CU_ASSERT(isnan(mc_percentile(v, 0, 50)));
}

static void test_resolve(void)
{
    const float v[] = {10, 20, 30, 40, 50};
    mc_threshold off = mc_threshold_off(), abs = {MC_THRESH_ABSOLUTE, 33}, pct = {MC_THRESH_PERCENTILE, 50};
    CU_ASSERT(isinf(mc_threshold_resolve(&off, v, 5)) && mc_threshold_resolve(&off, v, 5) < 0);
    CU_ASSERT_DOUBLE_EQUAL(mc_threshold_resolve(&abs, v, 5), 33.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(mc_threshold_resolve(&pct, v, 5), 30.0, 1e-12);
    /* A percentile is scale-free: the same fraction of faces passes whatever the model's scale. */
    float w[5];
    for (int i = 0; i < 5; i++) w[i] = v[i] * 4.0f;
    CU_ASSERT_DOUBLE_EQUAL(mc_threshold_resolve(&pct, w, 5), 120.0, 1e-12);
}

void mc_test_register(void)
{
    add_test("parse_valid", test_parse_valid);
    add_test("parse_invalid", test_parse_invalid);
    add_test("format_roundtrip", test_format_roundtrip);
    add_test("percentile_numpy", test_percentile_numpy);
    add_test("resolve", test_resolve);
}
