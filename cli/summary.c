#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "json.h"

void cli_count_identities(const int64_t *labels, size_t n, size_t *out_ids, size_t *out_unlabelled)
{
    size_t ids = 0, unl = 0, m = 0;
    int64_t *s = malloc((n ? n : 1) * sizeof *s);
    if (s) {
        for (size_t i = 0; i < n; i++)
            if (labels[i] >= 0) s[m++] = labels[i];
        qsort(s, m, sizeof *s, cli_cmp_i64);
        for (size_t i = 0; i < m; i++)
            if (i == 0 || s[i] != s[i - 1]) ids++;
        free(s);
    }
    for (size_t i = 0; i < n; i++) unl += labels[i] < 0;
    *out_ids = ids;
    *out_unlabelled = unl;
}

void cli_print_metrics(FILE *f, const mc_metrics *m)
{
    fprintf(f, "  BCubed       P %.4f  R %.4f  F %.4f\n", m->bcubed_precision, m->bcubed_recall,
            m->bcubed_f);
    fprintf(f, "  pairwise     P %.4f  R %.4f  F %.4f\n", m->pairwise_precision,
            m->pairwise_recall, m->pairwise_f);
    fprintf(f, "  NMI          %.4f\n", m->nmi);
}

static void gate_text(char *buf, size_t size, const mc_threshold *t, double resolved)
{
    char spec[32];
    mc_threshold_format(t, spec, sizeof spec);
    if (t->kind == MC_THRESH_OFF)
        snprintf(buf, size, "off");
    else if (t->kind == MC_THRESH_PERCENTILE)
        snprintf(buf, size, "%s = %.4g", spec, resolved);
    else
        snprintf(buf, size, "%s", spec);
}

static void calib_text(FILE *f, const mc_cluster_info *in)
{
    const mc_calibration *c = &in->calibration;
    if (in->centered)
        fprintf(f, "  centred      removed the better half's mean direction (norm %.3f)\n",
                in->center_shift);
    else if (isfinite(in->center_shift) && in->center_shift >= MC_CENTER_MAX_SHIFT)
        fprintf(f, "  centred      no: the better half's faces all point one way (mean direction "
                   "norm %.4f)\n", in->center_shift);
    else if (isfinite(in->center_shift))
        fprintf(f, "  centred      no: the mean direction of the better half's %zu faces (norm %.3f) "
                   "is no longer than that of random directions\n",
                c->n_faces, in->center_shift);
    if (c->n_pairs == 0) {
        fprintf(f, "  calibration  none: %zu face%s with quality >= %.4g\n", c->n_faces,
                c->n_faces == 1 ? "" : "s", c->quality_gate);
    } else {
        fprintf(f, "  calibration  %zu faces with quality >= %.4g: random pairs (%zu) cosine median %.3f, robust sd %.3f;"
                   " nearest good neighbour median %.3f\n",
                c->n_faces, c->quality_gate, c->n_pairs, c->median, c->mad, c->nn_median);
    }
    if (in->threshold_mode == MC_THRESHOLD_AUTO && in->calibration_doubts)
        fprintf(f, "  warning      the calibrated threshold is unreliable: %s%s%s; check the result "
                   "or give --eps\n",
                in->calibration_doubts & MC_CALIBRATION_FEW_FACES ? "too few faces to calibrate on" : "",
                in->calibration_doubts == (MC_CALIBRATION_FEW_FACES | MC_CALIBRATION_NN_NOT_CLOSER) ? ", and " : "",
                in->calibration_doubts & MC_CALIBRATION_NN_NOT_CLOSER
                    ? "nearest neighbours are no closer than random pairs plus one robust deviation"
                    : "");
    if (in->threshold_mode == MC_THRESHOLD_FIXED)
        fprintf(f, "  threshold    similarity %.4f = 1 - eps (eps %.4g)\n", in->threshold,
                1.0 - in->threshold);
    else
        fprintf(f, "  threshold    similarity %.4f = max(median + %g (nn - median), median + %g sd) (auto%s; eps %.4f;"
                   " override with --eps)\n",
                in->threshold, in->frac, in->z, in->frac_ungated ? ", stricter with no core gate" : "",
                1.0 - in->threshold);
    if (in->threshold >= 1.0 - MC_DUPLICATE_TOLERANCE - 1e-12)
        fprintf(f, "  note         the threshold is capped at 1 - %g: closer faces count as "
                   "duplicates\n", MC_DUPLICATE_TOLERANCE);
}

void cli_print_quality_check(FILE *f, const mc_cluster_info *in, mc_quality_use use)
{
    if (!in->quality_checked) return;
    const mc_quality_check_result *c = &in->quality_check;
    fprintf(f, "  check        quality vs nearest-neighbour cosine: rank correlation %+.2f ", c->rho);
    if (c->informative)
        fprintf(f, "(informative: the gates apply)\n");
    else if (in->gates_dropped)
        fprintf(f, "(uninformative, below %.2f: the gates are off, every face may seed and link; "
                   "--trust-quality keeps them)\n", MC_QUALITY_MIN_RHO);
    else
        fprintf(f, "(uninformative, below %.2f; the gates %s as given)\n", MC_QUALITY_MIN_RHO,
                use == MC_QUALITY_GATE ? "apply" : "were not used");
}

void cli_print_other_qualities(FILE *f, const mc_cluster_info *in, const cli_qkey *k, size_t n)
{
    if (!n) return;
    fprintf(f, "  others       ");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s %+.2f%s", i ? ", " : "", k[i].name, k[i].rho,
                k[i].informative ? "" : " (uninformative)");
    /* the best other one beats the quality in use clearly */
    double now = in->quality_checked ? in->quality_check.rho : -1.0;
    if (k[0].informative && k[0].rho > now + 0.05)
        fprintf(f, ": --quality-key %s would gate by a better one", k[0].name);
    fprintf(f, "\n");
}

/* "  recall@10 0.97 (0.98 better half, 1000 sampled, 0.4 s)" */
static void print_recall(FILE *f, const mc_knn_recall *r)
{
    if (!r) return;
    fprintf(f, "  recall@%zu %.3f (", r->k, r->recall);
    if (r->n_better) fprintf(f, "%.3f better half, ", r->recall_better);
    fprintf(f, "%zu sampled, %.1f s)", r->n_sampled, r->seconds);
}

void cli_print_knn_line(FILE *f, const mc_knn_info *k, size_t n, size_t kk, const char *graph_path,
                        const mc_knn_recall *recall)
{
    fprintf(f, "  knn          k %zu  index %s", kk, k->index);
    if (graph_path) {
        fprintf(f, " (graph loaded from %s)", graph_path);
        print_recall(f, recall);
        fprintf(f, "\n");
        return;
    }
    char autospec[64];
    mc_knn_auto_index(n, autospec, sizeof autospec);
    int int8 = strstr(k->index, "Int8") != NULL;
    fprintf(f, " (%s", k->exact ? "exact"
                       : int8 ? (k->train_size ? "8-bit on principal axes, re-ranked" : "8-bit, re-ranked")
                              : "approximate");
    if (k->nprobe) fprintf(f, ", nprobe %zu", k->nprobe);
    if (k->ef_construction) fprintf(f, ", efConstruction %zu", k->ef_construction);
    if (k->ef_search) fprintf(f, ", efSearch %zu", k->ef_search);
    if (k->train_size) fprintf(f, ", trained on %zu faces", k->train_size);
    if (k->scan_frac > 0.0 && !k->exact && !int8)
        fprintf(f, ", %.1f%% of the pairs compared", 100.0 * k->scan_frac);
    fprintf(f, ")");
    if (k->exact || (int8 && !k->train_size)) fprintf(f, "  search %.3f s", k->t_search);
    else if (int8) fprintf(f, "  train %.3f s  search %.3f s", k->t_train, k->t_search);
    else fprintf(f, "  train %.3f s  add %.3f s  search %.3f s", k->t_train, k->t_add, k->t_search);
    print_recall(f, recall);
    fprintf(f, "\n");
}

void cli_print_constraints(FILE *f, const mc_cluster_info *in, const char *corrections,
                           const char *previous, const mc_embeddings_t *e)
{
    if (in->constraints_applied) {
        const mc_corrections_info *ci = &in->corrections;
        const mc_constraint_stats *cs = &in->constraints;
        fprintf(f, "  constraints ");
        const char *sep = " ";
        if (mc_embeddings_groups(e)) {
            fprintf(f, "%sphoto key '%s': %zu photos, %zu pairs of faces that may not meet", sep,
                    mc_embeddings_group_name(e), mc_embeddings_n_groups(e), in->photo_pairs);
            sep = "; ";
        }
        if (corrections) {
            fprintf(f, "%s%s: %zu corrections (%zu named, %zu not-person, %zu same, %zu different",
                    sep, corrections, ci->lines, ci->named, ci->not_named, ci->same, ci->different);
            if (ci->unknown) fprintf(f, "; %zu name faces not in this input, ignored", ci->unknown);
            fprintf(f, ")");
        }
#define PL(n) ((n) == 1 ? "" : "s")
        fprintf(f, "\n               %zu violation%s resolved: %zu face%s moved, %zu left in no cluster, %zu gathered "
                   "into their person's cluster, %zu cluster%s opened\n",
                cs->violations, PL(cs->violations), cs->moved, PL(cs->moved), cs->to_noise,
                cs->gathered, cs->new_clusters, PL(cs->new_clusters));
        if (cs->unresolved)
            fprintf(f, "               %zu violation%s between faces that may not move left as they are "
                       "(re-run 'cluster' with the corrections to resolve them)\n",
                    cs->unresolved, PL(cs->unresolved));
#undef PL
    }
    if (previous)
        fprintf(f, "  previous     %s: %zu of %zu faces found; %zu clusters kept, %zu merged, %zu split, "
                   "%zu new, %zu gone; %zu carry a previous id, %zu named\n",
                previous, in->previous_found, mc_embeddings_n(e), in->carry.kept, in->carry.merged,
                in->carry.split, in->carry.added, in->carry.gone, in->carry.carried, in->named_clusters);
}

void cli_json_constraints(json_out *j, const mc_cluster_info *in, const char *corrections,
                          const char *previous, const mc_embeddings_t *e)
{
    if (in->constraints_applied) {
        const mc_corrections_info *ci = &in->corrections;
        const mc_constraint_stats *cs = &in->constraints;
        json_key_object(j, "constraints");
        json_str(j, "photo_key", mc_embeddings_groups(e) ? mc_embeddings_group_name(e) : NULL);
        json_uint(j, "photo_pairs", in->photo_pairs);
        json_str(j, "corrections", corrections);
        json_uint(j, "lines", ci->lines);
        json_uint(j, "unknown_paths", ci->unknown);
        json_uint(j, "named", ci->named);
        json_uint(j, "not_named", ci->not_named);
        json_uint(j, "same", ci->same);
        json_uint(j, "different", ci->different);
        json_uint(j, "violations", cs->violations);
        json_uint(j, "moved", cs->moved);
        json_uint(j, "to_noise", cs->to_noise);
        json_uint(j, "gathered", cs->gathered);
        json_uint(j, "new_clusters", cs->new_clusters);
        json_uint(j, "unresolved", cs->unresolved);
        json_close_object(j);
    }
    if (previous) {
        json_key_object(j, "previous");
        json_str(j, "file", previous);
        json_uint(j, "faces_found", in->previous_found);
        json_uint(j, "kept", in->carry.kept);
        json_uint(j, "merged", in->carry.merged);
        json_uint(j, "split", in->carry.split);
        json_uint(j, "new", in->carry.added);
        json_uint(j, "gone", in->carry.gone);
        json_uint(j, "carried", in->carry.carried);
        json_uint(j, "named", in->named_clusters);
        json_close_object(j);
    }
}

size_t cli_count_clusters(const mc_clustering_t *c)
{
    size_t nc = mc_clustering_n_clusters(c), n = mc_clustering_n(c), count = 0;
    const int64_t *lab = mc_clustering_labels(c);
    uint8_t *seen = calloc(nc + 1, 1);
    if (!seen) return nc;
    for (size_t i = 0; i < n; i++)
        if (lab[i] >= 0 && !seen[lab[i]]) {
            seen[lab[i]] = 1;
            count++;
        }
    free(seen);
    return count;
}

void cli_print_summary_head(FILE *f, const char *command, const char *in_path, const mc_embeddings_t *e)
{
    size_t n = mc_embeddings_n(e);
    const float *q = mc_embeddings_quality(e);
    fprintf(f, "magclust %s %s\n", command, in_path);
    fprintf(f, "  faces        %zu x %zu\n", n, mc_embeddings_dim(e));
    fprintf(f, "  quality      %s: p5 %.4g  p50 %.4g  p95 %.4g\n", mc_embeddings_quality_name(e),
            mc_percentile(q, n, 5), mc_percentile(q, n, 50), mc_percentile(q, n, 95));
    fflush(f);
}

int cli_print_summary(FILE *f, const mc_embeddings_t *e, const mc_clustering_t *c,
                      const cli_summary_params *p, const cli_timings *t)
{
    size_t n = mc_embeddings_n(e);
    const float *q = mc_embeddings_quality(e);
    const mc_cluster_info *in = mc_cluster_result_info(p->result);
    const mc_cluster_params *cp = mc_cluster_result_params(p->result);
    char core[64], noise[64];
    gate_text(core, sizeof core, &in->core_quality, in->core_q);
    gate_text(noise, sizeof noise, &in->noise_quality, in->noise_q);
    size_t n_core = mc_clustering_n_role(c, MC_ROLE_CORE);
    size_t n_border = mc_clustering_n_role(c, MC_ROLE_BORDER);
    size_t n_noise = mc_clustering_n_noise(c);
    size_t n_demoted = 0;
    for (size_t i = 0; i < n; i++) n_demoted += (double)q[i] < in->noise_q;

    cli_print_quality_check(f, in, cp->quality_use);
    cli_print_other_qualities(f, in, p->qkeys, p->n_qkeys);
    calib_text(f, in);
    double eps = 1.0 - in->threshold;
    if (in->algo == MC_ALGO_LINKAGE)
        fprintf(f, "  params       algo linkage (%s)  eps %.4g  k %zu  core-quality %s  noise-quality %s\n",
                mc_linkage_name(cp->linkage), eps, in->k, core, noise);
    else if (in->algo == MC_ALGO_MAP)
        fprintf(f, "  params       algo map  eps %.4g (join %.4g)  flow %s  cut %s%.0zu  seed %llu  k %zu  core-quality %s  noise-quality %s\n"
                   "  map          %zu faces carry flow on %zu links: %zu modules, codelength %.4f bits (%.4f in one module; best of %zu trial%s)\n",
                eps, 1.0 - in->attach_threshold, cp->map.flow == MC_MAP_DIRECTED ? "directed" : "undirected",
                in->map.window ? "outlier, window " : "none", in->map.window,
                (unsigned long long)cp->seed, in->k, core, noise, in->map.nodes, in->map.links,
                in->map.modules, in->map.codelength, in->map.one_level, in->map.trials,
                in->map.trials == 1 ? "" : "s");
    else if (in->algo == MC_ALGO_CW)
        fprintf(f, "  params       algo cw  eps %.4g  seed %llu  iterations %zu  k %zu  core-quality %s  noise-quality %s\n",
                eps, (unsigned long long)cp->seed, cp->iterations, in->k, core, noise);
    else
        fprintf(f, "  params       algo dbscan  eps %.4g  min-samples %zu  k %zu  core-quality %s  noise-quality %s\n",
                eps, cp->min_samples <= in->k + 1 ? cp->min_samples : in->k + 1, in->k, core, noise);
    cli_print_knn_line(f, p->knn, n, in->k, p->graph_path, p->recall);
    if (in->k_asked > in->k)
        fprintf(f, "  note         k %zu asked, but there are only %zu faces: k is %zu (every other "
                   "face)\n", in->k_asked, n, in->k);
    fprintf(f, "  clusters     %zu  (faces: %zu core, %zu border, %zu noise", cli_count_clusters(c),
            n_core, n_border, n_noise);
    if (in->noise_quality.kind != MC_THRESH_OFF)
        fprintf(f, ", of which %zu demoted by the noise gate", n_demoted);
    if (cp->min_cluster_size > 1)
        fprintf(f, "; %zu cluster%s under %zu faces turned to noise (%zu faces)", in->small_clusters,
                in->small_clusters == 1 ? "" : "s", cp->min_cluster_size, in->small_cluster_faces);
    fprintf(f, ")\n");
    if (in->contested)
        fprintf(f, "  contested    %zu border face%s nearer another cluster's centre than %s own: "
                   "noise (--contested keep keeps them)\n",
                in->contested, in->contested == 1 ? "" : "s", in->contested == 1 ? "its" : "their");
    {
        /* a gate above every face leaves nothing to cluster: say so */
        size_t n_pass = 0;
        float q_max = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            n_pass += (double)q[i] >= in->core_q && (double)q[i] >= in->noise_q;
            if (q[i] > q_max) q_max = q[i];
        }
        if (n > 0 && n_pass == 0)
            fprintf(f, "  warning      no face reaches the %s gate (%s = %.6g; the highest quality is "
                       "%.6g): no face can seed a cluster; lower --%s-quality\n",
                    in->noise_q > in->core_q ? "noise" : "core",
                    in->noise_q > in->core_q ? noise : core,
                    in->noise_q > in->core_q ? in->noise_q : in->core_q, (double)q_max,
                    in->noise_q > in->core_q ? "noise" : "core");
    }
    cli_print_constraints(f, in, cp->corrections, cp->previous, e);
    fprintf(f, "  time         load %.3f s  knn %.3f s  cluster %.3f s  write %.3f s  total %.3f s\n",
            t->load, t->knn, t->cluster, t->write, t->load + t->knn + t->cluster + t->write);
    const int64_t *labels = mc_embeddings_labels(e);
    if (labels) {
        size_t ids, unl;
        mc_metrics m;
        cli_count_identities(labels, n, &ids, &unl);
        mc_status st = mc_metrics_compute(labels, mc_clustering_labels(c), n, &m);
        if (st != MC_OK) {
            cli_fail_status(st);
            return -1;
        }
        fprintf(f, "  labels       %zu identities, %zu unlabelled faces (singletons)\n", ids, unl);
        cli_print_metrics(f, &m);
    }
    if (p->out_path)
        fprintf(f, "  wrote        %s\n", p->out_path);
    else
        fprintf(f, "  wrote        nothing (no -o)\n");
    return 0;
}

static void json_gate(json_out *j, const char *key, const mc_threshold *t, double resolved)
{
    char spec[32];
    mc_threshold_format(t, spec, sizeof spec);
    json_key_object(j, key);
    json_str(j, "spec", spec);
    if (t->kind == MC_THRESH_OFF)
        json_null(j, "value");
    else
        json_num(j, "value", resolved);
    json_close_object(j);
}

int cli_print_summary_json(FILE *f, const mc_embeddings_t *e, const mc_clustering_t *c,
                           const cli_summary_params *p, const cli_timings *t)
{
    size_t n = mc_embeddings_n(e);
    const float *q = mc_embeddings_quality(e);
    const int64_t *labels = mc_embeddings_labels(e);
    mc_metrics m;
    if (labels) {
        mc_status st = mc_metrics_compute(labels, mc_clustering_labels(c), n, &m);
        if (st != MC_OK) {
            cli_fail_status(st);
            return -1;
        }
    }
    json_out j;
    json_begin(&j, f);
    json_str(&j, "magclust_version", mc_version());
    json_str(&j, "input", p->in_path);
    json_str(&j, "output", p->out_path);
    json_str(&j, "output_format", p->out_path ? p->out_format : NULL);
    json_uint(&j, "faces", n);
    json_uint(&j, "dim", mc_embeddings_dim(e));
    json_key_object(&j, "quality");
    json_str(&j, "name", mc_embeddings_quality_name(e));
    json_num(&j, "p5", mc_percentile(q, n, 5));
    json_num(&j, "p50", mc_percentile(q, n, 50));
    json_num(&j, "p95", mc_percentile(q, n, 95));
    json_close_object(&j);
    json_key_object(&j, "params");
    const mc_cluster_info *in = mc_cluster_result_info(p->result);
    const mc_cluster_params *cp = mc_cluster_result_params(p->result);
    json_str(&j, "algo", mc_algo_name(in->algo));
    json_num(&j, "eps", 1.0 - in->threshold);
    json_num(&j, "threshold", in->threshold);
    json_str(&j, "threshold_source", in->threshold_mode == MC_THRESHOLD_FIXED ? "eps" : "auto");
    if (in->algo == MC_ALGO_LINKAGE) {
        json_str(&j, "linkage", mc_linkage_name(cp->linkage));
    } else if (in->algo == MC_ALGO_CW) {
        json_uint(&j, "seed", cp->seed);
        json_uint(&j, "iterations", cp->iterations);
    } else if (in->algo == MC_ALGO_MAP) {
        json_num(&j, "attach_eps", 1.0 - in->attach_threshold);
        json_str(&j, "flow", cp->map.flow == MC_MAP_DIRECTED ? "directed" : "undirected");
        json_uint(&j, "seed", cp->seed);
        json_uint(&j, "trials", in->map.trials);
        json_uint(&j, "window", in->map.window);
        json_num(&j, "codelength", in->map.codelength);
        json_num(&j, "one_level_codelength", in->map.one_level);
        json_uint(&j, "modules", in->map.modules);
    } else {
        json_uint(&j, "min_samples", cp->min_samples);
    }
    json_uint(&j, "k", in->k);
    json_gate(&j, "core_quality", &in->core_quality, in->core_q);
    json_gate(&j, "noise_quality", &in->noise_quality, in->noise_q);
    json_num(&j, "threads", (double)p->threads);
    json_close_object(&j);
    json_key_object(&j, "knn");
    json_str(&j, "index", p->knn->index);
    json_bool(&j, "exact", p->knn->exact);
    json_str(&j, "graph", p->graph_path);
    json_uint(&j, "nprobe", p->knn->nprobe);
    json_uint(&j, "ef_search", p->knn->ef_search);
    json_uint(&j, "train_size", p->knn->train_size);
    if (p->knn->scan_frac > 0.0) json_num(&j, "pairs_compared", p->knn->scan_frac);
    else json_null(&j, "pairs_compared");
    json_num(&j, "train_seconds", p->knn->t_train);
    json_num(&j, "add_seconds", p->knn->t_add);
    json_num(&j, "search_seconds", p->knn->t_search);
    if (p->knn->ef_construction) json_uint(&j, "ef_construction", p->knn->ef_construction);
    else json_null(&j, "ef_construction");
    json_key_object(&j, "recall");
    if (p->recall) {
        json_uint(&j, "k", p->recall->k);
        json_uint(&j, "sampled", p->recall->n_sampled);
        json_num(&j, "overall", p->recall->recall);
        json_uint(&j, "better_half_sampled", p->recall->n_better);
        json_num(&j, "better_half", p->recall->recall_better);
        json_num(&j, "seconds", p->recall->seconds);
    } else {
        json_null(&j, "k");
        json_null(&j, "sampled");
        json_null(&j, "overall");
        json_null(&j, "better_half_sampled");
        json_null(&j, "better_half");
        json_null(&j, "seconds");
    }
    json_close_object(&j);
    json_close_object(&j);
    json_key_object(&j, "quality_check");
    if (in->quality_checked) {
        json_num(&j, "rho", in->quality_check.rho);
        json_bool(&j, "informative", in->quality_check.informative);
    } else {
        json_null(&j, "rho");
        json_null(&j, "informative");
    }
    json_bool(&j, "gates_dropped", in->gates_dropped);
    json_key_object(&j, "others");
    for (size_t i = 0; i < p->n_qkeys; i++) json_num(&j, p->qkeys[i].name, p->qkeys[i].rho);
    json_close_object(&j);
    json_close_object(&j);
    json_key_object(&j, "calibration");
    json_bool(&j, "centered", in->centered);
    if (!in->centered) json_null(&j, "center_shift");
    else json_num(&j, "center_shift", in->center_shift);
    json_num(&j, "pair_median", in->calibration.median);
    json_num(&j, "pair_robust_sd", in->calibration.mad);
    json_num(&j, "nn_median", in->calibration.nn_median);
    json_uint(&j, "faces", in->calibration.n_faces);
    json_uint(&j, "pairs", in->calibration.n_pairs);
    json_num(&j, "quality_gate", in->calibration.quality_gate);
    json_bool(&j, "few_faces", (in->calibration_doubts & MC_CALIBRATION_FEW_FACES) != 0);
    json_bool(&j, "nn_not_closer", (in->calibration_doubts & MC_CALIBRATION_NN_NOT_CLOSER) != 0);
    json_num(&j, "frac", in->frac);
    json_bool(&j, "frac_ungated", in->frac_ungated);
    json_num(&j, "z", in->z);
    json_close_object(&j);
    json_uint(&j, "clusters", cli_count_clusters(c));
    json_uint(&j, "core", mc_clustering_n_role(c, MC_ROLE_CORE));
    json_uint(&j, "border", mc_clustering_n_role(c, MC_ROLE_BORDER));
    json_uint(&j, "noise", mc_clustering_n_noise(c));
    json_uint(&j, "min_cluster_size", cp->min_cluster_size > 1 ? cp->min_cluster_size : 1);
    json_uint(&j, "small_clusters", in->small_clusters);
    json_uint(&j, "small_cluster_faces", in->small_cluster_faces);
    json_bool(&j, "contested_to_noise", cp->contested);
    json_uint(&j, "contested", in->contested);
    json_key_object(&j, "seconds");
    json_num(&j, "load", t->load);
    json_num(&j, "knn", t->knn);
    json_num(&j, "cluster", t->cluster);
    json_num(&j, "write", t->write);
    json_num(&j, "total", t->load + t->knn + t->cluster + t->write);
    json_close_object(&j);
    cli_json_constraints(&j, in, cp->corrections, cp->previous, e);
    if (labels) {
        size_t ids, unl;
        cli_count_identities(labels, n, &ids, &unl);
        json_key_object(&j, "metrics");
        json_uint(&j, "identities", ids);
        json_uint(&j, "unlabelled", unl);
        json_num(&j, "bcubed_precision", m.bcubed_precision);
        json_num(&j, "bcubed_recall", m.bcubed_recall);
        json_num(&j, "bcubed_f", m.bcubed_f);
        json_num(&j, "pairwise_precision", m.pairwise_precision);
        json_num(&j, "pairwise_recall", m.pairwise_recall);
        json_num(&j, "pairwise_f", m.pairwise_f);
        json_num(&j, "nmi", m.nmi);
        json_close_object(&j);
    } else {
        json_null(&j, "metrics");
    }
    json_end(&j);
    return 0;
}
