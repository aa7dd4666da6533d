/* The clustering recipe (cluster.h): it equals its steps done by hand, the
 * defaults per algorithm, fixed thresholds, prepare + again, constraints,
 * thread independence, and every refusal. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magclust/magclust.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "cluster";

enum { N = 600, D = 24, CENTERS = 30 };

/* A fresh copy of the same faces (the recipe centres them in place). */
static mc_embeddings_t *faces(void)
{
    float *raw = tr_blobs(N, D, CENTERS, 0.35, 7);
    mc_embeddings_t *e = NULL;
    CU_ASSERT_FATAL(raw != NULL);
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, N, D, &e), MC_OK);
    free(raw);
    return e;
}

static int same_labels(const mc_clustering_t *a, const mc_clustering_t *b)
{
    return mc_clustering_n(a) == mc_clustering_n(b) &&
           memcmp(mc_clustering_labels(a), mc_clustering_labels(b), mc_clustering_n(a) * sizeof(int64_t)) == 0 &&
           memcmp(mc_clustering_roles(a), mc_clustering_roles(b), mc_clustering_n(a)) == 0;
}

static void test_names_and_defaults(void)
{
    mc_algo a;
    CU_ASSERT_EQUAL(mc_algo_parse("cw", &a), MC_OK);
    CU_ASSERT_EQUAL(a, MC_ALGO_CW);
    CU_ASSERT_EQUAL(mc_algo_parse("kmeans", &a), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "kmeans"));
    CU_ASSERT_EQUAL(mc_algo_parse(NULL, &a), MC_ERR_INVALID_ARG);
    CU_ASSERT_STRING_EQUAL(mc_algo_name(MC_ALGO_DBSCAN), "dbscan");
    CU_ASSERT_STRING_EQUAL(mc_algo_name(MC_ALGO_LINKAGE), "linkage");
    CU_ASSERT_STRING_EQUAL(mc_algo_name((mc_algo)9), "unknown");
    CU_ASSERT_EQUAL(mc_algo_parse("map", &a), MC_OK);
    CU_ASSERT_EQUAL(a, MC_ALGO_MAP);
    CU_ASSERT_STRING_EQUAL(mc_algo_name(MC_ALGO_MAP), "map");
    mc_cluster_params m = mc_cluster_params_default(MC_ALGO_MAP);
    CU_ASSERT_DOUBLE_EQUAL(m.core_slope, 85.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(m.threshold.attach_frac, 0.45, 0);
    CU_ASSERT_DOUBLE_EQUAL(m.threshold.attach_z, 2.5, 0);
    CU_ASSERT_EQUAL(m.map.cut, mc_map_params_default().cut);
    CU_ASSERT_DOUBLE_EQUAL(mc_cluster_params_default(MC_ALGO_LINKAGE).core_slope, 0.0, 0);

    mc_cluster_params l = mc_cluster_params_default(MC_ALGO_LINKAGE);
    mc_cluster_params c = mc_cluster_params_default(MC_ALGO_CW);
    mc_cluster_params d = mc_cluster_params_default(MC_ALGO_DBSCAN);
    CU_ASSERT_EQUAL(l.algo, MC_ALGO_LINKAGE);
    CU_ASSERT_EQUAL(d.algo, MC_ALGO_DBSCAN);
    CU_ASSERT_EQUAL(l.threshold.mode, MC_THRESHOLD_AUTO);
    CU_ASSERT_DOUBLE_EQUAL(l.threshold.frac, 0.45, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(l.threshold.z, 2.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.threshold.frac, 0.55, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.threshold.z, 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(d.threshold.frac, 0.60, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(d.threshold.z, 3.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.threshold.ungated_frac, 0.65, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(d.threshold.ungated_frac, 0.80, 1e-12);
    CU_ASSERT_TRUE(isnan(mc_cluster_params_default(MC_ALGO_MAP).threshold.ungated_frac));
    CU_ASSERT_TRUE(isnan(l.threshold.ungated_frac));
    CU_ASSERT_EQUAL(l.core_quality.kind, MC_THRESH_PERCENTILE);
    CU_ASSERT_DOUBLE_EQUAL(l.core_quality.value, 50.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.core_quality.value, 30.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(d.core_quality.value, 30.0, 0);
    CU_ASSERT_EQUAL(l.noise_quality.kind, MC_THRESH_OFF);
    CU_ASSERT_EQUAL(l.center, 1);
    CU_ASSERT_EQUAL(l.knn.k, mc_knn_params_default().k);
    CU_ASSERT_EQUAL(d.min_samples, mc_dbscan_params_default().min_samples);
    CU_ASSERT_EQUAL(c.seed, mc_cw_params_default().seed);
    CU_ASSERT_EQUAL(c.iterations, mc_cw_params_default().iterations);
    CU_ASSERT_EQUAL(l.linkage, MC_LINKAGE_AVERAGE);
    CU_ASSERT_PTR_NULL(l.corrections);
    CU_ASSERT_PTR_NULL(l.previous);
}

/* The recipe equals its steps done by hand with the public modules. */
static void test_equals_steps(void)
{
    for (int a = 0; a < MC_ALGO_COUNT; a++) {
        mc_embeddings_t *e1 = faces(), *e2 = faces();
        mc_cluster_params p = mc_cluster_params_default((mc_algo)a);
        mc_cluster_result_t *r = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e1, NULL, &p, &r), MC_OK);
        CU_ASSERT_TRUE(mc_embeddings_is_centered(e1));

        /* by hand */
        const float *q = mc_embeddings_quality(e2);
        mc_calibrate_params cp = mc_calibrate_params_default();
        double gate = mc_threshold_resolve(&cp.sample_quality, q, N);
        cp.sample_quality = (mc_threshold){MC_THRESH_ABSOLUTE, gate};
        float mean[D];
        double shift;
        CU_ASSERT_EQUAL_FATAL(mc_embeddings_center_ex(e2, q, gate, &shift, mean), MC_OK);
        mc_knn_graph_t *g = NULL;
        mc_knn_params kp = mc_knn_params_default();
        kp.k = a == MC_ALGO_MAP ? 60 : 30; /* map's default k */
        CU_ASSERT_EQUAL(p.knn.k, kp.k);
        CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e2, &kp, &g), MC_OK);
        mc_calibration cal;
        CU_ASSERT_EQUAL_FATAL(mc_calibrate(e2, q, g, &cp, &cal), MC_OK);
        double t = mc_calibration_threshold(&cal, p.threshold.frac, p.threshold.z);
        mc_clustering_t *c = NULL;
        double cq = 0, nq = 0;
        if (a == MC_ALGO_LINKAGE) {
            mc_linkage_params lp = mc_linkage_params_default();
            lp.threshold = t;
            lp.core_quality = p.core_quality;
            CU_ASSERT_EQUAL_FATAL(mc_linkage_run(g, q, &lp, &c, &cq, &nq), MC_OK);
        } else if (a == MC_ALGO_CW) {
            mc_cw_params wp = mc_cw_params_default();
            wp.threshold = t;
            CU_ASSERT_EQUAL_FATAL(mc_cw_run(g, q, &wp, &c, &cq, &nq), MC_OK);
        } else if (a == MC_ALGO_MAP) {
            /* the gate follows the quality check: percentile round(85 rho)
             * when informative; faces join modules from outside at the
             * threshold linkage's constants give */
            mc_quality_check_result qc;
            CU_ASSERT_EQUAL_FATAL(mc_quality_check(g, q, &qc), MC_OK);
            mc_map_params mp = mc_map_params_default();
            mp.threshold = t;
            double ta = mc_calibration_threshold(&cal, 0.45, 2.5);
            mp.attach_threshold = ta < t ? ta : t;
            if (qc.informative) {
                mp.core_quality.kind = MC_THRESH_PERCENTILE;
                mp.core_quality.value = round(85.0 * qc.rho);
                CU_ASSERT_EQUAL(mc_cluster_result_info(r)->core_quality.kind, MC_THRESH_PERCENTILE);
                CU_ASSERT_DOUBLE_EQUAL(mc_cluster_result_info(r)->core_quality.value,
                                       mp.core_quality.value, 0);
            } else {
                mp.core_quality = mc_threshold_off();
            }
            CU_ASSERT_DOUBLE_EQUAL(mc_cluster_result_info(r)->attach_threshold, mp.attach_threshold, 0);
            CU_ASSERT(mp.attach_threshold <= t);
            mc_map_info mi;
            CU_ASSERT_EQUAL_FATAL(mc_map_run(g, q, &mp, &c, &mi), MC_OK);
            cq = mi.core_q;
            nq = mi.noise_q;
            CU_ASSERT_EQUAL(mi.modules, mc_cluster_result_info(r)->map.modules);
            CU_ASSERT_EQUAL(mi.codelength, mc_cluster_result_info(r)->map.codelength);
        } else {
            mc_dbscan_params dp = mc_dbscan_params_default();
            dp.eps = 1.0 - t;
            CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(g, q, &dp, &c, &cq, &nq), MC_OK);
        }
        const mc_cluster_info *in = mc_cluster_result_info(r);
        CU_ASSERT_TRUE(same_labels(c, mc_cluster_result_clustering(r)));
        CU_ASSERT_TRUE(mc_clustering_n_clusters(c) >= 10);
        CU_ASSERT_EQUAL(in->algo, (mc_algo)a);
        CU_ASSERT_EQUAL(in->threshold_mode, MC_THRESHOLD_AUTO);
        CU_ASSERT_DOUBLE_EQUAL(in->threshold, t, 0);
        CU_ASSERT_DOUBLE_EQUAL(in->calibration.median, cal.median, 0);
        CU_ASSERT_DOUBLE_EQUAL(in->calibration.nn_median, cal.nn_median, 0);
        CU_ASSERT_DOUBLE_EQUAL(in->core_q, cq, 0);
        CU_ASSERT_EQUAL(in->noise_q, -INFINITY);
        CU_ASSERT_TRUE(in->centered);
        CU_ASSERT_DOUBLE_EQUAL(in->center_shift, shift, 0);
        CU_ASSERT_EQUAL(memcmp(mc_cluster_result_center(r), mean, sizeof mean), 0);
        CU_ASSERT_EQUAL(in->k, kp.k);
        CU_ASSERT_STRING_EQUAL(in->knn.index, "Flat");
        CU_ASSERT_FALSE(in->graph_given);
        CU_ASSERT_FALSE(in->constraints_applied);
        CU_ASSERT_TRUE(in->t_prepare >= 0.0 && in->t_cluster >= 0.0);
        CU_ASSERT_EQUAL(memcmp(mc_knn_graph_ids(mc_cluster_result_graph(r)), mc_knn_graph_ids(g),
                               N * kp.k * sizeof(int64_t)), 0);

        mc_model_params mp = mc_cluster_result_model_params(r, e1, "src.h5");
        CU_ASSERT_DOUBLE_EQUAL(mp.threshold, t, 0);
        CU_ASSERT_EQUAL(mp.k, kp.k);
        CU_ASSERT_DOUBLE_EQUAL(mp.core_q, cq, 0);
        CU_ASSERT_PTR_EQUAL(mp.center, mc_cluster_result_center(r));
        CU_ASSERT_STRING_EQUAL(mp.algorithm, mc_algo_name((mc_algo)a));
        CU_ASSERT_STRING_EQUAL(mp.quality_name, "magnitude");
        CU_ASSERT_STRING_EQUAL(mp.source, "src.h5");

        mc_clustering_free(c);
        mc_knn_graph_free(g);
        mc_cluster_result_free(r);
        mc_embeddings_free(e1);
        mc_embeddings_free(e2);
    }
}

/* A fixed threshold is used as given in every algorithm (dbscan at eps = 1 - it). */
static void test_fixed_threshold(void)
{
    mc_embeddings_t *e = faces();
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_DBSCAN);
    p.center = 0;
    p.threshold.mode = MC_THRESHOLD_FIXED;
    p.threshold.similarity = 0.62;
    p.core_quality = mc_threshold_off();
    mc_cluster_result_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, &p, &r), MC_OK);
    CU_ASSERT_FALSE(mc_embeddings_is_centered(e));
    /* the parameters run with are those given */
    const mc_cluster_params *rp = mc_cluster_result_params(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rp);
    CU_ASSERT_EQUAL(rp->algo, MC_ALGO_DBSCAN);
    CU_ASSERT_EQUAL(rp->center, 0);
    CU_ASSERT_EQUAL(rp->threshold.mode, MC_THRESHOLD_FIXED);
    CU_ASSERT_DOUBLE_EQUAL(rp->threshold.similarity, 0.62, 0);
    const mc_cluster_info *in = mc_cluster_result_info(r);
    CU_ASSERT_EQUAL(in->threshold_mode, MC_THRESHOLD_FIXED);
    CU_ASSERT_DOUBLE_EQUAL(in->threshold, 0.62, 0);
    CU_ASSERT_FALSE(in->centered);
    CU_ASSERT_TRUE(isnan(in->center_shift));
    CU_ASSERT_PTR_NULL(mc_cluster_result_center(r));
    CU_ASSERT_EQUAL(in->core_q, -INFINITY);

    mc_dbscan_params dp = mc_dbscan_params_default();
    dp.eps = 1.0 - 0.62;
    dp.core_quality = mc_threshold_off();
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_dbscan_run(mc_cluster_result_graph(r), mc_embeddings_quality(e), &dp, &c, NULL, NULL),
                          MC_OK);
    CU_ASSERT_TRUE(same_labels(c, mc_cluster_result_clustering(r)));
    mc_clustering_free(c);
    mc_cluster_result_free(r);
    mc_embeddings_free(e);
}

/* With no core gate an algorithm calibrates with its ungated_frac; with a
 * gate, or where it is NAN (linkage, map), with frac. */
static void test_ungated_frac(void)
{
    mc_embeddings_t *e = faces();
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_LINKAGE);
    mc_cluster_result_t *prep = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_prepare(e, NULL, &p, &prep), MC_OK);
    const mc_calibration *cal = &mc_cluster_result_info(prep)->calibration;
    for (int gate = 0; gate < 2; gate++)
        for (int a = 0; a < MC_ALGO_COUNT; a++) {
            mc_cluster_params q = mc_cluster_params_default((mc_algo)a);
            q.knn.k = p.knn.k; /* the prepared graph's */
            if (!gate) q.core_quality = mc_threshold_off();
            mc_cluster_result_t *r = NULL;
            CU_ASSERT_EQUAL_FATAL(mc_cluster_again(prep, e, &q, &r), MC_OK);
            const mc_cluster_info *in = mc_cluster_result_info(r);
            int ungated = !gate && !isnan(q.threshold.ungated_frac);
            double frac = ungated ? q.threshold.ungated_frac : q.threshold.frac;
            CU_ASSERT_EQUAL(in->frac_ungated, ungated);
            CU_ASSERT_DOUBLE_EQUAL(in->frac, frac, 0);
            CU_ASSERT_DOUBLE_EQUAL(in->threshold, mc_calibration_threshold(cal, frac, q.threshold.z), 0);
            mc_cluster_result_free(r);
        }
    /* a frac of the caller's own: ungated_frac NaN keeps it */
    mc_cluster_params q = mc_cluster_params_default(MC_ALGO_DBSCAN);
    q.core_quality = mc_threshold_off();
    q.threshold.frac = 0.5;
    q.threshold.ungated_frac = NAN;
    mc_cluster_result_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_again(prep, e, &q, &r), MC_OK);
    CU_ASSERT_FALSE(mc_cluster_result_info(r)->frac_ungated);
    CU_ASSERT_DOUBLE_EQUAL(mc_cluster_result_info(r)->frac, 0.5, 0);
    mc_cluster_result_free(r);
    mc_cluster_result_free(prep);
    mc_embeddings_free(e);
}

/* prepare + again equals a run for every algorithm and setting, and a
 * prepared result has no clustering. */
static void test_prepare_again(void)
{
    mc_embeddings_t *e = faces();
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_LINKAGE);
    mc_cluster_result_t *prep = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_prepare(e, NULL, &p, &prep), MC_OK);
    CU_ASSERT_PTR_NULL(mc_cluster_result_clustering(prep));
    CU_ASSERT_EQUAL(mc_cluster_result_write_h5(prep, e, "/tmp/never.h5", NULL), MC_ERR_INVALID_ARG);
    for (int a = 0; a < MC_ALGO_COUNT; a++) {
        for (int fixed = 0; fixed < 2; fixed++) {
            mc_cluster_params q = mc_cluster_params_default((mc_algo)a);
            q.knn.k = p.knn.k; /* the prepared graph's (map's default is 60) */
            if (fixed) {
                q.threshold.mode = MC_THRESHOLD_FIXED;
                q.threshold.similarity = 0.5;
                q.noise_quality = (mc_threshold){MC_THRESH_PERCENTILE, 10};
            }
            mc_cluster_result_t *again = NULL, *fresh = NULL;
            CU_ASSERT_EQUAL_FATAL(mc_cluster_again(prep, e, &q, &again), MC_OK);
            mc_embeddings_t *e2 = faces();
            CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e2, NULL, &q, &fresh), MC_OK);
            CU_ASSERT_TRUE(same_labels(mc_cluster_result_clustering(again), mc_cluster_result_clustering(fresh)));
            const mc_cluster_info *ia = mc_cluster_result_info(again), *ib = mc_cluster_result_info(fresh);
            CU_ASSERT_DOUBLE_EQUAL(ia->threshold, ib->threshold, 0);
            CU_ASSERT(ia->core_q == ib->core_q);
            CU_ASSERT(ia->noise_q == ib->noise_q);
            CU_ASSERT_EQUAL(ia->algo, (mc_algo)a);
            CU_ASSERT_PTR_EQUAL(mc_cluster_result_graph(again), mc_cluster_result_graph(prep));
            CU_ASSERT_PTR_EQUAL(mc_cluster_result_center(again), mc_cluster_result_center(prep));
            mc_cluster_result_free(again);
            mc_cluster_result_free(fresh);
            mc_embeddings_free(e2);
        }
    }
    /* what again may not change */
    mc_cluster_result_t *bad = NULL;
    mc_cluster_params q = p;
    q.center = 0;
    CU_ASSERT_EQUAL(mc_cluster_again(prep, e, &q, &bad), MC_ERR_INVALID_ARG);
    q = p;
    q.knn.k = 10;
    CU_ASSERT_EQUAL(mc_cluster_again(prep, e, &q, &bad), MC_ERR_INVALID_ARG);
    q = p;
    q.calibrate.max_pairs = 1000;
    CU_ASSERT_EQUAL(mc_cluster_again(prep, e, &q, &bad), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_cluster_again(NULL, e, &p, &bad), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(bad);
    /* a second run on embeddings the first one centred */
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &bad), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "centred already"));
    CU_ASSERT_PTR_NULL(bad);
    mc_cluster_result_free(prep);
    mc_embeddings_free(e);
}

/* A given graph is used as it is (not copied), and equals a search. */
static void test_given_graph(void)
{
    mc_embeddings_t *e = faces(), *e2 = faces();
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_CW);
    p.center = 0;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, NULL, &g), MC_OK);
    mc_cluster_result_t *r = NULL, *r2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, g, &p, &r), MC_OK);
    CU_ASSERT_PTR_EQUAL(mc_cluster_result_graph(r), g);
    CU_ASSERT_TRUE(mc_cluster_result_info(r)->graph_given);
    CU_ASSERT_STRING_EQUAL(mc_cluster_result_info(r)->knn.index, "given");
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e2, NULL, &p, &r2), MC_OK);
    CU_ASSERT_TRUE(same_labels(mc_cluster_result_clustering(r), mc_cluster_result_clustering(r2)));
    /* a graph of other faces */
    mc_embeddings_t *small = NULL;
    float raw[3 * D];
    for (size_t i = 0; i < 3 * D; i++) raw[i] = (float)(i % 7) + 1.0f;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 3, D, &small), MC_OK);
    mc_cluster_result_t *bad = NULL;
    CU_ASSERT_EQUAL(mc_cluster_run(small, g, &p, &bad), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "graph has"));
    mc_cluster_result_free(r);
    mc_cluster_result_free(r2);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
    mc_embeddings_free(e2);
    mc_embeddings_free(small);
}

static void test_threads(void)
{
    for (int a = 0; a < MC_ALGO_COUNT; a++) {
        mc_cluster_result_t *r[2] = {NULL, NULL};
        mc_embeddings_t *e[2];
        for (int t = 0; t < 2; t++) {
            e[t] = faces();
            mc_cluster_params p = mc_cluster_params_default((mc_algo)a);
            p.n_threads = t + 1;
            CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e[t], NULL, &p, &r[t]), MC_OK);
        }
        CU_ASSERT_TRUE(same_labels(mc_cluster_result_clustering(r[0]), mc_cluster_result_clustering(r[1])));
        CU_ASSERT_DOUBLE_EQUAL(mc_cluster_result_info(r[0])->threshold, mc_cluster_result_info(r[1])->threshold, 0);
        for (int t = 0; t < 2; t++) {
            mc_cluster_result_free(r[t]);
            mc_embeddings_free(e[t]);
        }
    }
}

/* Photo groups and corrections through the recipe (the tiny fixture). */
static void test_constraints(void)
{
    char in[512], fix[512];
    snprintf(in, sizeof in, "%s/tiny_photo.h5", mc_test_fixture_dir);
    snprintf(fix, sizeof fix, "/tmp/mc_test_cluster_fix_%d.csv", (int)getpid());
    FILE *f = fopen(fix, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("path,person\nid2/img_03.jpg,Ann\nid2/img_04.jpg,Ann\nid1/img_01.jpg,id1/img_02.jpg,different\n", f);
    fclose(f);
    mc_h5_read_params rp = mc_h5_read_params_default();
    rp.group_key = "photo";
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(in, &rp, &e), MC_OK);
    CU_ASSERT_EQUAL(mc_embeddings_group_pairs(e), 10);
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_LINKAGE);
    p.corrections = fix;
    mc_cluster_result_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, &p, &r), MC_OK);
    const mc_cluster_info *in_ = mc_cluster_result_info(r);
    const mc_clustering_t *c = mc_cluster_result_clustering(r);
    CU_ASSERT_TRUE(in_->constraints_applied);
    CU_ASSERT_EQUAL(in_->photo_pairs, 10);
    CU_ASSERT_EQUAL(in_->corrections.lines, 3);
    CU_ASSERT_EQUAL(in_->corrections.named, 2);
    CU_ASSERT_EQUAL(in_->corrections.different, 1);
    CU_ASSERT_TRUE(mc_clustering_has_names(c));
    CU_ASSERT_TRUE(in_->named_clusters >= 1);
    const int64_t *lab = mc_clustering_labels(c);
    const int64_t *grp = mc_embeddings_groups(e);
    for (size_t i = 0; i < mc_embeddings_n(e); i++)
        for (size_t j = i + 1; j < mc_embeddings_n(e); j++)
            if (lab[i] >= 0 && grp[i] >= 0 && grp[i] == grp[j]) CU_ASSERT_NOT_EQUAL(lab[i], lab[j]);
    /* the faces named Ann share her cluster, which carries the name */
    size_t ann = SIZE_MAX;
    for (size_t i = 0; i < mc_embeddings_n(e); i++)
        if (strcmp(mc_embeddings_path(e, i), "id2/img_03.jpg") == 0) ann = i;
    CU_ASSERT_FATAL(ann != SIZE_MAX);
    CU_ASSERT_TRUE(lab[ann] >= 0);
    CU_ASSERT_STRING_EQUAL(mc_clustering_name(c, lab[ann]), "Ann");
    mc_cluster_result_free(r);
    mc_embeddings_free(e);

    /* a missing corrections file fails before the search */
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(in, &rp, &e), MC_OK);
    p.corrections = "/nonexistent/fix.csv";
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_IO);
    CU_ASSERT_FALSE(mc_embeddings_is_centered(e));
    mc_embeddings_free(e);
    remove(fix);

    /* corrections need paths */
    mc_embeddings_t *np = faces();
    p.corrections = fix;
    CU_ASSERT_EQUAL(mc_cluster_run(np, NULL, &p, &r), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "no paths"));
    mc_embeddings_free(np);
}

/* min_cluster_size: the clusters the algorithm makes below it become noise,
 * the others stay as they were (renumbered by size). */
static void test_min_cluster_size(void)
{
    mc_embeddings_t *e = faces();
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_CW);
    p.core_quality = mc_threshold_off();
    mc_cluster_result_t *r = NULL, *r2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, &p, &r), MC_OK);
    const mc_clustering_t *c = mc_cluster_result_clustering(r);
    size_t n = mc_clustering_n(c), nc = mc_clustering_n_clusters(c);
    size_t *size = calloc(nc, sizeof *size), small = 0, small_faces = 0;
    for (size_t i = 0; i < n; i++)
        if (mc_clustering_labels(c)[i] >= 0) size[mc_clustering_labels(c)[i]]++;
    for (size_t k = 0; k < nc; k++)
        if (size[k] < 3) {
            small++;
            small_faces += size[k];
        }
    CU_ASSERT(small > 0); /* the fixture's outliers make some */
    p.min_cluster_size = 3;
    CU_ASSERT_EQUAL_FATAL(mc_cluster_again(r, e, &p, &r2), MC_OK);
    const mc_clustering_t *c2 = mc_cluster_result_clustering(r2);
    const mc_cluster_info *in = mc_cluster_result_info(r2);
    CU_ASSERT_EQUAL(in->small_clusters, small);
    CU_ASSERT_EQUAL(in->small_cluster_faces, small_faces);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c2), nc - small);
    CU_ASSERT_EQUAL(mc_clustering_n_noise(c2), mc_clustering_n_noise(c) + small_faces);
    for (size_t i = 0; i < n; i++) {
        int64_t a = mc_clustering_labels(c)[i], b = mc_clustering_labels(c2)[i];
        if (a >= 0 && size[a] < 3) {
            CU_ASSERT_EQUAL(b, -1);
            CU_ASSERT_EQUAL(mc_clustering_roles(c2)[i], MC_ROLE_NOISE);
        } else {
            CU_ASSERT_EQUAL(b < 0, a < 0);
            CU_ASSERT_EQUAL(mc_clustering_roles(c2)[i], mc_clustering_roles(c)[i]);
        }
    }
    free(size);
    mc_cluster_result_free(r2);
    mc_cluster_result_free(r);
    mc_embeddings_free(e);
}

static void test_refusals(void)
{
    mc_embeddings_t *e = faces();
    mc_cluster_result_t *r = NULL;
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_LINKAGE);
    CU_ASSERT_EQUAL(mc_cluster_run(NULL, NULL, &p, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, NULL), MC_ERR_INVALID_ARG);
    p.algo = (mc_algo)7;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    p = mc_cluster_params_default(MC_ALGO_LINKAGE);
    p.threshold.frac = 1.5;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    p = mc_cluster_params_default(MC_ALGO_LINKAGE);
    p.threshold.z = NAN;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    p = mc_cluster_params_default(MC_ALGO_MAP);
    p.core_slope = -1.0;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "core_slope"));
    p = mc_cluster_params_default(MC_ALGO_DBSCAN);
    p.threshold.ungated_frac = -0.5;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "ungated"));
    p = mc_cluster_params_default(MC_ALGO_MAP);
    p.threshold.attach_frac = 2.0;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "attachment"));
    p = mc_cluster_params_default(MC_ALGO_CW);
    p.threshold.mode = MC_THRESHOLD_FIXED;
    p.threshold.similarity = 1.2;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    p.threshold.mode = (mc_threshold_mode)5;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    p = mc_cluster_params_default(MC_ALGO_DBSCAN);
    p.min_samples = p.knn.k + 2;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "min_samples"));
    p.min_samples = 0;
    CU_ASSERT_EQUAL(mc_cluster_run(e, NULL, &p, &r), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(r);
    /* none of these touched the embeddings */
    CU_ASSERT_FALSE(mc_embeddings_is_centered(e));
    /* NULL params: the linkage defaults */
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, NULL, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_cluster_result_info(r)->algo, MC_ALGO_LINKAGE);
    mc_cluster_result_free(r);
    mc_cluster_result_free(NULL);
    CU_ASSERT_PTR_NULL(mc_cluster_result_info(NULL));
    CU_ASSERT_PTR_NULL(mc_cluster_result_clustering(NULL));
    mc_embeddings_free(e);
}

void mc_test_register(void)
{
    add_test("names_and_defaults", test_names_and_defaults);
    add_test("equals_steps", test_equals_steps);
    add_test("fixed_threshold", test_fixed_threshold);
    add_test("prepare_again", test_prepare_again);
    add_test("ungated_frac", test_ungated_frac);
    add_test("given_graph", test_given_graph);
    add_test("threads", test_threads);
    add_test("constraints", test_constraints);
    add_test("refusals", test_refusals);
    add_test("min_cluster_size", test_min_cluster_size);
}
