/* Text formats: the line reader and number parsing, labels (folder names,
 * labels files), MagFace feature lists and CSV, read through the public
 * streaming API; the CSV writer; exact float round trips. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_impl.h"
#include "magclust/io.h"
#include "test_common.h"

const char *mc_test_suite_name = "io_text";

static char tmpdir[256];

/* A file name in the suite's temporary directory; 8 rotating buffers so that
 * a test can hold a few at once. */
static const char *tmp(const char *name)
{
    static char bufs[8][512];
    static unsigned next;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_test_io_text.XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    char *b = bufs[next++ % 8];
    snprintf(b, 512, "%s/%s", tmpdir, name);
    return b;
}

static void spit_n(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void spit(const char *path, const char *text) { spit_n(path, text, strlen(text)); }

/* Everything a reader delivered, or how it failed. */
typedef struct {
    mc_status st;
    char detail[1024];
    size_t n, d;
    int has_labels, has_paths;
    float *rows;
    int64_t *labels;
    char **paths;
    size_t n_names;
    char **names;
} readout;

static void readout_free(readout *o)
{
    free(o->rows);
    free(o->labels);
    if (o->paths)
        for (size_t i = 0; i < o->n; i++) free(o->paths[i]);
    free(o->paths);
    for (size_t i = 0; i < o->n_names; i++) free(o->names[i]);
    free(o->names);
    memset(o, 0, sizeof *o);
}

/* Read a whole file through mc_reader_open/next, `block` rows at a time. */
static readout read_all(const char *path, mc_format fmt, const mc_reader_params *base, size_t block)
{
    readout o;
    memset(&o, 0, sizeof o);
    mc_reader_params p = base ? *base : mc_reader_params_default();
    p.format = fmt;
    mc_reader_t *r = NULL;
    float *buf = NULL;
    int64_t *lab = NULL;
    const char **pth = NULL;
    o.st = mc_reader_open(path, &p, &r);
    if (o.st != MC_OK) goto done;
    o.d = mc_reader_dim(r);
    o.has_labels = mc_reader_has_labels(r);
    o.has_paths = mc_reader_has_paths(r);
    buf = malloc(block * o.d * sizeof *buf);
    lab = malloc(block * sizeof *lab);
    pth = malloc(block * sizeof *pth);
    size_t cap = 0;
    for (;;) {
        size_t got = 0;
        o.st = mc_reader_next(r, block, buf, lab, pth, &got);
        if (o.st != MC_OK || got == 0) break;
        if (o.n + got > cap) {
            cap = 2 * (o.n + got);
            o.rows = realloc(o.rows, cap * o.d * sizeof *o.rows);
            o.labels = realloc(o.labels, cap * sizeof *o.labels);
            o.paths = realloc(o.paths, cap * sizeof *o.paths);
        }
        memcpy(o.rows + o.n * o.d, buf, got * o.d * sizeof *buf);
        for (size_t i = 0; i < got; i++) {
            o.labels[o.n + i] = o.has_labels ? lab[i] : -999;
            o.paths[o.n + i] = strdup(o.has_paths ? pth[i] : "");
        }
        o.n += got;
    }
    if (o.st == MC_OK) {
        const char *const *names = NULL;
        o.n_names = mc_reader_label_names(r, &names);
        o.names = calloc(o.n_names + 1, sizeof *o.names);
        for (size_t i = 0; i < o.n_names; i++) o.names[i] = strdup(names[i]);
    }
done:
    if (o.st != MC_OK) snprintf(o.detail, sizeof o.detail, "%s", mc_last_error_detail());
    mc_reader_free(r);
    free(buf);
    free(lab);
    free(pth);
    return o;
}

/* The status and each given piece of the detail (s2 may be NULL); failures
 * are reported at the caller's line, with the detail printed. */
static void expect_fail_at(const readout *o, mc_status st, const char *s1, const char *s2, int line)
{
    int ok_st = o->st == st;
    int ok_s1 = strstr(o->detail, s1) != NULL;
    int ok_s2 = !s2 || strstr(o->detail, s2) != NULL;
    CU_assertImplementation(ok_st, (unsigned)line, "status as expected", __FILE__, "", CU_FALSE);
    CU_assertImplementation(ok_s1, (unsigned)line, "detail has the first text", __FILE__, "", CU_FALSE);
    CU_assertImplementation(ok_s2, (unsigned)line, "detail has the second text", __FILE__, "", CU_FALSE);
    if (!ok_st || !ok_s1 || !ok_s2)
        fprintf(stderr, "\n  line %d: status %d (%s), detail: %s\n", line, (int)o->st,
                mc_strerror(o->st), o->detail);
}
#define EXPECT_FAIL(o, status, s1, s2) expect_fail_at(&(o), status, s1, s2, __LINE__)

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* ---- private helpers ------------------------------------------------------ */

static void test_parse_float(void)
{
    float v = 0;
    CU_ASSERT_EQUAL(mc_parse_float("0.1", 3, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 0.1f);
    CU_ASSERT_EQUAL(mc_parse_float("-0.0", 4, &v), MC_PARSE_OK);
    CU_ASSERT(v == 0.0f && signbit(v));
    CU_ASSERT_EQUAL(mc_parse_float("1e-38", 5, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 1e-38f);
    CU_ASSERT_EQUAL(mc_parse_float("3.4e38", 6, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 3.4e38f);
    CU_ASSERT_EQUAL(mc_parse_float("1.401298464324817e-45", 21, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 1.401298464324817e-45f); /* the smallest subnormal */
    CU_ASSERT_EQUAL(mc_parse_float("1e-99999", 8, &v), MC_PARSE_OK); /* underflow: 0, like Python */
    CU_ASSERT_EQUAL(v, 0.0f);
    CU_ASSERT_EQUAL(mc_parse_float("+12.5E+1", 8, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 125.0f);
    CU_ASSERT_EQUAL(mc_parse_float("1.", 2, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 1.0f);
    CU_ASSERT_EQUAL(mc_parse_float(".5", 2, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 0.5f);
    CU_ASSERT_EQUAL(mc_parse_float("1.3515087366104126", 18, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 1.3515087366104126f);
    /* only the token [0, len) counts */
    CU_ASSERT_EQUAL(mc_parse_float("2.5 junk", 3, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 2.5f);
    /* a long token (beyond the stack buffer) */
    char longtok[400];
    memset(longtok, '0', sizeof longtok);
    longtok[1] = '.';
    longtok[399] = '5';
    CU_ASSERT_EQUAL(mc_parse_float(longtok, sizeof longtok, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 0.0f); /* 5e-398 underflows */
    longtok[0] = '7';
    CU_ASSERT_EQUAL(mc_parse_float(longtok, sizeof longtok, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 7.0f);

    const char *not_finite[] = {"nan", "NaN", "-nan", "inf", "-inf", "+Infinity", "3.5e38", "-1e39", "1e400"};
    for (size_t i = 0; i < sizeof not_finite / sizeof *not_finite; i++)
        CU_ASSERT_EQUAL(mc_parse_float(not_finite[i], strlen(not_finite[i]), &v), MC_PARSE_NOT_FINITE);
    const char *bad[] = {"", "+", "-", ".", "e5", "1e", "1e+", " 1", "1 ", "1,5", "0x1p3", "1.5x",
                         "--1", "1..2", "abc", "nanx", "1e5.5", "infinit"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CU_ASSERT_EQUAL(mc_parse_float(bad[i], strlen(bad[i]), &v), MC_PARSE_NOT_NUMBER);
        if (mc_parse_float(bad[i], strlen(bad[i]), &v) != MC_PARSE_NOT_NUMBER)
            fprintf(stderr, "\n  accepted '%s'\n", bad[i]);
    }
}

/* The decimal point under a ',' locale: tests/test_locale.c, its own ctest
 * so that it can be reported as skipped when no such locale is installed. */

static void test_parse_int64(void)
{
    int64_t v = 0;
    CU_ASSERT_EQUAL(mc_parse_int64("42", 2, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 42);
    CU_ASSERT_EQUAL(mc_parse_int64("-1", 2, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, -1);
    CU_ASSERT_EQUAL(mc_parse_int64("+7", 2, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(mc_parse_int64("9223372036854775807", 19, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, INT64_MAX);
    CU_ASSERT_EQUAL(mc_parse_int64("-9223372036854775808", 20, &v), MC_PARSE_OK);
    CU_ASSERT_EQUAL(v, INT64_MIN);
    const char *bad[] = {"9223372036854775808", "-9223372036854775809", "", "-", "1.0", "1e3",
                         " 1", "0x10", "12a"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CU_ASSERT_EQUAL(mc_parse_int64(bad[i], strlen(bad[i]), &v), MC_PARSE_NOT_NUMBER);
}

static void test_lines(void)
{
    /* BOM, CRLF, a 1 MB line, a last line without its newline */
    size_t big = 1u << 20;
    size_t total = 3 + 4 + big + 1 + 3;
    char *data = malloc(total);
    memcpy(data, "\xEF\xBB\xBF" "ab\r\n", 7);
    memset(data + 7, 'x', big);
    data[7 + big] = '\n';
    memcpy(data + 8 + big, "end", 3);
    const char *path = tmp("lines.txt");
    spit_n(path, data, total);
    free(data);

    mc_line_reader lr;
    CU_ASSERT_EQUAL_FATAL(mc_lines_open(&lr, path), MC_OK);
    char *s;
    size_t len;
    mc_status err = MC_OK;
    CU_ASSERT_EQUAL(mc_lines_next(&lr, &s, &len, &err), 1);
    CU_ASSERT_EQUAL(len, 2);
    CU_ASSERT_STRING_EQUAL(s, "ab");
    CU_ASSERT_EQUAL(lr.line, 1);
    CU_ASSERT_EQUAL(mc_lines_next(&lr, &s, &len, &err), 1);
    CU_ASSERT_EQUAL(len, big);
    CU_ASSERT_EQUAL(strlen(s), big);
    CU_ASSERT_EQUAL(lr.line, 2);
    CU_ASSERT_EQUAL(lr.offset, 7);
    CU_ASSERT_EQUAL(mc_lines_next(&lr, &s, &len, &err), 1);
    CU_ASSERT_STRING_EQUAL(s, "end");
    CU_ASSERT_EQUAL(lr.offset, 8 + big);
    CU_ASSERT_EQUAL(mc_lines_next(&lr, &s, &len, &err), 0);
    mc_lines_close(&lr);

    spit_n(path, "ok\nbin\0ary\n", 11);
    CU_ASSERT_EQUAL_FATAL(mc_lines_open(&lr, path), MC_OK);
    CU_ASSERT_EQUAL(mc_lines_next(&lr, &s, &len, &err), 1);
    CU_ASSERT_EQUAL(mc_lines_next(&lr, &s, &len, &err), -1);
    CU_ASSERT_EQUAL(err, MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "lines.txt: line 2: NUL byte (binary file?)"));
    mc_lines_close(&lr);

    CU_ASSERT_EQUAL(mc_lines_open(&lr, tmp("no-such-file")), MC_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "no-such-file: cannot open"));
    mc_lines_close(&lr);
}

static void test_label_map(void)
{
    mc_label_map *m = mc_label_map_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char name[32];
    for (int i = 0; i < 20000; i++) {
        int len = snprintf(name, sizeof name, "person_%d", i);
        CU_ASSERT_EQUAL(mc_label_map_id(m, name, (size_t)len), i);
    }
    int ok = 1;
    for (int i = 19999; i >= 0; i--) {
        int len = snprintf(name, sizeof name, "person_%d", i);
        if (mc_label_map_id(m, name, (size_t)len) != i) ok = 0;
    }
    CU_ASSERT(ok);
    CU_ASSERT_EQUAL(mc_label_map_count(m), 20000);
    CU_ASSERT_STRING_EQUAL(mc_label_map_names(m)[12345], "person_12345");
    /* a name is its bytes [0, len): a prefix is another name */
    CU_ASSERT_EQUAL(mc_label_map_id(m, "person_1xyz", 8), 1);
    CU_ASSERT_EQUAL(mc_label_map_id(m, "", 0), 20000);
    CU_ASSERT_STRING_EQUAL(mc_label_map_names(m)[20000], "");
    mc_label_map_free(m);
    mc_label_map_free(NULL);
}

static void test_path_parent(void)
{
    const char *cases[][2] = {{"a/b/c.jpg", "b"}, {"c.jpg", ""},       {"/c.jpg", ""},
                              {"b/c.jpg", "b"},   {"a//b//c.jpg", "b"}, {"C:\\x\\y\\z.png", "y"},
                              {"/data/bob/1.jpg", "bob"}, {"", ""}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *p;
        size_t len;
        mc_path_parent(cases[i][0], &p, &len);
        CU_ASSERT_EQUAL(len, strlen(cases[i][1]));
        CU_ASSERT_EQUAL(strncmp(p, cases[i][1], len), 0);
    }
}

/* A '<i8' .npy v1.0 of n labels. */
static void write_npy_i64(const char *path, const int64_t *v, size_t n)
{
    char hdr[128];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '<i8', 'fortran_order': False, 'shape': (%zu,), }", n);
    size_t pad = 64 - ((size_t)10 + (size_t)hl + 1) % 64;
    if (pad == 64) pad = 0;
    size_t total = (size_t)hl + pad + 1;
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc((int)(total & 0xff), f);
    fputc((int)(total >> 8), f);
    fwrite(hdr, 1, (size_t)hl, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    fwrite(v, sizeof *v, n, f);
    fclose(f);
}

static void test_label_stream(void)
{
    const char *lp = tmp("ls.txt");
    spit(lp, "3\n1\n4\n\n");
    mc_label_stream *s = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_label_stream_open(lp, &s), MC_OK);
    CU_ASSERT_EQUAL(mc_label_stream_count(s), 0);
    int64_t got[3] = {0, 0, 0};
    CU_ASSERT_EQUAL(mc_label_stream_next(s, 2, got, "data"), MC_OK);
    CU_ASSERT_EQUAL(mc_label_stream_next(s, 1, got + 2, "data"), MC_OK);
    CU_ASSERT(got[0] == 3 && got[1] == 1 && got[2] == 4);
    CU_ASSERT_EQUAL(mc_label_stream_finish(s, 3, "data"), MC_OK);
    CU_ASSERT_EQUAL(mc_label_stream_names(s, NULL), 0);
    mc_label_stream_free(s);

    /* .npy by its magic, whatever the name; the count is known up front */
    const int64_t v[4] = {9, -1, 9, 2};
    const char *np = tmp("ls_npy.lab");
    write_npy_i64(np, v, 4);
    CU_ASSERT_EQUAL_FATAL(mc_label_stream_open(np, &s), MC_OK);
    CU_ASSERT_EQUAL(mc_label_stream_count(s), 4);
    int64_t g4[4];
    CU_ASSERT_EQUAL(mc_label_stream_next(s, 4, g4, "data"), MC_OK);
    CU_ASSERT_EQUAL(memcmp(g4, v, sizeof v), 0);
    CU_ASSERT_EQUAL(mc_label_stream_next(s, 1, g4, "data"), MC_ERR_DIM_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "has 4 labels, fewer than the rows of data"));
    mc_label_stream_free(s);

    CU_ASSERT_EQUAL(mc_label_stream_open(tmp("no-labels-here"), &s), MC_ERR_IO);
    CU_ASSERT_PTR_NULL(s);
}

/* ---- MagFace lists ------------------------------------------------------- */

static void test_magface_basic(void)
{
    const char *path = tmp("basic.list");
    /* tabs, runs of spaces, leading blanks, no newline at the end */
    spit(path, "a/x.jpg 1 2 3\nb/y.jpg\t4  5\t\t-6.5\n  c/z.jpg 7 8e1 .9");
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.n, 3);
    CU_ASSERT_EQUAL(o.d, 3);
    CU_ASSERT_EQUAL(o.has_labels, 0);
    CU_ASSERT_EQUAL(o.has_paths, 1);
    const float want[] = {1, 2, 3, 4, 5, -6.5f, 7, 80, 0.9f};
    CU_ASSERT(same_bits(o.rows, want, 9));
    CU_ASSERT_STRING_EQUAL(o.paths[0], "a/x.jpg");
    CU_ASSERT_STRING_EQUAL(o.paths[1], "b/y.jpg");
    CU_ASSERT_STRING_EQUAL(o.paths[2], "c/z.jpg");
    CU_ASSERT_EQUAL(o.n_names, 0);
    readout_free(&o);

    /* count is unknown up front */
    mc_reader_params p = mc_reader_params_default();
    p.format = MC_FMT_MAGFACE;
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &p, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_reader_count(r), 0);
    CU_ASSERT_EQUAL(mc_reader_dim(r), 3);
    /* the caller may want neither labels nor paths */
    float rows[9];
    size_t got = 0;
    CU_ASSERT_EQUAL(mc_reader_next(r, 5, rows, NULL, NULL, &got), MC_OK);
    CU_ASSERT_EQUAL(got, 3);
    CU_ASSERT_EQUAL(mc_reader_next(r, 5, rows, NULL, NULL, &got), MC_OK);
    CU_ASSERT_EQUAL(got, 0);
    mc_reader_free(r);
}

static void test_magface_bom_crlf(void)
{
    const char *path = tmp("bom.list");
    spit(path, "\xEF\xBB\xBFp/1.jpg 1.5 -2\r\np/2.jpg 3 4\r\n");
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 10);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.n, 2);
    CU_ASSERT_EQUAL(o.d, 2);
    const float want[] = {1.5f, -2, 3, 4};
    CU_ASSERT(same_bits(o.rows, want, 4));
    CU_ASSERT_STRING_EQUAL(o.paths[0], "p/1.jpg");
    CU_ASSERT_STRING_EQUAL(o.paths[1], "p/2.jpg");
    readout_free(&o);
}

static void test_magface_wrong_count(void)
{
    /* 512 values on line 1, 511 on line 2 */
    const char *path = tmp("count.list");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int line = 0; line < 2; line++) {
        fprintf(f, "img%d.jpg", line);
        for (int j = 0; j < 512 - line; j++) fprintf(f, " %d", j);
        fputc('\n', f);
    }
    fclose(f);
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "count.list: line 2: 511 values, expected 512 (from line 1)", NULL);
    readout_free(&o);

    spit(path, "a 1 2 3\nb 1 2 3\nc 1 2 3 4\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 3: 4 values, expected 3 (from line 1)", NULL);
    readout_free(&o);

    spit(path, "a 1 2 3\nb\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: 0 values, expected 3", NULL);
    readout_free(&o);

    spit(path, "lonely.jpg\nb 1\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "count.list: line 1: no values after the image path", NULL);
    readout_free(&o);
}

static void test_magface_not_number(void)
{
    const char *path = tmp("nan.list");
    spit(path, "a 1 2 3 4 5 6 7\nb 1 2 3 4 5 6 abc\n");
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 8);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "nan.list: line 2: value 7 'abc' is not a number", NULL);
    readout_free(&o);

    /* on the first line: refused at open */
    spit(path, "my photo.jpg 1 2\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 8);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 1: value 1 'photo.jpg' is not a number",
                "paths may not contain spaces");
    readout_free(&o);

    spit(path, "a 1 2\nb 0x1p3 2\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 8);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: value 1 '0x1p3' is not a number", NULL);
    readout_free(&o);
}

static void test_magface_nan_inf(void)
{
    const char *path = tmp("nonfinite.list");
    spit(path, "a 1 2 3 4 5 6 7\nb 1 2 3 4 5 6 nan\n");
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 8);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "nonfinite.list: line 2: value 7 is NaN or infinite", NULL);
    readout_free(&o);

    spit(path, "a 1 2\nb 3 4\nc -inf 4\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 3: value 1 is NaN or infinite", NULL);
    readout_free(&o);

    spit(path, "a inf 2\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 1: value 1 is NaN or infinite", NULL);
    readout_free(&o);

    spit(path, "a 1 2\nb 3 1e39\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: value 2 '1e39' is beyond the float32 range", NULL);
    readout_free(&o);
}

static void test_magface_empty(void)
{
    const char *path = tmp("empty.list");
    spit(path, "");
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "empty.list: empty file (no faces)", NULL);
    readout_free(&o);
    spit(path, "\n  \n\t\r\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "empty.list: empty file (no faces)", NULL);
    readout_free(&o);
    o = read_all(tmp("absent.list"), MC_FMT_MAGFACE, NULL, 1);
    EXPECT_FAIL(o, MC_ERR_IO, "absent.list: cannot open", NULL);
    readout_free(&o);
}

static void test_magface_blank_lines(void)
{
    const char *path = tmp("blank.list");
    spit(path, "a 1\nb 2\n\nc 3\n");
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 10);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "blank.list: line 3: blank line", NULL);
    readout_free(&o);
    spit(path, "\na 1\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 10);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 1: blank line", NULL);
    readout_free(&o);
    /* blank lines at the very end are fine */
    spit(path, "a 1\nb 2\n\n \r\n\n");
    o = read_all(path, MC_FMT_MAGFACE, NULL, 10);
    CU_ASSERT_EQUAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.n, 2);
    readout_free(&o);
}

static void test_magface_nul(void)
{
    const char *path = tmp("bin.list");
    spit_n(path, "a 1 2\nb 3\0 4\n", 13);
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 10);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "bin.list: line 2: NUL byte (binary file?)", NULL);
    readout_free(&o);
}

static void test_magface_label_from_dir(void)
{
    const char *path = tmp("dirs.list");
    spit(path, "bob/1.jpg 1 0\nalice/2.jpg 0 1\nbob/3.jpg 1 1\n/data/carol/4.jpg 2 2\nx\\alice\\5.jpg 3 3\n");
    mc_reader_params p = mc_reader_params_default();
    p.label_from_dir = 1;
    readout o = read_all(path, MC_FMT_MAGFACE, &p, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.has_labels, 1);
    CU_ASSERT_EQUAL_FATAL(o.n, 5);
    const int64_t want[] = {0, 1, 0, 2, 1};
    CU_ASSERT_EQUAL(memcmp(o.labels, want, sizeof want), 0);
    CU_ASSERT_EQUAL_FATAL(o.n_names, 3);
    CU_ASSERT_STRING_EQUAL(o.names[0], "bob");
    CU_ASSERT_STRING_EQUAL(o.names[1], "alice");
    CU_ASSERT_STRING_EQUAL(o.names[2], "carol");
    readout_free(&o);

    spit(path, "bob/1.jpg 1 0\nloose.jpg 0 1\n");
    o = read_all(path, MC_FMT_MAGFACE, &p, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: image path 'loose.jpg' has no parent folder", NULL);
    readout_free(&o);

    /* folder and labels file at once */
    p.labels_path = tmp("whatever.txt");
    o = read_all(path, MC_FMT_MAGFACE, &p, 2);
    EXPECT_FAIL(o, MC_ERR_INVALID_ARG, "choose one", NULL);
    readout_free(&o);
}

static void test_magface_labels_file(void)
{
    const char *path = tmp("three.list");
    spit(path, "a 1\nb 2\nc 3\n");
    const char *lp = tmp("three.labels");
    mc_reader_params p = mc_reader_params_default();
    p.labels_path = lp;

    /* integer mode */
    spit(lp, "5\n-1\n7\n");
    readout o = read_all(path, MC_FMT_MAGFACE, &p, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.has_labels, 1);
    const int64_t want_int[] = {5, -1, 7};
    CU_ASSERT_EQUAL(memcmp(o.labels, want_int, sizeof want_int), 0);
    CU_ASSERT_EQUAL(o.n_names, 0);
    readout_free(&o);

    /* name mode: the first label decides; "17" is then just a name */
    spit(lp, "bob\r\n17\r\nbob\r\n");
    o = read_all(path, MC_FMT_MAGFACE, &p, 1);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    const int64_t want_names[] = {0, 1, 0};
    CU_ASSERT_EQUAL(memcmp(o.labels, want_names, sizeof want_names), 0);
    CU_ASSERT_EQUAL_FATAL(o.n_names, 2);
    CU_ASSERT_STRING_EQUAL(o.names[0], "bob");
    CU_ASSERT_STRING_EQUAL(o.names[1], "17");
    readout_free(&o);

    /* fewer labels than rows */
    spit(lp, "1\n2\n");
    o = read_all(path, MC_FMT_MAGFACE, &p, 2);
    EXPECT_FAIL(o, MC_ERR_DIM_MISMATCH, "three.labels has 2 labels, fewer than the rows of", "three.list");
    readout_free(&o);

    /* more labels than rows */
    spit(lp, "1\n2\n3\n4\n");
    o = read_all(path, MC_FMT_MAGFACE, &p, 2);
    EXPECT_FAIL(o, MC_ERR_DIM_MISMATCH, "three.labels has 4 labels, more than the 3 rows of", "three.list");
    readout_free(&o);

    /* trailing blank lines in the labels file are fine */
    spit(lp, "1\n2\n3\n\n\n");
    o = read_all(path, MC_FMT_MAGFACE, &p, 3);
    CU_ASSERT_EQUAL(o.st, MC_OK);
    readout_free(&o);

    /* integer mode, then a name */
    spit(lp, "1\nzed\n3\n");
    o = read_all(path, MC_FMT_MAGFACE, &p, 3);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "three.labels: line 2: label 'zed' is not an integer", NULL);
    readout_free(&o);

    /* a blank line in the middle */
    spit(lp, "1\n\n2\n3\n");
    o = read_all(path, MC_FMT_MAGFACE, &p, 3);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "three.labels: line 2: blank line", NULL);
    readout_free(&o);

    /* a missing labels file fails at open */
    p.labels_path = tmp("missing.labels");
    o = read_all(path, MC_FMT_MAGFACE, &p, 3);
    EXPECT_FAIL(o, MC_ERR_IO, "missing.labels: cannot open", NULL);
    readout_free(&o);

    /* an integer .npy (found by its magic bytes) */
    const int64_t nv[3] = {40, 41, -1};
    p.labels_path = tmp("labels_npy.bin");
    write_npy_i64(p.labels_path, nv, 3);
    o = read_all(path, MC_FMT_MAGFACE, &p, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(memcmp(o.labels, nv, sizeof nv), 0);
    readout_free(&o);
}

/* Values that stress float32 round trips. */
static size_t tricky_values(float *v, size_t n)
{
    const float fixed[] = {1e-38f, -0.0f, 3.4e38f, 0.1f, FLT_MIN, -FLT_MAX, FLT_MAX,
                           1.401298464e-45f, 1.0f / 3.0f, 16777217.0f, 0.0f, -1e-45f,
                           1.3515087366104126f, 2.5e-39f};
    size_t k = sizeof fixed / sizeof *fixed;
    memcpy(v, fixed, k * sizeof *v);
    uint32_t x = 2463534242u;
    for (size_t i = k; i < n; i++) {
        /* xorshift bits, keeping finite ones: every exponent gets a turn */
        float f;
        do {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            memcpy(&f, &x, sizeof f);
        } while (!isfinite(f));
        v[i] = f;
    }
    return n;
}

static void test_magface_roundtrip(void)
{
    enum { N = 40, D = 25 };
    float *v = malloc(N * D * sizeof *v);
    tricky_values(v, N * D);
    const char *path = tmp("round.list");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < N; i++) {
        fprintf(f, "id%d/img%d.jpg", i % 3, i);
        for (int j = 0; j < D; j++) fprintf(f, " %.9g", (double)v[i * D + j]);
        fputc('\n', f);
    }
    fclose(f);
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 7);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o.n, N);
    CU_ASSERT_EQUAL_FATAL(o.d, D);
    CU_ASSERT(same_bits(o.rows, v, N * D));
    CU_ASSERT_STRING_EQUAL(o.paths[39], "id0/img39.jpg");
    readout_free(&o);
    free(v);
}

static void test_magface_long_line(void)
{
    /* D = 100000: lines far longer than any fixed buffer */
    enum { D = 100000 };
    const char *path = tmp("wide.list");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 3; i++) {
        fprintf(f, "w/%d.jpg", i);
        for (int j = 0; j < D; j++) fprintf(f, " %d.25", (i + j) % 1000);
        fputc('\n', f);
    }
    fclose(f);
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.n, 3);
    CU_ASSERT_EQUAL(o.d, D);
    CU_ASSERT_EQUAL(o.rows[2 * D + 999], (float)((2 + 999) % 1000) + 0.25f);
    readout_free(&o);
}

/* The real gen_feat.py output of MagFace's 10 toy images (optional). */
static void test_magface_real_toy(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../shared/datasets/magface-toy-feat.list", mc_test_source_dir);
    if (access(path, R_OK) != 0) {
        printf("\n  skipped: %s is absent\n", path);
        CU_PASS("magface-toy-feat.list absent; skipped");
        return;
    }
    /* The magnitudes, computed independently with NumPy:
     * python3 -c "import numpy as np; r=[l.split() for l in open('magface-toy-feat.list')];
     *   print(np.linalg.norm(np.array([x[1:] for x in r], dtype=np.float32)
     *   .astype(np.float64), axis=1).tolist())"
     */
    static const double want[10] = {21.77851818085489,  22.164327529346597, 24.090090097906582,
                                    24.400797701448806, 25.903029130380133, 27.111891234078765,
                                    27.412535721810336, 28.22401111130454,  28.734497369060467,
                                    30.24705030573282};
    readout o = read_all(path, MC_FMT_MAGFACE, NULL, 4);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o.n, 10);
    CU_ASSERT_EQUAL_FATAL(o.d, 512);
    for (size_t i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "toy_imgs/%zu.jpg", i);
        CU_ASSERT_STRING_EQUAL(o.paths[i], name);
        double ss = 0;
        for (size_t j = 0; j < 512; j++) ss += (double)o.rows[i * 512 + j] * (double)o.rows[i * 512 + j];
        CU_ASSERT_DOUBLE_EQUAL(sqrt(ss), want[i], 1e-9 * want[i]);
    }
    /* the first value as printed: 1.3515087366104126 */
    CU_ASSERT_EQUAL(o.rows[0], 1.3515087366104126f);
    readout_free(&o);
}

/* ---- CSV ------------------------------------------------------------------ */

static void check_abc(const readout *o)
{
    CU_ASSERT_EQUAL_FATAL(o->st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o->n, 2);
    CU_ASSERT_EQUAL_FATAL(o->d, 3);
    const float want[] = {1, 2, 3, 4.5f, -5, 6e-3f};
    CU_ASSERT(same_bits(o->rows, want, 6));
    CU_ASSERT_STRING_EQUAL(o->paths[0], "a.jpg");
    CU_ASSERT_STRING_EQUAL(o->paths[1], "b.jpg");
    CU_ASSERT_EQUAL(o->labels[0], 7);
    CU_ASSERT_EQUAL(o->labels[1], -1);
}

static void test_csv_delimiters(void)
{
    const char *path = tmp("delim.csv");
    spit(path, "path,label,e0,e1,e2\na.jpg,7,1,2,3\nb.jpg,-1,4.5,-5,6e-3\n");
    readout o = read_all(path, MC_FMT_CSV, NULL, 1);
    check_abc(&o);
    readout_free(&o);

    spit(path, "path;label;e0;e1;e2\na.jpg;7;1;2;3\nb.jpg;-1;4.5;-5;6e-3\n");
    o = read_all(path, MC_FMT_CSV, NULL, 1);
    check_abc(&o);
    readout_free(&o);

    spit(path, "path\tlabel\te0\te1\te2\na.jpg\t7\t1\t2\t3\nb.jpg\t-1\t4.5\t-5\t6e-3\n");
    o = read_all(path, MC_FMT_CSV, NULL, 5);
    check_abc(&o);
    readout_free(&o);

    /* given explicitly; spaces around numbers are allowed */
    spit(path, "path|label|e0|e1|e2\na.jpg| 7 |1 |2| 3\nb.jpg|-1|4.5|-5|6e-3\n");
    mc_reader_params p = mc_reader_params_default();
    p.delimiter = '|';
    o = read_all(path, MC_FMT_CSV, &p, 5);
    check_abc(&o);
    readout_free(&o);
}

static void test_csv_quoted_paths(void)
{
    const char *path = tmp("quoted.csv");
    spit(path, "path,label,e0,e1\n"
               "\"dir, with comma/a.jpg\",1,0.5,1\n"
               "\"say \"\"hi\"\"/b.jpg\",2,3,4\n"
               "\"two\nlines/c.jpg\",3,5,6\n"
               "plain/d.jpg,4,7,8\n");
    readout o = read_all(path, MC_FMT_CSV, NULL, 3);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o.n, 4);
    CU_ASSERT_STRING_EQUAL(o.paths[0], "dir, with comma/a.jpg");
    CU_ASSERT_STRING_EQUAL(o.paths[1], "say \"hi\"/b.jpg");
    CU_ASSERT_STRING_EQUAL(o.paths[2], "two\nlines/c.jpg");
    CU_ASSERT_STRING_EQUAL(o.paths[3], "plain/d.jpg");
    CU_ASSERT_EQUAL(o.rows[7], 8.0f);
    readout_free(&o);

    /* line numbers after a record that spans two lines */
    spit(path, "path,e0,e1\n\"x\ny.jpg\",1,2\nz.jpg,3\n");
    o = read_all(path, MC_FMT_CSV, NULL, 3);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "quoted.csv: line 4: 2 fields, the header has 3", NULL);
    readout_free(&o);

    spit(path, "path,e0,e1\na.jpg,1,2\n\"b.jpg,3,4\n");
    o = read_all(path, MC_FMT_CSV, NULL, 3);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 3: quoted field not closed", NULL);
    readout_free(&o);
}

static void test_csv_vector_column(void)
{
    const char *path = tmp("vec.csv");
    spit(path, "path,embedding\na.jpg,\"[0.5, 1, -2]\"\nb.jpg,\"[3 4  5]\"\n");
    readout o = read_all(path, MC_FMT_CSV, NULL, 1);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o.n, 2);
    CU_ASSERT_EQUAL_FATAL(o.d, 3);
    const float want[] = {0.5f, 1, -2, 3, 4, 5};
    CU_ASSERT(same_bits(o.rows, want, 6));
    CU_ASSERT_EQUAL(o.has_labels, 0);
    readout_free(&o);

    /* without brackets, ';' between columns, spaces inside; 'id' is a face
     * id, not a label (left out: there is a path) */
    spit(path, "file;vector;id\na.jpg;0.5 1 -2;3\nb.jpg;3 4 5;4\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o.d, 3);
    CU_ASSERT(same_bits(o.rows, want, 6));
    CU_ASSERT_EQUAL(o.has_labels, 0);
    CU_ASSERT_STRING_EQUAL(o.paths[1], "b.jpg");
    readout_free(&o);

    /* NumPy's own printing: brackets, a line break inside the quoted cell */
    spit(path, "vec\n\"[ 0.5  1.\n -2. ]\"\n\"[3,4,5]\"\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o.d, 3);
    CU_ASSERT(same_bits(o.rows, want, 6));
    CU_ASSERT_EQUAL(o.has_paths, 0);
    readout_free(&o);

    spit(path, "path,embedding\na.jpg,\"1,2,3\"\nb.jpg,\"1,2\"\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "vec.csv: line 3: column 'embedding' has 2 values, expected 3 (from line 2)", NULL);
    readout_free(&o);

    spit(path, "path,embedding\na.jpg,\"1,2,3\"\nb.jpg,\"1,x,3\"\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 3: column 'embedding' value 2 'x' is not a number", NULL);
    readout_free(&o);

    spit(path, "path,embedding\na.jpg,\"1,2,3\"\nb.jpg,\"[1,2,nan]\"\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 3: column 'embedding' value 3 is NaN or infinite", NULL);
    readout_free(&o);

    spit(path, "path,embedding\na.jpg,\"1,,3\"\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: column 'embedding' value 2 is empty", NULL);
    readout_free(&o);

    spit(path, "path,embedding\na.jpg,[]\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: column 'embedding' holds no values", NULL);
    readout_free(&o);
}

static void test_csv_bom_crlf(void)
{
    const char *path = tmp("bom.csv");
    spit(path, "\xEF\xBB\xBFpath,label,e0,e1,e2\r\na.jpg,7,1,2,3\r\nb.jpg,-1,4.5,-5,6e-3\r\n");
    readout o = read_all(path, MC_FMT_CSV, NULL, 4);
    check_abc(&o);
    readout_free(&o);
}

static void test_csv_field_count(void)
{
    const char *path = tmp("fields.csv");
    spit(path, "path,e0,e1,e2\na.jpg,1,2,3\nb.jpg,1,2\n");
    readout o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "fields.csv: line 3: 3 fields, the header has 4", NULL);
    readout_free(&o);
    spit(path, "path,e0,e1,e2\na.jpg,1,2,3,4\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "fields.csv: line 2: 5 fields, the header has 4", NULL);
    readout_free(&o);
}

static void test_csv_bad_values(void)
{
    const char *path = tmp("values.csv");
    spit(path, "path,e0,e1\na.jpg,1,2\nb.jpg,3,abc\n");
    readout o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "values.csv: line 3: column 'e1' 'abc' is not a number", NULL);
    readout_free(&o);
    spit(path, "path,e0,e1\na.jpg,1,2\nb.jpg,NaN,1\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 3: column 'e0' is NaN or infinite", NULL);
    readout_free(&o);
    spit(path, "path,e0,e1\na.jpg,1,2\nb.jpg,1,-Infinity\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 3: column 'e1' is NaN or infinite", NULL);
    readout_free(&o);
    spit(path, "path,e0,e1\na.jpg,1,\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: column 'e1' '' is not a number", NULL);
    readout_free(&o);
    spit(path, "path,e0,e1\na.jpg,1,2\n\nb.jpg,3,4\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 3: blank line", NULL);
    readout_free(&o);
}

static void test_csv_empty(void)
{
    const char *path = tmp("empty.csv");
    spit(path, "");
    readout o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "empty.csv: empty file (no faces)", NULL);
    readout_free(&o);
    spit(path, "path,e0,e1\r\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "empty.csv: a header and no rows (no faces)", NULL);
    readout_free(&o);
    spit(path, "path,label\na.jpg,1\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 1: no embedding columns", NULL);
    readout_free(&o);
}

static void test_csv_header(void)
{
    const char *path = tmp("header.csv");
    /* no header: the first line would be data */
    spit(path, "1.5,2,3\n4,5,6\n");
    readout o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "header.csv: line 1: looks like data", "header row is required");
    readout_free(&o);

    /* pandas' integer column names are a header */
    spit(path, "0,1,2\n1.5,2,3\n4,5,6\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    CU_ASSERT_EQUAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.n, 2);
    CU_ASSERT_EQUAL(o.d, 3);
    readout_free(&o);

    /* an unnamed index column */
    spit(path, ",path,e0,e1\n0,a.jpg,1,2\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 1: column 1 has no name", NULL);
    readout_free(&o);

    /* names match whatever their case */
    spit(path, "Image,IDENTITY,x,y\na.jpg,3,1,2\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.d, 2);
    CU_ASSERT_EQUAL(o.labels[0], 3);
    CU_ASSERT_STRING_EQUAL(o.paths[0], "a.jpg");
    readout_free(&o);

    spit(path, "path,file,e0,e1\na,b,1,2\n");
    o = read_all(path, MC_FMT_CSV, NULL, 4);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "two path columns, 'path' and 'file'", NULL);
    readout_free(&o);
}

static void test_csv_labels(void)
{
    const char *path = tmp("labels.csv");
    /* names -> ids by first appearance */
    spit(path, "path,person,e0,e1\nx/a.jpg,bob,1,2\ny/b.jpg,alice,3,4\nz/c.jpg,bob,5,6\nw/d.jpg,12,7,8\n");
    readout o = read_all(path, MC_FMT_CSV, NULL, 3);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    const int64_t want[] = {0, 1, 0, 2};
    CU_ASSERT_EQUAL(memcmp(o.labels, want, sizeof want), 0);
    CU_ASSERT_EQUAL_FATAL(o.n_names, 3);
    CU_ASSERT_STRING_EQUAL(o.names[0], "bob");
    CU_ASSERT_STRING_EQUAL(o.names[1], "alice");
    CU_ASSERT_STRING_EQUAL(o.names[2], "12");
    readout_free(&o);

    /* folders: the label column is then ignored */
    mc_reader_params p = mc_reader_params_default();
    p.label_from_dir = 1;
    o = read_all(path, MC_FMT_CSV, &p, 3);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.d, 2);
    const int64_t want_dir[] = {0, 1, 2, 3};
    CU_ASSERT_EQUAL(memcmp(o.labels, want_dir, sizeof want_dir), 0);
    CU_ASSERT_EQUAL_FATAL(o.n_names, 4);
    CU_ASSERT_STRING_EQUAL(o.names[0], "x");
    CU_ASSERT_STRING_EQUAL(o.names[3], "w");
    readout_free(&o);

    spit(path, "e0,e1\n1,2\n");
    o = read_all(path, MC_FMT_CSV, &p, 3);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "labels.csv: line 1: labels from the parent folder need a path column", NULL);
    readout_free(&o);

    /* integers, then a name */
    spit(path, "label,e0\n1,2\n2,3\nbob,4\n");
    o = read_all(path, MC_FMT_CSV, NULL, 3);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "labels.csv: line 4: label 'bob' is not an integer", NULL);
    readout_free(&o);

    /* an empty label is an unknown identity (-1); the first label given
     * decides between integers and names */
    spit(path, "label,e0\n1,2\n,3\n");
    o = read_all(path, MC_FMT_CSV, NULL, 3);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT(o.has_labels && o.labels[0] == 1 && o.labels[1] == -1);
    readout_free(&o);
    spit(path, "label,e0\n,2\n,3\nbob,4\n7,5\n");
    o = read_all(path, MC_FMT_CSV, NULL, 1);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT(o.labels[0] == -1 && o.labels[1] == -1 && o.labels[2] == 0 && o.labels[3] == 1);
    CU_ASSERT_EQUAL(o.n_names, 2);
    readout_free(&o);
    /* into one file with another input whose labels are names: the block of
     * unknown identities does not make them integers */
    spit(tmp("labels_b.csv"), "label,e0\nann,1\nbob,2\n");
    spit(path, "label,e0\n,2\n");
    const char *two[2] = {path, tmp("labels_b.csv")};
    p = mc_reader_params_default();
    p.format = MC_FMT_CSV;
    CU_ASSERT_EQUAL(mc_import_files(two, 2, &p, tmp("labels_ab.h5"), NULL, NULL), MC_OK);

    /* a separate labels file is not for CSV */
    p = mc_reader_params_default();
    p.labels_path = tmp("x.txt");
    o = read_all(path, MC_FMT_CSV, &p, 3);
    EXPECT_FAIL(o, MC_ERR_INVALID_ARG, "not used for CSV", NULL);
    readout_free(&o);
}

static int temporaries_left(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp")) n++;
    closedir(d);
    return n;
}

static void test_csv_roundtrip(void)
{
    enum { N = 30, D = 17 };
    float *v = malloc(N * D * sizeof *v);
    tricky_values(v, N * D);
    int64_t labels[N];
    char names[N][64];
    const char *paths[N];
    for (int i = 0; i < N; i++) {
        labels[i] = i % 4 == 3 ? -1 : (int64_t)i * 1000000007LL;
        snprintf(names[i], sizeof names[i], i % 3 == 0 ? "dir, %d/\"q\".jpg" : i % 3 == 1 ? "p%d\nx.jpg" : "plain/%d.jpg", i);
        paths[i] = names[i];
    }
    const char *out = tmp("round.csv");
    mc_writer_params wp = mc_writer_params_default();
    wp.format = MC_FMT_CSV;
    mc_writer_t *w = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(out, D, 1, 1, &wp, &w), MC_OK);
    CU_ASSERT_EQUAL(access(out, F_OK), -1); /* nothing at the destination before commit */
    CU_ASSERT_EQUAL(mc_writer_append(w, 10, v, labels, paths), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, N - 10, v + 10 * D, labels + 10, paths + 10), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_writer_commit(w), MC_OK);
    CU_ASSERT_EQUAL(temporaries_left(), 0);

    FILE *f = fopen(out, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char head[32] = {0};
    CU_ASSERT_PTR_NOT_NULL(fgets(head, sizeof head, f));
    fclose(f);
    CU_ASSERT_EQUAL(strncmp(head, "path,label,e0,e1,e2,", 20), 0);

    readout o = read_all(out, MC_FMT_CSV, NULL, 8);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o.n, N);
    CU_ASSERT_EQUAL_FATAL(o.d, D);
    CU_ASSERT(same_bits(o.rows, v, N * D));
    CU_ASSERT_EQUAL(memcmp(o.labels, labels, sizeof labels), 0);
    int paths_ok = 1;
    for (int i = 0; i < N; i++)
        if (strcmp(o.paths[i], paths[i]) != 0) paths_ok = 0;
    CU_ASSERT(paths_ok);
    readout_free(&o);

    /* values only */
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(out, D, 0, 0, &wp, &w), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, N, v, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_writer_commit(w), MC_OK);
    o = read_all(out, MC_FMT_CSV, NULL, 64);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.has_labels, 0);
    CU_ASSERT_EQUAL(o.has_paths, 0);
    CU_ASSERT_EQUAL_FATAL(o.n, N);
    CU_ASSERT(same_bits(o.rows, v, N * D));
    readout_free(&o);

    /* D = 1: a single column */
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(out, 1, 0, 0, &wp, &w), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, N, v, NULL, NULL), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_writer_commit(w), MC_OK);
    o = read_all(out, MC_FMT_CSV, NULL, 64);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.d, 1);
    CU_ASSERT_EQUAL_FATAL(o.n, N);
    CU_ASSERT(same_bits(o.rows, v, N));
    readout_free(&o);
    free(v);
}

/* A photo column: read block by block, written back to CSV and HDF5 (/photo),
 * refused where the format has no room. */
static void test_csv_photos(void)
{
    const char *path = tmp("photos.csv");
    spit(path, "path,photo,label,e0,e1\n"
               "a.jpg,IMG_1.jpg,1,1,0\n"
               "b.jpg,IMG_1.jpg,2,0,1\n"
               "c.jpg, IMG_2.jpg ,1,1,1\n"
               "d.jpg,,2,1,2\n");
    mc_reader_params rp = mc_reader_params_default();
    rp.format = MC_FMT_CSV;
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_reader_has_photos(r), 1);
    CU_ASSERT_EQUAL(mc_reader_dim(r), 2);
    float rows[4];
    int64_t labels[2];
    const char *paths[2];
    size_t n = 0;
    const char *want[4] = {"IMG_1.jpg", "IMG_1.jpg", "IMG_2.jpg", ""};
    int seen = 0, ok = 1;
    while (mc_reader_next(r, 2, rows, labels, paths, &n) == MC_OK && n > 0) {
        const char *const *ph = mc_reader_photos(r);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
        for (size_t i = 0; i < n; i++) ok &= strcmp(ph[i], want[seen + (int)i]) == 0;
        seen += (int)n;
    }
    CU_ASSERT_EQUAL(seen, 4);
    CU_ASSERT(ok);
    mc_reader_free(r);

    /* CSV to CSV keeps the column; CSV to HDF5 writes /photo */
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_convert(r, tmp("photos_out.csv"), NULL, NULL), MC_OK);
    mc_reader_free(r);
    readout o = read_all(tmp("photos_out.csv"), MC_FMT_CSV, NULL, 3);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.n, 4);
    CU_ASSERT_EQUAL(o.d, 2); /* the photo column is not a value column */
    readout_free(&o);
    FILE *f = fopen(tmp("photos_out.csv"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char head[64] = {0};
    CU_ASSERT_PTR_NOT_NULL(fgets(head, sizeof head, f));
    fclose(f);
    CU_ASSERT_EQUAL(strncmp(head, "path,photo,label,e0,e1", 22), 0);
    const char *in[1] = {path};
    CU_ASSERT_EQUAL_FATAL(mc_import_files(in, 1, &rp, tmp("photos.h5"), NULL, NULL), MC_OK);
    mc_h5_read_params hp = mc_h5_read_params_default();
    hp.group_key = "photo";
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(tmp("photos.h5"), &hp, &e), MC_OK);
    const int64_t *g = mc_embeddings_groups(e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g[0], g[1]);
    CU_ASSERT_NOT_EQUAL(g[0], g[2]);
    CU_ASSERT(g[2] >= 0);
    CU_ASSERT_EQUAL(g[3], -1); /* empty: no photo */
    CU_ASSERT_EQUAL(mc_embeddings_n_groups(e), 2);
    mc_embeddings_free(e);
    /* to .npy the column is dropped (mc_convert); a writer asked for it refuses */
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_convert(r, tmp("photos.npy"), NULL, NULL), MC_OK);
    mc_reader_free(r);
    mc_writer_params wp = mc_writer_params_default();
    wp.with_photos = 1;
    mc_writer_t *w = NULL;
    CU_ASSERT_EQUAL(mc_writer_open(tmp("x.npy"), 2, 0, 0, &wp, &w), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "photo"));
    CU_ASSERT_PTR_NULL(w);
    /* a writer with photos needs them on every append */
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(tmp("x.csv"), 2, 0, 0, &wp, &w), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, 1, rows, NULL, NULL), MC_ERR_INVALID_ARG);
    mc_writer_abort(w);
    /* two photo columns */
    spit(path, "photo,photo_id,e0\np,q,1\n");
    o = read_all(path, MC_FMT_CSV, NULL, 3);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "two photo columns, 'photo' and 'photo_id'", NULL);
    readout_free(&o);
    CU_ASSERT_EQUAL(temporaries_left(), 0);
}

/* Paths that a spreadsheet would take for formulas are written with a
 * leading ' and read back exactly. */
static void test_csv_guard(void)
{
    enum { N = 9 };
    const char *paths[N] = {"=1+1", "-x.jpg", "+y", "@z", "\tt.jpg", "'=y", "''@z", "'plain", "ok.jpg"};
    const char *want[N] = {"'=1+1", "'-x.jpg", "'+y", "'@z", "'\tt.jpg", "''=y", "'''@z", "'plain", "ok.jpg"};
    float v[N];
    for (int i = 0; i < N; i++) v[i] = (float)i;
    const char *out = tmp("guard.csv");
    mc_writer_t *w = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(out, 1, 0, 1, NULL, &w), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, N, v, NULL, paths), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_writer_commit(w), MC_OK);
    FILE *f = fopen(out, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[128];
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f)); /* header */
    int written_ok = 1;
    for (int i = 0; i < N && fgets(line, sizeof line, f); i++) {
        size_t len = strlen(want[i]);
        if (strncmp(line, want[i], len) != 0 || line[len] != ',') written_ok = 0;
    }
    fclose(f);
    CU_ASSERT(written_ok);
    readout o = read_all(out, MC_FMT_CSV, NULL, 4);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL_FATAL(o.n, N);
    int read_ok = 1;
    for (int i = 0; i < N; i++) read_ok &= strcmp(o.paths[i], paths[i]) == 0;
    CU_ASSERT(read_ok);
    readout_free(&o);
    CU_ASSERT(mc_csv_needs_guard("=a"));
    CU_ASSERT(mc_csv_needs_guard("''\r"));
    CU_ASSERT(!mc_csv_needs_guard("'a"));
    CU_ASSERT(!mc_csv_needs_guard("a=b"));
}

static void test_csv_writer_abort(void)
{
    const char *out = tmp("aborted.csv");
    mc_writer_params wp = mc_writer_params_default();
    wp.format = MC_FMT_CSV;
    mc_writer_t *w = NULL;
    const float row[2] = {1, 2};
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(out, 2, 0, 0, &wp, &w), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, 1, row, NULL, NULL), MC_OK);
    CU_ASSERT(temporaries_left() > 0);
    mc_writer_abort(w);
    CU_ASSERT_EQUAL(access(out, F_OK), -1);
    CU_ASSERT_EQUAL(temporaries_left(), 0);

    /* an existing file is untouched by an aborted write */
    spit(out, "keep me");
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(out, 2, 0, 0, &wp, &w), MC_OK);
    const float bad[2] = {1, NAN};
    CU_ASSERT_EQUAL(mc_writer_append(w, 1, bad, NULL, NULL), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "row 0 value 2 is NaN or infinite"));
    mc_writer_abort(w);
    FILE *f = fopen(out, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char buf[16] = {0};
    CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof buf, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "keep me");
    CU_ASSERT_EQUAL(temporaries_left(), 0);

    /* into a folder that does not exist */
    CU_ASSERT_EQUAL(mc_writer_open(tmp("no/such/dir/x.csv"), 2, 0, 0, &wp, &w), MC_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "x.csv: cannot create"));
}

/* ---- CSV column roles ------------------------------------------------------ */

/* Opens path as CSV with p (NULL: defaults) and reads every row: d, the
 * extra (quality) columns' names joined by ',' into names, their values
 * (at most cap) into extras; the status, and the detail on failure. */
static mc_status read_roles(const char *path, const mc_reader_params *p, size_t *d, char *names, size_t names_cap,
                            float *extras, size_t cap, size_t *n_rows, char *columns, size_t columns_cap)
{
    mc_reader_params rp = p ? *p : mc_reader_params_default();
    rp.format = MC_FMT_CSV;
    mc_reader_t *r = NULL;
    mc_status st = mc_reader_open(path, &rp, &r);
    names[0] = '\0';
    if (columns) columns[0] = '\0';
    *n_rows = 0;
    if (st != MC_OK) return st;
    *d = mc_reader_dim(r);
    const char *const *xn = NULL;
    size_t nx = mc_reader_extra_names(r, &xn);
    for (size_t i = 0; i < nx; i++) {
        size_t l = strlen(names);
        snprintf(names + l, names_cap - l, "%s%s", i ? "," : "", xn[i]);
    }
    if (columns && mc_reader_columns(r)) snprintf(columns, columns_cap, "%s", mc_reader_columns(r));
    float rows[64 * 8];
    size_t got = 0, k = 0;
    while ((st = mc_reader_next(r, 2, rows, NULL, NULL, &got)) == MC_OK && got > 0) {
        const float *x = mc_reader_extras(r);
        if (nx) CU_ASSERT_PTR_NOT_NULL(x);
        for (size_t i = 0; x && i < got * nx && k < cap; i++) extras[k++] = x[i];
        *n_rows += got;
    }
    mc_reader_free(r);
    return st;
}

/* A det_score column beside e0..eN is a quality column, not dimension 0; so
 * beside a vector column; it reaches the HDF5 file as /det_score. */
static void test_csv_roles_quality(void)
{
    char path_own[512]; /* tmp()'s buffers rotate: this test names more than 8 files */
    snprintf(path_own, sizeof path_own, "%s", tmp("roles.csv"));
    const char *path = path_own;
    char names[256], cols[1024];
    float x[16];
    size_t d = 0, n = 0;
    spit(path, "path,det_score,e0,e1,e2\na.jpg,0.9,1,2,3\nb.jpg,0.5,4,5,6\nc.jpg,0.25,7,8,9\n");
    CU_ASSERT_EQUAL_FATAL(read_roles(path, NULL, &d, names, sizeof names, x, 16, &n, cols, sizeof cols), MC_OK);
    CU_ASSERT_EQUAL(d, 3);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_STRING_EQUAL(names, "det_score");
    CU_ASSERT(x[0] == 0.9f && x[1] == 0.5f && x[2] == 0.25f);
    CU_ASSERT_STRING_EQUAL(cols, "path (path), det_score (quality, kept as /det_score), e0..e2 (embedding, 3-d)");
    readout o = read_all(path, MC_FMT_CSV, NULL, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.rows[0], 1.0f); /* not 0.9: det_score is no value */
    readout_free(&o);

    /* into HDF5: /det_score, read as the quality key */
    mc_reader_params rp = mc_reader_params_default();
    rp.format = MC_FMT_CSV;
    const char *in[1] = {path};
    uint64_t rows = 0;
    CU_ASSERT_EQUAL_FATAL(mc_import_files(in, 1, &rp, tmp("roles.h5"), NULL, &rows), MC_OK);
    CU_ASSERT_EQUAL(rows, 3);
    float *q = NULL;
    size_t nq = 0;
    CU_ASSERT_EQUAL_FATAL(mc_h5_read_quality(tmp("roles.h5"), NULL, "det_score", &q, &nq), MC_OK);
    CU_ASSERT_EQUAL(nq, 3);
    CU_ASSERT(q[0] == 0.9f && q[2] == 0.25f);
    free(q);
    /* mc_convert carries it too; to .npy it is dropped */
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_convert(r, tmp("roles2.h5"), NULL, NULL), MC_OK);
    mc_reader_free(r);
    CU_ASSERT_EQUAL_FATAL(mc_h5_read_quality(tmp("roles2.h5"), NULL, "det_score", &q, &nq), MC_OK);
    CU_ASSERT(nq == 3 && q[1] == 0.5f);
    free(q);
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_convert(r, tmp("roles.npy"), NULL, NULL), MC_OK);
    mc_reader_free(r);

    /* the vector in one column, a det_score beside it (the second file) */
    spit(path, "path,det_score,embedding\na.jpg,0.9,\"[1, 2, 3]\"\nb.jpg,0.5,\"[4, 5, 6]\"\n");
    CU_ASSERT_EQUAL_FATAL(read_roles(path, NULL, &d, names, sizeof names, x, 16, &n, cols, sizeof cols), MC_OK);
    CU_ASSERT_EQUAL(d, 3);
    CU_ASSERT_STRING_EQUAL(names, "det_score");
    CU_ASSERT(x[0] == 0.9f && x[1] == 0.5f);
    CU_ASSERT_STRING_EQUAL(cols, "path (path), det_score (quality, kept as /det_score), embedding (embedding: the "
                                 "vector, 3-d)");

    /* two inputs must agree on their quality columns */
    spit(tmp("roles_b.csv"), "path,e0,e1,e2\nd.jpg,1,1,1\n");
    const char *two[2] = {path, tmp("roles_b.csv")};
    CU_ASSERT_EQUAL(mc_import_files(two, 2, &rp, tmp("roles3.h5"), NULL, NULL), MC_ERR_DIM_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "roles_b.csv: its columns are path (path), e0..e2"));
    CU_ASSERT_EQUAL(access(tmp("roles3.h5"), F_OK), -1);

    /* a bad quality value names its column and line */
    spit(path, "path,quality,e0,e1\na.jpg,0.9,1,2\nb.jpg,high,3,4\n");
    CU_ASSERT_EQUAL(read_roles(path, NULL, &d, names, sizeof names, x, 16, &n, NULL, 0), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "line 3: column 'quality' 'high' is not a number"));
}

/* What is refused, with the listing of the columns. */
static void test_csv_roles_refused(void)
{
    const char *path = tmp("refused.csv");
    readout o;
    /* a number that is neither a known name nor part of the embedding */
    spit(path, "path,age,e0,e1,e2\na.jpg,31,1,2,3\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "refused.csv: line 1: no role for column 'age'",
                "the columns: path (path), age (no role: a number), e0..e2 (embedding, 3-d); say what it is: "
                "--quality-columns age keeps it as per-face numbers, --ignore-columns age leaves it out");
    readout_free(&o);
    /* text, and a vector, without a role; two of them */
    spit(path, "path,note,e0,e1,v\na.jpg,hi,1,2,\"1 2\"\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "no role for columns 'note,v'",
                "note (no role: text), e0..e1 (embedding, 2-d), v (no role: a vector of 2 numbers); say what they are");
    readout_free(&o);
    /* two groups of one size, or a group and a vector column: ambiguous */
    spit(path, "e0,e1,f0,f1\n1,2,3,4\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "more than one candidate for the embedding",
                "e0..e1 (embedding?), f0..f1 (embedding?); choose with --embedding-columns");
    readout_free(&o);
    spit(path, "embedding,x1,x2\n\"1 2\",3,4\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "more than one candidate", "embedding (embedding?), x1..x2 (embedding?)");
    readout_free(&o);
    /* the larger group is the embedding; the smaller one has no role */
    spit(path, "e0,e1,e2,x1,x2\n1,2,3,4,5\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "no role for columns 'x1,x2'", "e0..e2 (embedding, 3-d)");
    readout_free(&o);
    /* no naming convention: every column left is a value, as before, but
     * text or a whole vector there is explained */
    spit(path, "path,a,b,vec_data\nx.jpg,1,2,\"[1,2,3]\"\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: column 'vec_data' holds a vector of 3 numbers, not one number",
                "--embedding-columns 'vec_data' takes it");
    readout_free(&o);
    spit(path, "path,a,b,when\nx.jpg,1,2,today\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "line 2: column 'when' holds text, not a number", "a..when (embedding, 3-d)");
    readout_free(&o);
    /* a quality column cannot replace one of the schema's datasets */
    mc_reader_params p = mc_reader_params_default();
    p.csv_quality_columns = "photo";
    spit(path, "path,photo,e0,e1\nx.jpg,1,2,3\n");
    o = read_all(path, MC_FMT_CSV, &p, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "column 'photo' cannot be a quality column: /photo is the schema's own", NULL);
    readout_free(&o);
    /* a column line break in a name stays out of the one-line message */
    spit(path, "path,\"a\nb\",e0,e1\nx.jpg,1,2,3\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    EXPECT_FAIL(o, MC_ERR_BAD_DATA, "no role for column 'a?b'", NULL);
    CU_ASSERT_PTR_NULL(strchr(o.detail, '\n'));
    readout_free(&o);
}

/* The options: the embedding as a range, numbers, a prefix; quality and
 * ignored columns; the path, label and photo columns. */
static void test_csv_roles_options(void)
{
    const char *path = tmp("opts.csv");
    char names[256], cols[1024];
    float x[16];
    size_t d = 0, n = 0;
    mc_reader_params p = mc_reader_params_default();
    spit(path, "path,age,det_score,emb_2,emb_0,emb_1,note\na.jpg,31,0.9,3,1,2,hi\n");
    /* a prefix orders by the number at the end */
    p.csv_embedding_columns = "emb_*";
    p.csv_quality_columns = "age";
    p.csv_ignore_columns = "note";
    CU_ASSERT_EQUAL_FATAL(read_roles(path, &p, &d, names, sizeof names, x, 16, &n, cols, sizeof cols), MC_OK);
    CU_ASSERT_EQUAL(d, 3);
    CU_ASSERT_STRING_EQUAL(names, "age"); /* det_score is not in the list: left out */
    CU_ASSERT_EQUAL(x[0], 31.0f);
    CU_ASSERT_STRING_EQUAL(cols, "path (path), age (quality, kept as /age), det_score (ignored), emb_2..emb_1 "
                                 "(embedding, 3-d), note (ignored)");
    readout o = read_all(path, MC_FMT_CSV, &p, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    const float want[3] = {1, 2, 3};
    CU_ASSERT(same_bits(o.rows, want, 3));
    readout_free(&o);
    /* a range of names, of numbers; '' = no quality columns */
    p = mc_reader_params_default();
    p.csv_embedding_columns = "emb_2-emb_1";
    p.csv_quality_columns = "";
    p.csv_ignore_columns = "2,7";
    CU_ASSERT_EQUAL_FATAL(read_roles(path, &p, &d, names, sizeof names, x, 16, &n, NULL, 0), MC_OK);
    CU_ASSERT_EQUAL(d, 3);
    CU_ASSERT_STRING_EQUAL(names, "");
    p.csv_embedding_columns = "4-6";
    o = read_all(path, MC_FMT_CSV, &p, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    const float in_order[3] = {3, 1, 2};
    CU_ASSERT(same_bits(o.rows, in_order, 3));
    readout_free(&o);
    /* one column named: the whole vector */
    spit(path, "path,feats,det_score\na.jpg,\"1 2 3 4\",0.5\n");
    p = mc_reader_params_default();
    p.csv_embedding_columns = "feats";
    CU_ASSERT_EQUAL_FATAL(read_roles(path, &p, &d, names, sizeof names, x, 16, &n, NULL, 0), MC_OK);
    CU_ASSERT_EQUAL(d, 4);
    CU_ASSERT_STRING_EQUAL(names, "det_score");
    /* refusals of the options */
    p.csv_embedding_columns = "nope";
    o = read_all(path, MC_FMT_CSV, &p, 2);
    EXPECT_FAIL(o, MC_ERR_INVALID_ARG, "opts.csv: --embedding-columns: no column 'nope' in the header", NULL);
    readout_free(&o);
    p.csv_embedding_columns = "3-2";
    o = read_all(path, MC_FMT_CSV, &p, 2);
    EXPECT_FAIL(o, MC_ERR_INVALID_ARG, "the range '3-2' runs backwards", NULL);
    readout_free(&o);
    p.csv_embedding_columns = "feats";
    p.csv_ignore_columns = "feats";
    o = read_all(path, MC_FMT_CSV, &p, 2);
    EXPECT_FAIL(o, MC_ERR_INVALID_ARG, "--embedding-columns: column 'feats' is given a role twice", NULL);
    readout_free(&o);
    p = mc_reader_params_default();
    p.csv_embedding_columns = "x_*";
    o = read_all(path, MC_FMT_CSV, &p, 2);
    EXPECT_FAIL(o, MC_ERR_INVALID_ARG, "no column starts with 'x_'", NULL);
    readout_free(&o);
    p = mc_reader_params_default();
    p.csv_label_column = "nope";
    o = read_all(path, MC_FMT_CSV, &p, 2);
    EXPECT_FAIL(o, MC_ERR_INVALID_ARG, "--label-column: no column 'nope'", NULL);
    readout_free(&o);
}

/* Other tools' names: Immich's asset_faces + face_search, PhotoPrism's
 * markers; an 'id' is a face id, a label only when asked. */
static void test_csv_roles_other_tools(void)
{
    const char *path = tmp("immich.csv");
    spit(path, "id,assetId,personId,imageWidth,imageHeight,boundingBoxX1,boundingBoxY1,boundingBoxX2,"
               "boundingBoxY2,embedding\n"
               "f1,a1,p1,4000,3000,10,20,110,140,\"[0.1,0.2,0.3]\"\n"
               "f2,a1,p2,4000,3000,500,20,610,140,\"[0.3,0.2,0.1]\"\n"
               "f3,a2,p1,4000,3000,10,20,110,140,\"[0.1,0.25,0.3]\"\n");
    mc_reader_params rp = mc_reader_params_default();
    rp.format = MC_FMT_CSV;
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_reader_dim(r), 3);
    CU_ASSERT(mc_reader_has_paths(r) && mc_reader_has_labels(r) && mc_reader_has_photos(r));
    CU_ASSERT_EQUAL(mc_reader_extra_names(r, NULL), 0);
    CU_ASSERT_PTR_NULL(mc_reader_extras(r));
    CU_ASSERT_STRING_EQUAL(mc_reader_columns(r), "id (face id, as the path), assetId (photo), personId (label), "
                                                 "imageWidth..boundingBoxY2 (ignored), embedding (embedding: the "
                                                 "vector, 3-d)");
    mc_reader_free(r);
    readout o = read_all(path, MC_FMT_CSV, NULL, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_STRING_EQUAL(o.paths[1], "f2");
    CU_ASSERT_EQUAL(o.labels[0], o.labels[2]);
    CU_ASSERT_NOT_EQUAL(o.labels[0], o.labels[1]);
    readout_free(&o);

    /* PhotoPrism: marker_uid, file_uid, subj_uid, embeddings_json ([[v]]) */
    spit(path, "marker_uid,file_uid,subj_uid,embeddings_json\nm1,f1,s1,\"[[1,2,3]]\"\nm2,f1,s2,\"[[3,2,1]]\"\n");
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_reader_dim(r), 3);
    CU_ASSERT_STRING_EQUAL(mc_reader_columns(r), "marker_uid (face id, as the path), file_uid (photo), subj_uid "
                                                 "(label), embeddings_json (embedding: the vector, 3-d)");
    mc_reader_free(r);

    /* 'id' beside a path is left out; a label only with csv_label_column */
    spit(path, "path,id,e0,e1\na.jpg,7,1,2\nb.jpg,8,3,4\n");
    o = read_all(path, MC_FMT_CSV, NULL, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.has_labels, 0);
    CU_ASSERT_STRING_EQUAL(o.paths[0], "a.jpg");
    readout_free(&o);
    mc_reader_params p = mc_reader_params_default();
    p.csv_label_column = "id";
    o = read_all(path, MC_FMT_CSV, &p, 2);
    CU_ASSERT_EQUAL_FATAL(o.st, MC_OK);
    CU_ASSERT_EQUAL(o.labels[1], 8);
    readout_free(&o);
    /* face_id is preferred to id for the path; the options name any column */
    spit(path, "id,face_id,who,pic,e0,e1\n1,fa,bob,p1,1,2\n2,fb,ann,p1,3,4\n");
    p = mc_reader_params_default();
    p.csv_label_column = "who";
    p.csv_photo_column = "4";
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_ERR_BAD_DATA); /* who, pic: no role */
    p.format = MC_FMT_CSV;
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &p, &r), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_reader_columns(r), "id (ignored: a face id; the path is 'face_id'), face_id (face id, "
                                                 "as the path), who (label), pic (photo), e0..e1 (embedding, 2-d)");
    mc_reader_free(r);
    p.csv_path_column = "id";
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &p, &r), MC_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_reader_columns(r), "id (path), face_id (ignored: a face id; the path is 'id')"));
    mc_reader_free(r);
}

/* The writer's side of extra columns: HDF5 only, names checked, values required. */
static void test_writer_extras(void)
{
    const char *names[2] = {"det_score", "face_size"};
    mc_writer_params wp = mc_writer_params_default();
    wp.n_extras = 2;
    wp.extra_names = names;
    mc_writer_t *w = NULL;
    CU_ASSERT_EQUAL(mc_writer_open(tmp("x.csv"), 2, 0, 0, &wp, &w), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "only HDF5 files hold extra per-face columns"));
    const char *bad[2] = {"det_score", "labels"};
    wp.extra_names = bad;
    CU_ASSERT_EQUAL(mc_writer_open(tmp("x.h5"), 2, 0, 0, &wp, &w), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "/labels is the schema's own"));
    const char *twice[2] = {"q", "q"};
    wp.extra_names = twice;
    CU_ASSERT_EQUAL(mc_writer_open(tmp("x.h5"), 2, 0, 0, &wp, &w), MC_ERR_INVALID_ARG);
    wp.extra_names = names;
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(tmp("x.h5"), 2, 0, 0, &wp, &w), MC_OK);
    const float rows[4] = {1, 0, 0, 1}, extras[4] = {0.5f, 40, 0.75f, 80};
    CU_ASSERT_EQUAL(mc_writer_append_extras(w, 2, rows, NULL, NULL, NULL, NULL), MC_ERR_INVALID_ARG);
    const float nan_extras[4] = {0.5f, 40, NAN, 80};
    CU_ASSERT_EQUAL(mc_writer_append_extras(w, 2, rows, NULL, NULL, NULL, nan_extras), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "row 1: 'det_score' is NaN or infinite"));
    CU_ASSERT_EQUAL(mc_writer_append_extras(w, 2, rows, NULL, NULL, NULL, extras), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_writer_commit(w), MC_OK);
    float *q = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(mc_h5_read_quality(tmp("x.h5"), NULL, "face_size", &q, &n), MC_OK);
    CU_ASSERT(n == 2 && q[0] == 40 && q[1] == 80);
    free(q);
    CU_ASSERT_EQUAL(temporaries_left(), 0);
}

/* Remove what the suite wrote (registered last). */
static void test_cleanup(void)
{
    DIR *d = opendir(tmpdir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    CU_ASSERT_EQUAL(rmdir(tmpdir), 0);
}

void mc_test_register(void)
{
    add_test("parse_float", test_parse_float);
    add_test("parse_int64", test_parse_int64);
    add_test("lines", test_lines);
    add_test("label_map", test_label_map);
    add_test("path_parent", test_path_parent);
    add_test("label_stream", test_label_stream);
    add_test("magface_basic", test_magface_basic);
    add_test("magface_bom_crlf", test_magface_bom_crlf);
    add_test("magface_wrong_count", test_magface_wrong_count);
    add_test("magface_not_number", test_magface_not_number);
    add_test("magface_nan_inf", test_magface_nan_inf);
    add_test("magface_empty", test_magface_empty);
    add_test("magface_blank_lines", test_magface_blank_lines);
    add_test("magface_nul", test_magface_nul);
    add_test("magface_label_from_dir", test_magface_label_from_dir);
    add_test("magface_labels_file", test_magface_labels_file);
    add_test("magface_roundtrip", test_magface_roundtrip);
    add_test("magface_long_line", test_magface_long_line);
    add_test("magface_real_toy", test_magface_real_toy);
    add_test("csv_delimiters", test_csv_delimiters);
    add_test("csv_quoted_paths", test_csv_quoted_paths);
    add_test("csv_vector_column", test_csv_vector_column);
    add_test("csv_bom_crlf", test_csv_bom_crlf);
    add_test("csv_field_count", test_csv_field_count);
    add_test("csv_bad_values", test_csv_bad_values);
    add_test("csv_empty", test_csv_empty);
    add_test("csv_header", test_csv_header);
    add_test("csv_labels", test_csv_labels);
    add_test("csv_photos", test_csv_photos);
    add_test("csv_guard", test_csv_guard);
    add_test("csv_roundtrip", test_csv_roundtrip);
    add_test("csv_writer_abort", test_csv_writer_abort);
    add_test("csv_roles_quality", test_csv_roles_quality);
    add_test("csv_roles_refused", test_csv_roles_refused);
    add_test("csv_roles_options", test_csv_roles_options);
    add_test("csv_roles_other_tools", test_csv_roles_other_tools);
    add_test("writer_extras", test_writer_extras);
    add_test("cleanup", test_cleanup);
}
