/* CUnit suite for the binary formats of io.h: NumPy .npy (io_npy.c) and
 * learn-to-cluster's raw .bin + .meta (io_l2c.c), read through the public
 * reader/writer API, plus the private mc_npy_read_int64 (npy_format_impl.h).
 *
 * Every input is written by the test itself into a mkdtemp directory under
 * /tmp (removed at exit; set MC_TEST_KEEP_TMP=1 to keep it). The .npy files
 * are built byte by byte: magic, version, header length, the dict literal
 * (in varied spellings), then the data. While this suite was written, the
 * hand-made files of the good-path tests (versions 1, 2 and 3; f2, f4, f8,
 * little- and big-endian) and the writer's output were loaded with numpy
 * 1.24 (np.load) and matched shape, dtype and values; the expected float16
 * conversions below are numpy's `astype(np.float32)` of the same bits. The
 * test itself needs no Python. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy_format_impl.h"
#include "magclust/io.h"
#include "test_common.h"

const char *mc_test_suite_name = "io_bin";

/* The standard small array: N x D values -2.0, -1.75, ..., exact in every
 * float type. */
#define SN 5
#define SD 4

static float std_val(size_t i, size_t j) { return (float)(i * SD + j) * 0.25f - 2.0f; }

/* ---- files -------------------------------------------------------------- */

static char tmp_dir[64];
static uint64_t last_data_offset; /* of the last write_npy() */

static const char *tp(const char *name)
{
    static char bufs[8][512];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", tmp_dir, name);
    return b;
}

static void remove_tmp_dir(void)
{
    if (!tmp_dir[0]) return;
    if (getenv("MC_TEST_KEEP_TMP")) {
        fprintf(stderr, "io_bin: files kept in %s\n", tmp_dir);
        return;
    }
    DIR *d = opendir(tmp_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) unlink(tp(e->d_name));
        closedir(d);
    }
    rmdir(tmp_dir);
}

static size_t dir_entries(void)
{
    size_t n = 0;
    DIR *d = opendir(tmp_dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

/* Any leftover temporary (mc_temp_path_for names them ".NAME.tmpPID.K"). */
static int has_temporaries(void)
{
    int found = 0;
    DIR *d = opendir(tmp_dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp")) found = 1;
    closedir(d);
    return found;
}

static const char *write_bytes(const char *name, const void *data, size_t len)
{
    const char *path = tp(name);
    FILE *fp = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    if (len) CU_ASSERT_EQUAL(fwrite(data, 1, len, fp), len);
    CU_ASSERT_EQUAL(fclose(fp), 0);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_bytes(name, text, strlen(text));
}

static unsigned char *slurp(const char *path, size_t *out_len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, fp) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) buf[len] = 0;
    *out_len = (size_t)len;
    return buf;
}

/* A .npy file made by hand: "\x93NUMPY", major.0, the header length (2 bytes
 * little-endian for 1.0, 4 for 2.0 and 3.0), the dict padded with spaces and
 * ended by '\n' so that the data start at a multiple of `align` (1: no
 * padding), then `len` bytes of data. */
static const char *write_npy(const char *name, unsigned major, const char *dict, unsigned align,
                             const void *data, size_t len)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t hlen = strlen(dict) + 1;
    while ((pre + hlen) % align) hlen++;
    size_t total = pre + hlen + len;
    unsigned char *buf = malloc(total);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memset(buf + pre, ' ', hlen);
    memcpy(buf + pre, dict, strlen(dict));
    buf[pre + hlen - 1] = '\n';
    if (len) memcpy(buf + pre + hlen, data, len);
    last_data_offset = pre + hlen;
    const char *path = write_bytes(name, buf, total);
    free(buf);
    return path;
}

/* Little-/big-endian encoders. */
static void put_bits(unsigned char *p, uint64_t v, unsigned size, int big)
{
    for (unsigned i = 0; i < size; i++) p[big ? size - 1 - i : i] = (unsigned char)(v >> (8 * i));
}
static void put_f4(unsigned char *p, float f, int big)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_bits(p, u, 4, big);
}
static void put_f8(unsigned char *p, double d, int big)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_bits(p, u, 8, big);
}
/* float16 bits of k * 0.25 - 2 for k = 0..19 (exact halves). */
static uint16_t std_half(size_t k)
{
    float f = (float)k * 0.25f - 2.0f;
    if (f == 0.0f) return 0;
    uint16_t sign = f < 0 ? 0x8000 : 0;
    float a = fabsf(f);
    int e;
    float m = frexpf(a, &e); /* a = m 2^e, m in [0.5, 1) */
    uint16_t mant = (uint16_t)((m * 2.0f - 1.0f) * 1024.0f);
    return (uint16_t)(sign | (uint16_t)((e - 1 + 15) << 10) | mant);
}

/* The standard array in one of the float types. */
static size_t std_data(unsigned char *buf, unsigned size, int big)
{
    for (size_t i = 0; i < SN; i++)
        for (size_t j = 0; j < SD; j++) {
            size_t k = i * SD + j;
            if (size == 2) put_bits(buf + 2 * k, std_half(k), 2, big);
            else if (size == 4) put_f4(buf + 4 * k, std_val(i, j), big);
            else put_f8(buf + 8 * k, (double)std_val(i, j), big);
        }
    return SN * SD * size;
}

/* ---- reading ------------------------------------------------------------ */

static mc_reader_params params(mc_format f, size_t dim, const char *labels_path)
{
    mc_reader_params p = mc_reader_params_default();
    p.format = f;
    p.dim = dim;
    p.labels_path = labels_path;
    return p;
}

/* Status and detail as expected; the detail is printed when not. */
static int fails_with(mc_status st, mc_status want, const char *w1, const char *w2)
{
    const char *d = mc_last_error_detail();
    int ok = st == want && (!w1 || strstr(d, w1)) && (!w2 || strstr(d, w2));
    if (!ok)
        fprintf(stderr, "\n  got %s (\"%s\"), want %s with \"%s\" and \"%s\"\n", mc_strerror(st), d,
                mc_strerror(want), w1 ? w1 : "", w2 ? w2 : "");
    return ok;
}

static mc_status open_only(const char *path, const mc_reader_params *p)
{
    mc_reader_t *r = NULL;
    mc_status st = mc_reader_open(path, p, &r);
    mc_reader_free(r);
    return st;
}

typedef struct {
    size_t n, dim;
    uint64_t count;
    int has_labels, has_paths;
    float rows[4096];
    int64_t labels[1024];
} read_result;

/* Open and read every row in blocks of max; the first failing status. */
static mc_status read_all(const char *path, const mc_reader_params *p, size_t max, read_result *res)
{
    memset(res, 0, sizeof *res);
    mc_reader_t *r = NULL;
    mc_status st = mc_reader_open(path, p, &r);
    if (st != MC_OK) return st;
    res->dim = mc_reader_dim(r);
    res->count = mc_reader_count(r);
    res->has_labels = mc_reader_has_labels(r);
    res->has_paths = mc_reader_has_paths(r);
    float *block = malloc(max * res->dim * sizeof *block);
    int64_t *lab = malloc(max * sizeof *lab);
    CU_ASSERT_PTR_NOT_NULL_FATAL(block);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lab);
    for (;;) {
        size_t n = 0;
        st = mc_reader_next(r, max, block, lab, NULL, &n);
        if (st != MC_OK || n == 0) break;
        if ((res->n + n) * res->dim > sizeof res->rows / sizeof res->rows[0] ||
            res->n + n > sizeof res->labels / sizeof res->labels[0]) {
            st = MC_ERR_NOMEM;
            break;
        }
        memcpy(res->rows + res->n * res->dim, block, n * res->dim * sizeof *block);
        memcpy(res->labels + res->n, lab, n * sizeof *lab);
        res->n += n;
    }
    free(block);
    free(lab);
    mc_reader_free(r);
    return st;
}

static mc_status read_ok(const char *path, const mc_reader_params *p, size_t max, read_result *res)
{
    mc_status st = read_all(path, p, max, res);
    if (st != MC_OK)
        fprintf(stderr, "\n  %s: %s: %s\n", path, mc_strerror(st), mc_last_error_detail());
    CU_ASSERT_EQUAL(st, MC_OK);
    return st;
}

static int is_std(const read_result *res)
{
    if (res->n != SN || res->dim != SD || res->count != SN) return 0;
    for (size_t i = 0; i < SN; i++)
        for (size_t j = 0; j < SD; j++) {
            float want = std_val(i, j), got = res->rows[i * SD + j];
            if (memcmp(&want, &got, sizeof got) != 0) return 0;
        }
    return 1;
}

static const char *std_npy(const char *name, unsigned major, const char *descr, unsigned size, int big)
{
    unsigned char data[SN * SD * 8];
    char dict[160];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }", descr,
             SN, SD);
    return write_npy(name, major, dict, 64, data, std_data(data, size, big));
}

/* ---- npy: good files ---------------------------------------------------- */

static void test_npy_v1_f4(void)
{
    const char *path = std_npy("v1.npy", 1, "<f4", 4, 0);
    CU_ASSERT_EQUAL(last_data_offset % 64, 0);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    read_result res;
    if (read_ok(path, &p, 2, &res) != MC_OK) return;
    CU_ASSERT(is_std(&res));
    CU_ASSERT_EQUAL(res.has_labels, 0);
    CU_ASSERT_EQUAL(res.has_paths, 0);
    /* The format is also found from the extension. */
    p = params(MC_FMT_AUTO, 0, NULL);
    if (read_ok(path, &p, 100, &res) == MC_OK) CU_ASSERT(is_std(&res));
}

static void test_npy_v2_key_order_and_spacing(void)
{
    unsigned char data[SN * SD * 4];
    size_t len = std_data(data, 4, 0);
    /* Keys in another order, no trailing comma, "(N,D,)". */
    const char *path = write_npy("v2.npy", 2, "{'shape': (5,4,), 'descr': '<f4', 'fortran_order': False}",
                                 64, data, len);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    read_result res;
    if (read_ok(path, &p, 3, &res) == MC_OK) CU_ASSERT(is_std(&res));
    /* Odd spacing, double quotes, Python 2's "5L", no alignment padding. */
    path = write_npy("v2b.npy", 2,
                     "{ \"fortran_order\" :False ,\t\"descr\":\"<f4\" , \"shape\" : ( 5L , 4L ) , }", 1,
                     data, len);
    if (read_ok(path, &p, 3, &res) == MC_OK) CU_ASSERT(is_std(&res));
}

static void test_npy_v3_f8(void)
{
    const char *path = std_npy("v3.npy", 3, "<f8", 8, 0);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    read_result res;
    if (read_ok(path, &p, 1000, &res) == MC_OK) CU_ASSERT(is_std(&res));
    /* float64 values are rounded to the nearest float32. */
    double vals[4] = {0.1, -1.0 / 3.0, 1e-40, 3.4e38};
    unsigned char data[32];
    for (int i = 0; i < 4; i++) put_f8(data + 8 * i, vals[i], 0);
    path = write_npy("v3b.npy", 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 64,
                     data, sizeof data);
    if (read_ok(path, &p, 1000, &res) != MC_OK) return;
    for (int i = 0; i < 4; i++) {
        float want = (float)vals[i];
        CU_ASSERT(memcmp(&want, &res.rows[i], 4) == 0);
    }
}

static void test_npy_v2_f2(void)
{
    const char *path = std_npy("v2h.npy", 2, "<f2", 2, 0);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    read_result res;
    if (read_ok(path, &p, 4, &res) == MC_OK) CU_ASSERT(is_std(&res));
}

/* Every half below matches numpy's astype(np.float32) of the same bits. */
static void test_npy_f2_tricky_halves(void)
{
    static const struct {
        uint16_t bits;
        float want;
    } cases[] = {
        {0x0000, 0.0f},          {0x8000, -0.0f},          /* signed zeros */
        {0x0001, 0x1p-24f},      {0x8001, -0x1p-24f},      /* smallest subnormal */
        {0x0002, 0x1p-23f},      {0x0155, 0x1.55p-16f},    /* subnormals */
        {0x0200, 0x1p-15f},      {0x03ff, 0x1.ff8p-15f},   /* largest subnormal */
        {0x0400, 0x1p-14f},      {0x3c00, 1.0f},           /* smallest normal, one */
        {0x3c01, 0x1.004p+0f},   {0x3bff, 0x1.ffcp-1f},    /* around one */
        {0x7bff, 65504.0f},      {0xfbff, -65504.0f},      /* largest finite */
        {0x3555, 0x1.554p-2f},   {0xc000, -2.0f},
        {0x5640, 100.0f},        {0x83ff, -0x1.ff8p-15f},
    };
    enum { NC = sizeof cases / sizeof cases[0] };
    unsigned char data[2 * NC];
    for (size_t i = 0; i < NC; i++) put_bits(data + 2 * i, cases[i].bits, 2, 0);
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': '<f2', 'fortran_order': False, 'shape': (%d, 2), }", NC / 2);
    const char *path = write_npy("halves.npy", 1, dict, 64, data, sizeof data);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    read_result res;
    if (read_ok(path, &p, 5, &res) != MC_OK) return;
    CU_ASSERT_EQUAL(res.n, NC / 2);
    for (size_t i = 0; i < NC; i++) {
        int same = memcmp(&res.rows[i], &cases[i].want, sizeof(float)) == 0;
        if (!same)
            fprintf(stderr, "\n  half 0x%04x: got %a, want %a\n", cases[i].bits, (double)res.rows[i],
                    (double)cases[i].want);
        CU_ASSERT(same);
    }
}

/* Big-endian arrays are converted (byte-swapped), not refused; '=' is the
 * host's order. */
static void test_npy_big_endian_converted(void)
{
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    read_result res;
    const char *path = std_npy("be4.npy", 1, ">f4", 4, 1);
    if (read_ok(path, &p, 2, &res) == MC_OK) CU_ASSERT(is_std(&res));
    path = std_npy("be8.npy", 2, ">f8", 8, 1);
    if (read_ok(path, &p, 3, &res) == MC_OK) CU_ASSERT(is_std(&res));
    path = std_npy("be2.npy", 3, ">f2", 2, 1);
    if (read_ok(path, &p, 1, &res) == MC_OK) CU_ASSERT(is_std(&res));
    const uint16_t one = 1;
    unsigned char host_le;
    memcpy(&host_le, &one, 1);
    path = std_npy("native.npy", 1, "=f4", 4, !host_le);
    if (read_ok(path, &p, 2, &res) == MC_OK) CU_ASSERT(is_std(&res));
}

/* ---- npy: refused files ------------------------------------------------- */

static void test_npy_fortran_refused(void)
{
    unsigned char data[SN * SD * 4];
    const char *path = write_npy("fortran.npy", 1,
                                 "{'descr': '<f4', 'fortran_order': True, 'shape': (5, 4), }", 64, data,
                                 std_data(data, 4, 0));
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "fortran.npy: Fortran-order arrays are not supported",
                         "np.ascontiguousarray"));
}

static void test_npy_dtype_refused(void)
{
    unsigned char data[SN * SD * 4] = {0};
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    const char *path = write_npy("int.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (5, 4), }",
                                 64, data, sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "int.npy: dtype '<i4' is not float16/float32/float64",
                         NULL));
    path = write_npy("nobo.npy", 1, "{'descr': '|f4', 'fortran_order': False, 'shape': (5, 4), }", 64,
                     data, sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "dtype '|f4' is not", NULL));
    path = write_npy("struct.npy", 1,
                     "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (5, 2), }",
                     64, data, sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "dtype [('a', '<f4')", "is not float16"));
}

static void test_npy_rank_refused(void)
{
    unsigned char data[SN * SD * 4];
    size_t len = std_data(data, 4, 0);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    const char *path = write_npy("rank1.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }",
                                 64, data, len);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "shape (20,) has rank 1", "expected (N, D)"));
    path = write_npy("rank3.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 2, 2), }", 64,
                     data, len);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "shape (5, 2, 2) has rank 3", NULL));
    path = write_npy("rank0.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 64, data,
                     4);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "has rank 0", NULL));
}

static void test_npy_empty_refused(void)
{
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    const char *path =
        write_npy("n0.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", 64, NULL, 0);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "n0.npy: shape (0, 4): no faces (N = 0)", NULL));
    path = write_npy("d0.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 0), }", 64, NULL, 0);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "shape (5, 0): dimension D = 0", NULL));
}

static void test_npy_size_refused(void)
{
    unsigned char data[SN * SD * 4 + 4] = {0};
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 4), }";
    const char *path = write_npy("short.npy", 1, dict, 64, data, SN * SD * 4 - 4);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA,
                         "short.npy: truncated: expected 80 bytes of data after the header, found 76", NULL));
    path = write_npy("long.npy", 1, dict, 64, data, SN * SD * 4 + 4);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA,
                         "expected 80 bytes of data after the header, found 84", "trailing"));
    /* N * D * itemsize overflows 64 bits. */
    path = write_npy("huge.npy", 1,
                     "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", 64,
                     data, 8);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "huge.npy: shape too large", NULL));
    /* The header itself cut short. */
    unsigned char cut[20] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 100, 0, '{', '\'', 'd'};
    path = write_bytes("cuthdr.npy", cut, 13);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "truncated .npy header", "expected 100"));
}

static void test_npy_bad_magic_and_version(void)
{
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    unsigned char data[SN * SD * 4];
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 4), }";
    const char *path = write_npy("magic.npy", 1, dict, 64, data, std_data(data, 4, 0));
    unsigned char *buf;
    size_t len;
    buf = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    buf[5] = 'X';
    path = write_bytes("magic.npy", buf, len);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "magic.npy: not a .npy file (bad magic", NULL));
    free(buf);
    path = write_text("tiny.npy", "abc");
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "bad magic", NULL));
    path = write_npy("v4.npy", 4, dict, 64, data, sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "unsupported .npy version 4.0", NULL));
    CU_ASSERT(fails_with(open_only(tp("absent.npy"), &p), MC_ERR_IO, "absent.npy: cannot open", NULL));
}

static void test_npy_malformed_header(void)
{
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    unsigned char data[SN * SD * 4] = {0};
    const char *path = write_npy("nokey.npy", 1, "{'descr': '<f4', 'fortran_order': False}", 64, data,
                                 sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "malformed .npy header: no 'shape' key", NULL));
    /* "Flase" starts at character 34 of the dict, which starts at byte 10. */
    path = write_npy("flase.npy", 1, "{'descr': '<f4', 'fortran_order': Flase, 'shape': (5, 4)}", 64, data,
                     sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "expected True or False at byte offset 44",
                         NULL));
    path = write_npy("extra.npy", 1,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 4), 'foo': 1}", 64, data,
                     sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "unexpected key 'foo'", NULL));
    path = write_npy("junk.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 4)} x", 64,
                     data, sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "expected the end of the header", NULL));
    path = write_npy("neg.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-5, 4)}", 64,
                     data, sizeof data);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "expected a non-negative integer", NULL));
}

static void test_npy_nan_inf_refused(void)
{
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    read_result res;
    char want[96];
    /* float32: NaN in row 2, column 1. */
    unsigned char data[SN * SD * 8];
    size_t len = std_data(data, 4, 0);
    put_f4(data + 4 * (2 * SD + 1), NAN, 0);
    const char *path = write_npy("nan4.npy", 1,
                                 "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 4), }", 64, data, len);
    snprintf(want, sizeof want, "nan4.npy: row 2 (byte offset %" PRIu64 "): NaN or infinite value",
             last_data_offset + 4 * (2 * SD + 1));
    CU_ASSERT(fails_with(read_all(path, &p, 1, &res), MC_ERR_BAD_DATA, want, NULL));
    CU_ASSERT_EQUAL(res.n, 2); /* rows 0 and 1 came through */
    /* float64: -Inf in row 4, column 3. */
    len = std_data(data, 8, 0);
    put_f8(data + 8 * (4 * SD + 3), -INFINITY, 0);
    path = write_npy("inf8.npy", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 4), }", 64, data,
                     len);
    snprintf(want, sizeof want, "row 4 (byte offset %" PRIu64 "): NaN or infinite value",
             last_data_offset + 8 * (4 * SD + 3));
    CU_ASSERT(fails_with(read_all(path, &p, 100, &res), MC_ERR_BAD_DATA, want, NULL));
    /* float64 beyond the float32 range. */
    len = std_data(data, 8, 0);
    put_f8(data + 8 * 5, 1e39, 0);
    path = write_npy("big8.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 4), }", 64, data,
                     len);
    snprintf(want, sizeof want, "row 1 (byte offset %" PRIu64 "): value 1e+39 is beyond the float32 range",
             last_data_offset + 8 * 5);
    CU_ASSERT(fails_with(read_all(path, &p, 100, &res), MC_ERR_BAD_DATA, want, NULL));
    /* float16: +Inf (0x7c00) in row 0, NaN (0x7e00) in a big-endian file. */
    len = std_data(data, 2, 0);
    put_bits(data + 2 * 3, 0x7c00, 2, 0);
    path = write_npy("inf2.npy", 1, "{'descr': '<f2', 'fortran_order': False, 'shape': (5, 4), }", 64, data,
                     len);
    snprintf(want, sizeof want, "row 0 (byte offset %" PRIu64 "): NaN or infinite", last_data_offset + 6);
    CU_ASSERT(fails_with(read_all(path, &p, 100, &res), MC_ERR_BAD_DATA, want, NULL));
    len = std_data(data, 2, 1);
    put_bits(data + 2 * 17, 0x7e00, 2, 1);
    path = write_npy("nan2be.npy", 1, "{'descr': '>f2', 'fortran_order': False, 'shape': (5, 4), }", 64,
                     data, len);
    snprintf(want, sizeof want, "row 4 (byte offset %" PRIu64 "): NaN", last_data_offset + 34);
    CU_ASSERT(fails_with(read_all(path, &p, 3, &res), MC_ERR_BAD_DATA, want, NULL));
}

static void test_npy_label_from_dir_refused(void)
{
    const char *path = std_npy("lfd.npy", 1, "<f4", 4, 0);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    p.label_from_dir = 1;
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_INVALID_ARG, "lfd.npy", "folder"));
}

/* ---- npy: labels -------------------------------------------------------- */

static const int64_t std_labels[SN] = {7, -1, 3, 3, 1000000000000LL};

static void test_npy_labels_from_npy(void)
{
    const char *data_path = std_npy("lab.npy", 1, "<f4", 4, 0);
    unsigned char lab[SN * 8];
    for (size_t i = 0; i < SN; i++) put_bits(lab + 8 * i, (uint64_t)std_labels[i], 8, 0);
    const char *lab_path = write_npy("lab.labels.npy", 1,
                                     "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", 64, lab,
                                     sizeof lab);
    mc_reader_params p = params(MC_FMT_NPY, 0, lab_path);
    read_result res;
    if (read_ok(data_path, &p, 2, &res) == MC_OK) {
        CU_ASSERT(is_std(&res));
        CU_ASSERT_EQUAL(res.has_labels, 1);
        CU_ASSERT(memcmp(res.labels, std_labels, sizeof std_labels) == 0);
    }
    /* (N, 1) int32. */
    unsigned char lab4[SN * 4];
    for (size_t i = 0; i < SN; i++) put_bits(lab4 + 4 * i, (uint64_t)(int64_t)(i * 10) - 20, 4, 0);
    lab_path = write_npy("lab4.npy", 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (5, 1), }", 64,
                         lab4, sizeof lab4);
    p = params(MC_FMT_NPY, 0, lab_path);
    if (read_ok(data_path, &p, 3, &res) == MC_OK)
        for (size_t i = 0; i < SN; i++) CU_ASSERT_EQUAL(res.labels[i], (int64_t)(i * 10) - 20);
    /* One label fewer or more than rows: refused at open (N is known). */
    lab_path = write_npy("lab_short.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }",
                         64, lab, 32);
    p = params(MC_FMT_NPY, 0, lab_path);
    CU_ASSERT(fails_with(open_only(data_path, &p), MC_ERR_DIM_MISMATCH, "lab_short.npy has 4 labels",
                         "lab.npy has 5 rows"));
    unsigned char lab6[6 * 8] = {0};
    lab_path = write_npy("lab_long.npy", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (6,), }",
                         64, lab6, sizeof lab6);
    p = params(MC_FMT_NPY, 0, lab_path);
    CU_ASSERT(fails_with(open_only(data_path, &p), MC_ERR_DIM_MISMATCH, "lab_long.npy has 6 labels", NULL));
}

static void test_npy_labels_from_text(void)
{
    const char *data_path = std_npy("labt.npy", 1, "<f4", 4, 0);
    const char *lab_path = write_text("labt.txt", "7\n-1\n3\n3\n1000000000000\n");
    mc_reader_params p = params(MC_FMT_NPY, 0, lab_path);
    read_result res;
    if (read_ok(data_path, &p, 3, &res) == MC_OK) {
        CU_ASSERT(is_std(&res));
        CU_ASSERT_EQUAL(res.has_labels, 1);
        CU_ASSERT(memcmp(res.labels, std_labels, sizeof std_labels) == 0);
    }
    /* Fewer labels than rows: found while reading. */
    lab_path = write_text("labt_few.txt", "7\n-1\n3\n3\n");
    p = params(MC_FMT_NPY, 0, lab_path);
    CU_ASSERT(fails_with(read_all(data_path, &p, 2, &res), MC_ERR_DIM_MISMATCH, "labt_few.txt",
                         "fewer than the rows"));
    /* More: found with the last row. */
    lab_path = write_text("labt_many.txt", "7\n-1\n3\n3\n5\n6\n");
    p = params(MC_FMT_NPY, 0, lab_path);
    CU_ASSERT(fails_with(read_all(data_path, &p, 1000, &res), MC_ERR_DIM_MISMATCH, "labt_many.txt", NULL));
    /* Labels are kept in step even when a block's labels are not wanted. */
    lab_path = write_text("labt2.txt", "7\n-1\n3\n3\n1000000000000\n");
    p = params(MC_FMT_NPY, 0, lab_path);
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(data_path, &p, &r), MC_OK);
    float rows[3 * SD];
    int64_t lab[3];
    size_t n = 0;
    CU_ASSERT_EQUAL(mc_reader_next(r, 2, rows, NULL, NULL, &n), MC_OK);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(mc_reader_next(r, 3, rows, lab, NULL, &n), MC_OK);
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT(memcmp(lab, std_labels + 2, sizeof lab) == 0);
    CU_ASSERT_EQUAL(mc_reader_next(r, 3, rows, lab, NULL, &n), MC_OK);
    CU_ASSERT_EQUAL(n, 0);
    mc_reader_free(r);
}

/* ---- mc_npy_read_int64 -------------------------------------------------- */

static mc_status load_int(const char *name, const char *descr, const char *shape, unsigned size, int big,
                          const uint64_t *raw, size_t count, int64_t **out, size_t *out_n)
{
    unsigned char data[64];
    for (size_t i = 0; i < count; i++) put_bits(data + size * i, raw[i], size, big);
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    const char *path = write_npy(name, 1, dict, 64, data, size * count);
    return mc_npy_read_int64(path, out, out_n);
}

static void test_npy_read_int64(void)
{
    static const struct {
        const char *descr;
        unsigned size;
        int big;
        uint64_t raw[3];
        int64_t want[3];
    } cases[] = {
        {"<i8", 8, 0, {5, UINT64_MAX, 0x7fffffffffffffffULL}, {5, -1, INT64_MAX}},
        {"<i4", 4, 0, {0xffffffffu, 0x80000000u, 12}, {-1, INT32_MIN, 12}},
        {"<i2", 2, 0, {0xffff, 0x8000, 0x7fff}, {-1, -32768, 32767}},
        {"|i1", 1, 0, {0x80, 0xff, 0x7f}, {-128, -1, 127}},
        {"<u8", 8, 0, {0x7fffffffffffffffULL, 0, 1}, {INT64_MAX, 0, 1}},
        {"<u4", 4, 0, {0xffffffffu, 0, 7}, {4294967295LL, 0, 7}},
        {"<u2", 2, 0, {0xffff, 1, 2}, {65535, 1, 2}},
        {"|u1", 1, 0, {0xff, 0, 200}, {255, 0, 200}},
        {">i4", 4, 1, {0xfffffffbu, 1, 2}, {-5, 1, 2}},
        {">u2", 2, 1, {0x1234, 1, 2}, {0x1234, 1, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t *v = NULL;
        size_t n = 0;
        mc_status st = load_int("int.npy", cases[c].descr, c % 2 ? "(3, 1)" : "(3,)", cases[c].size,
                                cases[c].big, cases[c].raw, 3, &v, &n);
        if (st != MC_OK) fprintf(stderr, "\n  %s: %s\n", cases[c].descr, mc_last_error_detail());
        CU_ASSERT_EQUAL(st, MC_OK);
        CU_ASSERT_EQUAL(n, 3);
        if (v) CU_ASSERT(memcmp(v, cases[c].want, sizeof cases[c].want) == 0);
        free(v);
    }
    int64_t *v = NULL;
    size_t n = 0;
    const uint64_t big[2] = {1, 0x8000000000000000ULL};
    mc_status st = load_int("u8big.npy", "<u8", "(2,)", 8, 0, big, 2, &v, &n);
    char want[128];
    snprintf(want, sizeof want,
             "u8big.npy: label 1 (byte offset %" PRIu64 "): value 9223372036854775808 does not fit in int64",
             last_data_offset + 8);
    CU_ASSERT(fails_with(st, MC_ERR_BAD_DATA, want, NULL));
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT(fails_with(load_int("fl.npy", "<f4", "(2,)", 4, 0, big, 2, &v, &n), MC_ERR_BAD_DATA,
                         "dtype '<f4' is not an integer type", NULL));
    CU_ASSERT(fails_with(load_int("bool.npy", "|b1", "(2,)", 1, 0, big, 2, &v, &n), MC_ERR_BAD_DATA,
                         "dtype '|b1' is not an integer type", NULL));
    CU_ASSERT(fails_with(load_int("i2d.npy", "<i8", "(1, 2)", 8, 0, big, 2, &v, &n), MC_ERR_BAD_DATA,
                         "shape (1, 2): labels must be (N,) or (N, 1)", NULL));
    CU_ASSERT(fails_with(load_int("ishort.npy", "<i8", "(3,)", 8, 0, big, 2, &v, &n), MC_ERR_BAD_DATA,
                         "truncated: expected 24 bytes of data after the header, found 16", NULL));
    CU_ASSERT_PTR_NULL(v);
    /* Zero labels is a valid (empty) array. */
    CU_ASSERT_EQUAL(load_int("i0.npy", "<i8", "(0,)", 8, 0, big, 0, &v, &n), MC_OK);
    CU_ASSERT_EQUAL(n, 0);
    free(v);
}

/* ---- npy: block boundaries ---------------------------------------------- */

static void test_npy_blocks(void)
{
    /* 10 x 3 in every float type, read 1, 3 and 1000 rows at a time. */
    enum { N = 10, D = 3 };
    unsigned char data[N * D * 8];
    const char *descr[3] = {"<f2", "<f4", "<f8"};
    unsigned sizes[3] = {2, 4, 8};
    unsigned char lab[N * 8];
    for (size_t i = 0; i < N; i++) put_bits(lab + 8 * i, (uint64_t)(i * 3 + 1), 8, 0);
    const char *lab_path = write_npy("blk.labels.npy", 1,
                                     "{'descr': '<i8', 'fortran_order': False, 'shape': (10,), }", 64, lab,
                                     sizeof lab);
    for (int t = 0; t < 3; t++) {
        for (size_t k = 0; k < N * D; k++) {
            float f = (float)k * 0.5f - 7.0f;
            if (sizes[t] == 2) put_bits(data + 2 * k, std_half(k % 20), 2, 0);
            else if (sizes[t] == 4) put_f4(data + 4 * k, f, 0);
            else put_f8(data + 8 * k, (double)f, 0);
        }
        char dict[128];
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (10, 3), }", descr[t]);
        const char *path = write_npy("blk.npy", 1, dict, 64, data, N * D * sizes[t]);
        mc_reader_params p = params(MC_FMT_NPY, 0, lab_path);
        static read_result a, b;
        size_t maxes[3] = {1, 3, 1000};
        if (read_ok(path, &p, maxes[0], &a) != MC_OK) continue;
        CU_ASSERT_EQUAL(a.n, N);
        for (size_t i = 0; i < N; i++) CU_ASSERT_EQUAL(a.labels[i], (int64_t)(i * 3 + 1));
        for (int m = 1; m < 3; m++) {
            if (read_ok(path, &p, maxes[m], &b) != MC_OK) continue;
            CU_ASSERT_EQUAL(b.n, N);
            CU_ASSERT(memcmp(a.rows, b.rows, N * D * sizeof(float)) == 0);
            CU_ASSERT(memcmp(a.labels, b.labels, N * sizeof(int64_t)) == 0);
        }
    }
}

/* Rows wider than the reader's staging buffer (1 MiB): one row per fread. */
static void test_npy_wide_rows(void)
{
    enum { N = 3, D = 140000 };
    unsigned char *data = malloc((size_t)N * D * 8);
    float *rows = malloc((size_t)N * D * sizeof *rows);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    for (size_t k = 0; k < (size_t)N * D; k++) put_f8(data + 8 * k, (double)k * 0.125, 0);
    const char *path = write_npy("wide.npy", 2,
                                 "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 140000), }", 64,
                                 data, (size_t)N * D * 8);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &p, &r), MC_OK);
    size_t got = 0, n = 0;
    while (mc_reader_next(r, 2, rows + got * D, NULL, NULL, &n) == MC_OK && n) got += n;
    CU_ASSERT_EQUAL(got, N);
    int same = 1;
    for (size_t k = 0; k < (size_t)N * D; k++) same &= rows[k] == (float)((double)k * 0.125);
    CU_ASSERT(same);
    mc_reader_free(r);
    free(data);
    free(rows);
}

/* ---- l2c ---------------------------------------------------------------- */

static const char *std_bin(const char *name)
{
    unsigned char data[SN * SD * 4];
    return write_bytes(name, data, std_data(data, 4, 0));
}

static void test_l2c_good(void)
{
    const char *path = std_bin("good.bin");
    mc_reader_params p = params(MC_FMT_L2C, SD, NULL);
    read_result res;
    if (read_ok(path, &p, 2, &res) == MC_OK) {
        CU_ASSERT(is_std(&res));
        CU_ASSERT_EQUAL(res.has_labels, 0);
        CU_ASSERT_EQUAL(res.has_paths, 0);
    }
    p = params(MC_FMT_AUTO, SD, NULL); /* .bin is l2c */
    if (read_ok(path, &p, 2, &res) == MC_OK) CU_ASSERT(is_std(&res));
}

static void test_l2c_meta(void)
{
    const char *path = std_bin("meta.bin");
    const char *meta = write_text("meta.meta", "7\n-1\n3\n3\n1000000000000\n");
    mc_reader_params p = params(MC_FMT_L2C, SD, meta);
    read_result res;
    if (read_ok(path, &p, 3, &res) == MC_OK) {
        CU_ASSERT(is_std(&res));
        CU_ASSERT_EQUAL(res.has_labels, 1);
        CU_ASSERT(memcmp(res.labels, std_labels, sizeof std_labels) == 0);
    }
}

static void test_l2c_meta_count_refused(void)
{
    const char *path = std_bin("metac.bin");
    read_result res;
    const char *meta = write_text("many.meta", "7\n-1\n3\n3\n1\n2\n");
    mc_reader_params p = params(MC_FMT_L2C, SD, meta);
    CU_ASSERT(fails_with(read_all(path, &p, 2, &res), MC_ERR_DIM_MISMATCH, "many.meta", NULL));
    meta = write_text("few.meta", "7\n-1\n3\n3\n");
    p = params(MC_FMT_L2C, SD, meta);
    CU_ASSERT(fails_with(read_all(path, &p, 2, &res), MC_ERR_DIM_MISMATCH, "few.meta", "fewer than the rows"));
}

static void test_l2c_refused(void)
{
    const char *path = std_bin("nodim.bin");
    mc_reader_params p = params(MC_FMT_L2C, 0, NULL);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_INVALID_ARG,
                         "nodim.bin: the l2c format needs the dimension (--dim)", NULL));
    unsigned char buf[1000] = {0};
    path = write_bytes("odd.bin", buf, sizeof buf);
    p = params(MC_FMT_L2C, 128, NULL);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA,
                         "odd.bin: size 1000 bytes is not a multiple of D x 4 = 512 bytes",
                         "truncated file, or wrong --dim?"));
    path = write_bytes("trunc.bin", buf, SN * SD * 4 - 1);
    p = params(MC_FMT_L2C, SD, NULL);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "size 79 bytes is not a multiple of D x 4 = 16",
                         NULL));
    path = write_bytes("empty.bin", buf, 0);
    CU_ASSERT(fails_with(open_only(path, &p), MC_ERR_BAD_DATA, "empty.bin: empty file (no faces)", NULL));
    CU_ASSERT(fails_with(open_only(tp("absent.bin"), &p), MC_ERR_IO, "absent.bin: cannot open", NULL));
    CU_ASSERT(fails_with(open_only(tmp_dir, &p), MC_ERR_IO, "not a regular file", NULL));
}

static void test_l2c_nan_inf_refused(void)
{
    unsigned char data[SN * SD * 4];
    size_t len = std_data(data, 4, 0);
    put_f4(data + 4 * (3 * SD + 2), NAN, 0);
    const char *path = write_bytes("nan.bin", data, len);
    mc_reader_params p = params(MC_FMT_L2C, SD, NULL);
    read_result res;
    CU_ASSERT(fails_with(read_all(path, &p, 2, &res), MC_ERR_BAD_DATA,
                         "nan.bin: row 3 (byte offset 56): NaN or infinite value", NULL));
    CU_ASSERT_EQUAL(res.n, 2);
    len = std_data(data, 4, 0);
    put_f4(data + 4 * 1, INFINITY, 0);
    path = write_bytes("inf.bin", data, len);
    CU_ASSERT(fails_with(read_all(path, &p, 1000, &res), MC_ERR_BAD_DATA,
                         "row 0 (byte offset 4): NaN or infinite value", NULL));
}

static void test_l2c_blocks(void)
{
    enum { N = 10, D = 3 };
    unsigned char data[N * D * 4];
    char meta[256] = "";
    for (size_t k = 0; k < N * D; k++) put_f4(data + 4 * k, (float)k * 0.5f - 7.0f, 0);
    for (size_t i = 0; i < N; i++)
        snprintf(meta + strlen(meta), sizeof meta - strlen(meta), "%zu\n", 100 - i);
    const char *path = write_bytes("blk.bin", data, sizeof data);
    mc_reader_params p = params(MC_FMT_L2C, D, write_text("blk.meta", meta));
    static read_result a, b;
    if (read_ok(path, &p, 1, &a) != MC_OK) return;
    CU_ASSERT_EQUAL(a.n, N);
    CU_ASSERT(memcmp(a.rows, data, sizeof data) == 0);
    for (size_t i = 0; i < N; i++) CU_ASSERT_EQUAL(a.labels[i], (int64_t)(100 - i));
    size_t maxes[2] = {3, 1000};
    for (int m = 0; m < 2; m++) {
        if (read_ok(path, &p, maxes[m], &b) != MC_OK) continue;
        CU_ASSERT_EQUAL(b.n, N);
        CU_ASSERT(memcmp(a.rows, b.rows, sizeof data) == 0);
        CU_ASSERT(memcmp(a.labels, b.labels, N * sizeof(int64_t)) == 0);
    }
}

/* ---- writers ------------------------------------------------------------ */

enum { RT_N = 7, RT_D = 3 };
static const float rt_rows[RT_N * RT_D] = {
    1e-38f, -0.0f, 3.4e38f,     0.0f,  1.0f,  -1.0f,    0x1p-149f, -0x1p-149f, FLT_MIN,
    -FLT_MAX, 0.1f, 12.5f,      2.0f,  -3.0f, 0x1.fffffep-1f, 7.0f, 8.0f, 9.0f,
    -1e-38f, 33.3f, 1e30f,
};
static const int64_t rt_labels[RT_N] = {0, -1, INT64_MAX, INT64_MIN, 42, 42, 7};

static mc_status write_rt(const char *path, mc_format f, int with_labels)
{
    mc_writer_params wp = mc_writer_params_default();
    wp.format = f;
    mc_writer_t *w = NULL;
    mc_status st = mc_writer_open(path, RT_D, with_labels, 0, &wp, &w);
    if (st != MC_OK) return st;
    /* Two appends: 4 rows, then 3. */
    st = mc_writer_append(w, 4, rt_rows, with_labels ? rt_labels : NULL, NULL);
    if (st == MC_OK)
        st = mc_writer_append(w, 3, rt_rows + 4 * RT_D, with_labels ? rt_labels + 4 : NULL, NULL);
    if (st != MC_OK) {
        mc_writer_abort(w);
        return st;
    }
    return mc_writer_commit(w);
}

/* The writer's .npy: version 1.0, a 118-byte dict ending in '\n', data at
 * byte 128. The same files loaded with numpy 1.24 as float32 (7, 3) and
 * int64 (7,) arrays equal to rt_rows / rt_labels. */
static void test_roundtrip_npy_labels(void)
{
    const char *path = tp("rt.npy");
    CU_ASSERT_EQUAL_FATAL(write_rt(path, MC_FMT_NPY, 1), MC_OK);
    CU_ASSERT(!has_temporaries());
    size_t len;
    unsigned char *buf = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL(len, 128 + sizeof rt_rows);
    CU_ASSERT(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0);
    CU_ASSERT(buf[8] == 118 && buf[9] == 0);
    CU_ASSERT_EQUAL(buf[127], '\n');
    CU_ASSERT(strstr((char *)buf + 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 3), }") ==
              (char *)buf + 10);
    free(buf);
    const char *lab_path = tp("rt.labels.npy");
    buf = slurp(lab_path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL(len, 128 + sizeof rt_labels);
    CU_ASSERT(strstr((char *)buf + 10, "{'descr': '<i8', 'fortran_order': False, 'shape': (7,), }") ==
              (char *)buf + 10);
    free(buf);
    mc_reader_params p = params(MC_FMT_NPY, 0, lab_path);
    read_result res;
    if (read_ok(path, &p, 2, &res) != MC_OK) return;
    CU_ASSERT_EQUAL(res.n, RT_N);
    CU_ASSERT_EQUAL(res.dim, RT_D);
    CU_ASSERT(memcmp(res.rows, rt_rows, sizeof rt_rows) == 0);
    CU_ASSERT(memcmp(res.labels, rt_labels, sizeof rt_labels) == 0);
}

static void test_roundtrip_npy_names(void)
{
    /* No .npy suffix: ".labels.npy" is appended. */
    CU_ASSERT_EQUAL_FATAL(write_rt(tp("rt_plain.f32"), MC_FMT_NPY, 1), MC_OK);
    CU_ASSERT_EQUAL(access(tp("rt_plain.f32.labels.npy"), F_OK), 0);
    /* Without labels, no labels file. */
    CU_ASSERT_EQUAL_FATAL(write_rt(tp("rt_nolab.npy"), MC_FMT_AUTO, 0), MC_OK);
    CU_ASSERT_NOT_EQUAL(access(tp("rt_nolab.labels.npy"), F_OK), 0);
    mc_reader_params p = params(MC_FMT_NPY, 0, NULL);
    read_result res;
    if (read_ok(tp("rt_nolab.npy"), &p, 1000, &res) == MC_OK) {
        CU_ASSERT_EQUAL(res.n, RT_N);
        CU_ASSERT(memcmp(res.rows, rt_rows, sizeof rt_rows) == 0);
    }
    CU_ASSERT(!has_temporaries());
}

static void test_roundtrip_l2c_meta(void)
{
    const char *path = tp("rt.bin");
    CU_ASSERT_EQUAL_FATAL(write_rt(path, MC_FMT_L2C, 1), MC_OK);
    CU_ASSERT(!has_temporaries());
    size_t len;
    unsigned char *buf = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_EQUAL(len, sizeof rt_rows);
    CU_ASSERT(memcmp(buf, rt_rows, sizeof rt_rows) == 0); /* raw little-endian float32 */
    free(buf);
    buf = slurp(tp("rt.meta"), &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_STRING_EQUAL((char *)buf,
                           "0\n-1\n9223372036854775807\n-9223372036854775808\n42\n42\n7\n");
    free(buf);
    mc_reader_params p = params(MC_FMT_L2C, RT_D, tp("rt.meta"));
    read_result res;
    if (read_ok(path, &p, 3, &res) != MC_OK) return;
    CU_ASSERT_EQUAL(res.n, RT_N);
    CU_ASSERT(memcmp(res.rows, rt_rows, sizeof rt_rows) == 0);
    CU_ASSERT(memcmp(res.labels, rt_labels, sizeof rt_labels) == 0);
    /* No .bin suffix: ".meta" is appended. */
    CU_ASSERT_EQUAL_FATAL(write_rt(tp("rt_raw.f32"), MC_FMT_L2C, 1), MC_OK);
    CU_ASSERT_EQUAL(access(tp("rt_raw.f32.meta"), F_OK), 0);
}

/* Abort leaves nothing; an existing destination is untouched until commit. */
static void test_writer_abort_and_atomic(void)
{
    mc_format fmts[2] = {MC_FMT_NPY, MC_FMT_L2C};
    const char *names[2] = {"ab.npy", "ab.bin"};
    for (int f = 0; f < 2; f++) {
        size_t before = dir_entries();
        mc_writer_params wp = mc_writer_params_default();
        wp.format = fmts[f];
        mc_writer_t *w = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_writer_open(tp(names[f]), RT_D, 1, 0, &wp, &w), MC_OK);
        CU_ASSERT_EQUAL(mc_writer_append(w, 2, rt_rows, rt_labels, NULL), MC_OK);
        CU_ASSERT_EQUAL(dir_entries(), before + 2); /* two temporaries */
        mc_writer_abort(w);
        CU_ASSERT_EQUAL(dir_entries(), before);
        CU_ASSERT(!has_temporaries());
    }
    const char *old = "old contents\n";
    const char *path = write_text("keep.npy", old);
    const char *lab = write_text("keep.labels.npy", old);
    mc_writer_params wp = mc_writer_params_default();
    mc_writer_t *w = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(path, RT_D, 1, 0, &wp, &w), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, RT_N, rt_rows, rt_labels, NULL), MC_OK);
    size_t len;
    unsigned char *buf = slurp(path, &len);
    CU_ASSERT(buf && strcmp((char *)buf, old) == 0);
    free(buf);
    buf = slurp(lab, &len);
    CU_ASSERT(buf && strcmp((char *)buf, old) == 0);
    free(buf);
    CU_ASSERT_EQUAL(mc_writer_commit(w), MC_OK);
    mc_reader_params p = params(MC_FMT_NPY, 0, lab);
    read_result res;
    if (read_ok(path, &p, 1000, &res) == MC_OK) {
        CU_ASSERT(memcmp(res.rows, rt_rows, sizeof rt_rows) == 0);
        CU_ASSERT(memcmp(res.labels, rt_labels, sizeof rt_labels) == 0);
    }
    /* A destination in a missing directory fails at open, leaving nothing. */
    w = NULL;
    CU_ASSERT(fails_with(mc_writer_open(tp("no/such/dir.npy"), RT_D, 1, 0, &wp, &w), MC_ERR_IO,
                         "no/such/dir.npy", NULL));
    CU_ASSERT_PTR_NULL(w);
}

/* ---- registration ------------------------------------------------------- */

void mc_test_register(void)
{
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/mc_io_bin_XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        fprintf(stderr, "io_bin: cannot create a temporary directory\n");
        tmp_dir[0] = 0;
        return;
    }
    atexit(remove_tmp_dir);
    add_test("npy_v1_f4", test_npy_v1_f4);
    add_test("npy_v2_key_order_and_spacing", test_npy_v2_key_order_and_spacing);
    add_test("npy_v3_f8", test_npy_v3_f8);
    add_test("npy_v2_f2", test_npy_v2_f2);
    add_test("npy_f2_tricky_halves", test_npy_f2_tricky_halves);
    add_test("npy_big_endian_converted", test_npy_big_endian_converted);
    add_test("npy_fortran_refused", test_npy_fortran_refused);
    add_test("npy_dtype_refused", test_npy_dtype_refused);
    add_test("npy_rank_refused", test_npy_rank_refused);
    add_test("npy_empty_refused", test_npy_empty_refused);
    add_test("npy_size_refused", test_npy_size_refused);
    add_test("npy_bad_magic_and_version", test_npy_bad_magic_and_version);
    add_test("npy_malformed_header", test_npy_malformed_header);
    add_test("npy_nan_inf_refused", test_npy_nan_inf_refused);
    add_test("npy_label_from_dir_refused", test_npy_label_from_dir_refused);
    add_test("npy_labels_from_npy", test_npy_labels_from_npy);
    add_test("npy_labels_from_text", test_npy_labels_from_text);
    add_test("npy_read_int64", test_npy_read_int64);
    add_test("npy_blocks", test_npy_blocks);
    add_test("npy_wide_rows", test_npy_wide_rows);
    add_test("l2c_good", test_l2c_good);
    add_test("l2c_meta", test_l2c_meta);
    add_test("l2c_meta_count_refused", test_l2c_meta_count_refused);
    add_test("l2c_refused", test_l2c_refused);
    add_test("l2c_nan_inf_refused", test_l2c_nan_inf_refused);
    add_test("l2c_blocks", test_l2c_blocks);
    add_test("roundtrip_npy_labels", test_roundtrip_npy_labels);
    add_test("roundtrip_npy_names", test_roundtrip_npy_names);
    add_test("roundtrip_l2c_meta", test_roundtrip_l2c_meta);
    add_test("writer_abort_and_atomic", test_writer_abort_and_atomic);
}
