/* Streaming I/O: format names, the HDF5 writer and reader (round trip,
 * chunking, compression, provenance), conversion, multi-file import, the
 * HDF5 result file of a clustering, and the atomic HDF5 output every writer
 * uses. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_impl.h"
#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "io";

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int slot;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_test_io.XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    slot = (slot + 1) % 4;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", tmpdir, name);
    return buf[slot];
}

static void test_format_names(void)
{
    CU_ASSERT_EQUAL(mc_format_from_name("magface"), MC_FMT_MAGFACE);
    CU_ASSERT_EQUAL(mc_format_from_name("L2C"), MC_FMT_L2C);
    CU_ASSERT_EQUAL(mc_format_from_name("npy"), MC_FMT_NPY);
    CU_ASSERT_EQUAL(mc_format_from_name("csv"), MC_FMT_CSV);
    CU_ASSERT_EQUAL(mc_format_from_name("hdf5"), MC_FMT_H5);
    CU_ASSERT_EQUAL(mc_format_from_name("parquet"), MC_FMT_AUTO);
    CU_ASSERT_EQUAL(mc_format_from_path("a/b.H5"), MC_FMT_H5);
    CU_ASSERT_EQUAL(mc_format_from_path("feat.list"), MC_FMT_MAGFACE);
    CU_ASSERT_EQUAL(mc_format_from_path("part1_test.bin"), MC_FMT_L2C);
    CU_ASSERT_EQUAL(mc_format_from_path("x.npy"), MC_FMT_NPY);
    CU_ASSERT_EQUAL(mc_format_from_path("x.tsv"), MC_FMT_CSV);
    CU_ASSERT_EQUAL(mc_format_from_path("x.txt"), MC_FMT_AUTO);
    CU_ASSERT_STRING_EQUAL(mc_format_name(MC_FMT_L2C), "l2c");
    CU_ASSERT_STRING_EQUAL(mc_format_name(MC_FMT_AUTO), "auto");
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL(mc_reader_open("x.txt", NULL, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "x.txt"));
    mc_writer_t *w = NULL;
    CU_ASSERT_EQUAL(mc_writer_open(tmp("x.txt"), 4, 0, 0, NULL, &w), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_writer_open(tmp("x.list"), 4, 0, 0, NULL, &w), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_writer_open(tmp("x.h5"), 0, 0, 0, NULL, &w), MC_ERR_INVALID_ARG);
}

/* Rows with awkward values: the writer and reader must keep every bit. */
static float *awkward_rows(size_t n, size_t d, uint64_t seed)
{
    float *x = tr_blobs(n, d, 3, 0.5, seed);
    static const float special[] = {1e-38f, -0.0f, 3.4e38f, 0.1f, -1.17549435e-38f, 1.0f / 3.0f};
    for (size_t i = 0; i < sizeof special / sizeof special[0] && i < n * d; i++) x[i * 7 % (n * d)] = special[i];
    return x;
}

/* Writes n rows in uneven blocks through the public writer. */
static mc_status write_h5(const char *path, const float *x, const int64_t *lab, const char *const *paths,
                          size_t n, size_t d, const mc_writer_params *wp)
{
    mc_writer_t *w = NULL;
    mc_status st = mc_writer_open(path, d, lab != NULL, paths != NULL, wp, &w);
    if (st != MC_OK) return st;
    size_t steps[] = {1, 7, 100, 3};
    for (size_t i = 0, s = 0; i < n; s++) {
        size_t b = steps[s % 4] < n - i ? steps[s % 4] : n - i;
        st = mc_writer_append(w, b, x + i * d, lab ? lab + i : NULL, paths ? paths + i : NULL);
        if (st != MC_OK) {
            mc_writer_abort(w);
            return st;
        }
        i += b;
    }
    return mc_writer_commit(w);
}

static void test_h5_roundtrip(void)
{
    const size_t n = 523, d = 17;
    float *x = awkward_rows(n, d, 3);
    int64_t *lab = malloc(n * sizeof *lab);
    char **paths = malloc(n * sizeof *paths);
    for (size_t i = 0; i < n; i++) {
        lab[i] = (int64_t)(i % 11) - 1;
        paths[i] = malloc(32);
        snprintf(paths[i], 32, "dir%zu/f,\"%zu\".jpg", i % 5, i);
    }
    for (int compress = 0; compress <= 6; compress += 6) {
        mc_writer_params wp = mc_writer_params_default();
        wp.compress = compress;
        wp.chunk_rows = 64;
        wp.source = "unit test";
        const char *path = tmp(compress ? "rt_z.h5" : "rt.h5");
        CU_ASSERT_EQUAL_FATAL(write_h5(path, x, lab, (const char *const *)paths, n, d, &wp), MC_OK);
        /* back through the streaming reader, in odd block sizes */
        mc_reader_t *r = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, NULL, &r), MC_OK);
        CU_ASSERT_EQUAL(mc_reader_dim(r), d);
        CU_ASSERT_EQUAL(mc_reader_count(r), n);
        CU_ASSERT(mc_reader_has_labels(r) && mc_reader_has_paths(r));
        CU_ASSERT_EQUAL(mc_reader_format(r), MC_FMT_H5);
        float *y = malloc(n * d * sizeof *y);
        int64_t *l2 = malloc(n * sizeof *l2);
        size_t got = 0, bad_paths = 0, k;
        const char *pp[97];
        while (mc_reader_next(r, 97, y + got * d, l2 + got, pp, &k) == MC_OK && k > 0) {
            for (size_t i = 0; i < k; i++) bad_paths += strcmp(pp[i], paths[got + i]) != 0;
            got += k;
        }
        CU_ASSERT_EQUAL(got, n);
        CU_ASSERT_EQUAL(memcmp(x, y, n * d * sizeof *x), 0);
        CU_ASSERT_EQUAL(memcmp(lab, l2, n * sizeof *lab), 0);
        CU_ASSERT_EQUAL(bad_paths, 0);
        mc_reader_free(r);
        /* and through the clustering loader */
        mc_embeddings_t *e = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(path, NULL, &e), MC_OK);
        CU_ASSERT_EQUAL(mc_embeddings_n(e), n);
        CU_ASSERT_STRING_EQUAL(mc_embeddings_path(e, 5), paths[5]);
        mc_embeddings_free(e);
        /* chunked, compressed as asked, provenance recorded */
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t ds = H5Dopen2(f, "/embeddings", H5P_DEFAULT);
        hid_t dcpl = H5Dget_create_plist(ds);
        hsize_t chunk[2] = {0, 0};
        CU_ASSERT_EQUAL(H5Pget_layout(dcpl), H5D_CHUNKED);
        H5Pget_chunk(dcpl, 2, chunk);
        CU_ASSERT_EQUAL(chunk[0], 64);
        CU_ASSERT_EQUAL(chunk[1], d);
        int has_deflate = 0;
        for (int i = 0; i < H5Pget_nfilters(dcpl); i++) {
            unsigned flags;
            size_t nelem = 0;
            has_deflate |= H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelem, NULL, 0, NULL, NULL) == H5Z_FILTER_DEFLATE;
        }
        CU_ASSERT_EQUAL(has_deflate, compress > 0);
        hid_t a = H5Aopen(f, "source", H5P_DEFAULT);
        CU_ASSERT(a >= 0);
        if (a >= 0) {
            char *text = NULL;
            hid_t t = H5Aget_type(a);
            CU_ASSERT(H5Tis_variable_str(t) > 0);
            CU_ASSERT(H5Aread(a, t, &text) >= 0);
            CU_ASSERT_STRING_EQUAL(text ? text : "", "unit test");
            H5free_memory(text);
            H5Tclose(t);
            H5Aclose(a);
        }
        H5Pclose(dcpl);
        H5Dclose(ds);
        H5Fclose(f);
        free(y);
        free(l2);
    }
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
    free(lab);
    free(x);
}

static const mc_h5_dataset_info *find_ds(const mc_h5_dataset_info *ds, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ds[i].name, name) == 0) return &ds[i];
    return NULL;
}

/* Photos and label names written by the H5 writer, read back: the datasets
 * mc_h5_list_datasets finds and the names the reader returns. */
static void test_writer_photos_label_names(void)
{
    const char *path = tmp("photos.h5");
    mc_writer_params wp = mc_writer_params_default();
    wp.with_photos = 1;
    mc_writer_t *w = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(path, 4, 1, 1, &wp, &w), MC_OK);
    const float rows[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    const int64_t labels[3] = {0, 1, 1};
    const char *paths[3] = {"a.jpg", "b.jpg", "c.jpg"};
    const char *photos[3] = {"p1", "p1", ""};
    const char *names[2] = {"Ann", "Bo"};
    CU_ASSERT_EQUAL(mc_writer_append_photos(w, 3, rows, labels, paths, photos), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_set_label_names(w, 2, names), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_writer_commit(w), MC_OK);

    mc_h5_dataset_info *ds = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(mc_h5_list_datasets(path, &ds, &n), MC_OK);
    const mc_h5_dataset_info *emb = find_ds(ds, n, "/embeddings");
    CU_ASSERT_PTR_NOT_NULL_FATAL(emb);
    CU_ASSERT_EQUAL(emb->rank, 2);
    CU_ASSERT_EQUAL(emb->dims[0], 3);
    CU_ASSERT_EQUAL(emb->dims[1], 4);
    CU_ASSERT_STRING_EQUAL(emb->type, "float32");
    const mc_h5_dataset_info *ph = find_ds(ds, n, "/photo");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ph);
    CU_ASSERT_EQUAL(ph->dims[0], 3);
    CU_ASSERT_STRING_EQUAL(ph->type, "string");
    const mc_h5_dataset_info *ln = find_ds(ds, n, "/label_names");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ln);
    CU_ASSERT_EQUAL(ln->dims[0], 2);
    CU_ASSERT_PTR_NOT_NULL(find_ds(ds, n, "/labels"));
    CU_ASSERT_PTR_NOT_NULL(find_ds(ds, n, "/paths"));
    free(ds);

    /* the names and photos themselves (the readers do not return them) */
    const char *want_names[2] = {"Ann", "Bo"}, *want_photos[3] = {"p1", "p1", ""};
    const char *key[2] = {"label_names", "photo"};
    const char **want[2] = {want_names, want_photos};
    size_t count[2] = {2, 3};
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t vs = H5Tcopy(H5T_C_S1);
    H5Tset_size(vs, H5T_VARIABLE);
    for (int k = 0; k < 2; k++) {
        char *got[3] = {NULL, NULL, NULL};
        hid_t d = H5Dopen2(f, key[k], H5P_DEFAULT);
        CU_ASSERT_FATAL(d >= 0);
        CU_ASSERT(H5Dread(d, vs, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
        for (size_t i = 0; i < count[k]; i++) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(got[i]);
            CU_ASSERT_STRING_EQUAL(got[i], want[k][i]);
            H5free_memory(got[i]);
        }
        H5Dclose(d);
    }
    H5Tclose(vs);
    H5Fclose(f);
    CU_ASSERT_EQUAL(mc_h5_list_datasets(tmp("nosuch.h5"), &ds, &n), MC_ERR_IO);
}

/* One per-face number dataset: tiny.h5's det_score is 0.30 + 0.07 (i % 10). */
static void test_h5_read_quality(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tiny.h5", mc_test_fixture_dir);
    float *q = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(mc_h5_read_quality(path, NULL, "det_score", &q, &n), MC_OK);
    CU_ASSERT_EQUAL_FATAL(n, 40);
    for (size_t i = 0; i < n; i++) CU_ASSERT_DOUBLE_EQUAL(q[i], 0.30 + 0.07 * (double)(i % 10), 1e-6);
    free(q);
    q = NULL;
    CU_ASSERT_EQUAL(mc_h5_read_quality(path, NULL, "nosuchkey", &q, &n), MC_ERR_HDF5);
    CU_ASSERT_PTR_NULL(q);
    snprintf(path, sizeof path, "%s/bad_quality_nan.h5", mc_test_fixture_dir);
    CU_ASSERT_EQUAL(mc_h5_read_quality(path, NULL, "det_score", &q, &n), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NULL(q);
}

/* A writer that is aborted, or fails, leaves nothing; an existing file at the
 * destination is untouched until commit. */
static void test_writer_atomic(void)
{
    const char *path = tmp("atomic.h5");
    FILE *f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    float row[4] = {1, 2, 3, 4};
    mc_writer_t *w = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(path, 4, 0, 0, NULL, &w), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, 1, row, NULL, NULL), MC_OK);
    mc_writer_abort(w);
    f = fopen(path, "r");
    char buf[8] = {0};
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT(fgets(buf, sizeof buf, f) != NULL);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "old");
    /* no temporary left in the directory */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -q tmp", tmpdir);
    CU_ASSERT_NOT_EQUAL(system(cmd), 0);
    CU_ASSERT_EQUAL(mc_writer_open("/nonexistent-dir/out.h5", 4, 0, 0, NULL, &w), MC_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "/nonexistent-dir/out.h5"));
    /* rows without the labels the writer was opened for */
    CU_ASSERT_EQUAL_FATAL(mc_writer_open(tmp("nolab.h5"), 4, 1, 0, NULL, &w), MC_OK);
    CU_ASSERT_EQUAL(mc_writer_append(w, 1, row, NULL, NULL), MC_ERR_INVALID_ARG);
    mc_writer_abort(w);
    CU_ASSERT_NOT_EQUAL(access(tmp("nolab.h5"), F_OK), 0);
}

/* The H5 reader refuses what it cannot stream, naming the file. */
static void test_h5_reader_errors(void)
{
    char path[512];
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL(mc_reader_open(tmp("missing.h5"), NULL, &r), MC_ERR_IO);
    snprintf(path, sizeof path, "%s/bad_rank3.h5", mc_test_fixture_dir);
    CU_ASSERT_EQUAL(mc_reader_open(path, NULL, &r), MC_ERR_HDF5);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "rank 3"));
    snprintf(path, sizeof path, "%s/bad_n0.h5", mc_test_fixture_dir);
    CU_ASSERT_EQUAL(mc_reader_open(path, NULL, &r), MC_ERR_BAD_DATA);
    snprintf(path, sizeof path, "%s/bad_labels_len.h5", mc_test_fixture_dir);
    CU_ASSERT_EQUAL(mc_reader_open(path, NULL, &r), MC_ERR_DIM_MISMATCH);
    snprintf(path, sizeof path, "%s/not_hdf5.h5", mc_test_fixture_dir);
    CU_ASSERT_EQUAL(mc_reader_open(path, NULL, &r), MC_ERR_IO);
    snprintf(path, sizeof path, "%s/bad_nan.h5", mc_test_fixture_dir);
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, NULL, &r), MC_OK);
    float rows[40 * 8];
    size_t k;
    CU_ASSERT_EQUAL(mc_reader_next(r, 40, rows, NULL, NULL, &k), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "row 3"));
    mc_reader_free(r);
    /* renamed datasets */
    mc_reader_params rp = mc_reader_params_default();
    rp.h5.embeddings_key = "feats";
    rp.h5.labels_key = "/ids";
    rp.h5.paths_key = "files";
    snprintf(path, sizeof path, "%s/tiny_altkeys.h5", mc_test_fixture_dir);
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(path, &rp, &r), MC_OK);
    CU_ASSERT(mc_reader_has_labels(r) && mc_reader_has_paths(r));
    CU_ASSERT_EQUAL(mc_reader_count(r), 40);
    mc_reader_free(r);
    rp.h5.labels_key = "nosuch";
    CU_ASSERT_EQUAL(mc_reader_open(path, &rp, &r), MC_ERR_HDF5);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "/nosuch"));
}

/* mc_h5_out: commit and abort close every identifier of the file, the ones
 * a writer left open included, and leave no temporary; a failed create
 * leaves nothing. (tests/full_disk_test.sh has the full disk.) */
static void test_h5_out(void)
{
    static const int64_t v[4] = {1, 2, 3, 4};
    for (int commit = 0; commit <= 1; commit++) {
        const char *path = tmp(commit ? "out_commit.h5" : "out_abort.h5");
        mc_h5_out o;
        CU_ASSERT_EQUAL_FATAL(mc_h5_out_create(&o, path), MC_OK);
        CU_ASSERT(o.file >= 0);
        CU_ASSERT_EQUAL(access(o.tmp_path, F_OK), 0);
        char tmp_path[600];
        snprintf(tmp_path, sizeof tmp_path, "%s", o.tmp_path);
        /* left open on purpose: a group, a dataset in it, an attribute */
        hid_t g = H5Gcreate2(o.file, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CU_ASSERT_EQUAL(mc_h5_put_vector(g, "v", H5T_STD_I64LE, H5T_NATIVE_INT64, 4, v), 0);
        hid_t ds = H5Dopen2(g, "v", H5P_DEFAULT);
        hid_t sp = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(ds, "a", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(sp);
        CU_ASSERT(g >= 0 && ds >= 0 && a >= 0);
        CU_ASSERT(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) > 0);
        if (commit) {
            CU_ASSERT_EQUAL(mc_h5_out_commit(&o, "the test"), MC_OK);
        } else {
            mc_h5_out_abort(&o);
        }
        CU_ASSERT_EQUAL(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
        CU_ASSERT(o.file < 0 && !o.tmp_path && !o.path);
        CU_ASSERT_NOT_EQUAL(access(tmp_path, F_OK), 0);
        CU_ASSERT_EQUAL(access(path, F_OK) == 0, commit);
        mc_h5_out_abort(&o); /* after either: a no-op */
    }
    /* the committed file holds what was written */
    hid_t f = H5Fopen(tmp("out_commit.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    int64_t back[4] = {0};
    hid_t ds = H5Dopen2(f, "/g/v", H5P_DEFAULT);
    CU_ASSERT(H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0);
    CU_ASSERT(memcmp(back, v, sizeof v) == 0);
    H5Dclose(ds);
    H5Fclose(f);
    /* a directory that does not exist: MC_ERR_IO naming the path, nothing left */
    mc_h5_out o;
    CU_ASSERT_EQUAL(mc_h5_out_create(&o, "/nonexistent-dir/x.h5"), MC_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "/nonexistent-dir/x.h5: cannot create"));
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "(HDF5: "));
    CU_ASSERT(o.file < 0);
    mc_h5_out_abort(&o);
    CU_ASSERT_EQUAL(mc_h5_out_commit(&o, "x"), MC_ERR_INVALID_ARG);
}

/* Nested keys ("group/embeddings") mean the same to the streaming reader
 * (export, import) and to mc_embeddings_read_h5: however a key is spelled,
 * both read the same rows, labels and paths, or both refuse it with the
 * same status and message. tiny_nested.h5 keeps everything under /group,
 * its paths fixed strings as long as the longest path (row 39 has no NUL). */
static void test_nested_keys(void)
{
    static const struct {
        const char *emb, *labels, *paths, *want; /* want: NULL reads, else in the detail */
        mc_status st;
    } cases[] = {
        {"group/embeddings", "group/labels", "group/paths", NULL, MC_OK},
        {"/group/embeddings", "/group/labels", "/group/paths", NULL, MC_OK},
        {"//group//embeddings/", "group//labels", "./group/./paths", NULL, MC_OK},
        {"group/embeddings", "labels", "paths", NULL, MC_OK}, /* defaults, absent: no labels */
        {"nogroup/embeddings", "labels", "paths", "no dataset /nogroup/embeddings", MC_ERR_HDF5},
        {"group", "labels", "paths", "/group is not a dataset", MC_ERR_HDF5},
        {"group/embeddings/x", "labels", "paths", "no dataset /group/embeddings/x", MC_ERR_HDF5},
        {"group/meta/quality", "labels", "paths", "/group/meta/quality has rank 1", MC_ERR_HDF5},
        {"group/embeddings", "group/nolabels", "paths", "no dataset /group/nolabels", MC_ERR_HDF5},
        {"group/embeddings", "group/meta", "paths", "/group/meta is not a dataset", MC_ERR_HDF5},
        {"group/embeddings", "group/paths", "paths", "/group/paths has a string type", MC_ERR_HDF5},
        {"group/embeddings", "labels", "group/labels", "/group/labels has an integer type",
         MC_ERR_HDF5},
        {"group/embeddings", "//labels", "./paths/", NULL, MC_OK}, /* still the defaults */
    };
    char path[512];
    snprintf(path, sizeof path, "%s/tiny_nested.h5", mc_test_fixture_dir);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        mc_h5_read_params hp = mc_h5_read_params_default();
        hp.embeddings_key = cases[k].emb;
        hp.labels_key = cases[k].labels;
        hp.paths_key = cases[k].paths;
        mc_embeddings_t *e = NULL;
        mc_status se = mc_embeddings_read_h5(path, &hp, &e);
        char detail_e[1024];
        snprintf(detail_e, sizeof detail_e, "%s", mc_last_error_detail());
        mc_reader_params rp = mc_reader_params_default();
        rp.h5 = hp;
        mc_reader_t *r = NULL;
        mc_status sr = mc_reader_open(path, &rp, &r);
        CU_ASSERT_EQUAL(se, cases[k].st);
        CU_ASSERT_EQUAL(sr, cases[k].st);
        if (cases[k].want) {
            CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), detail_e);
            CU_ASSERT_PTR_NOT_NULL(strstr(detail_e, cases[k].want));
            if (!strstr(detail_e, cases[k].want) || strcmp(mc_last_error_detail(), detail_e) != 0)
                fprintf(stderr, "\n  case %zu: \"%s\" / \"%s\"\n", k, detail_e,
                        mc_last_error_detail());
        }
        if (se != MC_OK || sr != MC_OK) {
            mc_embeddings_free(e);
            mc_reader_free(r);
            continue;
        }
        size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
        CU_ASSERT_EQUAL(n, 40);
        CU_ASSERT_EQUAL(mc_reader_count(r), n);
        CU_ASSERT_EQUAL(mc_reader_dim(r), d);
        int with = strstr(cases[k].labels, "group") != NULL;
        CU_ASSERT_EQUAL(mc_reader_has_labels(r), with);
        CU_ASSERT_EQUAL(mc_reader_has_paths(r), with);
        CU_ASSERT_EQUAL(mc_embeddings_labels(e) != NULL, with);
        CU_ASSERT_EQUAL(mc_embeddings_path(e, 0) != NULL, with);
        float rows[40 * 8];
        int64_t labels[40];
        const char *paths[40];
        size_t got = 0, at = 0;
        /* blocks of 7: labels and paths read by range */
        while (mc_reader_next(r, 7, rows + at * d, labels + at, paths + at, &got) == MC_OK && got) {
            for (size_t i = at; i < at + got && with; i++) {
                CU_ASSERT_EQUAL(labels[i], mc_embeddings_labels(e)[i]);
                CU_ASSERT_STRING_EQUAL(paths[i], mc_embeddings_path(e, i));
            }
            at += got;
        }
        CU_ASSERT_EQUAL(at, n);
        const float *dir = mc_embeddings_directions(e), *mag = mc_embeddings_magnitudes(e);
        double worst = 0.0;
        for (size_t i = 0; i < n * d; i++)
            worst = fmax(worst, fabs((double)rows[i] - (double)dir[i] * mag[i / d]));
        CU_ASSERT(worst < 1e-4);
        /* the longest path fills its fixed string: nothing cut */
        if (with) CU_ASSERT_STRING_EQUAL(mc_embeddings_path(e, 39), "id3/caf\xc3\xa9_09.jpg");
        mc_embeddings_free(e);
        mc_reader_free(r);
    }
    /* a nested quality key, too */
    mc_h5_read_params hp = mc_h5_read_params_default();
    hp.embeddings_key = "group/embeddings";
    hp.quality_key = "/group//meta/quality";
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(path, &hp, &e), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_quality_name(e), "group/meta/quality");
    mc_embeddings_free(e);
}

/* mc_convert h5 -> h5 and mc_import_files over two h5 inputs: rows in order. */
static void test_convert_and_import(void)
{
    const size_t n = 300, d = 9;
    float *x = awkward_rows(n, d, 5);
    int64_t lab[300];
    for (size_t i = 0; i < n; i++) lab[i] = (int64_t)(i / 10);
    CU_ASSERT_EQUAL_FATAL(write_h5(tmp("a.h5"), x, lab, NULL, 200, d, NULL), MC_OK);
    CU_ASSERT_EQUAL_FATAL(write_h5(tmp("b.h5"), x + 200 * d, lab + 200, NULL, 100, d, NULL), MC_OK);
    const char *in[2];
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", tmp("a.h5"));
    snprintf(b, sizeof b, "%s", tmp("b.h5"));
    in[0] = a;
    in[1] = b;
    uint64_t rows = 0;
    mc_reader_params rp = mc_reader_params_default();
    rp.format = MC_FMT_H5;
    CU_ASSERT_EQUAL_FATAL(mc_import_files(in, 2, &rp, tmp("ab.h5"), NULL, &rows), MC_OK);
    CU_ASSERT_EQUAL(rows, n);
    mc_reader_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(tmp("ab.h5"), NULL, &r), MC_OK);
    float *y = malloc(n * d * sizeof *y);
    int64_t l2[300];
    size_t k;
    CU_ASSERT_EQUAL(mc_reader_next(r, n, y, l2, NULL, &k), MC_OK);
    CU_ASSERT_EQUAL(k, n);
    CU_ASSERT_EQUAL(memcmp(x, y, n * d * sizeof *x), 0);
    CU_ASSERT_EQUAL(memcmp(lab, l2, sizeof lab), 0);
    CU_ASSERT_EQUAL(mc_reader_next(r, n, y, l2, NULL, &k), MC_OK);
    CU_ASSERT_EQUAL(k, 0);
    /* convert back out to h5 */
    mc_reader_free(r);
    CU_ASSERT_EQUAL_FATAL(mc_reader_open(tmp("ab.h5"), NULL, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_convert(r, tmp("ab2.h5"), NULL, &rows), MC_OK);
    CU_ASSERT_EQUAL(rows, n);
    mc_reader_free(r);
    /* inputs that disagree on D are refused and leave nothing */
    CU_ASSERT_EQUAL_FATAL(write_h5(tmp("c.h5"), x, lab, NULL, 30, d - 1, NULL), MC_OK);
    char c[512];
    snprintf(c, sizeof c, "%s", tmp("c.h5"));
    in[1] = c;
    CU_ASSERT_EQUAL(mc_import_files(in, 2, &rp, tmp("bad.h5"), NULL, &rows), MC_ERR_DIM_MISMATCH);
    CU_ASSERT_NOT_EQUAL(access(tmp("bad.h5"), F_OK), 0);
    free(y);
    free(x);
}

/* cluster -o OUT.h5: datasets, the role enum, attributes. */
static void test_result_h5(void)
{
    const float raw[] = {3, 4, 0, 0, 1, 0, 2, 0, 0};
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 3, 3, &e), MC_OK);
    const char *paths[] = {"a.jpg", "b.jpg", "c.jpg"};
    mc_embeddings_set_paths(e, paths);
    const int64_t labels[] = {7, -1, 7};
    const uint8_t roles[] = {MC_ROLE_CORE, MC_ROLE_NOISE, MC_ROLE_BORDER};
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new(3, labels, roles, &c), MC_OK);
    const mc_attr attrs[] = {{"eps", NULL, 0.5}, {"core_quality", "p30", 0}};
    const char *path = tmp("result.h5");
    CU_ASSERT_EQUAL_FATAL(mc_clustering_write_h5(c, e, path, attrs, 2), MC_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    int64_t cl[3];
    int8_t ro[3];
    float q[3];
    hid_t ds = H5Dopen2(f, "/cluster", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, cl);
    H5Dclose(ds);
    CU_ASSERT(cl[0] == 0 && cl[1] == -1 && cl[2] == 0);
    ds = H5Dopen2(f, "/role", H5P_DEFAULT);
    hid_t t = H5Dget_type(ds);
    CU_ASSERT_EQUAL(H5Tget_class(t), H5T_ENUM);
    char name[16];
    int8_t v = 1;
    CU_ASSERT(H5Tenum_nameof(t, &v, name, sizeof name) >= 0);
    CU_ASSERT_STRING_EQUAL(name, "border");
    H5Dread(ds, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, ro);
    CU_ASSERT(ro[0] == MC_ROLE_CORE && ro[1] == MC_ROLE_NOISE && ro[2] == MC_ROLE_BORDER);
    H5Tclose(t);
    H5Dclose(ds);
    ds = H5Dopen2(f, "/quality", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, q);
    H5Dclose(ds);
    CU_ASSERT_DOUBLE_EQUAL(q[0], 5.0, 1e-6);
    CU_ASSERT(H5Lexists(f, "paths", H5P_DEFAULT) > 0);
    CU_ASSERT(H5Lexists(f, "embeddings", H5P_DEFAULT) == 0); /* not copied */
    double eps = 0;
    hid_t a = H5Aopen(f, "eps", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_DOUBLE, &eps);
    H5Aclose(a);
    CU_ASSERT_DOUBLE_EQUAL(eps, 0.5, 0);
    H5Fclose(f);
    CU_ASSERT_EQUAL(mc_clustering_write_h5(c, e, "/nonexistent-dir/r.h5", NULL, 0), MC_ERR_IO);
    mc_clustering_free(c);
    mc_embeddings_free(e);
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
    add_test("format_names", test_format_names);
    add_test("h5_roundtrip", test_h5_roundtrip);
    add_test("writer_atomic", test_writer_atomic);
    add_test("writer_photos_label_names", test_writer_photos_label_names);
    add_test("h5_read_quality", test_h5_read_quality);
    add_test("h5_reader_errors", test_h5_reader_errors);
    add_test("nested_keys", test_nested_keys);
    add_test("convert_and_import", test_convert_and_import);
    add_test("result_h5", test_result_h5);
    add_test("h5_out", test_h5_out);
    add_test("cleanup", test_cleanup);
}
