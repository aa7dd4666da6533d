#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "json.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void cli_count_identities(const int64_t *labels, size_t n, size_t *out_ids, size_t *out_unlabelled)
{
    size_t ids = 0, unl = 0, m = 0;
    int64_t *s = malloc((n ? n : 1) * sizeof *s);
    if (s) {
        for (size_t i = 0; i < n; i++)
            if (labels[i] >= 0) s[m++] = labels[i];
        qsort(s, m, sizeof *s, cmp_i64);
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

int cli_print_summary(FILE *f, const mc_embeddings_t *e, const mc_clustering_t *c,
                      const cli_summary_params *p, const cli_timings *t)
{
    size_t n = mc_embeddings_n(e);
    const float *q = mc_embeddings_quality(e);
    char core[64], noise[64];
    gate_text(core, sizeof core, &p->dbscan->core_quality, p->core_q);
    gate_text(noise, sizeof noise, &p->dbscan->noise_quality, p->noise_q);
    size_t n_core = mc_clustering_n_role(c, MC_ROLE_CORE);
    size_t n_border = mc_clustering_n_role(c, MC_ROLE_BORDER);
    size_t n_noise = mc_clustering_n_noise(c);
    size_t n_demoted = 0;
    for (size_t i = 0; i < n; i++) n_demoted += (double)q[i] < p->noise_q;

    fprintf(f, "magclust cluster %s\n", p->in_path);
    fprintf(f, "  faces        %zu x %zu\n", n, mc_embeddings_dim(e));
    fprintf(f, "  quality      %s: p5 %.4g  p50 %.4g  p95 %.4g\n", mc_embeddings_quality_name(e),
            mc_percentile(q, n, 5), mc_percentile(q, n, 50), mc_percentile(q, n, 95));
    if (strcmp(p->algo, "linkage") == 0)
        fprintf(f, "  params       algo linkage (%s)  eps %g  k %zu  core-quality %s  noise-quality %s\n",
                mc_linkage_name(p->linkage->kind), p->dbscan->eps, p->knn->k, core, noise);
    else if (strcmp(p->algo, "cw") == 0)
        fprintf(f, "  params       algo cw  eps %g  seed %llu  iterations %zu  k %zu  core-quality %s  noise-quality %s\n",
                p->dbscan->eps, (unsigned long long)p->cw->seed, p->cw->iterations, p->knn->k, core, noise);
    else
        fprintf(f, "  params       eps %g  min-samples %zu  k %zu  core-quality %s  noise-quality %s\n",
                p->dbscan->eps, p->dbscan->min_samples, p->knn->k, core, noise);
    fprintf(f, "  clusters     %zu  (faces: %zu core, %zu border, %zu noise", mc_clustering_n_clusters(c),
            n_core, n_border, n_noise);
    if (p->dbscan->noise_quality.kind != MC_THRESH_OFF)
        fprintf(f, ", of which %zu demoted by the noise gate", n_demoted);
    fprintf(f, ")\n");
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
    json_str(&j, "algo", p->algo);
    json_num(&j, "eps", p->dbscan->eps);
    if (strcmp(p->algo, "linkage") == 0) {
        json_str(&j, "linkage", mc_linkage_name(p->linkage->kind));
    } else if (strcmp(p->algo, "cw") == 0) {
        json_uint(&j, "seed", p->cw->seed);
        json_uint(&j, "iterations", p->cw->iterations);
    } else {
        json_uint(&j, "min_samples", p->dbscan->min_samples);
    }
    json_uint(&j, "k", p->knn->k);
    json_gate(&j, "core_quality", &p->dbscan->core_quality, p->core_q);
    json_gate(&j, "noise_quality", &p->dbscan->noise_quality, p->noise_q);
    json_num(&j, "threads", p->knn->n_threads);
    json_close_object(&j);
    json_uint(&j, "clusters", mc_clustering_n_clusters(c));
    json_uint(&j, "core", mc_clustering_n_role(c, MC_ROLE_CORE));
    json_uint(&j, "border", mc_clustering_n_role(c, MC_ROLE_BORDER));
    json_uint(&j, "noise", mc_clustering_n_noise(c));
    json_key_object(&j, "seconds");
    json_num(&j, "load", t->load);
    json_num(&j, "knn", t->knn);
    json_num(&j, "cluster", t->cluster);
    json_num(&j, "write", t->write);
    json_num(&j, "total", t->load + t->knn + t->cluster + t->write);
    json_close_object(&j);
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
