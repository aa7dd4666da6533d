/* make_fixtures DIR: write the small HDF5 fixtures that the CUnit suites and
 * the CLI tests read. Standalone: links HDF5 and libm only, not libmagclust.
 * Every file is deterministic (object timestamps are off), so two runs give
 * identical bytes.
 *
 * The "tiny" data set (the formula is repeated in tests/test_embeddings.c):
 *   N = 40 faces, D = 8, row i: identity k = i / 10, j = i % 10.
 *   u_i[c]  = (c == 2k ? 1 : 0) + 0.05 * sin(1 + 0.7 i + 1.3 c)
 *   mag_i   = 2 + 2 j                       (2, 4, ..., 20: j = 0, 1 are low)
 *   raw_i   = mag_i * u_i / |u_i|           (computed in double)
 *   labels  = 100 + k
 *   paths   = "id<k>/img_<jj>.jpg", except row 39 = "id3/caf\u00e9_09.jpg" (UTF-8)
 *   det_score = 0.30 + 0.07 j
 * Each identity sits around its own axis (2k), so cosine similarity is
 * > 0.9 within an identity and < 0.2 across (checked when writing).
 *
 * File                 Contents
 * -------------------- -------------------------------------------------------
 * tiny.h5              /embeddings float32 40x8, /labels int64, /paths vlen
 *                      UTF-8 strings, /det_score float32
 * tiny_f64.h5          /embeddings float64 (raw in double), /labels int32,
 *                      /paths fixed 24-byte NUL-padded UTF-8, /det_score float64
 * tiny_f16.h5          /embeddings IEEE half (16-bit, little endian), /labels
 *                      uint16, /paths vlen, /det_score uint8 = round(100 det_score)
 * tiny_photo.h5        tiny.h5 with /photo int64: faces j and 10 + j share photo j
 * tiny_photo_u64.h5    the same photos as uint64 hashes from 2^63 up (faces 20..39
 *                      one photo each): must cluster exactly as tiny_photo.h5
 * bad_labels_u64.h5    tiny.h5 with /labels uint64, row 4 = 2^63 + 5 (refused)
 * tiny_new.h5          8 new faces for a model of tiny.h5 (assign with
 *                      constraints): paths new/a.jpg .. new/h.jpg; a, b near
 *                      identity 2; c near 0; d, e near 1 and in one photo;
 *                      f near 3; g, h a new person; /photo int64, /labels
 * tiny_nolabels.h5     /embeddings float32 only
 * tiny_altkeys.h5      /feats float32 40x8, /ids int64 40x1 (N x 1), /files
 *                      fixed 24-byte SPACE-padded strings, /meta/quality float32
 *                      (= det_score)
 * tiny_nested.h5       /group/embeddings float32 40x8, /group/labels int64 40x1,
 *                      /group/paths fixed NUL-padded strings exactly as long as
 *                      the longest path (16 bytes: row 39 has no NUL),
 *                      /group/meta/quality float32 (= det_score)
 * small_k.h5           /embeddings float32 3x4, /labels {0, 0, 1}, /paths
 *                      {"a.jpg", "b.jpg", "c.jpg"} (k >= N checks)
 * bad_nan.h5           tiny.h5 with /embeddings[3][0] = NaN
 * bad_inf.h5           tiny.h5 with /embeddings[5][2] = +Inf
 * bad_zero.h5          tiny.h5 with /embeddings row 2 all zeros
 * bad_rank3.h5         /embeddings float32 2x4x5
 * bad_rank1.h5         /embeddings float32 8
 * bad_n0.h5            /embeddings float32 0x8
 * bad_d0.h5            /embeddings float32 10x0
 * bad_labels_len.h5    tiny /embeddings, /labels int64 of length 39
 * bad_paths_len.h5     tiny /embeddings and /labels, /paths vlen of length 41
 * bad_noemb.h5         /labels only
 * bad_int_emb.h5       /embeddings int32 40x8 (round(10 raw)), /labels
 * bad_quality_nan.h5   tiny.h5 with /det_score[7] = NaN
 * bad_labels_float.h5  tiny /embeddings, /labels float32
 * bad_paths_type.h5    tiny /embeddings, /paths int32
 * bad_quality_big.h5   tiny.h5 with /quality float64, row 4 = 1e300 (beyond
 *                      float: reads as Inf)
 * bad_filter.h5        tiny /embeddings, chunked through HDF5 filter 32000
 *                      (h5py's lzf), registered here only
 * bad_vds.h5           /embeddings a virtual dataset of missing_source.h5,
 *                      which does not exist
 * not_hdf5.h5          a text file
 * huge_dims.h5         /embeddings float32 2^40 x 512, chunked, no chunk
 *                      written: a 1 KiB file whose header claims 2 PiB
 * huge_graph.h5        a k-NN graph (/knn, format magclust-knn version 1)
 *                      whose ids and sims are 2^40 x 30, chunked, none written
 * big_graph.h5         the same, 2^21 x 64: 1.5 GiB, addressable, so only the
 *                      memory limit stands between the header and an
 *                      allocation (both copied into tests/fuzz/regressions/h5)
 *
 * Exit status: 0 on success, 1 with a message on stderr otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#define TINY_N 40
#define TINY_D 8
#define TINY_IDS 4
#define PATH_SIZE 24

typedef struct {
    double raw[TINY_N][TINY_D];
    float raw32[TINY_N][TINY_D];
    int64_t labels[TINY_N];
    float det[TINY_N];
    char paths[TINY_N][PATH_SIZE];
} tiny_data;

static void make_tiny(tiny_data *t)
{
    for (int i = 0; i < TINY_N; i++) {
        int k = i / 10, j = i % 10;
        double u[TINY_D], ss = 0.0;
        for (int c = 0; c < TINY_D; c++) {
            u[c] = (c == 2 * k ? 1.0 : 0.0) + 0.05 * sin(1.0 + 0.7 * i + 1.3 * c);
            ss += u[c] * u[c];
        }
        double mag = 2.0 + 2.0 * j;
        for (int c = 0; c < TINY_D; c++) {
            t->raw[i][c] = mag * u[c] / sqrt(ss);
            t->raw32[i][c] = (float)t->raw[i][c];
        }
        t->labels[i] = 100 + k;
        t->det[i] = (float)(0.30 + 0.07 * j);
        if (i == 39)
            snprintf(t->paths[i], PATH_SIZE, "id3/caf\xc3\xa9_09.jpg");
        else
            snprintf(t->paths[i], PATH_SIZE, "id%d/img_%02d.jpg", k, j);
    }
}

/* The fixture promises obvious clusters; refuse to write one that is not. */
static int check_tiny(const tiny_data *t)
{
    double min_in = 1.0, max_across = -1.0;
    for (int a = 0; a < TINY_N; a++) {
        for (int b = a + 1; b < TINY_N; b++) {
            double dot = 0.0, na = 0.0, nb = 0.0;
            for (int c = 0; c < TINY_D; c++) {
                dot += t->raw[a][c] * t->raw[b][c];
                na += t->raw[a][c] * t->raw[a][c];
                nb += t->raw[b][c] * t->raw[b][c];
            }
            double cs = dot / sqrt(na * nb);
            if (a / 10 == b / 10) {
                if (cs < min_in) min_in = cs;
            } else if (cs > max_across) {
                max_across = cs;
            }
        }
    }
    if (min_in <= 0.9 || max_across >= 0.2) {
        fprintf(stderr, "make_fixtures: tiny data not separated (within %.3f, across %.3f)\n",
                min_in, max_across);
        return -1;
    }
    return 0;
}

/* IEEE binary16 bits of f, rounding to nearest even (subnormals included);
 * written by hand so the reader's HDF5 conversion is checked against it. */
static uint16_t float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t fexp = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;
    if (fexp == 0xffu) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0u));
    int exp = (int)fexp - 127 + 15;
    if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        unsigned shift = (unsigned)(14 - exp);
        uint32_t h = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u), mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* may carry into the exponent */
    return (uint16_t)(sign | h);
}

/* 16-bit IEEE half float: HDF5 1.10 has no predefined one. */
static hid_t half_type(void)
{
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return -1;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 ||
        H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t vlen_string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t fixed_string_type(size_t size, H5T_str_t pad)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, pad) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t create_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) fprintf(stderr, "make_fixtures: cannot create %s\n", path);
    return f;
}

static int close_file(hid_t f, const char *name)
{
    if (H5Fclose(f) < 0) {
        fprintf(stderr, "make_fixtures: cannot close %s\n", name);
        return -1;
    }
    return 0;
}

/* Create dataset `name` of file type ftype and write buf (memory type mtype);
 * buf may be NULL for an empty dataset. */
static int write_ds(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                    const hsize_t *dims, const void *buf)
{
    int rc = -1;
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    if (sp < 0 || dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0) goto done;
    ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) goto done;
    if (buf && H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) goto done;
    rc = 0;
done:
    if (rc != 0) fprintf(stderr, "make_fixtures: cannot write dataset %s\n", name);
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

static int write_group(hid_t loc, const char *name)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    hid_t g = -1;
    if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
        g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    if (gcpl >= 0) H5Pclose(gcpl);
    if (g < 0) {
        fprintf(stderr, "make_fixtures: cannot create group %s\n", name);
        return -1;
    }
    H5Gclose(g);
    return 0;
}

static int write_f32_matrix(hid_t f, const char *name, const float *buf, hsize_t n, hsize_t d)
{
    hsize_t dims[2] = {n, d};
    return write_ds(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, buf);
}

static int write_i64_vector(hid_t f, const char *name, const int64_t *buf, hsize_t n)
{
    return write_ds(f, name, H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &n, buf);
}

static int write_f32_vector(hid_t f, const char *name, const float *buf, hsize_t n)
{
    return write_ds(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &n, buf);
}

/* Variable-length UTF-8 strings; entries past TINY_N repeat "extra.jpg". */
static int write_vlen_paths(hid_t f, const char *name, const tiny_data *t, hsize_t n)
{
    const char *ptrs[TINY_N + 1];
    if (n > TINY_N + 1) return -1;
    for (hsize_t i = 0; i < n; i++) ptrs[i] = i < TINY_N ? t->paths[i] : "extra.jpg";
    hid_t st = vlen_string_type();
    if (st < 0) return -1;
    int rc = write_ds(f, name, st, st, 1, &n, ptrs);
    H5Tclose(st);
    return rc;
}

/* The paths as fixed strings of size bytes (at most PATH_SIZE; the longest
 * path may fill one whole, without a terminator). */
static int write_fixed_paths_sized(hid_t f, const char *name, const tiny_data *t, H5T_str_t pad,
                                   size_t size)
{
    char buf[TINY_N][PATH_SIZE];
    for (int i = 0; i < TINY_N; i++) {
        size_t len = strlen(t->paths[i]);
        memset(buf[i], pad == H5T_STR_SPACEPAD ? ' ' : '\0', PATH_SIZE);
        memcpy(buf[i], t->paths[i], len);
    }
    hid_t st = fixed_string_type(size, pad);
    if (st < 0) return -1;
    /* rows of size bytes, back to back */
    for (int i = 1; i < TINY_N; i++) memmove(&buf[0][0] + (size_t)i * size, buf[i], size);
    hsize_t n = TINY_N;
    int rc = write_ds(f, name, st, st, 1, &n, buf);
    H5Tclose(st);
    return rc;
}

static int write_fixed_paths(hid_t f, const char *name, const tiny_data *t, H5T_str_t pad)
{
    return write_fixed_paths_sized(f, name, t, pad, PATH_SIZE);
}

/* tiny.h5 and the variants that differ from it in one value. */
static int write_tiny_like(const char *dir, const char *name, const tiny_data *t)
{
    hid_t f = create_file(dir, name);
    if (f < 0) return -1;
    int rc = write_f32_matrix(f, "embeddings", &t->raw32[0][0], TINY_N, TINY_D);
    if (!rc) rc = write_i64_vector(f, "labels", t->labels, TINY_N);
    if (!rc) rc = write_vlen_paths(f, "paths", t, TINY_N);
    if (!rc) rc = write_f32_vector(f, "det_score", t->det, TINY_N);
    if (close_file(f, name)) rc = -1;
    return rc;
}

/* tiny.h5 plus /photo: face j of identity 0 and face j of identity 1 were
 * in photo j (two people, one photo); the other faces have none (-1). */
static int write_photo(const char *dir, const tiny_data *t)
{
    hid_t f = create_file(dir, "tiny_photo.h5");
    if (f < 0) return -1;
    int64_t photo[TINY_N];
    for (int i = 0; i < TINY_N; i++) photo[i] = i < 20 ? i % 10 : -1;
    int rc = write_f32_matrix(f, "embeddings", &t->raw32[0][0], TINY_N, TINY_D);
    if (!rc) rc = write_i64_vector(f, "labels", t->labels, TINY_N);
    if (!rc) rc = write_vlen_paths(f, "paths", t, TINY_N);
    if (!rc) rc = write_i64_vector(f, "photo", photo, TINY_N);
    if (close_file(f, "tiny_photo.h5")) rc = -1;
    return rc;
}

/* tiny_photo.h5's photos as uint64 values from 2^63 up (hashes), where an
 * int64 conversion would clamp them all to one; and labels above 2^63. */
static int write_u64(const char *dir, const tiny_data *t)
{
    uint64_t photo[TINY_N], lab[TINY_N];
    for (int i = 0; i < TINY_N; i++) {
        photo[i] = i < 20 ? UINT64_C(0xF000000000000000) + (uint64_t)(i % 10) * UINT64_C(0x1234567)
                          : UINT64_C(0xE000000000000000) + (uint64_t)i;
        lab[i] = (uint64_t)t->labels[i];
    }
    lab[4] = UINT64_C(0x8000000000000005);
    hsize_t n = TINY_N;
    hid_t f = create_file(dir, "tiny_photo_u64.h5");
    if (f < 0) return -1;
    int rc = write_f32_matrix(f, "embeddings", &t->raw32[0][0], TINY_N, TINY_D);
    if (!rc) rc = write_i64_vector(f, "labels", t->labels, TINY_N);
    if (!rc) rc = write_vlen_paths(f, "paths", t, TINY_N);
    if (!rc) rc = write_ds(f, "photo", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &n, photo);
    if (close_file(f, "tiny_photo_u64.h5")) rc = -1;
    if (rc) return rc;
    if ((f = create_file(dir, "bad_labels_u64.h5")) < 0) return -1;
    rc = write_f32_matrix(f, "embeddings", &t->raw32[0][0], TINY_N, TINY_D);
    if (!rc) rc = write_ds(f, "labels", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &n, lab);
    if (close_file(f, "bad_labels_u64.h5")) rc = -1;
    return rc;
}

/* New faces for assign tests: see the list at the top. */
static int write_new(const char *dir)
{
    enum { N = 8 };
    static const int axis[N] = {4, 4, 0, 2, 2, 6, 1, 1};
    static const int64_t labels[N] = {102, 102, 100, 101, 101, 103, 104, 104};
    static const int64_t photo[N] = {0, 1, 2, 3, 3, 4, 5, 6};
    float x[N][TINY_D];
    const char *ptrs[N] = {"new/a.jpg", "new/b.jpg", "new/c.jpg", "new/d.jpg",
                           "new/e.jpg", "new/f.jpg", "new/g.jpg", "new/h.jpg"};
    for (int i = 0; i < N; i++) {
        double u[TINY_D], ss = 0.0;
        for (int c = 0; c < TINY_D; c++) {
            u[c] = (c == axis[i] ? 1.0 : 0.0) + 0.04 * cos(0.3 + 1.1 * i + 0.9 * c);
            ss += u[c] * u[c];
        }
        for (int c = 0; c < TINY_D; c++) x[i][c] = (float)(12.0 * u[c] / sqrt(ss));
    }
    hid_t f = create_file(dir, "tiny_new.h5");
    if (f < 0) return -1;
    int rc = write_f32_matrix(f, "embeddings", &x[0][0], N, TINY_D);
    if (!rc) rc = write_i64_vector(f, "labels", labels, N);
    if (!rc) rc = write_i64_vector(f, "photo", photo, N);
    if (!rc) {
        hid_t st = vlen_string_type();
        hsize_t n = N;
        rc = st < 0 ? -1 : write_ds(f, "paths", st, st, 1, &n, ptrs);
        if (st >= 0) H5Tclose(st);
    }
    if (close_file(f, "tiny_new.h5")) rc = -1;
    return rc;
}

static int write_f64(const char *dir, const tiny_data *t)
{
    hid_t f = create_file(dir, "tiny_f64.h5");
    if (f < 0) return -1;
    int32_t labels[TINY_N];
    double det[TINY_N];
    for (int i = 0; i < TINY_N; i++) {
        labels[i] = (int32_t)t->labels[i];
        det[i] = 0.30 + 0.07 * (i % 10);
    }
    hsize_t dims[2] = {TINY_N, TINY_D}, n = TINY_N;
    int rc = write_ds(f, "embeddings", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, t->raw);
    if (!rc) rc = write_ds(f, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, labels);
    if (!rc) rc = write_fixed_paths(f, "paths", t, H5T_STR_NULLPAD);
    if (!rc) rc = write_ds(f, "det_score", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, det);
    if (close_file(f, "tiny_f64.h5")) rc = -1;
    return rc;
}

static int write_f16(const char *dir, const tiny_data *t)
{
    hid_t f = create_file(dir, "tiny_f16.h5");
    if (f < 0) return -1;
    uint16_t half[TINY_N][TINY_D], labels[TINY_N];
    uint8_t det[TINY_N];
    for (int i = 0; i < TINY_N; i++) {
        for (int c = 0; c < TINY_D; c++) half[i][c] = float_to_half(t->raw32[i][c]);
        labels[i] = (uint16_t)t->labels[i];
        det[i] = (uint8_t)lround(100.0 * (0.30 + 0.07 * (i % 10)));
    }
    hid_t ht = half_type();
    if (ht < 0) {
        H5Fclose(f);
        return -1;
    }
    hsize_t dims[2] = {TINY_N, TINY_D}, n = TINY_N;
    /* Memory type = file type: the bits go in as computed above. */
    int rc = write_ds(f, "embeddings", ht, ht, 2, dims, half);
    if (!rc) rc = write_ds(f, "labels", H5T_STD_U16LE, H5T_NATIVE_UINT16, 1, &n, labels);
    if (!rc) rc = write_vlen_paths(f, "paths", t, TINY_N);
    if (!rc) rc = write_ds(f, "det_score", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, &n, det);
    H5Tclose(ht);
    if (close_file(f, "tiny_f16.h5")) rc = -1;
    return rc;
}

static int write_huge_dims(const char *dir)
{
    hid_t f = create_file(dir, "huge_dims.h5");
    if (f < 0) return -1;
    hsize_t dims[2] = {(hsize_t)1 << 40, 512}, chunk[2] = {64, 512};
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    int rc = -1;
    if (sp >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 2, chunk) >= 0) {
        hid_t ds = H5Dcreate2(f, "embeddings", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (ds >= 0) {
            rc = 0;
            H5Dclose(ds);
        }
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    if (close_file(f, "huge_dims.h5")) rc = -1;
    return rc;
}

static int put_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = sp >= 0 ? H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
    int rc = a >= 0 && H5Awrite(a, mtype, v) >= 0 ? 0 : -1;
    if (a >= 0) H5Aclose(a);
    if (sp >= 0) H5Sclose(sp);
    return rc;
}

/* A k-NN graph header claiming n x k neighbours, no chunk written. */
static int write_graph_header(const char *dir, const char *name, hsize_t n, hsize_t k)
{
    hid_t f = create_file(dir, name);
    if (f < 0) return -1;
    hid_t g = H5Gcreate2(f, "knn", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {n, k}, chunk[2] = {64, k};
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t st = fixed_string_type(sizeof "magclust-knn", H5T_STR_NULLTERM);
    int32_t version = 1;
    uint64_t un = n, uk = k;
    int rc = g >= 0 && sp >= 0 && dcpl >= 0 && st >= 0 && H5Pset_chunk(dcpl, 2, chunk) >= 0 ? 0 : -1;
    const char *names[2] = {"ids", "sims"};
    hid_t types[2] = {H5T_STD_I64LE, H5T_IEEE_F32LE};
    for (int i = 0; i < 2 && !rc; i++) {
        hid_t ds = H5Dcreate2(g, names[i], types[i], sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        if (ds < 0) rc = -1; else H5Dclose(ds);
    }
    if (!rc) rc = put_attr(g, "format", st, st, "magclust-knn");
    if (!rc) rc = put_attr(g, "version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version);
    if (!rc) rc = put_attr(g, "n", H5T_STD_U64LE, H5T_NATIVE_UINT64, &un);
    if (!rc) rc = put_attr(g, "k", H5T_STD_U64LE, H5T_NATIVE_UINT64, &uk);
    if (st >= 0) H5Tclose(st);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    if (g >= 0) H5Gclose(g);
    if (close_file(f, name)) rc = -1;
    return rc;
}

static int write_nolabels(const char *dir, const tiny_data *t)
{
    hid_t f = create_file(dir, "tiny_nolabels.h5");
    if (f < 0) return -1;
    int rc = write_f32_matrix(f, "embeddings", &t->raw32[0][0], TINY_N, TINY_D);
    if (close_file(f, "tiny_nolabels.h5")) rc = -1;
    return rc;
}

static int write_altkeys(const char *dir, const tiny_data *t)
{
    hid_t f = create_file(dir, "tiny_altkeys.h5");
    if (f < 0) return -1;
    hsize_t ldims[2] = {TINY_N, 1};
    int rc = write_f32_matrix(f, "feats", &t->raw32[0][0], TINY_N, TINY_D);
    if (!rc) rc = write_ds(f, "ids", H5T_STD_I64LE, H5T_NATIVE_INT64, 2, ldims, t->labels);
    if (!rc) rc = write_fixed_paths(f, "files", t, H5T_STR_SPACEPAD);
    if (!rc) rc = write_group(f, "meta");
    if (!rc) rc = write_f32_vector(f, "meta/quality", t->det, TINY_N);
    if (close_file(f, "tiny_altkeys.h5")) rc = -1;
    return rc;
}

/* Everything one level down, the quality two: nested keys (group/embeddings)
 * must mean the same to every reader. The paths are fixed strings exactly
 * as long as the longest one (row 39, 16 bytes, no terminator). */
static int write_nested(const char *dir, const tiny_data *t)
{
    hid_t f = create_file(dir, "tiny_nested.h5");
    if (f < 0) return -1;
    size_t longest = 0;
    for (int i = 0; i < TINY_N; i++)
        if (strlen(t->paths[i]) > longest) longest = strlen(t->paths[i]);
    hsize_t ldims[2] = {TINY_N, 1};
    int rc = write_group(f, "group");
    if (!rc) rc = write_f32_matrix(f, "group/embeddings", &t->raw32[0][0], TINY_N, TINY_D);
    if (!rc) rc = write_ds(f, "group/labels", H5T_STD_I64LE, H5T_NATIVE_INT64, 2, ldims, t->labels);
    if (!rc) rc = write_fixed_paths_sized(f, "group/paths", t, H5T_STR_NULLPAD, longest);
    if (!rc) rc = write_group(f, "group/meta");
    if (!rc) rc = write_f32_vector(f, "group/meta/quality", t->det, TINY_N);
    if (close_file(f, "tiny_nested.h5")) rc = -1;
    return rc;
}

static int write_small_k(const char *dir)
{
    static const float raw[3][4] = {{3, 0, 0, 0}, {2.7f, 0.3f, 0, 0}, {0, 0, 1.5f, 0}};
    static const int64_t labels[3] = {0, 0, 1};
    tiny_data *t = calloc(1, sizeof *t);
    if (!t) return -1;
    snprintf(t->paths[0], PATH_SIZE, "a.jpg");
    snprintf(t->paths[1], PATH_SIZE, "b.jpg");
    snprintf(t->paths[2], PATH_SIZE, "c.jpg");
    hid_t f = create_file(dir, "small_k.h5");
    int rc = f < 0 ? -1 : write_f32_matrix(f, "embeddings", &raw[0][0], 3, 4);
    if (!rc) rc = write_i64_vector(f, "labels", labels, 3);
    if (!rc) rc = write_vlen_paths(f, "paths", t, 3);
    if (f >= 0 && close_file(f, "small_k.h5")) rc = -1;
    free(t);
    return rc;
}

/* A file holding one float32 /embeddings of the given shape (all ones). */
static int write_shape(const char *dir, const char *name, int rank, const hsize_t *dims)
{
    float ones[64];
    for (int i = 0; i < 64; i++) ones[i] = 1.0f;
    hsize_t count = 1;
    for (int r = 0; r < rank; r++) count *= dims[r];
    if (count > 64) return -1;
    hid_t f = create_file(dir, name);
    if (f < 0) return -1;
    int rc = write_ds(f, "embeddings", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rank, dims,
                      count ? ones : NULL);
    if (close_file(f, name)) rc = -1;
    return rc;
}

static int write_bad(const char *dir, const tiny_data *t0)
{
    int rc = 0;
    tiny_data *t = malloc(sizeof *t);
    if (!t) return -1;

    *t = *t0;
    t->raw32[3][0] = NAN;
    rc |= write_tiny_like(dir, "bad_nan.h5", t);
    *t = *t0;
    t->raw32[5][2] = INFINITY;
    rc |= write_tiny_like(dir, "bad_inf.h5", t);
    *t = *t0;
    memset(t->raw32[2], 0, sizeof t->raw32[2]);
    rc |= write_tiny_like(dir, "bad_zero.h5", t);
    *t = *t0;
    t->det[7] = NAN;
    rc |= write_tiny_like(dir, "bad_quality_nan.h5", t);

    hsize_t r3[3] = {2, 4, 5}, r1[1] = {8}, n0[2] = {0, 8}, d0[2] = {10, 0};
    rc |= write_shape(dir, "bad_rank3.h5", 3, r3);
    rc |= write_shape(dir, "bad_rank1.h5", 1, r1);
    rc |= write_shape(dir, "bad_n0.h5", 2, n0);
    rc |= write_shape(dir, "bad_d0.h5", 2, d0);

    hid_t f = create_file(dir, "bad_labels_len.h5");
    if (f < 0) {
        rc = -1;
    } else {
        rc |= write_f32_matrix(f, "embeddings", &t0->raw32[0][0], TINY_N, TINY_D);
        rc |= write_i64_vector(f, "labels", t0->labels, TINY_N - 1);
        rc |= close_file(f, "bad_labels_len.h5");
    }

    f = create_file(dir, "bad_paths_len.h5");
    if (f < 0) {
        rc = -1;
    } else {
        rc |= write_f32_matrix(f, "embeddings", &t0->raw32[0][0], TINY_N, TINY_D);
        rc |= write_i64_vector(f, "labels", t0->labels, TINY_N);
        rc |= write_vlen_paths(f, "paths", t0, TINY_N + 1);
        rc |= close_file(f, "bad_paths_len.h5");
    }

    f = create_file(dir, "bad_noemb.h5");
    if (f < 0) {
        rc = -1;
    } else {
        rc |= write_i64_vector(f, "labels", t0->labels, TINY_N);
        rc |= close_file(f, "bad_noemb.h5");
    }

    int32_t ints[TINY_N][TINY_D];
    for (int i = 0; i < TINY_N; i++)
        for (int c = 0; c < TINY_D; c++) ints[i][c] = (int32_t)lround(10.0 * t0->raw[i][c]);
    f = create_file(dir, "bad_int_emb.h5");
    if (f < 0) {
        rc = -1;
    } else {
        hsize_t dims[2] = {TINY_N, TINY_D};
        rc |= write_ds(f, "embeddings", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, dims, ints);
        rc |= write_i64_vector(f, "labels", t0->labels, TINY_N);
        rc |= close_file(f, "bad_int_emb.h5");
    }

    float flabels[TINY_N];
    int32_t ipaths[TINY_N];
    for (int i = 0; i < TINY_N; i++) {
        flabels[i] = (float)t0->labels[i];
        ipaths[i] = i;
    }
    f = create_file(dir, "bad_labels_float.h5");
    if (f < 0) {
        rc = -1;
    } else {
        rc |= write_f32_matrix(f, "embeddings", &t0->raw32[0][0], TINY_N, TINY_D);
        rc |= write_f32_vector(f, "labels", flabels, TINY_N);
        rc |= close_file(f, "bad_labels_float.h5");
    }
    f = create_file(dir, "bad_paths_type.h5");
    if (f < 0) {
        rc = -1;
    } else {
        hsize_t n = TINY_N;
        rc |= write_f32_matrix(f, "embeddings", &t0->raw32[0][0], TINY_N, TINY_D);
        rc |= write_ds(f, "paths", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, ipaths);
        rc |= close_file(f, "bad_paths_type.h5");
    }

    free(t);
    return rc ? -1 : 0;
}

/* A stand-in for h5py's lzf filter (id 32000): the identity, registered
 * only in this program, so that magclust's libhdf5 cannot decode it. */
static size_t fake_lzf(unsigned flags, size_t n_values, const unsigned values[], size_t nbytes,
                       size_t *buf_size, void **buf)
{
    (void)flags;
    (void)n_values;
    (void)values;
    (void)buf_size;
    (void)buf;
    return nbytes;
}

static int write_unreadable(const char *dir, const tiny_data *t)
{
    int rc = 0;
    /* quality beyond the float range */
    hid_t f = create_file(dir, "bad_quality_big.h5");
    if (f < 0) return -1;
    double q[TINY_N];
    hsize_t n = TINY_N;
    for (int i = 0; i < TINY_N; i++) q[i] = i == 4 ? 1e300 : 0.5;
    rc |= write_f32_matrix(f, "embeddings", &t->raw32[0][0], TINY_N, TINY_D);
    rc |= write_ds(f, "quality", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, q);
    rc |= close_file(f, "bad_quality_big.h5");
    /* a filter this libhdf5 lacks */
    const H5Z_class2_t cls = {H5Z_CLASS_T_VERS, (H5Z_filter_t)32000, 1, 1, "lzf", NULL, NULL,
                              fake_lzf};
    hsize_t dims[2] = {TINY_N, TINY_D}, chunk[2] = {10, TINY_D};
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
    f = create_file(dir, "bad_filter.h5");
    if (f < 0 || sp < 0 || dcpl < 0 || H5Zregister(&cls) < 0 || H5Pset_chunk(dcpl, 2, chunk) < 0 ||
        H5Pset_filter(dcpl, (H5Z_filter_t)32000, H5Z_FLAG_MANDATORY, 0, NULL) < 0 ||
        (ds = H5Dcreate2(f, "embeddings", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0 ||
        H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, &t->raw32[0][0]) < 0) {
        fprintf(stderr, "make_fixtures: cannot write bad_filter.h5\n");
        rc = -1;
    }
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (f >= 0) rc |= close_file(f, "bad_filter.h5");
    /* a virtual dataset whose source is missing */
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    ds = -1;
    f = create_file(dir, "bad_vds.h5");
    if (f < 0 || dcpl < 0 || H5Pset_virtual(dcpl, sp, "missing_source.h5", "/x", sp) < 0 ||
        (ds = H5Dcreate2(f, "embeddings", H5T_IEEE_F32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) {
        fprintf(stderr, "make_fixtures: cannot write bad_vds.h5\n");
        rc = -1;
    }
    if (ds >= 0) H5Dclose(ds);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (sp >= 0) H5Sclose(sp);
    if (f >= 0) rc |= close_file(f, "bad_vds.h5");
    return rc ? -1 : 0;
}

static int write_text(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        fprintf(stderr, "make_fixtures: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    fputs("this is a text file, not HDF5\n", fp);
    if (fclose(fp) != 0) {
        fprintf(stderr, "make_fixtures: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_fixtures DIR\n");
        return 1;
    }
    const char *dir = argv[1];
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_fixtures: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    tiny_data *t = malloc(sizeof *t);
    if (!t) {
        fprintf(stderr, "make_fixtures: out of memory\n");
        return 1;
    }
    make_tiny(t);
    int rc = check_tiny(t);
    if (!rc) rc = write_tiny_like(dir, "tiny.h5", t);
    if (!rc) rc = write_f64(dir, t);
    if (!rc) rc = write_photo(dir, t);
    if (!rc) rc = write_u64(dir, t);
    if (!rc) rc = write_new(dir);
    if (!rc) rc = write_f16(dir, t);
    if (!rc) rc = write_nolabels(dir, t);
    if (!rc) rc = write_altkeys(dir, t);
    if (!rc) rc = write_nested(dir, t);
    if (!rc) rc = write_small_k(dir);
    if (!rc) rc = write_bad(dir, t);
    if (!rc) rc = write_unreadable(dir, t);
    if (!rc) rc = write_text(dir, "not_hdf5.h5");
    if (!rc) rc = write_huge_dims(dir);
    if (!rc) rc = write_graph_header(dir, "huge_graph.h5", (hsize_t)1 << 40, 30);
    if (!rc) rc = write_graph_header(dir, "big_graph.h5", (hsize_t)1 << 21, 64);
    free(t);
    if (rc) {
        fprintf(stderr, "make_fixtures: failed writing fixtures into %s\n", dir);
        return 1;
    }
    return 0;
}
