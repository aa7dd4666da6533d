/* What `cluster` and `assign` share for --photo-key, --corrections and
 * --previous: read them, enforce the constraints on a result, carry the
 * previous ids and names over, and say what happened. */
#ifndef MAGCLUST_CLI_CONSTRAIN_H
#define MAGCLUST_CLI_CONSTRAIN_H

#include <stdio.h>

#include "json.h"
#include "magclust/magclust.h"

typedef struct {
    const char *corrections; /* --corrections FILE or NULL */
    const char *previous;    /* --previous OLD.csv or NULL */
    /* filled in by cli_constrain() */
    int applied;             /* constraints were enforced */
    size_t n_group_pairs;    /* same-photo cannot-links */
    mc_corrections_info ci;
    mc_constraint_stats cs;
    mc_carry_stats carry;
    size_t prev_found, prev_rows;
    size_t named_clusters;
    /* read by cli_constrain_load(), freed by cli_constrain_free() */
    mc_previous_t *prev;
    mc_constraints_t *set;
    int64_t *prev_cluster;
    const char **prev_person;
    const char **paths;
} cli_constrain;

/* Pairs of faces that share a photo (group). */
size_t cli_count_group_pairs(const mc_embeddings_t *e);

/* Anything to do? */
int cli_constrain_wanted(const cli_constrain *k, const mc_embeddings_t *e);

/* Read --previous and --corrections and check the constraints for the faces
 * of e (before any search, so that a bad file fails fast). Returns 0, or
 * prints the error and returns -1. Nothing to do: 0. */
int cli_constrain_load(cli_constrain *k, const mc_embeddings_t *e);
/* The same as a cli_opts.after_load callback (k is a cli_constrain). */
int cli_constrain_load_cb(void *k, const mc_embeddings_t *e);
/* Free what cli_constrain_load() read; the counts stay. */
void cli_constrain_free(cli_constrain *k);

/* Enforce the loaded constraints on *cl (the result for the n faces of e,
 * found with graph g at threshold t) and carry --previous ids over; *cl is
 * replaced. Returns 0, or prints the error and returns -1. */
int cli_constrain_cluster(cli_constrain *k, const mc_embeddings_t *e, const mc_knn_graph_t *g,
                          double threshold, mc_clustering_t **cl);

/* The "constraints" and "previous" summary lines. */
void cli_constrain_print(FILE *f, const cli_constrain *k, const mc_embeddings_t *e);
/* The same as JSON objects "constraints" and "previous". */
void cli_constrain_json(json_out *j, const cli_constrain *k, const mc_embeddings_t *e);

#endif
