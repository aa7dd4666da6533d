/* Saved models: build, file round trip and its checks, assignment rules,
 * update; assignment leaves the model and the faces alone and may run on
 * several threads at once. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "model";

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int slot;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_test_model.XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    slot = (slot + 1) % 4;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", tmpdir, name);
    return buf[slot];
}

/* Unit vector e_j (+ small noise) rows: a face of "person" j points along
 * axis j, so every similarity is known to be about 1 (same) or 0 (other). */
static float *people(size_t n, size_t d, const size_t *who, double noise, uint64_t seed)
{
    float *x = calloc(n * d, sizeof *x);
    uint64_t s = seed;
    for (size_t i = 0; x && i < n; i++) {
        for (size_t j = 0; j < d; j++) x[i * d + j] = (float)(noise * tr_gauss(&s));
        x[i * d + who[i]] += 1.0f;
    }
    return x;
}

/* 12 faces of 3 people (4 each) in 8-d; the last face of each is weak. */
typedef struct {
    mc_embeddings_t *e;
    mc_clustering_t *c;
    mc_model_t *m;
} fixture;

static void fixture_free(fixture *f)
{
    mc_model_free(f->m);
    mc_clustering_free(f->c);
    mc_embeddings_free(f->e);
}

static int make_fixture(fixture *f)
{
    memset(f, 0, sizeof *f);
    size_t n = 12, d = 8, who[12];
    int64_t lab[12];
    uint8_t role[12];
    float q[12];
    for (size_t i = 0; i < n; i++) {
        who[i] = i / 4;
        int weak = i % 4 == 3;
        lab[i] = (int64_t)(i / 4);
        role[i] = weak ? MC_ROLE_BORDER : MC_ROLE_CORE;
        q[i] = weak ? 10.0f : 30.0f;
    }
    float *x = people(n, d, who, 0.05, 3);
    char paths[12][16];
    const char *pp[12];
    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "face%zu.jpg", i);
        pp[i] = paths[i];
    }
    if (!x || mc_embeddings_new(x, n, d, &f->e) != MC_OK ||
        mc_embeddings_set_quality(f->e, q, "score") != MC_OK ||
        mc_embeddings_set_paths(f->e, pp) != MC_OK ||
        mc_clustering_new_keep_ids(n, lab, role, &f->c) != MC_OK) {
        free(x);
        return -1;
    }
    free(x);
    mc_model_params mp = mc_model_params_default();
    mp.threshold = 0.5;
    mp.k = 5;
    mp.core_q = 20.0;
    mp.noise_q = 5.0;
    mp.quality_name = "score";
    return mc_model_build(f->e, f->c, &mp, &f->m) == MC_OK ? 0 : -1;
}

static void test_build(void)
{
    fixture f;
    CU_ASSERT_EQUAL_FATAL(make_fixture(&f), 0);
    CU_ASSERT_EQUAL(mc_model_dim(f.m), 8);
    CU_ASSERT_EQUAL(mc_model_n_clusters(f.m), 3);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(f.m), 12);
    CU_ASSERT_EQUAL(mc_model_cluster_size(f.m, 0), 4);
    CU_ASSERT_EQUAL(mc_model_cluster_size(f.m, 3), 0);
    CU_ASSERT_DOUBLE_EQUAL(mc_model_threshold(f.m), 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(mc_model_core_q(f.m), 20.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(mc_model_quality_name(f.m), "score");
    CU_ASSERT_PTR_NULL(mc_model_center(f.m));
    /* no algorithm given: the default name is recorded */
    CU_ASSERT_STRING_EQUAL(mc_model_algorithm(f.m), "linkage");
    /* every face is an exemplar, with the quality it was built with (30, or 10 for every 4th) */
    const float *eq = mc_model_exemplar_quality(f.m);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eq);
    float sum = 0;
    for (size_t i = 0; i < 12; i++) sum += eq[i];
    CU_ASSERT_DOUBLE_EQUAL(sum, 9 * 30.0 + 3 * 10.0, 1e-4);
    /* a mismatch of sizes is refused */
    mc_embeddings_t *e2 = NULL;
    float one[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(one, 1, 8, &e2), MC_OK);
    mc_model_t *m2 = NULL;
    CU_ASSERT_EQUAL(mc_model_build(e2, f.c, NULL, &m2), MC_ERR_DIM_MISMATCH);
    CU_ASSERT_PTR_NULL(m2);
    CU_ASSERT_EQUAL(mc_model_build(NULL, f.c, NULL, &m2), MC_ERR_INVALID_ARG);
    mc_embeddings_free(e2);
    fixture_free(&f);
}

/* New faces: a strong and a weak face of person 1 join cluster 1 (core,
 * border); a face below the noise gate is noise; a face of a fourth person
 * is unassigned; ids are the model's. */
static mc_embeddings_t *newcomers(void)
{
    size_t who[5] = {1, 1, 2, 4, 5};
    float *x = people(5, 8, who, 0.05, 9);
    float q[5] = {30.0f, 10.0f, 2.0f, 30.0f, 30.0f};
    mc_embeddings_t *e = NULL;
    if (x && mc_embeddings_new(x, 5, 8, &e) == MC_OK) mc_embeddings_set_quality(e, q, "score");
    free(x);
    return e;
}

static void test_assign_rules(void)
{
    fixture f;
    CU_ASSERT_EQUAL_FATAL(make_fixture(&f), 0);
    mc_embeddings_t *e = newcomers();
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_clustering_t *c = NULL;
    mc_assign_stats st;
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(f.m, e, NULL, &c, &st), MC_OK);
    const int64_t *l = mc_clustering_labels(c);
    const uint8_t *r = mc_clustering_roles(c);
    CU_ASSERT_EQUAL(l[0], 1);
    CU_ASSERT_EQUAL(r[0], MC_ROLE_CORE);
    CU_ASSERT_EQUAL(l[1], 1);
    CU_ASSERT_EQUAL(r[1], MC_ROLE_BORDER);
    CU_ASSERT_EQUAL(l[2], -1);
    CU_ASSERT_EQUAL(r[2], MC_ROLE_NOISE);
    CU_ASSERT_EQUAL(l[3], -1);
    CU_ASSERT_EQUAL(r[3], MC_ROLE_UNASSIGNED);
    CU_ASSERT_EQUAL(st.n_core, 1);
    CU_ASSERT_EQUAL(st.n_border, 1);
    CU_ASSERT_EQUAL(st.n_unassigned, 2);
    CU_ASSERT_EQUAL(st.n_noise, 1);
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_UNASSIGNED), 2);
    CU_ASSERT_STRING_EQUAL(mc_role_name(MC_ROLE_UNASSIGNED), "unassigned");
    /* without update the model is unchanged */
    CU_ASSERT_EQUAL(mc_model_n_clusters(f.m), 3);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(f.m), 12);
    /* confidence against the model's clusters: the two faces of person 1
     * are sure of it (the other people are orthogonal); the noise face has
     * no margin, the unassigned ones a similarity to the nearest cluster */
    CU_ASSERT_TRUE_FATAL(mc_clustering_has_confidence(c));
    const float *sim = mc_clustering_similarities(c), *mar = mc_clustering_margins(c);
    CU_ASSERT_TRUE(sim[0] > 0.9f && mar[0] > 0.8f);
    CU_ASSERT_TRUE(sim[1] > 0.9f && mar[1] > 0.8f);
    CU_ASSERT_TRUE(isnan(mar[2]) && isnan(mar[3]));
    CU_ASSERT_TRUE(sim[3] < 0.5f);
    /* the representative of cluster 1 among the new faces; none of cluster 0 */
    int64_t rp = mc_clustering_representative(c, 1);
    CU_ASSERT_TRUE(rp == 0 || rp == 1);
    CU_ASSERT_EQUAL(mc_clustering_representative(c, 0), -1);
    mc_clustering_free(c);
    /* the collection itself: every face back in its own cluster, each as
     * similar to its centre as the clustering scored it */
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(f.m, f.e, NULL, &c, NULL), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_clustering_labels(c), mc_clustering_labels(f.c), 12 * sizeof(int64_t)), 0);
    mc_knn_params kp = mc_knn_params_default();
    kp.k = 5;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(f.e, &kp, &g), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_clustering_score(f.c, f.e, g, 1), MC_OK);
    for (size_t i = 0; i < 12; i++)
        CU_ASSERT_DOUBLE_EQUAL(mc_clustering_similarities(c)[i], mc_clustering_similarities(f.c)[i], 1e-6);
    /* the model's avatars are the clustering's representatives */
    int64_t reps[3];
    CU_ASSERT_EQUAL_FATAL(mc_model_representatives(f.m, 1, reps), MC_OK);
    for (int64_t k = 0; k < 3; k++) CU_ASSERT_EQUAL(reps[k], mc_clustering_representative(f.c, k));
    CU_ASSERT_EQUAL(mc_model_representatives(NULL, 1, reps), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_model_representatives(f.m, 1, NULL), MC_ERR_INVALID_ARG);
    mc_knn_graph_free(g);
    mc_clustering_free(c);
    /* another dimension is refused */
    mc_embeddings_t *e3 = NULL;
    float three[3] = {1, 0, 0};
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(three, 1, 3, &e3), MC_OK);
    CU_ASSERT_EQUAL(mc_model_assign(f.m, e3, NULL, &c, NULL), MC_ERR_DIM_MISMATCH);
    CU_ASSERT_PTR_NULL(c);
    mc_embeddings_free(e3);
    mc_embeddings_free(e);
    fixture_free(&f);
}

/* Update: the two unassigned strong faces of persons 4 and 5 open two new
 * clusters (ids 3 and 4); every new face becomes a reference; a second
 * assignment of the same faces then finds them. */
static void test_update(void)
{
    fixture f;
    CU_ASSERT_EQUAL_FATAL(make_fixture(&f), 0);
    mc_embeddings_t *e = newcomers();
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_clustering_t *c = NULL;
    mc_assign_stats st;
    CU_ASSERT_EQUAL_FATAL(mc_model_update(f.m, e, NULL, &c, &st), MC_OK);
    const int64_t *l = mc_clustering_labels(c);
    CU_ASSERT_EQUAL(st.n_new_clusters, 2);
    CU_ASSERT_EQUAL(st.n_new_clustered, 2);
    CU_ASSERT(l[3] >= 3 && l[4] >= 3 && l[3] != l[4]);
    CU_ASSERT_EQUAL(mc_clustering_roles(c)[3], MC_ROLE_CORE);
    CU_ASSERT_EQUAL(mc_model_n_clusters(f.m), 5);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(f.m), 17);
    CU_ASSERT_EQUAL(mc_model_cluster_size(f.m, 1), 6);
    CU_ASSERT_EQUAL(mc_model_cluster_size(f.m, (size_t)l[3]), 1);
    /* the new cluster's only face (reference face 12 + 3) is its avatar */
    int64_t reps[5];
    CU_ASSERT_EQUAL_FATAL(mc_model_representatives(f.m, 0, reps), MC_OK);
    CU_ASSERT_EQUAL(reps[l[3]], 15);
    CU_ASSERT_EQUAL(mc_model_exemplar_clusters(f.m)[reps[1]], 1);
    /* and the result's scores: the new faces against the updated model */
    CU_ASSERT_TRUE(mc_clustering_has_confidence(c));
    CU_ASSERT_EQUAL(mc_clustering_representative(c, l[3]), 3);
    CU_ASSERT_DOUBLE_EQUAL(mc_clustering_similarities(c)[3], 1.0, 1e-5); /* a cluster of one */
    int64_t l3 = l[3];
    mc_clustering_free(c);
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(f.m, e, NULL, &c, &st), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_labels(c)[3], l3);
    CU_ASSERT_EQUAL(st.n_unassigned, 0);
    mc_clustering_free(c);
    mc_embeddings_free(e);
    fixture_free(&f);
}

/* Constraints: the model's 12 faces are fixed, the 5 new faces are
 * constraint faces 12..16. */
static void test_assign_constraints(void)
{
    fixture f;
    CU_ASSERT_EQUAL_FATAL(make_fixture(&f), 0);
    mc_embeddings_t *e = newcomers();
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    mc_constraints_t *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(12 + 5, &cs), MC_OK);
    /* the two faces of person 1 are said to differ: one keeps cluster 1,
     * the other has nowhere else to go */
    CU_ASSERT_EQUAL(mc_constraints_add_different(cs, 12, 13, "t: 1"), MC_OK);
    /* the face of person 4 is said to be model face 0's person */
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 15, 0, "t: 2"), MC_OK);
    /* the face of person 5 is named */
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 16, "Zed", "t: 3"), MC_OK);
    /* two faces of the model, in one cluster, said to differ: they may not move */
    CU_ASSERT_EQUAL(mc_constraints_add_different(cs, 0, 1, "t: 4"), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_constraints_check(cs), MC_OK);
    mc_assign_params ap = mc_assign_params_default();
    ap.constraints = cs;
    mc_clustering_t *c = NULL;
    mc_assign_stats st;
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(f.m, e, &ap, &c, &st), MC_OK);
    const int64_t *l = mc_clustering_labels(c);
    const uint8_t *r = mc_clustering_roles(c);
    CU_ASSERT((l[0] == 1) + (l[1] == 1) == 1);
    CU_ASSERT(l[0] == -1 ? r[0] == MC_ROLE_UNASSIGNED : r[1] == MC_ROLE_UNASSIGNED);
    CU_ASSERT_EQUAL(l[3], 0);
    CU_ASSERT_EQUAL(r[3], MC_ROLE_BORDER);
    CU_ASSERT_EQUAL(l[4], -1); /* named, but no cluster is opened without update */
    CU_ASSERT_EQUAL(st.constraints.violations, 1); /* resolved ones */
    CU_ASSERT_EQUAL(st.constraints.unresolved, 1);
    CU_ASSERT_EQUAL(st.constraints.gathered, 1);
    CU_ASSERT_EQUAL(st.n_unassigned, 2);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(f.m), 12);
    mc_clustering_free(c);
    /* with update: the named face's cluster carries the name, in the result
     * and in the model */
    CU_ASSERT_EQUAL_FATAL(mc_model_update(f.m, e, &ap, &c, &st), MC_OK);
    l = mc_clustering_labels(c);
    CU_ASSERT_FATAL(l[4] >= 3);
    CU_ASSERT_EQUAL(l[3], 0);
    CU_ASSERT_NOT_EQUAL(l[0], l[1]);
    CU_ASSERT_STRING_EQUAL(mc_clustering_name(c, l[4]), "Zed");
    CU_ASSERT_STRING_EQUAL(mc_model_cluster_name(f.m, (size_t)l[4]), "Zed");
    CU_ASSERT_PTR_NULL(mc_model_cluster_name(f.m, 0));
    CU_ASSERT_EQUAL(mc_model_n_exemplars(f.m), 17);
    /* the names survive the file */
    CU_ASSERT_EQUAL_FATAL(mc_model_write_h5(f.m, tmp("named.h5")), MC_OK);
    mc_model_t *m2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_model_read_h5(tmp("named.h5"), &m2), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_model_cluster_name(m2, (size_t)l[4]), "Zed");
    CU_ASSERT_PTR_NULL(mc_model_cluster_name(m2, 1));
    mc_model_free(m2);
    mc_clustering_free(c);
    /* constraints over the wrong number of faces are refused */
    mc_constraints_t *small = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(5, &small), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_constraints_check(small), MC_OK);
    ap.constraints = small;
    CU_ASSERT_EQUAL(mc_model_update(f.m, e, &ap, &c, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(mc_model_assign(f.m, e, &ap, &c, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(c);
    mc_constraints_free(small);
    mc_constraints_free(cs);
    mc_embeddings_free(e);
    fixture_free(&f);
}

/* mc_model_constraints_new: the model's names and ids, a corrections file
 * over the model's paths and the new ones. */
static void test_model_constraints(void)
{
    fixture f;
    CU_ASSERT_EQUAL_FATAL(make_fixture(&f), 0);
    const char *names[3] = {"Ann", NULL, "Cy"};
    CU_ASSERT_EQUAL_FATAL(mc_clustering_set_names(f.c, names), MC_OK);
    mc_model_t *m = NULL;
    mc_model_params mp = mc_model_params_default();
    mp.threshold = 0.5;
    mp.k = 5;
    mp.core_q = 20.0;
    mp.noise_q = 5.0;
    mp.quality_name = "score";
    CU_ASSERT_EQUAL_FATAL(mc_model_build(f.e, f.c, &mp, &m), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_model_cluster_name(m, 0), "Ann");
    CU_ASSERT_PTR_NULL(mc_model_cluster_name(m, 1));
    CU_ASSERT_STRING_EQUAL(mc_model_exemplar_path(m, 3), "face3.jpg");
    CU_ASSERT_EQUAL(mc_model_exemplar_clusters(m)[5], 1);
    mc_embeddings_t *e = newcomers();
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    const char *np[5] = {"new0.jpg", "new1.jpg", "new2.jpg", "new3.jpg", "new4.jpg"};
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_set_paths(e, np), MC_OK);
    FILE *fp = fopen(tmp("fix.csv"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    /* new3 (person 4) is Ann; new0 (person 1) is not cluster 1's person;
     * new4 is a new person, Bo */
    fputs("path,person\nnew3.jpg,Ann\nnew0.jpg,!1\nnew4.jpg,Bo\n", fp);
    fclose(fp);
    mc_constraints_t *cs = NULL;
    mc_corrections_info info;
    CU_ASSERT_EQUAL_FATAL(mc_model_constraints_new(m, e, tmp("fix.csv"), &cs, &info), MC_OK);
    CU_ASSERT_EQUAL(info.lines, 3);
    CU_ASSERT_EQUAL(mc_constraints_n(cs), 17);
    mc_assign_params ap = mc_assign_params_default();
    ap.constraints = cs;
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(m, e, &ap, &c, NULL), MC_OK);
    const int64_t *l = mc_clustering_labels(c);
    CU_ASSERT_EQUAL(l[3], 0);
    CU_ASSERT_STRING_EQUAL(mc_clustering_name(c, 0), "Ann");
    CU_ASSERT_NOT_EQUAL(l[0], 1);
    CU_ASSERT_EQUAL(l[1], 1); /* the weak face of person 1 is not corrected */
    mc_clustering_free(c);
    mc_constraints_free(cs);
    /* renaming a named cluster's best face is a contradiction */
    fp = fopen(tmp("rename.csv"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs("face0.jpg,Zoe\n", fp);
    fclose(fp);
    CU_ASSERT_EQUAL(mc_model_constraints_new(m, e, tmp("rename.csv"), &cs, NULL), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "the model's name for cluster 0"));
    CU_ASSERT_PTR_NULL(cs);
    mc_model_free(m);
    mc_embeddings_free(e);
    fixture_free(&f);
}

static void test_file_round_trip(void)
{
    fixture f;
    CU_ASSERT_EQUAL_FATAL(make_fixture(&f), 0);
    const char *path = tmp("m.h5");
    CU_ASSERT_EQUAL_FATAL(mc_model_write_h5(f.m, path), MC_OK);
    mc_model_t *m = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_model_read_h5(path, &m), MC_OK);
    CU_ASSERT_EQUAL(mc_model_n_clusters(m), 3);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(m), 12);
    CU_ASSERT_DOUBLE_EQUAL(mc_model_core_q(m), 20.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(mc_model_noise_q(m), 5.0, 1e-12);
    CU_ASSERT_STRING_EQUAL(mc_model_quality_name(m), "score");
    /* the read model places faces as the original does */
    mc_embeddings_t *e = newcomers();
    mc_clustering_t *c1 = NULL, *c2 = NULL;
    CU_ASSERT_EQUAL(mc_model_assign(f.m, e, NULL, &c1, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_model_assign(m, e, NULL, &c2, NULL), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_clustering_labels(c1), mc_clustering_labels(c2), 5 * sizeof(int64_t)), 0);
    CU_ASSERT_EQUAL(memcmp(mc_clustering_roles(c1), mc_clustering_roles(c2), 5), 0);
    /* an updated model round-trips too (new clusters, gates off) */
    mc_clustering_free(c2);
    CU_ASSERT_EQUAL(mc_model_update(m, e, NULL, &c2, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_model_write_h5(m, path), MC_OK);
    mc_model_free(m);
    CU_ASSERT_EQUAL_FATAL(mc_model_read_h5(path, &m), MC_OK);
    CU_ASSERT_EQUAL(mc_model_n_clusters(m), 5);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(m), 17);
    mc_model_free(m);
    mc_clustering_free(c1);
    mc_clustering_free(c2);
    mc_embeddings_free(e);
    fixture_free(&f);
}

/* Writes a copy of a good model file, then lets edit() break it. */
static const char *broken(const char *name, void (*edit)(hid_t f))
{
    fixture fx;
    if (make_fixture(&fx) != 0) return NULL;
    const char *path = tmp(name);
    unlink(path);
    mc_status st = mc_model_write_h5(fx.m, path);
    fixture_free(&fx);
    if (st != MC_OK) return NULL;
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return NULL;
    edit(f);
    H5Fclose(f);
    return path;
}

static void set_str_attr(hid_t f, const char *name, const char *v)
{
    hid_t g = H5Gopen2(f, "model", H5P_DEFAULT);
    H5Adelete(g, name);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(g);
}

static void edit_format(hid_t f) { set_str_attr(f, "format", "magclust-knn"); }

static void edit_version(hid_t f)
{
    hid_t g = H5Gopen2(f, "model", H5P_DEFAULT);
    H5Adelete(g, "version");
    int32_t v = 9;
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, "version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, &v);
    H5Aclose(a);
    H5Sclose(sp);
    H5Gclose(g);
}

static void edit_drop_role(hid_t f) { H5Ldelete(f, "model/exemplars/role", H5P_DEFAULT); }

static void edit_bad_cluster(hid_t f)
{
    hid_t ds = H5Dopen2(f, "model/exemplars/cluster", H5P_DEFAULT);
    int64_t v[12];
    H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    v[5] = 99;
    H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
}

static void edit_nan_mean(hid_t f)
{
    hid_t ds = H5Dopen2(f, "model/clusters/mean", H5P_DEFAULT);
    float v[24];
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    v[9] = NAN;
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
}

/* a centring vector with a NaN: new faces would be left uncentred */
static void edit_nan_center(hid_t f)
{
    if (H5Lexists(f, "model/center", H5P_DEFAULT) > 0) H5Ldelete(f, "model/center", H5P_DEFAULT);
    float v[8] = {0.1f, 0.0f, NAN, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    hsize_t dim = 8;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    hid_t ds = H5Dcreate2(f, "model/center", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
    H5Sclose(sp);
}

static void edit_nan_quality(hid_t f)
{
    hid_t ds = H5Dopen2(f, "model/exemplars/quality", H5P_DEFAULT);
    float v[12];
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    v[3] = NAN;
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(ds);
}

static void test_file_errors(void)
{
    struct {
        const char *name;
        void (*edit)(hid_t);
        mc_status want;
        const char *detail;
    } cases[] = {
        {"format.h5", edit_format, MC_ERR_BAD_DATA, "not a magclust model"},
        {"version.h5", edit_version, MC_ERR_BAD_DATA, "version 9"},
        {"role.h5", edit_drop_role, MC_ERR_BAD_DATA, "exemplars/role"},
        {"cluster.h5", edit_bad_cluster, MC_ERR_BAD_DATA, "cluster 99"},
        {"nan.h5", edit_nan_mean, MC_ERR_BAD_DATA, "non-finite mean"},
        {"nan_center.h5", edit_nan_center, MC_ERR_BAD_DATA, "/model/center has a non-finite value"},
        {"nan_quality.h5", edit_nan_quality, MC_ERR_BAD_DATA, "reference face 3 has a NaN quality"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *path = broken(cases[i].name, cases[i].edit);
        CU_ASSERT_PTR_NOT_NULL_FATAL(path);
        mc_model_t *m = NULL;
        CU_ASSERT_EQUAL(mc_model_read_h5(path, &m), cases[i].want);
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), cases[i].detail));
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), path));
        CU_ASSERT_PTR_NULL(m);
    }
    mc_model_t *m = NULL;
    CU_ASSERT_EQUAL(mc_model_read_h5(tmp("missing.h5"), &m), MC_ERR_IO);
    /* a k-NN graph file is not a model */
    FILE *fp = fopen(tmp("text.h5"), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs("not hdf5\n", fp);
    fclose(fp);
    CU_ASSERT_EQUAL(mc_model_read_h5(tmp("text.h5"), &m), MC_ERR_HDF5);
    CU_ASSERT_PTR_NULL(m);
}

/* 1 when the two files hold the same bytes. */
static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = getc(fa), cb = getc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

/* The fixture's clustering as a model centred by ctr (its directions taken
 * as centred already), and the same model without centring. */
static const float ctr8[8] = {0.08f, -0.05f, 0.03f, 0.06f, -0.02f, 0.04f, 0.01f, -0.07f};

static int centred_models(const fixture *f, mc_model_t **centred, mc_model_t **plain)
{
    mc_model_params mp = mc_model_params_default();
    mp.threshold = 0.5;
    mp.k = 5;
    mp.core_q = 20.0;
    mp.noise_q = 5.0;
    mp.quality_name = "score";
    if (mc_model_build(f->e, f->c, &mp, plain) != MC_OK) return -1;
    mp.center = ctr8;
    return mc_model_build(f->e, f->c, &mp, centred) == MC_OK ? 0 : -1;
}

/* mc_model_assign centres a private copy by the model's vector: the faces'
 * directions and the model stay byte for byte as they were, and the result
 * is what centring by hand and assigning with an uncentred model gives;
 * faces centred already are refused by a centred model. mc_model_update
 * leaves the faces alone too. */
static void test_assign_const(void)
{
    fixture f;
    CU_ASSERT_EQUAL_FATAL(make_fixture(&f), 0);
    mc_model_t *mc = NULL, *m0 = NULL;
    CU_ASSERT_EQUAL_FATAL(centred_models(&f, &mc, &m0), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mc_model_center(mc));
    mc_embeddings_t *e = newcomers(), *e2 = newcomers();
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e2);
    float before[5 * 8];
    memcpy(before, mc_embeddings_directions(e), sizeof before);
    CU_ASSERT_EQUAL_FATAL(mc_model_write_h5(mc, tmp("const_before.h5")), MC_OK);
    mc_clustering_t *c1 = NULL, *c2 = NULL;
    mc_assign_stats s1, s2;
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(mc, e, NULL, &c1, &s1), MC_OK);
    /* the faces: untouched, and not marked centred */
    CU_ASSERT_EQUAL(memcmp(before, mc_embeddings_directions(e), sizeof before), 0);
    CU_ASSERT_FALSE(mc_embeddings_is_centered(e));
    /* the model: the same bytes in its file */
    CU_ASSERT_EQUAL_FATAL(mc_model_write_h5(mc, tmp("const_after.h5")), MC_OK);
    CU_ASSERT_TRUE(same_file(tmp("const_before.h5"), tmp("const_after.h5")));
    CU_ASSERT_EQUAL(mc_model_n_clusters(mc), 3);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(mc), 12);
    /* the same as centring by hand (which does move the faces) */
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_center_by(e2, ctr8), MC_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(before, mc_embeddings_directions(e2), sizeof before), 0);
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(m0, e2, NULL, &c2, &s2), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_clustering_labels(c1), mc_clustering_labels(c2), 5 * sizeof(int64_t)), 0);
    CU_ASSERT_EQUAL(memcmp(mc_clustering_roles(c1), mc_clustering_roles(c2), 5), 0);
    CU_ASSERT_EQUAL(s1.n_core, s2.n_core);
    CU_ASSERT_EQUAL(s1.n_unassigned, s2.n_unassigned);
    CU_ASSERT_EQUAL(s1.n_core + s1.n_border + s1.n_unassigned + s1.n_noise, 5);
    mc_clustering_free(c1);
    mc_clustering_free(c2);
    /* centring twice is refused, and the model is still the same */
    c1 = NULL;
    CU_ASSERT_EQUAL(mc_model_assign(mc, e2, NULL, &c1, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(c1);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "centred already"));
    /* an update stores the centred faces, leaves e alone, and matches the
     * update of the uncentred model with faces centred by hand */
    CU_ASSERT_EQUAL_FATAL(mc_model_update(mc, e, NULL, &c1, &s1), MC_OK);
    CU_ASSERT_EQUAL(memcmp(before, mc_embeddings_directions(e), sizeof before), 0);
    CU_ASSERT_FALSE(mc_embeddings_is_centered(e));
    CU_ASSERT_EQUAL_FATAL(mc_model_update(m0, e2, NULL, &c2, &s2), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_clustering_labels(c1), mc_clustering_labels(c2), 5 * sizeof(int64_t)), 0);
    CU_ASSERT_EQUAL(memcmp(mc_clustering_roles(c1), mc_clustering_roles(c2), 5), 0);
    CU_ASSERT_EQUAL(s1.n_new_clusters, s2.n_new_clusters);
    CU_ASSERT_EQUAL(mc_model_n_clusters(mc), mc_model_n_clusters(m0));
    CU_ASSERT_EQUAL(mc_model_n_exemplars(mc), 17);
    for (size_t c = 0; c < mc_model_n_clusters(mc); c++)
        CU_ASSERT_EQUAL(mc_model_cluster_size(mc, c), mc_model_cluster_size(m0, c));
    mc_clustering_free(c1);
    mc_clustering_free(c2);
    /* after the update the centred model places the raw faces as the plain
     * one places the hand-centred faces (the stored faces agree) */
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(mc, e, NULL, &c1, NULL), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_model_assign(m0, e2, NULL, &c2, NULL), MC_OK);
    CU_ASSERT_EQUAL(memcmp(mc_clustering_labels(c1), mc_clustering_labels(c2), 5 * sizeof(int64_t)), 0);
    mc_clustering_free(c1);
    mc_clustering_free(c2);
    mc_embeddings_free(e);
    mc_embeddings_free(e2);
    mc_model_free(mc);
    mc_model_free(m0);
    fixture_free(&f);
}

/* Many faces of 24 people in 32-d; people 20..23 are new to the model, and
 * a fifth of the faces are weak (border in the model, low quality). */
#define TH_PEOPLE 24
#define TH_D 32

static mc_embeddings_t *crowd(size_t n, size_t n_people, uint64_t seed)
{
    size_t *who = malloc(n * sizeof *who);
    float *q = malloc(n * sizeof *q);
    float *x = NULL;
    mc_embeddings_t *e = NULL;
    if (who && q) {
        uint64_t s = seed;
        for (size_t i = 0; i < n; i++) {
            who[i] = (size_t)(tr_next(&s) % n_people);
            q[i] = i % 5 == 4 ? 10.0f : 30.0f;
        }
        x = people(n, TH_D, who, 0.25, seed + 1);
    }
    if (x && mc_embeddings_new(x, n, TH_D, &e) == MC_OK &&
        mc_embeddings_set_quality(e, q, "score") != MC_OK) {
        mc_embeddings_free(e);
        e = NULL;
    }
    free(x);
    free(who);
    free(q);
    return e;
}

typedef struct {
    const mc_model_t *m;
    const mc_embeddings_t *e;
    const mc_assign_params *ap;
    const mc_clustering_t *want;
    int rounds;
    int failures; /* calls that failed or differed from want */
} assign_job;

static void *assign_rounds(void *arg)
{
    assign_job *j = arg;
    size_t n = mc_embeddings_n(j->e);
    for (int r = 0; r < j->rounds; r++) {
        mc_clustering_t *c = NULL;
        if (mc_model_assign(j->m, j->e, j->ap, &c, NULL) != MC_OK ||
            memcmp(mc_clustering_labels(c), mc_clustering_labels(j->want), n * sizeof(int64_t)) != 0 ||
            memcmp(mc_clustering_roles(c), mc_clustering_roles(j->want), n) != 0)
            j->failures++;
        mc_clustering_free(c);
    }
    return NULL;
}

/* Two threads assigning with one model at once get what one thread gets
 * alone (with constraints, and whatever their own thread counts), and the
 * model is unchanged. */
static void test_assign_threads(void)
{
    size_t n0 = 600, n = 300;
    mc_embeddings_t *e0 = crowd(n0, TH_PEOPLE - 4, 11), *e = crowd(n, TH_PEOPLE, 12);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    /* the model's clusters: faces by person (argmax axis), weak ones border */
    int64_t *lab = malloc(n0 * sizeof *lab);
    uint8_t *role = malloc(n0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lab);
    CU_ASSERT_PTR_NOT_NULL_FATAL(role);
    const float *dir = mc_embeddings_directions(e0);
    for (size_t i = 0; i < n0; i++) {
        size_t best = 0;
        for (size_t j = 1; j < TH_D; j++)
            if (dir[i * TH_D + j] > dir[i * TH_D + best]) best = j;
        lab[i] = (int64_t)best;
        role[i] = i % 5 == 4 ? MC_ROLE_BORDER : MC_ROLE_CORE;
    }
    mc_clustering_t *c0 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new_keep_ids(n0, lab, role, &c0), MC_OK);
    free(lab);
    free(role);
    mc_model_params mp = mc_model_params_default();
    mp.threshold = 0.6;
    mp.k = 10;
    mp.core_q = 20.0;
    mp.noise_q = 5.0;
    mp.quality_name = "score";
    float ctr[TH_D] = {0}; /* a centred model: ctr8, then zeros */
    memcpy(ctr, ctr8, sizeof ctr8);
    mp.center = ctr;
    mc_model_t *m = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_model_build(e0, c0, &mp, &m), MC_OK);
    /* constraints over E + n: two new faces may not meet */
    mc_constraints_t *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(n0 + n, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_different(cs, n0 + 0, n0 + 1, "t"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_different(cs, n0 + 2, 3, "t"), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_constraints_check(cs), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_model_write_h5(m, tmp("threads_before.h5")), MC_OK);
    mc_assign_params ap[2] = {mc_assign_params_default(), mc_assign_params_default()};
    ap[0].n_threads = 1;
    ap[1].n_threads = 2;
    for (int withc = 0; withc < 2; withc++) {
        ap[0].constraints = ap[1].constraints = withc ? cs : NULL;
        mc_clustering_t *want = NULL;
        mc_assign_stats st;
        CU_ASSERT_EQUAL_FATAL(mc_model_assign(m, e, &ap[0], &want, &st), MC_OK);
        /* a sensible mix, not everything in one place */
        CU_ASSERT(st.n_core > 0 && st.n_border > 0 && st.n_unassigned > 0);
        assign_job jobs[2];
        pthread_t th[2];
        for (int t = 0; t < 2; t++) {
            jobs[t] = (assign_job){m, e, &ap[t], want, 8, 0};
            CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, assign_rounds, &jobs[t]), 0);
        }
        for (int t = 0; t < 2; t++) CU_ASSERT_EQUAL(pthread_join(th[t], NULL), 0);
        CU_ASSERT_EQUAL(jobs[0].failures, 0);
        CU_ASSERT_EQUAL(jobs[1].failures, 0);
        mc_clustering_free(want);
    }
    CU_ASSERT_EQUAL_FATAL(mc_model_write_h5(m, tmp("threads_after.h5")), MC_OK);
    CU_ASSERT_TRUE(same_file(tmp("threads_before.h5"), tmp("threads_after.h5")));
    mc_constraints_free(cs);
    mc_model_free(m);
    mc_clustering_free(c0);
    mc_embeddings_free(e);
    mc_embeddings_free(e0);
}

/* mc_model_update refuses what mc_model_assign refuses, before it changes
 * anything: the model's file stays the same bytes and stats are not
 * written. */
static void test_update_refusals(void)
{
    fixture f;
    CU_ASSERT_EQUAL_FATAL(make_fixture(&f), 0);
    mc_model_t *mc = NULL, *m0 = NULL;
    CU_ASSERT_EQUAL_FATAL(centred_models(&f, &mc, &m0), 0);
    mc_embeddings_t *e = newcomers();
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL_FATAL(mc_model_write_h5(mc, tmp("refuse_before.h5")), MC_OK);
    mc_clustering_t *c = NULL;
    mc_assign_stats st;
    memset(&st, 0xab, sizeof st);
    mc_assign_stats untouched = st;
    /* NULL arguments */
    CU_ASSERT_EQUAL(mc_model_update(NULL, e, NULL, &c, &st), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "mc_model_update"));
    CU_ASSERT_EQUAL(mc_model_update(mc, NULL, NULL, &c, &st), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_model_update(mc, e, NULL, NULL, &st), MC_ERR_INVALID_ARG);
    /* another dimension */
    mc_embeddings_t *e3 = NULL;
    float three[3] = {1, 0, 0};
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(three, 1, 3, &e3), MC_OK);
    static char sentinel;
    c = (mc_clustering_t *)(void *)&sentinel; /* the call sets it to NULL */
    CU_ASSERT_EQUAL(mc_model_update(mc, e3, NULL, &c, &st), MC_ERR_DIM_MISMATCH);
    CU_ASSERT_PTR_NULL(c);
    /* constraints over another number of faces */
    mc_constraints_t *small = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(12, &small), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_constraints_check(small), MC_OK);
    mc_assign_params ap = mc_assign_params_default();
    ap.constraints = small;
    CU_ASSERT_EQUAL(mc_model_update(mc, e, &ap, &c, &st), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "constraints are over 12 faces"));
    /* faces centred already, with a centred model */
    mc_embeddings_t *ec = newcomers();
    CU_ASSERT_PTR_NOT_NULL_FATAL(ec);
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_center_by(ec, ctr8), MC_OK);
    CU_ASSERT_EQUAL(mc_model_update(mc, ec, NULL, &c, &st), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "mc_model_update: the faces were centred already"));
    /* nothing changed */
    CU_ASSERT_EQUAL(memcmp(&st, &untouched, sizeof st), 0);
    CU_ASSERT_EQUAL(mc_model_n_clusters(mc), 3);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(mc), 12);
    CU_ASSERT_EQUAL_FATAL(mc_model_write_h5(mc, tmp("refuse_after.h5")), MC_OK);
    CU_ASSERT_TRUE(same_file(tmp("refuse_before.h5"), tmp("refuse_after.h5")));
    /* an uncentred model takes centred faces as they are (nothing to
     * centre twice) */
    CU_ASSERT_EQUAL(mc_model_update(m0, ec, NULL, &c, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_model_n_exemplars(m0), 17);
    mc_clustering_free(c);
    mc_constraints_free(small);
    mc_embeddings_free(ec);
    mc_embeddings_free(e3);
    mc_embeddings_free(e);
    mc_model_free(mc);
    mc_model_free(m0);
    fixture_free(&f);
}

void mc_test_register(void)
{
    add_test("build", test_build);
    add_test("assign_rules", test_assign_rules);
    add_test("update", test_update);
    add_test("assign_constraints", test_assign_constraints);
    add_test("model_constraints", test_model_constraints);
    add_test("file_round_trip", test_file_round_trip);
    add_test("file_errors", test_file_errors);
    add_test("assign_const", test_assign_const);
    add_test("assign_threads", test_assign_threads);
    add_test("update_refusals", test_update_refusals);
}
