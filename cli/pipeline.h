/* What `cluster`, `sweep` and `knn` share: the clustering options, turned
 * into the library's mc_cluster_params, and reading a file (and --graph)
 * before the library's recipe (mc_cluster_run) takes over. */
#ifndef MAGCLUST_CLI_PIPELINE_H
#define MAGCLUST_CLI_PIPELINE_H

#include <stdio.h>

#include "magclust/magclust.h"

typedef struct {
    mc_h5_read_params rp;
    mc_knn_params kp;
    int center;             /* subtract the good faces' mean direction first */
    double eps;             /* when eps_given: the threshold is 1 - eps */
    int eps_given;
    double frac, z;         /* when frac_given / z_given */
    int frac_given, z_given;
    mc_threshold core;      /* when core_given, else the algorithm's default */
    int core_given;
    mc_threshold noise;
    int noise_given;
    int trust_quality;      /* gate whatever the quality check says */
    mc_linkage_kind linkage;
    size_t min_samples;
    uint64_t seed;
    size_t iterations;
    mc_map_params map;      /* --flow, --teleport, --temperature, --cut, --window, --trials */
    size_t min_cluster_size; /* --min-cluster-size */
    int contested;          /* --contested: 1 noise (default), 0 keep */
    double core_slope;      /* when slope_given: --core-slope */
    int slope_given;
    unsigned algo_opts;     /* the algorithm options given: bits (1 << (option id - CLI_OPT_BASE)) */
    long threads;
    long recall_sample;     /* --recall-sample: faces; -1 (default) = CLI_RECALL_AUTO_SAMPLE
                               when the graph is approximate, none when exact; 0 = none */
    size_t recall_k;        /* --recall-k: recall@K; 0 (default) = the graph's k */
    const char *graph_path; /* --graph: a saved k-NN graph instead of a search */
    int k_given;
    int quiet;              /* no progress lines */
    int want_fingerprint;   /* cli_load computes the embeddings' fingerprint
                               (always with graph_path) */
} cli_opts;

void cli_opts_default(cli_opts *o);

/* The long options both commands take; ids from CLI_OPT_BASE. */
enum {
    CLI_OPT_BASE = 1000,
    CLI_O_EPS = CLI_OPT_BASE, CLI_O_Z, CLI_O_FRAC, CLI_O_CENTER, CLI_O_MINS, CLI_O_CORE, CLI_O_NOISE,
    CLI_O_QKEY, CLI_O_EKEY, CLI_O_LKEY, CLI_O_PKEY, CLI_O_THREADS, CLI_O_SEED, CLI_O_ITER,
    CLI_O_LINKAGE, CLI_O_INDEX, CLI_O_NPROBE, CLI_O_EF, CLI_O_GRAPH, CLI_O_SKIPBAD, CLI_O_TRUSTQ,
    CLI_O_FLOW, CLI_O_TELEPORT, CLI_O_TEMP, CLI_O_CUT, CLI_O_WINDOW, CLI_O_TRIALS, CLI_O_SLOPE, CLI_O_MINSIZE,
    CLI_O_CONTESTED,
    CLI_O_RECALL, CLI_O_RECALLK,
    CLI_O_K = 'k'
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
    {"skip-bad-rows", no_argument, NULL, CLI_O_SKIPBAD},                      \
    {"trust-quality", no_argument, NULL, CLI_O_TRUSTQ},                       \
    {"flow", required_argument, NULL, CLI_O_FLOW},                            \
    {"teleport", required_argument, NULL, CLI_O_TELEPORT},                    \
    {"temperature", required_argument, NULL, CLI_O_TEMP},                     \
    {"cut", required_argument, NULL, CLI_O_CUT},                              \
    {"window", required_argument, NULL, CLI_O_WINDOW},                        \
    {"trials", required_argument, NULL, CLI_O_TRIALS},                        \
    {"core-slope", required_argument, NULL, CLI_O_SLOPE},                     \
    {"min-cluster-size", required_argument, NULL, CLI_O_MINSIZE},            \
    {"contested", required_argument, NULL, CLI_O_CONTESTED}

/* Handles one common option. Returns 1 when handled, 0 when c is not a
 * common option, -1 after printing a usage error. */
int cli_opts_handle(cli_opts *o, const char *cmd, int c, const char *arg);

/* The checks across options both commands share: --eps with --calib-*, and
 * --min-samples against k when dbscan runs (usage errors). An option of an
 * algorithm that does not run (use: MC_ALGO_COUNT flags), --teleport without
 * --flow directed and --window with --cut none get a one-line warning on
 * stderr (none with quiet): they are ignored. 0 / -1. */
int cli_opts_check(const cli_opts *o, const char *cmd, const int *use);

/* The option text both helps share. */
void cli_opts_help(FILE *f);

/* The library's parameters for algorithm a with these options: the
 * algorithm's defaults (mc_cluster_params_default) where none was given. */
mc_cluster_params cli_cluster_params(const cli_opts *o, mc_algo a);

typedef struct {
    mc_embeddings_t *e;
    mc_knn_graph_t *graph; /* --graph, else NULL */
    mc_knn_info graph_info; /* --graph: the file's index */
    uint64_t fingerprint;   /* of the embeddings as read, before centring; 0
                               unless graph_path or want_fingerprint */
    double t_load;
} cli_input;

/* Read the embeddings (saying which bad rows were skipped) and the --graph
 * file, checked against them. Returns CLI_OK, or prints the error, frees
 * everything and returns CLI_FAIL. */
int cli_load(const char *in_path, const cli_opts *o, cli_input *out);
void cli_input_free(cli_input *in);

/* mc_cluster_run (run = 1) or mc_cluster_prepare (0) on the input, with
 * progress lines unless o->quiet. Returns CLI_OK, or prints the error and
 * returns CLI_FAIL. */
int cli_cluster(const cli_opts *o, const mc_cluster_params *p, cli_input *in, int run,
                mc_cluster_result_t **out);

/* The index of the graph used: the --graph file's, or the search's. */
const mc_knn_info *cli_knn_info(const cli_input *in, const mc_cluster_result_t *r);

/* The faces --recall-sample draws by default when the graph is approximate. */
#define CLI_RECALL_AUTO_SAMPLE 1000
/* The graph's recall estimate that --recall-sample asks for (or its default,
 * for an approximate graph), on the run's (centred) faces: 1 with *out
 * filled, 0 when none is wanted, -1 after printing an error. */
int cli_recall(const cli_opts *o, const cli_input *in, const mc_cluster_result_t *r,
               mc_knn_recall *out);

/* Progress lines on stderr for the library's mc_progress_fn: a new line set
 * each time the phase changes. */
#include "progress.h"
typedef struct {
    cli_progress_mode mode;
    cli_progress *p;
    const char *phase;
} cli_progress_state;
int cli_progress_cb(void *user_data, const char *phase, uint64_t done, uint64_t total);
void cli_progress_state_end(cli_progress_state *ps);

#endif
