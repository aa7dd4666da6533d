/* What `cluster` and `sweep` share: the clustering options, the preparation
 * of a file (read, centre, calibrate, k-NN graph) and running one algorithm. */
#ifndef MAGCLUST_CLI_PIPELINE_H
#define MAGCLUST_CLI_PIPELINE_H

#include <stdio.h>

#include "magclust/magclust.h"

typedef enum { CLI_ALGO_DBSCAN = 0, CLI_ALGO_LINKAGE, CLI_ALGO_CW, CLI_ALGO_COUNT } cli_algo;

const char *cli_algo_name(cli_algo a);
/* 0 / -1 (unknown name). */
int cli_algo_parse(const char *s, cli_algo *out);
/* The constants of the label-free threshold, per algorithm (see README):
 * t = max(median + frac (nn_median - median), median + z mad). */
double cli_default_frac(cli_algo a);
double cli_default_z(cli_algo a);
/* The default core gate, per algorithm. */
mc_threshold cli_default_core(cli_algo a);

typedef struct {
    mc_h5_read_params rp;
    mc_knn_params kp;
    mc_dbscan_params dp;   /* eps (when eps_given), min_samples, the gates */
    mc_cw_params cwp;      /* seed, iterations */
    mc_linkage_params lkp; /* kind */
    int eps_given;         /* else eps = 1 - calibrated threshold */
    double frac, z;        /* when frac_given / z_given */
    int frac_given, z_given;
    int core_given;        /* else the algorithm's default core gate */
    int center;            /* subtract the good faces' mean direction first */
    long threads;
    const char *graph_path; /* --graph: a saved k-NN graph instead of a search */
    int k_given;
    int quiet;              /* no progress lines */
    int want_fingerprint;   /* cli_prepare computes the embeddings' fingerprint
                               (always with graph_path) */
    /* called by cli_prepare once the embeddings are read, before the search
     * (so that bad side files fail fast); nonzero: it printed an error */
    int (*after_load)(void *ctx, const mc_embeddings_t *e);
    void *after_load_ctx;
} cli_opts;

void cli_opts_default(cli_opts *o);

/* The long options both commands take; ids from CLI_OPT_BASE. */
enum {
    CLI_OPT_BASE = 1000,
    CLI_O_EPS = CLI_OPT_BASE, CLI_O_Z, CLI_O_FRAC, CLI_O_CENTER, CLI_O_MINS, CLI_O_CORE, CLI_O_NOISE,
    CLI_O_QKEY, CLI_O_EKEY, CLI_O_LKEY, CLI_O_PKEY, CLI_O_THREADS, CLI_O_SEED, CLI_O_ITER,
    CLI_O_LINKAGE, CLI_O_INDEX, CLI_O_NPROBE, CLI_O_EF, CLI_O_GRAPH, CLI_O_SKIPBAD, CLI_O_K = 'k'
};
#define CLI_COMMON_LONGOPTS                                                   \
    {"eps", required_argument, NULL, CLI_O_EPS},                              \
    {"calib-z", required_argument, NULL, CLI_O_Z},                            \
    {"calib-frac", required_argument, NULL, CLI_O_FRAC},                      \
    {"center", required_argument, NULL, CLI_O_CENTER},                        \
    {"min-samples", required_argument, NULL, CLI_O_MINS},                     \
    {"k", required_argument, NULL, CLI_O_K},                                  \
    {"core-quality", required_argument, NULL, CLI_O_CORE},                    \
    {"noise-quality", required_argument, NULL, CLI_O_NOISE},                  \
    {"quality-key", required_argument, NULL, CLI_O_QKEY},                     \
    {"embeddings-key", required_argument, NULL, CLI_O_EKEY},                  \
    {"labels-key", required_argument, NULL, CLI_O_LKEY},                      \
    {"paths-key", required_argument, NULL, CLI_O_PKEY},                       \
    {"threads", required_argument, NULL, CLI_O_THREADS},                      \
    {"linkage", required_argument, NULL, CLI_O_LINKAGE},                      \
    {"seed", required_argument, NULL, CLI_O_SEED},                            \
    {"iterations", required_argument, NULL, CLI_O_ITER},                      \
    {"index", required_argument, NULL, CLI_O_INDEX},                          \
    {"nprobe", required_argument, NULL, CLI_O_NPROBE},                        \
    {"ef-search", required_argument, NULL, CLI_O_EF},                         \
    {"graph", required_argument, NULL, CLI_O_GRAPH},                          \
    {"skip-bad-rows", no_argument, NULL, CLI_O_SKIPBAD}

/* Handles one common option. Returns 1 when handled, 0 when c is not a
 * common option, -1 after printing a usage error. */
int cli_opts_handle(cli_opts *o, const char *cmd, int c, const char *arg);

/* The checks across options both commands share: --eps with --calib-*, and
 * --min-samples against k when dbscan runs. Prints the usage error; 0 / -1. */
int cli_opts_check(const cli_opts *o, const char *cmd, int runs_dbscan);

/* The option text both helps share. */
void cli_opts_help(FILE *f);

typedef struct {
    mc_embeddings_t *e;
    mc_knn_graph_t *g;
    mc_calibration cal;
    double center_shift; /* NAN when not centred */
    float *center;       /* the removed mean direction (D floats), NULL when not centred */
    mc_knn_info knn;     /* the index used (or the graph file's) */
    int graph_file;      /* the graph came from --graph */
    uint64_t fingerprint; /* of the embeddings as read, before centring; 0
                             unless graph_path or want_fingerprint */
    double t_load, t_knn;
} cli_prepared;

/* Read, centre, build the graph (or load --graph) and calibrate. Returns
 * CLI_OK, or prints the error, frees everything and returns CLI_FAIL. */
int cli_prepare(const char *in_path, const cli_opts *o, cli_prepared *out);

/* Progress lines on stderr for the library's mc_progress_fn: a new line set
 * each time the phase changes. */
#include "progress.h"
typedef struct {
    cli_progress_mode mode;
    cli_progress *p;
    const char *phase;
} cli_progress_state;
void cli_progress_cb(void *user_data, const char *phase, uint64_t done, uint64_t total);
void cli_progress_state_end(cli_progress_state *ps);
void cli_prepared_free(cli_prepared *p);

/* The constants in effect for algorithm a, and the similarity threshold
 * (1 - eps) that follows: the given eps, or the calibrated one. */
double cli_frac(const cli_opts *o, cli_algo a);
double cli_z(const cli_opts *o, cli_algo a);
double cli_threshold(const cli_opts *o, cli_algo a, const cli_prepared *p);
/* The core gate in effect for algorithm a. */
mc_threshold cli_core(const cli_opts *o, cli_algo a);

/* Run algorithm a at similarity threshold t with the core gate core. */
mc_status cli_run(cli_algo a, const cli_opts *o, double t, mc_threshold core,
                  const cli_prepared *p, mc_clustering_t **out, double *core_q, double *noise_q);

#endif
