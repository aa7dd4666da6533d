/* The human-readable summary printed by `cluster` and the metrics block
 * shared with `eval`. */
#ifndef MAGCLUST_SUMMARY_H
#define MAGCLUST_SUMMARY_H

#include <stdio.h>

#include "json.h"
#include "quality_keys.h"
#include "magclust/magclust.h"

typedef struct {
    double load, knn, cluster, write;
} cli_timings;

typedef struct {
    const char *in_path;
    const char *out_path;   /* NULL: nothing written */
    const char *out_format; /* "csv" or "h5" */
    const char *graph_path; /* --graph, or NULL */
    long threads;
    const mc_cluster_result_t *result;
    const mc_knn_info *knn; /* the index used (cli_knn_info) */
    const cli_qkey *qkeys;  /* the other qualities the file offers, checked (may be NULL) */
    size_t n_qkeys;
    const mc_knn_recall *recall; /* the graph's recall estimate, or NULL */
} cli_summary_params;

/* The quality check line of a summary ("  check ..."), when the run made one. */
void cli_print_quality_check(FILE *f, const mc_cluster_info *in, mc_quality_use use);
/* The "others" line: the other qualities the file offers (best first), with
 * a hint when the best beats the one in use. Nothing when n is 0. */
void cli_print_other_qualities(FILE *f, const mc_cluster_info *in, const cli_qkey *k, size_t n);
/* The "knn" line: k, the index and its settings, the time per phase (or the
 * graph file it came from, when graph_path is not NULL), and the recall
 * estimate when recall is not NULL. */
void cli_print_knn_line(FILE *f, const mc_knn_info *k, size_t n, size_t kk, const char *graph_path,
                        const mc_knn_recall *recall);

/* The "constraints" and "previous" lines of what a run (or assign) did;
 * corrections and previous name the files (or NULL). */
void cli_print_constraints(FILE *f, const mc_cluster_info *info, const char *corrections,
                           const char *previous, const mc_embeddings_t *e);
/* The same as JSON objects "constraints" and "previous". */
void cli_json_constraints(json_out *j, const mc_cluster_info *info, const char *corrections,
                          const char *previous, const mc_embeddings_t *e);

/* The first lines of a summary ("magclust COMMAND IN", faces N x D, the
 * quality's percentiles), printed and flushed as soon as the input is read,
 * before the long phases, so a user sees at once what is being clustered. */
void cli_print_summary_head(FILE *f, const char *command, const char *in_path, const mc_embeddings_t *e);

/* The rest of the summary, after cli_print_summary_head. Returns 0, or
 * prints an error and returns -1 (metrics failed). */
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
