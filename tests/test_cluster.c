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
        /* contested: the border faces nearer another cluster's centre than
         * their own (a negative margin) become noise, renumbered by size */
        {
            CU_ASSERT_EQUAL_FATAL(mc_clustering_score(c, e2, g, 0), MC_OK);
            int64_t lab[N];
            uint8_t rol[N];
            size_t moved = 0;
            memcpy(lab, mc_clustering_labels(c), sizeof lab);
            memcpy(rol, mc_clustering_roles(c), sizeof rol);
            for (size_t i = 0; i < N; i++)
                if (rol[i] == MC_ROLE_BORDER && lab[i] >= 0 && mc_clustering_margins(c)[i] < 0.0f) {
                    lab[i] = -1;
                    rol[i] = MC_ROLE_NOISE;
                    moved++;
                }
            CU_ASSERT_EQUAL(mc_cluster_result_info(r)->contested, moved);
            mc_clustering_free(c);
            c = NULL;
            CU_ASSERT_EQUAL_FATAL(mc_clustering_new(N, lab, rol, &c), MC_OK);
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
            p.n_threads = t ? 4 : 1;
            CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e[t], NULL, &p, &r[t]), MC_OK);
        }
        const mc_clustering_t *c0 = mc_cluster_result_clustering(r[0]), *c1 = mc_cluster_result_clustering(r[1]);
        CU_ASSERT_TRUE(same_labels(c0, c1));
        /* the confidence too, bit for bit (NaNs included: memcmp) */
        CU_ASSERT_EQUAL(memcmp(mc_clustering_similarities(c0), mc_clustering_similarities(c1), N * sizeof(float)), 0);
        CU_ASSERT_EQUAL(memcmp(mc_clustering_margins(c0), mc_clustering_margins(c1), N * sizeof(float)), 0);
        for (size_t c = 0; c < mc_clustering_n_clusters(c0); c++)
            CU_ASSERT_EQUAL(mc_clustering_representative(c0, (int64_t)c), mc_clustering_representative(c1, (int64_t)c));
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
    /* NULL params: the defaults of MC_ALGO_DEFAULT (map) */
    CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, NULL, &r), MC_OK);
    CU_ASSERT_EQUAL(mc_cluster_result_info(r)->algo, MC_ALGO_DEFAULT);
    CU_ASSERT_EQUAL(MC_ALGO_DEFAULT, MC_ALGO_MAP);
    mc_cluster_result_free(r);
    mc_cluster_result_free(NULL);
    CU_ASSERT_PTR_NULL(mc_cluster_result_info(NULL));
    CU_ASSERT_PTR_NULL(mc_cluster_result_clustering(NULL));
    mc_embeddings_free(e);
}

/* ---- confidence and representatives (clustering.h) ------------------------ */

static double cosine(const float *a, const float *b, size_t d)
{
    double s = 0.0;
    for (size_t t = 0; t < d; t++) s += (double)a[t] * b[t];
    return s;
}

/* The centre of cluster c by its definition: the normalised sum of the core
 * members' directions, of all members' when none is core. */
static void brute_centre(const mc_embeddings_t *e, const mc_clustering_t *cl, int64_t c, double *out)
{
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    const float *x = mc_embeddings_directions(e);
    const int64_t *lab = mc_clustering_labels(cl);
    const uint8_t *role = mc_clustering_roles(cl);
    size_t used = 0;
    for (int pass = 0; pass < 2 && used == 0; pass++) {
        for (size_t t = 0; t < d; t++) out[t] = 0.0;
        for (size_t i = 0; i < n; i++) {
            if (lab[i] != c || (pass == 0 && role[i] != MC_ROLE_CORE)) continue;
            for (size_t t = 0; t < d; t++) out[t] += x[i * d + t];
            used++;
        }
    }
    double nn = 0.0;
    for (size_t t = 0; t < d; t++) nn += out[t] * out[t];
    for (size_t t = 0; t < d; t++) out[t] /= sqrt(nn);
}

/* The representative rule from its words: of the ceil(m/2) members most
 * similar to the centre (ties with the last included), highest quality,
 * then similarity, then index. */
static int64_t brute_rep(const mc_clustering_t *cl, const float *q, int64_t c)
{
    size_t n = mc_clustering_n(cl), m = 0;
    const int64_t *lab = mc_clustering_labels(cl);
    const float *sim = mc_clustering_similarities(cl);
    float *s = malloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++)
        if (lab[i] == c) s[m++] = sim[i];
    /* the ceil(m/2)-th largest similarity */
    float cut = -INFINITY;
    for (size_t a = 0; a < m; a++) {
        size_t above = 0;
        for (size_t b = 0; b < m; b++) above += s[b] > s[a];
        if (above <= (m - 1) / 2 && s[a] < (cut == -INFINITY ? INFINITY : cut)) cut = s[a];
        if (above <= (m - 1) / 2 && cut == -INFINITY) cut = s[a];
    }
    free(s);
    int64_t best = -1;
    for (size_t i = 0; i < n; i++) {
        if (lab[i] != c || sim[i] < cut) continue;
        if (best < 0 || q[i] > q[best] || (q[i] == q[best] && sim[i] > sim[best])) best = (int64_t)i;
    }
    return best;
}

/* Every face of a recipe run against the definitions, recomputed by brute
 * force on the (centred) embeddings and the result's graph. */
static void check_confidence(const mc_cluster_result_t *r, const mc_embeddings_t *e)
{
    const mc_clustering_t *cl = mc_cluster_result_clustering(r);
    const mc_knn_graph_t *g = mc_cluster_result_graph(r);
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e), nc = mc_clustering_n_clusters(cl);
    size_t k = mc_knn_graph_k(g);
    CU_ASSERT_TRUE_FATAL(mc_clustering_has_confidence(cl));
    const float *sim = mc_clustering_similarities(cl), *mar = mc_clustering_margins(cl);
    const float *x = mc_embeddings_directions(e), *q = mc_embeddings_quality(e);
    const int64_t *lab = mc_clustering_labels(cl), *ids = mc_knn_graph_ids(g);
    double *cen = malloc(nc * d * sizeof *cen);
    for (size_t c = 0; c < nc; c++) brute_centre(e, cl, (int64_t)c, cen + c * d);
    size_t bad_sim = 0, bad_margin = 0, noise = 0, reps = 0;
    for (size_t i = 0; i < n; i++) {
        double best = -INFINITY;
        for (size_t a = 0; a < k; a++) {
            int64_t j = ids[i * k + a];
            if (j < 0 || lab[j] < 0 || lab[j] == lab[i]) continue;
            double s = 0.0;
            for (size_t t = 0; t < d; t++) s += x[i * d + t] * cen[(size_t)lab[j] * d + t];
            if (s > best) best = s;
        }
        if (lab[i] >= 0) {
            double s = 0.0;
            for (size_t t = 0; t < d; t++) s += x[i * d + t] * cen[(size_t)lab[i] * d + t];
            bad_sim += fabs(s - sim[i]) > 1e-5;
            bad_margin += fabs((isinf(best) ? s : s - best) - mar[i]) > 1e-5;
        } else {
            noise++;
            bad_sim += isinf(best) ? (isnan(sim[i]) ? 0u : 1u) : (fabs(best - (double)sim[i]) > 1e-5 ? 1u : 0u);
            bad_margin += isnan(mar[i]) ? 0u : 1u;
        }
    }
    CU_ASSERT_EQUAL(bad_sim, 0);
    CU_ASSERT_EQUAL(bad_margin, 0);
    CU_ASSERT_TRUE(noise > 0); /* the noise rule was exercised */
    for (size_t c = 0; c < nc; c++) {
        int64_t rp = mc_clustering_representative(cl, (int64_t)c);
        CU_ASSERT_TRUE_FATAL(rp >= 0 && (size_t)rp < n);
        CU_ASSERT_EQUAL(lab[rp], (int64_t)c); /* a member */
        CU_ASSERT_EQUAL(rp, brute_rep(cl, q, (int64_t)c));
        reps++;
    }
    CU_ASSERT_EQUAL(reps, nc);
    CU_ASSERT_EQUAL(mc_clustering_representative(cl, (int64_t)nc), -1);
    CU_ASSERT_EQUAL(mc_clustering_representative(cl, -1), -1);
    free(cen);
}

static void test_confidence_recipe(void)
{
    for (int a = 0; a < MC_ALGO_COUNT; a++) {
        mc_embeddings_t *e = faces();
        mc_cluster_params p = mc_cluster_params_default((mc_algo)a);
        mc_cluster_result_t *r = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, &p, &r), MC_OK);
        check_confidence(r, e);
        /* score 0 (what sweep asks): the same clusters, unscored */
        mc_cluster_result_t *u = NULL;
        p.score = 0;
        CU_ASSERT_EQUAL_FATAL(mc_cluster_again(r, e, &p, &u), MC_OK);
        const mc_clustering_t *cr = mc_cluster_result_clustering(r);
        const mc_clustering_t *cu = mc_cluster_result_clustering(u);
        CU_ASSERT_FALSE(mc_clustering_has_confidence(cu));
        CU_ASSERT_PTR_NULL(mc_clustering_similarities(cu));
        CU_ASSERT_EQUAL_FATAL(mc_clustering_n(cu), mc_clustering_n(cr));
        CU_ASSERT_EQUAL(memcmp(mc_clustering_labels(cu), mc_clustering_labels(cr),
                               mc_clustering_n(cr) * sizeof(int64_t)), 0);
        CU_ASSERT_EQUAL(memcmp(mc_clustering_roles(cu), mc_clustering_roles(cr),
                               mc_clustering_n(cr)), 0);
        mc_cluster_result_free(u);
        mc_cluster_result_free(r);
        mc_embeddings_free(e);
    }
}

/* contested (default on): the border faces that a kept run (contested 0)
 * scores with a negative margin, and only they, become noise; every other
 * face keeps its role and its cluster (up to renumbering). On a synthetic
 * set with low-quality faces leaning towards shared directions, for every
 * algorithm. */
static void test_contested(void)
{
    mc_synth_params sp = mc_synth_params_default();
    sp.n_ids = 40;
    sp.dim = 32;
    sp.seed = 11;
    sp.mag_scale = 4.0;
    sp.distractor_frac = 0.2;
    float *raw = NULL;
    int64_t *truth = NULL;
    size_t n = 0, total = 0;
    CU_ASSERT_EQUAL_FATAL(mc_synth_generate(&sp, &raw, &truth, &n), MC_OK);
    for (int a = 0; a < MC_ALGO_COUNT; a++) {
        mc_embeddings_t *e = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, sp.dim, &e), MC_OK);
        mc_cluster_params p = mc_cluster_params_default((mc_algo)a);
        CU_ASSERT_EQUAL(p.contested, 1);
        p.contested = 0;
        mc_cluster_result_t *r0 = NULL, *r1 = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_cluster_run(e, NULL, &p, &r0), MC_OK);
        CU_ASSERT_EQUAL(mc_cluster_result_info(r0)->contested, 0);
        p.contested = 1;
        CU_ASSERT_EQUAL_FATAL(mc_cluster_again(r0, e, &p, &r1), MC_OK);
        const mc_clustering_t *c0 = mc_cluster_result_clustering(r0);
        const mc_clustering_t *c1 = mc_cluster_result_clustering(r1);
        const int64_t *l0 = mc_clustering_labels(c0), *l1 = mc_clustering_labels(c1);
        const uint8_t *o0 = mc_clustering_roles(c0), *o1 = mc_clustering_roles(c1);
        const float *m0 = mc_clustering_margins(c0), *m1 = mc_clustering_margins(c1);
        size_t nc0 = mc_clustering_n_clusters(c0), nc1 = mc_clustering_n_clusters(c1);
        int64_t *map = malloc((nc0 + 1) * sizeof *map);
        for (size_t c = 0; c < nc0; c++) map[c] = -1;
        size_t demoted = 0, bad = 0;
        for (size_t i = 0; i < n; i++) {
            int contested = o0[i] == MC_ROLE_BORDER && l0[i] >= 0 && m0[i] < 0.0f;
            if (contested) {
                demoted++;
                bad += l1[i] != -1 || o1[i] != MC_ROLE_NOISE;
                continue;
            }
            bad += o1[i] != o0[i] || (l0[i] < 0) != (l1[i] < 0);
            if (l0[i] < 0 || l1[i] < 0) continue;
            if (map[l0[i]] < 0) map[l0[i]] = l1[i];
            bad += map[l0[i]] != l1[i]; /* one cluster stays one cluster */
            /* after the demotion no border face is nearer another centre */
            bad += o1[i] == MC_ROLE_BORDER && m1[i] < 0.0f;
        }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(mc_cluster_result_info(r1)->contested, demoted);
        /* clusters left with no face are gone; no two share an id */
        CU_ASSERT_TRUE(nc1 <= nc0);
        for (size_t c = 0; c < nc0; c++)
            for (size_t c2 = c + 1; c2 < nc0; c2++)
                if (map[c] >= 0) bad += map[c] == map[c2];
        CU_ASSERT_EQUAL(bad, 0);
        total += demoted;
        free(map);
        mc_cluster_result_free(r1);
        mc_cluster_result_free(r0);
        mc_embeddings_free(e);
    }
    CU_ASSERT_TRUE(total > 0); /* the rule was exercised */
    free(raw);
    free(truth);
}

/* Two clusters in the plane and a face of cluster 0 that sits nearer
 * cluster 1: its margin is negative; a noise face is scored against the
 * nearest cluster among its neighbours'. */
static void test_confidence_by_hand(void)
{
    const float raw[] = {
        2.0f, 0.0f,   /* 0: cluster 0, core */
        3.0f, 0.3f,   /* 1: cluster 0, core, better quality */
        1.0f, -0.1f,  /* 2: cluster 0, border */
        0.0f, 2.0f,   /* 3: cluster 1, core */
        0.2f, 2.0f,   /* 4: cluster 1, core */
        3.0f, 4.0f,   /* 5: cluster 0, border, best quality, but at 53 degrees */
        -1.0f, -1.0f, /* 6: noise */
        -1.0f, 0.2f,  /* 7: noise, no neighbour in a cluster */
    };
    enum { n = 8, k = 2 };
    const int64_t labels[n] = {0, 0, 0, 1, 1, 0, -1, -1};
    const uint8_t roles[n] = {MC_ROLE_CORE, MC_ROLE_CORE, MC_ROLE_BORDER, MC_ROLE_CORE,
                              MC_ROLE_CORE, MC_ROLE_BORDER, MC_ROLE_NOISE, MC_ROLE_NOISE};
    const int64_t ids[n * k] = {1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 4, 3, 0, 3, 6, -1};
    const float sims[n * k] = {0.9f, 0.8f, 0.9f, 0.8f, 0.9f, 0.8f, 0.9f, 0.8f,
                               0.9f, 0.8f, 0.9f, 0.8f, 0.1f, 0.0f, 0.5f, 0.0f};
    mc_embeddings_t *e = NULL;
    mc_clustering_t *c = NULL;
    mc_knn_graph_t *g = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, n, 2, &e), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new_keep_ids(n, labels, roles, &c), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_new(n, k, ids, sims, &g), MC_OK);
    /* not scored yet */
    CU_ASSERT_FALSE(mc_clustering_has_confidence(c));
    CU_ASSERT_PTR_NULL(mc_clustering_similarities(c));
    CU_ASSERT_PTR_NULL(mc_clustering_margins(c));
    CU_ASSERT_EQUAL(mc_clustering_representative(c, 0), -1);
    CU_ASSERT_FALSE(mc_clustering_has_confidence(NULL));
    CU_ASSERT_PTR_NULL(mc_clustering_similarities(NULL));
    CU_ASSERT_PTR_NULL(mc_clustering_margins(NULL));
    CU_ASSERT_EQUAL(mc_clustering_representative(NULL, 0), -1);
    CU_ASSERT_EQUAL(mc_clustering_score(NULL, e, g, 1), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_clustering_score(c, NULL, g, 1), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_clustering_score(c, e, NULL, 1), MC_ERR_INVALID_ARG);
    mc_embeddings_t *e3 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(raw, 3, 2, &e3), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_score(c, e3, g, 1), MC_ERR_DIM_MISMATCH);
    CU_ASSERT_FALSE(mc_clustering_has_confidence(c));

    CU_ASSERT_EQUAL_FATAL(mc_clustering_score(c, e, g, 1), MC_OK);
    CU_ASSERT_TRUE(mc_clustering_has_confidence(c));
    const float *sim = mc_clustering_similarities(c), *mar = mc_clustering_margins(c);
    const float *x = mc_embeddings_directions(e);
    /* centres: the core faces 0,1 and 3,4 (not the border faces 2 and 5) */
    float c0[2] = {x[0] + x[2], x[1] + x[3]}, c1[2] = {x[6] + x[8], x[7] + x[9]};
    float l0 = sqrtf(c0[0] * c0[0] + c0[1] * c0[1]), l1 = sqrtf(c1[0] * c1[0] + c1[1] * c1[1]);
    c0[0] /= l0, c0[1] /= l0, c1[0] /= l1, c1[1] /= l1;
    for (size_t i = 0; i < 6; i++)
        CU_ASSERT_DOUBLE_EQUAL(sim[i], cosine(x + 2 * i, labels[i] ? c1 : c0, 2), 1e-6);
    /* faces 0..2 see only their own cluster: the margin is the similarity */
    for (size_t i = 0; i < 3; i++) CU_ASSERT_DOUBLE_EQUAL(mar[i], sim[i], 0);
    /* face 5 sees cluster 1 (face 4) and is nearer it: a negative margin */
    CU_ASSERT_DOUBLE_EQUAL(mar[5], cosine(x + 10, c0, 2) - cosine(x + 10, c1, 2), 1e-6);
    CU_ASSERT_TRUE(mar[5] < 0.0f);
    /* face 3 sees face 5, of cluster 0: a positive margin */
    CU_ASSERT_DOUBLE_EQUAL(mar[3], cosine(x + 6, c1, 2) - cosine(x + 6, c0, 2), 1e-6);
    CU_ASSERT_TRUE(mar[3] > 0.0f);
    /* noise: the nearest candidate's cosine and no margin; none: NaN */
    double s60 = cosine(x + 12, c0, 2), s61 = cosine(x + 12, c1, 2);
    CU_ASSERT_DOUBLE_EQUAL(sim[6], s60 > s61 ? s60 : s61, 1e-6);
    CU_ASSERT_TRUE(isnan(mar[6]));
    CU_ASSERT_TRUE(isnan(sim[7]));
    CU_ASSERT_TRUE(isnan(mar[7]));
    /* cluster 0: faces 0 and 1 are the two of four nearest the centre;
     * face 1 has the better quality (face 5 the best, but it is far) */
    CU_ASSERT_EQUAL(mc_clustering_representative(c, 0), 1);
    int64_t r1 = mc_clustering_representative(c, 1);
    CU_ASSERT_TRUE(r1 == 3 || r1 == 4);
    CU_ASSERT_EQUAL(r1, brute_rep(c, mc_embeddings_quality(e), 1));
    CU_ASSERT_EQUAL(mc_clustering_representative(c, 2), -1);

    /* the outputs carry them, and the readers of a previous result get them back */
    char csv[256], h5[256];
    snprintf(csv, sizeof csv, "/tmp/mc_test_conf_%d.csv", (int)getpid());
    snprintf(h5, sizeof h5, "/tmp/mc_test_conf_%d.h5", (int)getpid());
    const char *paths[n] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_set_paths(e, paths), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_clustering_write_csv(c, e, csv), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_clustering_write_h5(c, e, h5, NULL, 0), MC_OK);
    for (int f = 0; f < 2; f++) {
        mc_previous_t *pv = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_previous_read(f ? h5 : csv, &pv), MC_OK);
        CU_ASSERT_EQUAL_FATAL(mc_previous_n(pv), n);
        for (size_t i = 0; i < n; i++) {
            float ps = mc_previous_similarity(pv, i), pm = mc_previous_margin(pv, i);
            CU_ASSERT_TRUE(isnan(sim[i]) ? isnan(ps) : fabs(ps - sim[i]) < 1e-6);
            CU_ASSERT_TRUE(isnan(mar[i]) ? isnan(pm) : fabs(pm - mar[i]) < 1e-6);
            int is_rep = labels[i] >= 0 && mc_clustering_representative(c, labels[i]) == (int64_t)i;
            CU_ASSERT_EQUAL(mc_previous_representative(pv, i), is_rep);
        }
        CU_ASSERT_TRUE(isnan(mc_previous_similarity(pv, n)));
        CU_ASSERT_TRUE(isnan(mc_previous_margin(NULL, 0)));
        CU_ASSERT_EQUAL(mc_previous_representative(pv, n), -1);
        mc_previous_free(pv);
    }
    /* a result without the columns: unknown */
    mc_clustering_t *plain = NULL;
    mc_previous_t *pv = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_clustering_new_keep_ids(n, labels, roles, &plain), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_clustering_write_csv(plain, e, csv), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_previous_read(csv, &pv), MC_OK);
    CU_ASSERT_TRUE(isnan(mc_previous_similarity(pv, 0)));
    CU_ASSERT_TRUE(isnan(mc_previous_margin(pv, 0)));
    CU_ASSERT_EQUAL(mc_previous_representative(pv, 0), -1);
    mc_previous_free(pv);
    mc_clustering_free(plain);
    unlink(csv);
    unlink(h5);
    mc_embeddings_free(e3);
    mc_knn_graph_free(g);
    mc_clustering_free(c);
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
    add_test("confidence_recipe", test_confidence_recipe);
    add_test("confidence_by_hand", test_confidence_by_hand);
    add_test("contested", test_contested);
}
