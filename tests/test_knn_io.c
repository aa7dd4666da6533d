/* k-NN graph files: round trips, the embeddings fingerprint, atomic writes,
 * and every way the reader refuses a file (built by hand with the HDF5 API). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "knn_impl.h"
#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "knn_io";

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int slot;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_test_knn_io.XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    slot = (slot + 1) % 4;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", tmpdir, name);
    return buf[slot];
}

static const char *fixture(const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", mc_test_fixture_dir, name);
    return buf;
}

/* Whether the scratch directory holds a writer's temporary (".NAME.tmpPID.N"). */
static int temp_left(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return 0;
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".tmp")) found = 1;
    closedir(d);
    return found;
}

static int mentions(const char *s) { return strstr(mc_last_error_detail(), s) != NULL; }

static void test_meta_init(void)
{
    mc_knn_graph_meta m;
    memset(&m, 0x5a, sizeof m);
    mc_knn_graph_meta_init(&m);
    CU_ASSERT(m.n == 0 && m.k == 0 && m.dim == 0 && m.fingerprint == 0 && m.centered == 0);
    CU_ASSERT(isnan(m.center_shift));
    CU_ASSERT_STRING_EQUAL(m.index, "Flat");
    CU_ASSERT_STRING_EQUAL(m.source, "");
    CU_ASSERT_STRING_EQUAL(m.embeddings_key, "");
    mc_knn_graph_meta_init(NULL);
}

/* A built graph and every metadata field survive a write and a read, bit for
 * bit; an existing destination is replaced. */
static void test_round_trip(void)
{
    size_t n = 300, d = 16, k = 12;
    mc_embeddings_t *e = tr_blob_embeddings(n, d, 21);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_knn_params p = mc_knn_params_default();
    p.k = k;
    mc_knn_graph_t *g = NULL, *g2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &p, &g), MC_OK);

    mc_knn_graph_meta m, r;
    mc_knn_graph_meta_init(&m);
    m.n = n;
    m.k = k;
    m.dim = d;
    m.fingerprint = mc_embeddings_fingerprint(e);
    m.centered = 1;
    m.center_shift = 0.123456789;
    snprintf(m.index, sizeof m.index, "IVF64,Flat");
    snprintf(m.source, sizeof m.source, "/data/caf\xc3\xa9/faces.h5");
    snprintf(m.embeddings_key, sizeof m.embeddings_key, "feats/v2");

    const char *path = tmp("graph.h5");
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("old", f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_write_h5(g, &m, path), MC_OK);
    CU_ASSERT_FALSE(temp_left());
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_read_h5(path, &g2, &r), MC_OK);
    CU_ASSERT(tr_same_graph(g, g2));
    CU_ASSERT_EQUAL(r.n, n);
    CU_ASSERT_EQUAL(r.k, k);
    CU_ASSERT_EQUAL(r.dim, d);
    CU_ASSERT(r.fingerprint == m.fingerprint);
    CU_ASSERT_EQUAL(r.centered, 1);
    CU_ASSERT(r.center_shift == m.center_shift);
    CU_ASSERT_STRING_EQUAL(r.index, m.index);
    CU_ASSERT_STRING_EQUAL(r.source, m.source);
    CU_ASSERT_STRING_EQUAL(r.embeddings_key, m.embeddings_key);
    mc_knn_graph_free(g2);
    g2 = NULL;

    /* meta may be NULL on either side: defaults with the graph's n and k. */
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_write_h5(g, NULL, path), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_read_h5(path, &g2, &r), MC_OK);
    CU_ASSERT(tr_same_graph(g, g2));
    CU_ASSERT(r.n == n && r.k == k && r.dim == 0 && r.fingerprint == 0 && r.centered == 0);
    CU_ASSERT(isnan(r.center_shift));
    CU_ASSERT_STRING_EQUAL(r.index, "Flat");
    mc_knn_graph_free(g2);
    g2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_read_h5(path, &g2, NULL), MC_OK);
    CU_ASSERT(tr_same_graph(g, g2));
    mc_knn_graph_free(g2);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
}

/* Rows with absent (-1) neighbours, and a graph spanning several chunks and
 * read blocks (4096 rows each), come back unchanged. */
static void test_round_trip_blocks_and_padding(void)
{
    size_t n = 10000, k = 5;
    int64_t *ids = malloc(n * k * sizeof *ids);
    float *sims = malloc(n * k * sizeof *sims);
    CU_ASSERT_FATAL(ids && sims);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < k; c++) {
            int absent = i % 7 == 3 && c >= 3;
            ids[i * k + c] = absent ? -1 : (int64_t)((i + 1 + c * 37) % n);
            sims[i * k + c] = absent ? 0.0f : 0.9f - 0.1f * (float)c + 1e-6f * (float)(i % 97);
        }
    mc_knn_graph_t *g = NULL, *g2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_new(n, k, ids, sims, &g), MC_OK);
    const char *path = tmp("big.h5");
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_write_h5(g, NULL, path), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_read_h5(path, &g2, NULL), MC_OK);
    CU_ASSERT(tr_same_graph(g, g2));
    CU_ASSERT(mc_knn_graph_ids(g2)[3 * k + 3] == -1);
    CU_ASSERT(isinf(mc_knn_graph_sims(g2)[3 * k + 4]));
    mc_knn_graph_free(g);
    mc_knn_graph_free(g2);
    free(ids);
    free(sims);
}

/* Identical data give the same fingerprint; one changed float, or the same
 * bytes in another shape, give another. */
/* ---- the fingerprint as a stream (knn_impl.h) ------------------------------
 * The one-buffer hash as it was before the stream (a copy), against the
 * stream fed in pieces of every kind: the same value, so graph files keep
 * their fingerprints and the MPI search (fed by rank) matches one process. */

/* ---- fingerprint --------------------------------------------------------- */

/* The constants and the lane round are xxHash64's: four independent lanes
 * keep the multiplier busy, so the hash runs at memory speed rather than at
 * the latency of one multiply chain. */
#define REF_P1 0x9E3779B185EBCA87ull
#define REF_P2 0xC2B2AE3D27D4EB4Full
#define REF_P3 0x165667B19E3779F9ull
#define REF_P4 0x85EBCA77C2B2AE63ull
#define REF_P5 0x27D4EB2F165667C5ull

static uint64_t ref_fp_rotl(uint64_t x, unsigned r) { return (x << r) | (x >> (64u - r)); }

static uint64_t ref_fp_load(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w); /* unaligned-safe; compiles to one load */
    return w;
}

static uint64_t ref_fp_round(uint64_t acc, uint64_t w)
{
    acc += w * REF_P2;
    acc = ref_fp_rotl(acc, 31);
    return acc * REF_P1;
}

/* Folds one more word into a running state. */
static uint64_t ref_fp_fold(uint64_t h, uint64_t w)
{
    return ref_fp_rotl(h ^ ref_fp_round(0, w), 27) * REF_P1 + REF_P4;
}

/* Final avalanche: xor-shift / multiply. */
static uint64_t ref_fp_avalanche(uint64_t h)
{
    h ^= h >> 33;
    h *= REF_P2;
    h ^= h >> 29;
    h *= REF_P3;
    h ^= h >> 32;
    return h;
}

/* Hashes len bytes into the state h. The length goes in too, so that
 * consecutive buffers cannot trade bytes without changing the result. */
static uint64_t ref_fp_bytes(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    if (len >= 32) {
        uint64_t a = h + REF_P1 + REF_P2, b = h + REF_P2, c = h, d = h - REF_P1;
        for (; i + 32 <= len; i += 32) {
            a = ref_fp_round(a, ref_fp_load(p + i));
            b = ref_fp_round(b, ref_fp_load(p + i + 8));
            c = ref_fp_round(c, ref_fp_load(p + i + 16));
            d = ref_fp_round(d, ref_fp_load(p + i + 24));
        }
        h = ref_fp_rotl(a, 1) + ref_fp_rotl(b, 7) + ref_fp_rotl(c, 12) + ref_fp_rotl(d, 18);
        h = ref_fp_fold(h, a);
        h = ref_fp_fold(h, b);
        h = ref_fp_fold(h, c);
        h = ref_fp_fold(h, d);
    } else {
        h += REF_P5;
    }
    for (; i + 8 <= len; i += 8) h = ref_fp_fold(h, ref_fp_load(p + i));
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i);
        h = ref_fp_fold(h, w);
    }
    return ref_fp_avalanche(h ^ ref_fp_fold(REF_P3, (uint64_t)len));
}

static void test_fingerprint_stream(void)
{
    static const size_t lens[] = {0, 1, 7, 8, 31, 32, 33, 63, 64, 65, 100, 4103};
    static const size_t pieces[] = {1, 3, 7, 8, 31, 32, 33, 1000, 100000};
    unsigned char *buf = malloc(4103);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (size_t i = 0; i < 4103; i++) buf[i] = (unsigned char)(i * 2654435761u >> 13);
    for (size_t a = 0; a < sizeof lens / sizeof *lens; a++) {
        size_t len = lens[a];
        uint64_t want = ref_fp_bytes(0x1234567ull, buf, len);
        for (size_t b = 0; b < sizeof pieces / sizeof *pieces; b++) {
            mc_fp_stream st;
            mc_fp_stream_init(&st, 0x1234567ull, len);
            for (size_t at = 0; at < len; at += pieces[b])
                mc_fp_stream_update(&st, buf + at, len - at < pieces[b] ? len - at : pieces[b]);
            CU_ASSERT(mc_fp_stream_final(&st) == want);
        }
    }
    /* and the whole fingerprint, as the one-buffer code computed it */
    size_t n = 5, d = 3;
    mc_embeddings_t *e = NULL;
    float x[15];
    for (size_t i = 0; i < 15; i++) x[i] = (float)i + 0.5f;
    CU_ASSERT_FATAL(mc_embeddings_new(x, n, d, &e) == MC_OK);
    uint64_t h = ref_fp_fold(ref_fp_fold(REF_P5, (uint64_t)n), (uint64_t)d);
    h = ref_fp_bytes(h, mc_embeddings_directions(e), n * d * sizeof(float));
    h = ref_fp_bytes(h, mc_embeddings_magnitudes(e), n * sizeof(float));
    CU_ASSERT(mc_embeddings_fingerprint(e) == (h ? h : 1));
    mc_embeddings_free(e);
    free(buf);
}

static void test_fingerprint(void)
{
    size_t n = 37, d = 12; /* n*d*4 and n*4 are not multiples of 32: tails are hashed */
    float *x = tr_blobs(n, d, 3, 0.5, 22);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    mc_embeddings_t *a = NULL, *b = NULL, *c = NULL, *s = NULL, *t = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, n, d, &a), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, n, d, &b), MC_OK);
    uint64_t fa = mc_embeddings_fingerprint(a);
    CU_ASSERT(fa != 0);
    CU_ASSERT(fa == mc_embeddings_fingerprint(b));
    CU_ASSERT(fa == mc_embeddings_fingerprint(a));
    x[5 * d + 7] += 0.25f;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, n, d, &c), MC_OK);
    CU_ASSERT(fa != mc_embeddings_fingerprint(c));
    x[5 * d + 7] -= 0.25f;
    float last = x[n * d - 1];
    x[n * d - 1] *= 1.5f; /* the very last value: only its tail bytes change */
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, n, d, &s), MC_OK);
    CU_ASSERT(fa != mc_embeddings_fingerprint(s));
    CU_ASSERT(mc_embeddings_fingerprint(c) != mc_embeddings_fingerprint(s));
    /* Same directions and magnitudes as a, only the magnitude of row 0 scaled. */
    for (size_t j = 0; j < d; j++) x[j] *= 2.0f;
    x[n * d - 1] = last;
    mc_embeddings_free(s);
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, n, d, &s), MC_OK);
    CU_ASSERT(fa != mc_embeddings_fingerprint(s));
    /* 36 x 12 read as 72 x 6: same row-major values, another shape. */
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, 72, 6, &t), MC_OK);
    mc_embeddings_free(c);
    c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, 36, 12, &c), MC_OK);
    CU_ASSERT(mc_embeddings_fingerprint(c) != mc_embeddings_fingerprint(t));
    CU_ASSERT(mc_embeddings_fingerprint(NULL) == 0);
    mc_embeddings_free(a);
    mc_embeddings_free(b);
    mc_embeddings_free(c);
    mc_embeddings_free(s);
    mc_embeddings_free(t);
    free(x);
}

static mc_knn_graph_t *tiny_graph(void)
{
    const int64_t ids[] = {1, 2, 0, 2, 3, 0, 2, 1};
    const float sims[] = {0.9f, 0.5f, 0.9f, 0.4f, 0.7f, 0.5f, 0.7f, 0.3f};
    mc_knn_graph_t *g = NULL;
    mc_knn_graph_new(4, 2, ids, sims, &g);
    return g;
}

/* Metadata that does not describe the graph is refused before anything is
 * written. */
static void test_write_meta_mismatch(void)
{
    mc_knn_graph_t *g = tiny_graph();
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    const char *path = tmp("mismatch.h5");
    mc_knn_graph_meta m;
    mc_knn_graph_meta_init(&m);
    m.n = 5;
    m.k = 2;
    CU_ASSERT_EQUAL(mc_knn_graph_write_h5(g, &m, path), MC_ERR_INVALID_ARG);
    CU_ASSERT(mentions(path));
    m.n = 4;
    m.k = 3;
    CU_ASSERT_EQUAL(mc_knn_graph_write_h5(g, &m, path), MC_ERR_INVALID_ARG);
    CU_ASSERT(mentions(path));
    m.k = 2;
    memset(m.index, 'x', sizeof m.index); /* no terminating NUL */
    CU_ASSERT_EQUAL(mc_knn_graph_write_h5(g, &m, path), MC_ERR_INVALID_ARG);
    CU_ASSERT(mentions("NUL"));
    CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
    CU_ASSERT_FALSE(temp_left());
    CU_ASSERT_EQUAL(mc_knn_graph_write_h5(NULL, &m, path), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_graph_write_h5(g, &m, NULL), MC_ERR_INVALID_ARG);
    mc_knn_graph_free(g);
}

/* A write that fails leaves no temporary behind: one that cannot start (no
 * such directory) and one that fails at the rename (the destination is a
 * directory). */
static void test_write_failure_leaves_nothing(void)
{
    mc_knn_graph_t *g = tiny_graph();
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    const char *missing = tmp("no-such-dir/graph.h5");
    CU_ASSERT_EQUAL(mc_knn_graph_write_h5(g, NULL, missing), MC_ERR_IO);
    CU_ASSERT(mentions(missing));
    CU_ASSERT_FALSE(temp_left());
    const char *dir = tmp("a-directory");
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0777), 0);
    CU_ASSERT_EQUAL(mc_knn_graph_write_h5(g, NULL, dir), MC_ERR_IO);
    CU_ASSERT(mentions(dir));
    CU_ASSERT_FALSE(temp_left());
    rmdir(dir);
    mc_knn_graph_free(g);
}

/* ---- hand-made files ----------------------------------------------------- */

/* What make_file writes; spec_ok() is a valid 4 x 2 graph as another tool
 * might write it: int32 ids, float64 sims, a fixed-length format string,
 * only the required attributes. Each test breaks one thing. */
typedef struct {
    const char *format;  /* NULL: no format attribute */
    int version;         /* < 0: no version attribute */
    long long n_attr;    /* < 0: no n attribute */
    int knn_dataset;     /* /knn is a dataset, not a group */
    int no_ids;          /* /knn/ids absent */
    int ids_float;       /* ids stored as float32 */
    int ids_rank1;       /* ids stored as a vector of n*k */
    hsize_t n, k, sims_k;
    int64_t ids[8];
    double sims[8];
} file_spec;

static file_spec spec_ok(void)
{
    file_spec s = {"magclust-knn", 1, -1, 0, 0, 0, 0, 4, 2, 2,
                   {1, 2, 0, 2, 3, 0, 2, 1},
                   {0.9, 0.5, 0.9, 0.4, 0.7, 0.5, 0.7, 0.3}};
    return s;
}

static int put_ds(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                  const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = ds >= 0 && (!data || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    return ok ? 0 : -1;
}

static int make_file(const char *path, const file_spec *s)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    int bad = 0;
    if (s->knn_dataset) {
        hsize_t dims[1] = {1};
        int one = 1;
        bad = put_ds(f, "knn", H5T_STD_I32LE, H5T_NATIVE_INT, 1, dims, &one);
        H5Fclose(f);
        return bad;
    }
    hid_t g = H5Gcreate2(f, "knn", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t scalar = H5Screate(H5S_SCALAR);
    if (s->format) {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, strlen(s->format));
        H5Tset_strpad(t, H5T_STR_NULLPAD);
        hid_t a = H5Acreate2(g, "format", t, scalar, H5P_DEFAULT, H5P_DEFAULT);
        bad |= a < 0 || H5Awrite(a, t, s->format) < 0;
        if (a >= 0) H5Aclose(a);
        H5Tclose(t);
    }
    if (s->version >= 0) {
        hid_t a = H5Acreate2(g, "version", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
        long long v = s->version;
        bad |= a < 0 || H5Awrite(a, H5T_NATIVE_LLONG, &v) < 0;
        if (a >= 0) H5Aclose(a);
    }
    if (s->n_attr >= 0) {
        hid_t a = H5Acreate2(g, "n", H5T_STD_U64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
        long long v = s->n_attr;
        bad |= a < 0 || H5Awrite(a, H5T_NATIVE_LLONG, &v) < 0;
        if (a >= 0) H5Aclose(a);
    }
    H5Sclose(scalar);
    hsize_t dims[2] = {s->n, s->k}, flat[1] = {s->n * s->k}, sdims[2] = {s->n, s->sims_k};
    int have_data = s->n * s->k > 0 && s->n * s->k <= 8 && s->n * s->sims_k <= 8;
    if (!s->no_ids) {
        if (s->ids_float) {
            float v[8];
            for (int i = 0; i < 8; i++) v[i] = (float)s->ids[i];
            bad |= put_ds(g, "ids", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 2, dims, have_data ? v : NULL);
        } else {
            bad |= put_ds(g, "ids", H5T_STD_I32LE, H5T_NATIVE_INT64, s->ids_rank1 ? 1 : 2,
                          s->ids_rank1 ? flat : dims, have_data ? s->ids : NULL);
        }
    }
    bad |= put_ds(g, "sims", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, sdims, have_data ? s->sims : NULL);
    H5Gclose(g);
    if (H5Fclose(f) < 0) bad = 1;
    return bad ? -1 : 0;
}

/* A file made by another tool, with only what is required, is read. */
static void test_read_foreign_file(void)
{
    file_spec s = spec_ok();
    const char *path = tmp("foreign.h5");
    CU_ASSERT_EQUAL_FATAL(make_file(path, &s), 0);
    mc_knn_graph_t *g = NULL, *want = tiny_graph();
    mc_knn_graph_meta m;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_read_h5(path, &g, &m), MC_OK);
    CU_ASSERT(tr_same_graph(g, want));
    CU_ASSERT(m.n == 4 && m.k == 2 && m.dim == 0 && m.fingerprint == 0);
    CU_ASSERT_STRING_EQUAL(m.index, "Flat");
    mc_knn_graph_free(g);
    mc_knn_graph_free(want);
}

/* Reads `path`, expecting status want, a NULL graph, default metadata, and a
 * detail naming the file and containing `what` (when not NULL). */
static void expect_read_error(const char *path, mc_status want, const char *what)
{
    mc_knn_graph_t *g = (mc_knn_graph_t *)&g; /* not NULL: must be reset */
    mc_knn_graph_meta m;
    memset(&m, 0x5a, sizeof m);
    mc_status st = mc_knn_graph_read_h5(path, &g, &m);
    CU_ASSERT_EQUAL(st, want);
    CU_ASSERT_PTR_NULL(g);
    CU_ASSERT(isnan(m.center_shift) && m.n == 0);
    CU_ASSERT(mentions(path));
    if (what) CU_ASSERT(mentions(what));
    if (st != want || !mentions(path) || (what && !mentions(what)))
        fprintf(stderr, "\n  %s: got %s \"%s\"\n", path, mc_strerror(st), mc_last_error_detail());
    if (st == MC_OK) mc_knn_graph_free(g);
}

static void expect_spec_error(const char *name, const file_spec *s, mc_status want, const char *what)
{
    const char *path = tmp(name);
    char copy[512];
    snprintf(copy, sizeof copy, "%s", path);
    CU_ASSERT_EQUAL_FATAL(make_file(copy, s), 0);
    expect_read_error(copy, want, what);
}

static void test_read_missing_and_not_hdf5(void)
{
    expect_read_error(tmp("does-not-exist.h5"), MC_ERR_IO, "no such file");
    expect_read_error(fixture("not_hdf5.h5"), MC_ERR_IO, "not an HDF5 file");
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL(mc_knn_graph_read_h5(NULL, &g, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_knn_graph_read_h5(fixture("tiny.h5"), NULL, NULL), MC_ERR_INVALID_ARG);
}

static void test_read_not_a_graph(void)
{
    /* An embeddings file given as a graph. */
    expect_read_error(fixture("tiny.h5"), MC_ERR_HDF5, "no /knn group");
    file_spec s = spec_ok();
    s.knn_dataset = 1;
    expect_spec_error("knn_dataset.h5", &s, MC_ERR_HDF5, "/knn is not a group");
    s = spec_ok();
    s.format = NULL;
    expect_spec_error("no_format.h5", &s, MC_ERR_BAD_DATA, "no format attribute");
    s = spec_ok();
    s.format = "magclust-result";
    expect_spec_error("bad_format.h5", &s, MC_ERR_BAD_DATA, "magclust-result");
    s = spec_ok();
    s.no_ids = 1;
    expect_spec_error("no_ids.h5", &s, MC_ERR_HDF5, "/knn/ids");
}

static void test_read_bad_version(void)
{
    file_spec s = spec_ok();
    s.version = 2;
    expect_spec_error("version2.h5", &s, MC_ERR_BAD_DATA, "version 2");
    s.version = -1;
    expect_spec_error("no_version.h5", &s, MC_ERR_BAD_DATA, "version");
}

static void test_read_bad_shapes_and_types(void)
{
    file_spec s = spec_ok();
    s.sims_k = 1;
    expect_spec_error("shape.h5", &s, MC_ERR_BAD_DATA, "4 x 2");
    s = spec_ok();
    s.ids_rank1 = 1;
    expect_spec_error("rank1.h5", &s, MC_ERR_BAD_DATA, "rank 1");
    s = spec_ok();
    s.ids_float = 1;
    expect_spec_error("ids_float.h5", &s, MC_ERR_BAD_DATA, "integers");
    s = spec_ok();
    s.n = 0;
    expect_spec_error("n0.h5", &s, MC_ERR_BAD_DATA, "0 x 2");
    s = spec_ok();
    s.k = s.sims_k = 0;
    expect_spec_error("k0.h5", &s, MC_ERR_BAD_DATA, "4 x 0");
    s = spec_ok();
    s.n_attr = 5;
    expect_spec_error("n_attr.h5", &s, MC_ERR_BAD_DATA, "attributes say");
}

/* N*k int64 values would not fit in the address space. The datasets are
 * chunked and never written, so the file stays tiny; ids and sims use 1-byte
 * types so that HDF5 itself accepts the sizes. */
static void test_read_too_large(void)
{
    const char *name = tmp("huge.h5");
    char path[512];
    snprintf(path, sizeof path, "%s", name);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t g = H5Gcreate2(f, "knn", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t scalar = H5Screate(H5S_SCALAR);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 12);
    hid_t a = H5Acreate2(g, "format", st, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, st, "magclust-knn");
    H5Aclose(a);
    H5Tclose(st);
    int one = 1;
    a = H5Acreate2(g, "version", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT, &one);
    H5Aclose(a);
    H5Sclose(scalar);
    /* A minifloat: 1 sign, 4 exponent, 3 mantissa bits. */
    hid_t f8 = H5Tcopy(H5T_IEEE_F32LE);
    int ok = H5Tset_fields(f8, 7, 3, 4, 0, 3) >= 0 && H5Tset_precision(f8, 8) >= 0 &&
             H5Tset_size(f8, 1) >= 0 && H5Tset_ebias(f8, 7) >= 0;
    hsize_t dims[2] = {(hsize_t)1 << 32, (hsize_t)1 << 30}, chunk[2] = {1, 1024};
    hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    hid_t d1 = H5Dcreate2(g, "ids", H5T_STD_I8LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    hid_t d2 = ok ? H5Dcreate2(g, "sims", f8, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT) : -1;
    ok = ok && d1 >= 0 && d2 >= 0;
    if (d1 >= 0) H5Dclose(d1);
    if (d2 >= 0) H5Dclose(d2);
    H5Pclose(dcpl);
    H5Sclose(sp);
    H5Tclose(f8);
    H5Gclose(g);
    H5Fclose(f);
    CU_ASSERT_FATAL(ok);
    expect_read_error(path, MC_ERR_BAD_DATA, "too large");
}

static void test_read_bad_values(void)
{
    file_spec s = spec_ok();
    s.ids[5] = 4; /* n = 4: ids run to 3 */
    expect_spec_error("id_range.h5", &s, MC_ERR_BAD_DATA, "row 2");
    s = spec_ok();
    s.ids[0] = -2;
    expect_spec_error("id_neg.h5", &s, MC_ERR_BAD_DATA, "row 0");
    s = spec_ok();
    s.sims[7] = NAN;
    expect_spec_error("sim_nan.h5", &s, MC_ERR_BAD_DATA, "row 3");
    /* A NaN beside an absent neighbour does not matter. */
    s = spec_ok();
    s.ids[7] = -1;
    s.sims[7] = NAN;
    const char *path = tmp("absent_nan.h5");
    CU_ASSERT_EQUAL_FATAL(make_file(path, &s), 0);
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL(mc_knn_graph_read_h5(path, &g, NULL), MC_OK);
    if (g) CU_ASSERT(isinf(mc_knn_graph_sims(g)[7]) && mc_knn_graph_ids(g)[7] == -1);
    mc_knn_graph_free(g);
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
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    add_test("meta_init", test_meta_init);
    add_test("round_trip", test_round_trip);
    add_test("round_trip_blocks_and_padding", test_round_trip_blocks_and_padding);
    add_test("fingerprint", test_fingerprint);
    add_test("fingerprint_stream", test_fingerprint_stream);
    add_test("write_meta_mismatch", test_write_meta_mismatch);
    add_test("write_failure_leaves_nothing", test_write_failure_leaves_nothing);
    add_test("read_foreign_file", test_read_foreign_file);
    add_test("read_missing_and_not_hdf5", test_read_missing_and_not_hdf5);
    add_test("read_not_a_graph", test_read_not_a_graph);
    add_test("read_bad_version", test_read_bad_version);
    add_test("read_bad_shapes_and_types", test_read_bad_shapes_and_types);
    add_test("read_too_large", test_read_too_large);
    add_test("read_bad_values", test_read_bad_values);
    add_test("cleanup", test_cleanup);
}
