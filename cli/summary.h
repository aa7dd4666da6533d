/* The human-readable summary printed by `cluster` and the metrics block
 * shared with `eval`. */
#ifndef MAGCLUST_SUMMARY_H
#define MAGCLUST_SUMMARY_H

#include <stdio.h>

#include "magclust/magclust.h"
#include "constrain.h"
#include "pipeline.h"

typedef struct {
    double load, knn, cluster, write;
} cli_timings;

typedef struct {
    const char *in_path;
    const char *out_path;   /* NULL: nothing written */
    const char *out_format; /* "csv" or "h5" */
    const cli_opts *opts;
    cli_algo algo;
    double threshold;       /* similarity threshold in effect (eps = 1 - it) */
    mc_threshold core;      /* core gate in effect */
    double core_q, noise_q; /* resolved gates */
    const cli_prepared *prep;
    const cli_constrain *constrain; /* or NULL */
} cli_summary_params;

/* The "knn" line: k, the index and its settings, the time per phase (or the
 * graph file it came from, when graph_path is not NULL). */
void cli_print_knn_line(FILE *f, const cli_prepared *p, const char *graph_path);

/* Returns 0, or prints an error and returns -1 (metrics failed). */
int cli_print_summary(FILE *f, const mc_embeddings_t *e, const mc_clustering_t *c,
                      const cli_summary_params *p, const cli_timings *t);

/* The same content as one JSON object on one line (for scripts). */
int cli_print_summary_json(FILE *f, const mc_embeddings_t *e, const mc_clustering_t *c,
                           const cli_summary_params *p, const cli_timings *t);

/* Clusters that have faces (ids may have gaps after --previous). */
size_t cli_count_clusters(const mc_clustering_t *c);

/* Number of distinct non-negative labels and of negative ones. */
void cli_count_identities(const int64_t *labels, size_t n, size_t *out_ids, size_t *out_unlabelled);

/* "BCubed P 0.9 R 0.8 F 0.85, pairwise ..., NMI ..." lines. */
void cli_print_metrics(FILE *f, const mc_metrics *m);

#endif
