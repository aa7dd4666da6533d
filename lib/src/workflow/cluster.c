/* The clustering recipe (cluster.h): constraints read, centring, k-NN graph,
 * calibration, threshold, gates, algorithm, constraints enforced, previous
 * ids carried. Every caller (the CLI, the examples, bindings) runs it here,
 * so they all get the same clusters from the same file. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/cluster.h"
#include "magclust/cw.h"
#include "magclust/dbscan.h"
#include "magclust/linkage.h"
#include "magclust/map.h"
#include "confidence_impl.h"
#include "knn_impl.h" /* mc_knn_now */
#include "util_impl.h"

static const char *const algo_names[MC_ALGO_COUNT] = {"dbscan", "linkage", "cw", "map"};

const char *mc_algo_name(mc_algo a)
{
    return (unsigned)a < MC_ALGO_COUNT ? algo_names[a] : "unknown";
}

mc_status mc_algo_parse(const char *name, mc_algo *out)
{
    mc_clear_error();
    if (!name || !out) return mc_fail(MC_ERR_INVALID_ARG, "mc_algo_parse: NULL argument");
    for (int a = 0; a < MC_ALGO_COUNT; a++)
        if (strcmp(name, algo_names[a]) == 0) {
            *out = (mc_algo)a;
            return MC_OK;
        }
    return mc_fail(MC_ERR_INVALID_ARG, "'%s' is not linkage, dbscan, cw or map", name);
}

mc_cluster_params mc_cluster_params_default(mc_algo a)
{
    mc_cluster_params p;
    memset(&p, 0, sizeof p);
    mc_dbscan_params d = mc_dbscan_params_default();
    mc_cw_params c = mc_cw_params_default();
    p.algo = a;
    p.center = 1;
    p.knn = mc_knn_params_default();
    p.calibrate = mc_calibrate_params_default();
    p.threshold.mode = MC_THRESHOLD_AUTO;
    p.threshold.similarity = 0.5;
    /* The calibration constants, chosen with `magclust sweep --param frac=...`
     * on eight sets (two real, six synthetic of 0.9k to 22k faces);
     * docs/experiments.md has the figures. Linkage merges on an average over
     * clusters, which sits lower than a single edge, so it stops lower. */
    switch (a) {
    case MC_ALGO_LINKAGE: p.threshold.frac = 0.45; p.threshold.z = 2.5; break;
    case MC_ALGO_CW: p.threshold.frac = 0.55; p.threshold.z = 3.0; break;
    case MC_ALGO_MAP: p.threshold.frac = 0.55; p.threshold.z = 3.0; break;
    default: p.threshold.frac = 0.60; p.threshold.z = 3.5; break;
    }
    /* With no core gate (an uninformative quality, or none asked for) every
     * face may link, and DBSCAN and Chinese whispers chain through the
     * low-quality ones: a stricter frac. Each value had the best worst case
     * over seven sets run ungated, two real ones whose quality is
     * uninformative and five with the gate turned off, and held on two sets
     * with shuffled norms (docs/experiments.md, "Calibration without a core
     * gate"). Linkage and map gain nothing dependable (NAN). */
    switch (a) {
    case MC_ALGO_CW: p.threshold.ungated_frac = 0.65; break;
    case MC_ALGO_DBSCAN: p.threshold.ungated_frac = 0.80; break;
    default: p.threshold.ungated_frac = NAN; break;
    }
    p.threshold.attach_frac = 0.45; /* linkage's */
    p.threshold.attach_z = 2.5;
    p.core_quality.kind = MC_THRESH_PERCENTILE;
    p.core_quality.value = a == MC_ALGO_LINKAGE || a == MC_ALGO_MAP ? 50.0 : 30.0;
    /* map: the gate follows the quality check (docs/experiments.md) */
    p.core_slope = a == MC_ALGO_MAP ? 85.0 : 0.0;
    p.noise_quality = mc_threshold_off();
    p.linkage = MC_LINKAGE_AVERAGE;
    p.min_samples = d.min_samples;
    p.seed = c.seed;
    p.iterations = c.iterations;
    p.map = mc_map_params_default();
    /* map: 60 neighbours (and the outlier cut's window from them, 10) lifted
     * eight of ten dev and synthetic sets by 0.004 to 0.015 over 30
     * (docs/experiments.md, "Map-equation clustering") */
    if (a == MC_ALGO_MAP) p.knn.k = 60;
    p.score = 1;
    p.contested = 1;
    return p;
}

/* What the constraint files and the photo groups give; shared read-only by
 * a prepared result and the results made again from it. */
typedef struct {
    int wanted;                /* corrections, previous or photo groups */
    mc_previous_t *prev;
    mc_constraints_t *set;
    int64_t *prev_cluster;
    const char **prev_person;
    const char **paths;
} constraint_state;

struct mc_cluster_result {
    mc_cluster_params params;
    mc_cluster_info info;
    mc_clustering_t *clustering;
    mc_knn_graph_t *own_graph;
    const mc_knn_graph_t *graph;
    float *own_center;
    const float *center;
    constraint_state *own_cs;
    const constraint_state *cs;
};

static void cs_free(constraint_state *k)
{
    if (!k) return;
    mc_previous_free(k->prev);
    mc_constraints_free(k->set);
    free(k->prev_cluster);
    free(k->prev_person);
    free(k->paths);
    free(k);
}

static int same_file(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Read --previous and --corrections and check the constraints for the
 * faces of e. */
static mc_status cs_load(const mc_embeddings_t *e, const mc_cluster_params *p,
                         mc_cluster_info *info, constraint_state **out)
{
    size_t n = mc_embeddings_n(e);
    mc_status st = MC_OK;
    constraint_state *k = calloc(1, sizeof *k);
    if (!k) return mc_fail(MC_ERR_NOMEM, "out of memory");
    *out = k;
    k->wanted = p->corrections || p->previous || mc_embeddings_groups(e);
    if (!k->wanted) return MC_OK;
    if ((p->corrections || p->previous) && !mc_embeddings_path(e, 0))
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: the input has no paths: --corrections and --previous match faces by path",
                       p->corrections ? p->corrections : p->previous);
    if (mc_embeddings_path(e, 0)) {
        if (!(k->paths = malloc(n * sizeof *k->paths))) goto nomem;
        for (size_t i = 0; i < n; i++) k->paths[i] = mc_embeddings_path(e, i);
    }
    if (p->previous) {
        if ((st = mc_previous_read(p->previous, &k->prev)) != MC_OK) return st;
        k->prev_cluster = malloc(n * sizeof *k->prev_cluster);
        k->prev_person = malloc(n * sizeof *k->prev_person);
        if (!k->prev_cluster || !k->prev_person) goto nomem;
        if ((st = mc_previous_lookup(k->prev, n, k->paths, k->prev_cluster, k->prev_person,
                                     &info->previous_found)) != MC_OK)
            return st;
        info->previous_rows = mc_previous_n(k->prev);
    }
    if (p->corrections || mc_embeddings_groups(e)) {
        if ((st = mc_constraints_new(n, &k->set)) != MC_OK) return st;
        if (p->corrections &&
            (st = mc_corrections_read(k->set, p->corrections, k->paths, mc_embeddings_quality(e),
                                      k->prev_cluster, k->prev_person, &info->corrections)) != MC_OK)
            return st;
        if (mc_embeddings_groups(e)) {
            char what[300];
            snprintf(what, sizeof what, "photo key '%s'", mc_embeddings_group_name(e));
            if ((st = mc_constraints_set_groups(k->set, mc_embeddings_groups(e), what)) != MC_OK)
                return st;
        }
        mc_constraints_set_face_text(k->set, k->paths);
        if ((st = mc_constraints_check(k->set)) != MC_OK) return st;
        info->photo_pairs = mc_embeddings_group_pairs(e);
    }
    return MC_OK;
nomem:
    return mc_fail(MC_ERR_NOMEM, "out of memory for the constraints of %zu faces", n);
}

/* The checks on parameters that every entry point shares. */
static mc_status check_params(const mc_cluster_params *p, size_t k)
{
    if ((unsigned)p->algo >= MC_ALGO_COUNT)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster: unknown algorithm %d", (int)p->algo);
    const mc_threshold_spec *t = &p->threshold;
    if (t->mode == MC_THRESHOLD_FIXED) {
        if (!(t->similarity >= -1.0 && t->similarity <= 1.0))
            return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster: threshold %g is not a similarity in [-1, 1]",
                           t->similarity);
    } else if (t->mode == MC_THRESHOLD_AUTO) {
        if (!(t->frac >= 0.0 && t->frac <= 1.0) || !isfinite(t->z))
            return mc_fail(MC_ERR_INVALID_ARG,
                           "mc_cluster: calibration frac %g must lie in [0, 1] and z %g be finite",
                           t->frac, t->z);
        if (!isnan(t->ungated_frac) && !(t->ungated_frac >= 0.0 && t->ungated_frac <= 1.0))
            return mc_fail(MC_ERR_INVALID_ARG,
                           "mc_cluster: ungated frac %g must lie in [0, 1] (or be NaN: frac)",
                           t->ungated_frac);
        if (p->algo == MC_ALGO_MAP &&
            (!(t->attach_frac >= 0.0 && t->attach_frac <= 1.0) || !isfinite(t->attach_z)))
            return mc_fail(MC_ERR_INVALID_ARG,
                           "mc_cluster: attachment frac %g must lie in [0, 1] and z %g be finite",
                           t->attach_frac, t->attach_z);
    } else {
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster: unknown threshold mode %d", (int)t->mode);
    }
    if (!(p->core_slope >= 0.0) || isinf(p->core_slope))
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster: core_slope %g must be >= 0", p->core_slope);
    if (p->algo == MC_ALGO_DBSCAN && (p->min_samples < 1 || p->min_samples > k + 1))
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster: min_samples %zu must lie in 1..k + 1 = %zu",
                       p->min_samples, k + 1);
    return MC_OK;
}

static mc_status new_result(const mc_cluster_params *p, mc_cluster_result_t **out)
{
    mc_cluster_result_t *r = calloc(1, sizeof *r);
    if (!r) return mc_fail(MC_ERR_NOMEM, "out of memory");
    r->params = *p;
    r->info.center_shift = NAN;
    r->info.core_q = r->info.noise_q = -INFINITY;
    *out = r;
    return MC_OK;
}

/* The calibration parameters with the sample gate resolved to a value on
 * e's quality (into *cp), and how many faces pass it. */
static size_t good_faces(const mc_embeddings_t *e, const mc_cluster_params *p,
                         mc_calibrate_params *cp)
{
    size_t n = mc_embeddings_n(e);
    const float *q = mc_embeddings_quality(e);
    *cp = p->calibrate;
    cp->sample_quality.value = mc_threshold_resolve(&cp->sample_quality, q, n);
    cp->sample_quality.kind = MC_THRESH_ABSOLUTE;
    size_t n_good = 0;
    for (size_t i = 0; i < n; i++) n_good += !q || (double)q[i] >= cp->sample_quality.value;
    return n_good;
}

/* Step 2: the good faces' mean direction removed from every direction;
 * faces that all point one way are left as they are (*centered 0). */
static mc_status center_step(mc_embeddings_t *e, const mc_calibrate_params *cp, size_t n_good,
                             double *shift, int *centered, float *mean)
{
    mc_status st = mc_embeddings_center_ex(e, mc_embeddings_quality(e), cp->sample_quality.value,
                                           shift, mean);
    if (st == MC_OK) *centered = mc_center_removes(*shift, n_good);
    return st;
}

mc_status mc_cluster_center(mc_embeddings_t *e, const mc_cluster_params *p, double *out_shift,
                            int *out_centered)
{
    mc_clear_error();
    if (out_shift) *out_shift = NAN;
    if (out_centered) *out_centered = 0;
    if (!e) return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster_center: e is NULL");
    mc_cluster_params defaults = mc_cluster_params_default(MC_ALGO_DEFAULT);
    if (!p) p = &defaults;
    if (!p->center) return MC_OK;
    if (mc_embeddings_is_centered(e))
        return mc_fail(MC_ERR_INVALID_ARG,
                       "mc_cluster_center: the embeddings were centred already: read them again");
    mc_calibrate_params cp;
    size_t n_good = good_faces(e, p, &cp);
    double shift = NAN;
    int centered = 0;
    mc_status st = center_step(e, &cp, n_good, &shift, &centered, NULL);
    if (st != MC_OK) return st;
    if (out_shift) *out_shift = shift;
    if (out_centered) *out_centered = centered;
    return MC_OK;
}

mc_status mc_cluster_prepare(mc_embeddings_t *e, const mc_knn_graph_t *graph,
                             const mc_cluster_params *p, mc_cluster_result_t **out)
{
    mc_clear_error();
    if (!e || !out) return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster: embeddings and out are required");
    *out = NULL;
    mc_cluster_params defaults = mc_cluster_params_default(MC_ALGO_DEFAULT);
    if (!p) p = &defaults;
    size_t n = mc_embeddings_n(e);
    if (graph && mc_knn_graph_n(graph) != n)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster: the graph has %zu faces, the embeddings %zu",
                       mc_knn_graph_n(graph), n);
    if (n < 2)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster: %zu face%s: clustering needs at least 2",
                       n, n == 1 ? "" : "s");
    /* a collection of no more than k faces: every other face is a neighbour */
    size_t k_used = graph ? mc_knn_graph_k(graph) : p->knn.k < n ? p->knn.k : n - 1;
    mc_status st = check_params(p, graph ? k_used : p->knn.k);
    if (st != MC_OK) return st;
    if (p->center && mc_embeddings_is_centered(e))
        return mc_fail(MC_ERR_INVALID_ARG,
                       "mc_cluster: the embeddings were centred already (by an earlier run): read "
                       "them again, or run mc_cluster_again() on the first result");
    mc_cluster_result_t *r = NULL;
    if ((st = new_result(p, &r)) != MC_OK) return st;
    mc_cluster_info *info = &r->info;
    double t0 = mc_knn_now();
    if ((st = cs_load(e, p, info, &r->own_cs)) != MC_OK) goto fail;
    r->cs = r->own_cs;
    /* centring and calibration use the same good faces: resolve the gate once */
    mc_calibrate_params cp;
    size_t n_good = good_faces(e, p, &cp);
    const float *q = mc_embeddings_quality(e);
    if (p->center) {
        if (!(r->own_center = mc_malloc_array(mc_embeddings_dim(e), sizeof *r->own_center))) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory for the centring vector");
            goto fail;
        }
        if ((st = center_step(e, &cp, n_good, &info->center_shift, &info->centered,
                              r->own_center)) != MC_OK)
            goto fail;
        r->center = info->centered ? r->own_center : NULL;
    }
    if (graph) {
        r->graph = graph;
        info->graph_given = 1;
        snprintf(info->knn.index, sizeof info->knn.index, "given");
        info->knn.n_candidates = n;
    } else {
        mc_knn_params kp = p->knn;
        kp.k = k_used;
        kp.n_threads = p->n_threads;
        kp.progress = p->progress;
        kp.progress_data = p->progress_data;
        if ((st = mc_knn_graph_build_ex(e, &kp, &r->own_graph, &info->knn)) != MC_OK) goto fail;
        r->graph = r->own_graph;
    }
    info->k = mc_knn_graph_k(r->graph);
    info->k_asked = graph ? info->k : p->knn.k;
    if (q && mc_quality_check(r->graph, q, &info->quality_check) == MC_OK)
        info->quality_checked = 1;
    mc_clear_error(); /* too few faces with a neighbour: no check, and no error */
    if (n_good >= 2) {
        if ((st = mc_calibrate(e, q, r->graph, &cp, &info->calibration)) != MC_OK) goto fail;
    } else {
        /* nothing to calibrate on: a fixed threshold still works */
        mc_calibration *c = &info->calibration;
        c->mean = c->sd = c->median = c->mad = c->nn_median = NAN;
        c->n_faces = n_good;
        c->quality_gate = q ? cp.sample_quality.value : -INFINITY;
    }
    const mc_calibration *cal = &info->calibration;
    if (cal->n_faces < MC_CALIBRATION_MIN_FACES) info->calibration_doubts |= MC_CALIBRATION_FEW_FACES;
    if (cal->n_pairs > 0 && !(cal->nn_median > cal->median + cal->mad))
        info->calibration_doubts |= MC_CALIBRATION_NN_NOT_CLOSER;
    info->t_prepare = mc_knn_now() - t0;
    *out = r;
    return MC_OK;
fail:
    mc_cluster_result_free(r);
    return st;
}

/* Enforce the constraints on the algorithm's result and carry the previous
 * ids and names over; *cl is replaced. */
static mc_status constrain(const constraint_state *k, const mc_cluster_params *p, size_t n,
                           const mc_knn_graph_t *g, double threshold, mc_cluster_info *info,
                           mc_clustering_t **cl)
{
    mc_status st = MC_OK;
    mc_clustering_t *c2 = NULL;
    const char **names = NULL;
    uint8_t *seen = NULL;
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    uint8_t *roles = malloc(n ? n : 1);
    if (!labels || !roles) goto nomem;
    memcpy(labels, mc_clustering_labels(*cl), n * sizeof *labels);
    memcpy(roles, mc_clustering_roles(*cl), n);
    if (k->set) {
        mc_constraint_input in = {mc_knn_graph_k(g), 0, mc_knn_graph_ids(g), mc_knn_graph_sims(g),
                                  threshold, NULL, MC_ROLE_NOISE, 0};
        if ((st = mc_constraints_apply(k->set, &in, labels, roles, &info->constraints)) != MC_OK) goto done;
        info->constraints_applied = 1;
        /* renumber by size, as every result is */
        if ((st = mc_clustering_new(n, labels, roles, &c2)) != MC_OK) goto done;
        memcpy(labels, mc_clustering_labels(c2), n * sizeof *labels);
        mc_clustering_free(c2);
        c2 = NULL;
    }
    if (k->prev &&
        (st = mc_previous_carry(k->prev, n, k->prev_cluster, labels, labels, &info->carry)) != MC_OK)
        goto done;
    if ((st = mc_clustering_new_keep_ids(n, labels, roles, &c2)) != MC_OK) goto done;
    if (p->corrections || k->prev) {
        /* names: a correction's, else the previous cluster's under the same id */
        size_t nc = mc_clustering_n_clusters(c2);
        names = calloc(nc + 1, sizeof *names);
        seen = calloc(nc + 1, 1);
        if (!names || !seen) goto nomem;
        for (size_t i = 0; k->set && i < n; i++) {
            const char *nm = mc_constraints_name(k->set, i);
            if (nm && labels[i] >= 0) names[labels[i]] = nm;
        }
        for (size_t c = 0; k->prev && c < nc; c++)
            if (!names[c]) names[c] = mc_previous_cluster_name(k->prev, (int64_t)c);
        if ((st = mc_clustering_set_names(c2, names)) != MC_OK) goto done;
        for (size_t i = 0; i < n; i++)
            if (labels[i] >= 0 && names[labels[i]] && !seen[labels[i]]) {
                seen[labels[i]] = 1;
                info->named_clusters++;
            }
    }
    mc_clustering_free(*cl);
    *cl = c2;
    c2 = NULL;
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory enforcing the constraints of %zu faces", n);
done:
    mc_clustering_free(c2);
    free(seen);
    free(names);
    free(labels);
    free(roles);
    return st;
}

/* Clusters of fewer than min_size faces become noise (role noise); the rest
 * are renumbered by size. */
static mc_status drop_small(size_t min_size, mc_clustering_t **cl, mc_cluster_info *info)
{
    size_t n = mc_clustering_n(*cl), nc = mc_clustering_n_clusters(*cl);
    const int64_t *lab = mc_clustering_labels(*cl);
    size_t *size = calloc(nc + 1, sizeof *size);
    int64_t *labels = mc_malloc_array(n ? n : 1, sizeof *labels);
    uint8_t *roles = mc_malloc_array(n ? n : 1, 1);
    mc_clustering_t *c2 = NULL;
    mc_status st = MC_OK;
    if (!size || !labels || !roles) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the minimum cluster size");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if (lab[i] >= 0) size[lab[i]]++;
    memcpy(labels, lab, n * sizeof *labels);
    memcpy(roles, mc_clustering_roles(*cl), n);
    for (size_t c = 0; c < nc; c++) info->small_clusters += size[c] < min_size;
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= 0 && size[labels[i]] < min_size) {
            labels[i] = -1;
            roles[i] = MC_ROLE_NOISE;
            info->small_cluster_faces++;
        }
    if ((st = mc_clustering_new(n, labels, roles, &c2)) != MC_OK) goto done;
    mc_clustering_free(*cl);
    *cl = c2;
done:
    free(size);
    free(labels);
    free(roles);
    return st;
}

/* Border faces whose direction is nearer the centre of another cluster, among
 * their neighbours' clusters, than their own cluster's centre (a negative
 * margin, as mc_clustering_score() measures it) become noise: the algorithm
 * attached them through one link, the cluster as a whole says they belong
 * elsewhere or nowhere. Core faces stay (they made the clusters, and the
 * centres are theirs, so no centre moves). docs/experiments.md has the
 * measurements. */
static mc_status contest(const mc_embeddings_t *e, const mc_knn_graph_t *g, int n_threads,
                         mc_clustering_t **cl, mc_cluster_info *info)
{
    size_t n = mc_clustering_n(*cl), d = mc_embeddings_dim(e), nc = mc_clustering_n_clusters(*cl);
    const int64_t *lab = mc_clustering_labels(*cl);
    const uint8_t *role = mc_clustering_roles(*cl);
    size_t n_border = 0;
    for (size_t i = 0; i < n; i++) n_border += role[i] == MC_ROLE_BORDER && lab[i] >= 0;
    if (n_border == 0 || nc < 2) return MC_OK;
    float *cen = NULL;
    mc_status st = mc_conf_centres(mc_embeddings_directions(e), n, d, lab, role, nc, n_threads, &cen);
    if (st != MC_OK) return st;
    uint8_t *only = malloc(n);
    float *sim = mc_malloc_array(n, sizeof *sim);
    float *margin = mc_malloc_array(n, sizeof *margin);
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    uint8_t *roles = malloc(n);
    mc_clustering_t *c2 = NULL;
    if (!only || !sim || !margin || !labels || !roles) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory checking the border faces of %zu", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) only[i] = role[i] == MC_ROLE_BORDER && lab[i] >= 0;
    mc_conf_job j = {mc_embeddings_directions(e), n, d, lab, mc_knn_graph_ids(g), mc_knn_graph_k(g),
                     lab, n, cen, nc, n_threads, only};
    mc_conf_score(&j, sim, margin);
    memcpy(labels, lab, n * sizeof *labels);
    memcpy(roles, role, n);
    size_t moved = 0;
    for (size_t i = 0; i < n; i++)
        if (only[i] && margin[i] < 0.0f) {
            labels[i] = -1;
            roles[i] = MC_ROLE_NOISE;
            moved++;
        }
    info->contested = moved;
    if (moved == 0) goto done;
    /* renumbered by size, as every result is */
    if ((st = mc_clustering_new(n, labels, roles, &c2)) != MC_OK) goto done;
    mc_clustering_free(*cl);
    *cl = c2;
done:
    free(cen);
    free(only);
    free(sim);
    free(margin);
    free(labels);
    free(roles);
    return st;
}

/* Steps 5 to 8 into r, whose graph, centring and calibration are set. */
static mc_status cluster_step(mc_cluster_result_t *r, const mc_embeddings_t *e)
{
    const mc_cluster_params *p = &r->params;
    mc_cluster_info *info = &r->info;
    const float *q = mc_embeddings_quality(e);
    double t0 = mc_knn_now(), t;
    info->algo = p->algo;
    info->threshold_mode = p->threshold.mode;
    info->core_quality = p->core_quality;
    info->noise_quality = p->noise_quality;
    /* a quality that means nothing must not bar half the faces from linking */
    info->gates_dropped = p->quality_use == MC_QUALITY_AUTO && info->quality_checked &&
                          !info->quality_check.informative;
    if (info->gates_dropped) info->core_quality = info->noise_quality = mc_threshold_off();
    else if (p->quality_use == MC_QUALITY_AUTO && p->core_slope > 0.0 && info->quality_checked) {
        double pct = round(p->core_slope * info->quality_check.rho); /* whole percents */
        info->core_quality.kind = MC_THRESH_PERCENTILE;
        info->core_quality.value = pct < 0.0 ? 0.0 : pct > 100.0 ? 100.0 : pct;
    }
    /* with no core gate every face may link: the stricter frac, if any */
    info->frac_ungated = info->core_quality.kind == MC_THRESH_OFF && !isnan(p->threshold.ungated_frac);
    info->frac = info->frac_ungated ? p->threshold.ungated_frac : p->threshold.frac;
    info->z = p->threshold.z;
    if (p->threshold.mode == MC_THRESHOLD_AUTO && info->calibration.n_pairs == 0)
        return mc_fail(MC_ERR_BAD_DATA,
                       "mc_cluster: %zu face%s at or above the quality gate: too few to calibrate "
                       "a threshold; give one (a fixed threshold, --eps)",
                       info->calibration.n_faces, info->calibration.n_faces == 1 ? "" : "s");
    t = p->threshold.mode == MC_THRESHOLD_FIXED
            ? p->threshold.similarity
            : mc_calibration_threshold(&info->calibration, info->frac, p->threshold.z);
    if (t > 1.0 - MC_DUPLICATE_TOLERANCE) t = 1.0 - MC_DUPLICATE_TOLERANCE; /* rounding */
    info->threshold = t;
    info->attach_threshold = t;
    if (p->algo == MC_ALGO_MAP && p->threshold.mode == MC_THRESHOLD_AUTO) {
        double ta = mc_calibration_threshold(&info->calibration, p->threshold.attach_frac,
                                             p->threshold.attach_z);
        info->attach_threshold = ta < t ? ta : t; /* never stricter than the links */
    }
    mc_status st;
    if (p->algo == MC_ALGO_MAP) {
        mc_map_params m = p->map;
        m.threshold = t;
        m.attach_threshold = info->attach_threshold;
        m.seed = p->seed;
        m.core_quality = info->core_quality;
        m.noise_quality = info->noise_quality;
        m.n_threads = p->n_threads;
        if (m.k > info->k) m.k = info->k; /* k shrunk to N - 1 */
        st = mc_map_run(r->graph, q, &m, &r->clustering, &info->map);
        info->core_q = info->map.core_q;
        info->noise_q = info->map.noise_q;
    } else if (p->algo == MC_ALGO_CW) {
        mc_cw_params c = mc_cw_params_default();
        c.threshold = t;
        c.seed = p->seed;
        c.iterations = p->iterations;
        c.core_quality = info->core_quality;
        c.noise_quality = info->noise_quality;
        c.n_threads = p->n_threads;
        st = mc_cw_run(r->graph, q, &c, &r->clustering, &info->core_q, &info->noise_q);
    } else if (p->algo == MC_ALGO_LINKAGE) {
        mc_linkage_params l = mc_linkage_params_default();
        l.kind = p->linkage;
        l.threshold = t;
        l.core_quality = info->core_quality;
        l.noise_quality = info->noise_quality;
        l.n_threads = p->n_threads;
        st = mc_linkage_run(r->graph, q, &l, &r->clustering, &info->core_q, &info->noise_q);
    } else {
        mc_dbscan_params d = mc_dbscan_params_default();
        d.eps = 1.0 - t; /* DBSCAN thinks in distances */
        if (d.eps < 0.0) d.eps = 0.0;
        /* k shrunk to N - 1: so does min_samples */
        d.min_samples = p->min_samples <= info->k + 1 ? p->min_samples : info->k + 1;
        d.core_quality = info->core_quality;
        d.noise_quality = info->noise_quality;
        d.n_threads = p->n_threads;
        st = mc_dbscan_run(r->graph, q, &d, &r->clustering, &info->core_q, &info->noise_q);
    }
    if (st != MC_OK) return st;
    info->contested = 0;
    if (p->contested &&
        (st = contest(e, r->graph, p->n_threads, &r->clustering, info)) != MC_OK)
        return st;
    if (p->min_cluster_size > 1 &&
        (st = drop_small(p->min_cluster_size, &r->clustering, info)) != MC_OK)
        return st;
    if (r->cs->wanted &&
        (st = constrain(r->cs, p, mc_embeddings_n(e), r->graph, t, info, &r->clustering)) != MC_OK)
        return st;
    /* how sure of each face, on the final clusters (clustering.h) */
    if (p->score &&
        (st = mc_clustering_score(r->clustering, e, r->graph, p->n_threads)) != MC_OK)
        return st;
    info->t_cluster = mc_knn_now() - t0;
    return MC_OK;
}

mc_status mc_cluster_again(const mc_cluster_result_t *prepared, const mc_embeddings_t *e,
                           const mc_cluster_params *p, mc_cluster_result_t **out)
{
    mc_clear_error();
    if (!prepared || !e || !out)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster_again: prepared, embeddings and out are required");
    *out = NULL;
    mc_cluster_params defaults = mc_cluster_params_default(MC_ALGO_DEFAULT);
    if (!p) p = &defaults;
    const mc_cluster_params *pp = &prepared->params;
    if (mc_embeddings_n(e) != mc_knn_graph_n(prepared->graph))
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster_again: the result is of %zu faces, the embeddings %zu",
                       mc_knn_graph_n(prepared->graph), mc_embeddings_n(e));
    /* field by field: a struct's padding bytes are not its value */
    const mc_calibrate_params *ca = &p->calibrate, *cb = &pp->calibrate;
    int same_calibration = ca->sample_quality.kind == cb->sample_quality.kind &&
                           ca->sample_quality.value == cb->sample_quality.value &&
                           ca->max_pairs == cb->max_pairs && ca->seed == cb->seed;
    if (!p->center != !pp->center || (!prepared->info.graph_given && p->knn.k != pp->knn.k) ||
        !same_calibration)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster_again: center, knn.k and calibrate must be "
                                           "those the result was prepared with");
    mc_status st = check_params(p, prepared->info.k_asked);
    if (st != MC_OK) return st;
    mc_cluster_result_t *r = NULL;
    if ((st = new_result(p, &r)) != MC_OK) return st;
    /* what the preparation resolved, without what the last step did */
    const mc_cluster_info *pi = &prepared->info;
    mc_cluster_info *info = &r->info;
    info->calibration = pi->calibration;
    info->centered = pi->centered;
    info->center_shift = pi->center_shift;
    info->k = pi->k;
    info->k_asked = pi->k_asked;
    info->quality_checked = pi->quality_checked;
    info->calibration_doubts = pi->calibration_doubts;
    info->quality_check = pi->quality_check;
    info->knn = pi->knn;
    info->graph_given = pi->graph_given;
    info->t_prepare = pi->t_prepare;
    r->params.knn = pp->knn;
    r->graph = prepared->graph;
    r->center = prepared->center;
    if (same_file(p->corrections, pp->corrections) && same_file(p->previous, pp->previous)) {
        r->cs = prepared->cs;
        info->photo_pairs = pi->photo_pairs;
        info->corrections = pi->corrections;
        info->previous_found = pi->previous_found;
        info->previous_rows = pi->previous_rows;
    } else {
        if ((st = cs_load(e, p, info, &r->own_cs)) != MC_OK) goto fail;
        r->cs = r->own_cs;
    }
    if ((st = cluster_step(r, e)) != MC_OK) goto fail;
    *out = r;
    return MC_OK;
fail:
    mc_cluster_result_free(r);
    return st;
}

mc_status mc_cluster_run(mc_embeddings_t *e, const mc_knn_graph_t *graph, const mc_cluster_params *p,
                         mc_cluster_result_t **out)
{
    mc_clear_error();
    if (!out) return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster_run: out is required");
    *out = NULL;
    mc_cluster_result_t *r = NULL;
    mc_status st = mc_cluster_prepare(e, graph, p, &r);
    if (st != MC_OK) return st;
    if ((st = cluster_step(r, e)) != MC_OK) {
        mc_cluster_result_free(r);
        return st;
    }
    *out = r;
    return MC_OK;
}

void mc_cluster_result_free(mc_cluster_result_t *r)
{
    if (!r) return;
    mc_clustering_free(r->clustering);
    mc_knn_graph_free(r->own_graph);
    free(r->own_center);
    cs_free(r->own_cs);
    free(r);
}

const mc_clustering_t *mc_cluster_result_clustering(const mc_cluster_result_t *r)
{
    return r ? r->clustering : NULL;
}

const mc_cluster_info *mc_cluster_result_info(const mc_cluster_result_t *r) { return r ? &r->info : NULL; }

const mc_cluster_params *mc_cluster_result_params(const mc_cluster_result_t *r)
{
    return r ? &r->params : NULL;
}

const mc_knn_graph_t *mc_cluster_result_graph(const mc_cluster_result_t *r) { return r ? r->graph : NULL; }

const float *mc_cluster_result_center(const mc_cluster_result_t *r) { return r ? r->center : NULL; }

mc_model_params mc_cluster_result_model_params(const mc_cluster_result_t *r, const mc_embeddings_t *e,
                                               const char *source)
{
    mc_model_params mp = mc_model_params_default();
    if (!r) return mp;
    mp.threshold = r->info.threshold;
    mp.k = r->info.k;
    mp.core_q = r->info.core_q;
    mp.noise_q = r->info.noise_q;
    mp.center = r->center;
    mp.algorithm = mc_algo_name(r->info.algo);
    mp.quality_name = mc_embeddings_quality_name(e);
    mp.source = source;
    return mp;
}

mc_status mc_cluster_result_write_h5(const mc_cluster_result_t *r, const mc_embeddings_t *e,
                                     const char *path, const char *input)
{
    mc_clear_error();
    if (!r || !r->clustering)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_cluster_result_write_h5: a result with a clustering is required");
    const mc_cluster_info *in = &r->info;
    const mc_cluster_params *p = &r->params;
    char cq[32], nq[32];
    mc_threshold_format(&in->core_quality, cq, sizeof cq);
    mc_threshold_format(&in->noise_quality, nq, sizeof nq);
    mc_attr attrs[] = {
        {"magclust_version", mc_version(), 0},
        {"input", input ? input : "", 0},
        {"algo", mc_algo_name(in->algo), 0},
        {"quality_key", mc_embeddings_quality_name(e), 0},
        {"eps", NULL, 1.0 - in->threshold},
        {"threshold_source", in->threshold_mode == MC_THRESHOLD_FIXED ? "eps" : "auto", 0},
        {"centered", in->centered ? "on" : "off", 0},
        {"calibration_pair_median", NULL, in->calibration.median},
        {"calibration_pair_robust_sd", NULL, in->calibration.mad},
        {"calibration_nn_median", NULL, in->calibration.nn_median},
        {"calib_frac", NULL, in->frac},
        {"calib_z", NULL, in->z},
        {"k", NULL, (double)in->k},
        {"core_quality", cq, 0},
        {"core_quality_value", NULL, in->core_q},
        {"noise_quality", nq, 0},
        {"noise_quality_value", NULL, in->noise_q},
        {NULL, NULL, 0}, /* the algorithm's own settings, below */
        {NULL, NULL, 0},
    };
    size_t na = sizeof attrs / sizeof attrs[0] - 2;
    if (in->algo == MC_ALGO_LINKAGE) {
        attrs[na++] = (mc_attr){"linkage", mc_linkage_name(p->linkage), 0};
    } else if (in->algo == MC_ALGO_CW) {
        attrs[na++] = (mc_attr){"seed", NULL, (double)p->seed};
        attrs[na++] = (mc_attr){"iterations", NULL, (double)p->iterations};
    } else if (in->algo == MC_ALGO_MAP) {
        attrs[na++] = (mc_attr){"seed", NULL, (double)p->seed};
        attrs[na++] = (mc_attr){"attach_threshold", NULL, in->attach_threshold};
    } else {
        attrs[na++] = (mc_attr){"min_samples", NULL, (double)p->min_samples};
    }
    return mc_clustering_write_h5(r->clustering, e, path, attrs, na);
}
