/* magclust knn: HDF5 -> (centre) -> k-NN graph -> GRAPH.h5, for `cluster` and
 * `sweep --graph` to re-cluster without searching again; or one shard of the
 * graph's rows (--shard I/N), and the shards joined (--merge), for jobs that
 * a scheduler runs apart. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#ifdef MAGCLUST_MPI
#include "cli_mpi.h"
#endif
#include "commands.h"
#include "pipeline.h"
#include "summary.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust knn IN.h5 -o GRAPH.h5 [options]\n"
"       magclust knn IN.h5 --shard I/N -o PART.h5 [options]\n"
"       magclust knn --merge PART.h5... -o GRAPH.h5\n"
"\n"
"Build the k-NN graph of IN.h5 (cosine similarity of the unit directions,\n"
"centred as 'cluster' centres them) and save it, so that 'magclust cluster\n"
"IN.h5 --graph GRAPH.h5' and 'magclust sweep IN.h5 --graph GRAPH.h5' can\n"
"re-cluster with new parameters without a new search. The file records the\n"
"embeddings' fingerprint, k, the index and the centring, and is refused for\n"
"another file or another --center.\n"
"\n"
"Sharded (exact index only): job I of N (I from 0 to N-1) searches the\n"
"rows [floor(I n/N), floor((I+1) n/N)) of the n faces against all of\n"
"them, centred with the whole file's mean as above, and writes them to\n"
"PART.h5; the jobs may run anywhere, in any order. --merge checks that\n"
"the parts belong together (same embeddings fingerprint, k, index,\n"
"centring and shard count; each shard once, none missing) and writes the\n"
"graph that one 'magclust knn' run writes, bit for bit.\n"
"\n"
"In an MPI build (-DMAGCLUST_MPI=ON), 'mpirun -np R magclust knn IN.h5 -o\n"
"GRAPH.h5' searches the graph (Flat or Cells) over R ranks, each reading\n"
"its own rows, and writes the same file bit for bit (README, 'MPI build').\n"
"\n"
"options:\n"
"  -o, --output PATH        the graph file (HDF5: /knn/ids, /knn/sims);\n"
"                           written atomically\n"
"  -k, --k K                neighbours per face (default 30; < N)\n"
"      --index SPEC         Flat (exact), Int8 (every pair on 8-bit\n"
"                           directions, the best re-ranked in floats),\n"
"                           PCA<d>,Int8 (the same on d principal axes,\n"
"                           its best 4k rescored on all: faster, lossy),\n"
"                           Cells<nlist> (approximate, sgemm\n"
"                           inverted file), HNSW<M> (approximate, hnswlib,\n"
"                           M links a face; with more than one thread the\n"
"                           graph varies from run to run) or a FAISS\n"
"                           index_factory string (e.g. IVF4096,Flat,\n"
"                           HNSW32,Flat)\n"
"                           (default auto: Flat up to %d faces; with\n"
"                           AVX-512 VNNI Int8 up to %d, PCA256,Int8 up\n"
"                           to %d, then PCA128,Int8; without, Flat up to\n"
"                           %d, then Cells<nlist>)\n"
"      --nprobe N           Cells and IVF: cells or lists visited per face\n"
"                           (default: Cells max(8, nlist/8), IVF max(16,\n"
"                           nlist/32))\n"
"      --ef-search N        HNSW: search depth (default HNSW<M> max(128,\n"
"                           4(k+1)), FAISS max(64, 2(k+1)))\n"
"      --center on|off      subtract the better half's mean direction first\n"
"                           (default on; 'cluster --graph' must match)\n"
"      --quality-key NAME   quality that picks the better half (default: the\n"
"                           embedding magnitude)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"      --recall-sample N    estimate the graph's recall@k against brute force\n"
"                           on N random faces (N x all x D multiply-adds),\n"
"                           overall and for the faces at or above the median\n"
"                           quality; 0 = off (default %d for an approximate\n"
"                           index, off for Flat)\n"
"      --recall-k K         measure recall@K, K <= k: the exact K nearest\n"
"                           against the first K of each row (default k)\n"
"      --threads N          threads (default 0 = all cores)\n"
"      --shard I/N          search only shard I of N (0 <= I < N <= faces):\n"
"                           -o gets a part for --merge\n"
"      --merge              join the part files given instead of IN.h5 (only\n"
"                           -o and -q apply: the parts record the rest)\n"
"  -q, --quiet              print nothing but errors\n"
"  -h, --help               this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O; parts that\n"
"do not belong together, a missing or duplicated shard), 2 usage error\n",
            MC_KNN_AUTO_FLAT_MAX, MC_KNN_AUTO_EXACT_MAX, MC_KNN_AUTO_PCA256_MAX,
            MC_KNN_AUTO_EXACT_MAX, CLI_RECALL_AUTO_SAMPLE);
}

enum { KNN_O_SHARD = CLI_OPT_BASE + 200, KNN_O_MERGE };

/* "I/N" with 0 <= I < N: 0, or -1 after a usage error. */
static int parse_shard(const char *arg, size_t *shard, size_t *n_shards)
{
    char *end = NULL;
    if (arg[0] >= '0' && arg[0] <= '9') {
        unsigned long long i = strtoull(arg, &end, 10);
        if (*end == '/' && end[1] >= '0' && end[1] <= '9') {
            unsigned long long n = strtoull(end + 1, &end, 10);
            if (!*end && n >= 1 && i < n && n <= (unsigned long long)SIZE_MAX) {
                *shard = (size_t)i;
                *n_shards = (size_t)n;
                return 0;
            }
        }
    }
    cli_usage_error("knn", "--shard '%s': expected I/N, shard I of N numbered from 0 "
                    "(0 <= I < N), e.g. 0/4", arg);
    return -1;
}

/* --merge: the parts in, checked and joined, the graph out. */
static int merge_parts(char **parts, size_t n_parts, const char *out_path, int quiet)
{
    const char **inputs = calloc(n_parts + 1, sizeof *inputs);
    if (!inputs) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    for (size_t i = 0; i < n_parts; i++) inputs[i] = parts[i];
    int rc = CLI_FAIL;
    mc_knn_graph_t *g = NULL;
    mc_knn_graph_meta m;
    double t0 = cli_now();
    if (cli_check_output(out_path, inputs) != 0) goto done;
    mc_status st = mc_knn_parts_merge_h5(inputs, n_parts, &g, &m);
    if (st != MC_OK) {
        rc = cli_fail_status(st);
        goto done;
    }
    double t1 = cli_now();
    if ((st = mc_knn_graph_write_h5(g, &m, out_path)) != MC_OK) {
        rc = cli_fail_status(st);
        goto done;
    }
    rc = CLI_OK;
    if (!quiet) {
        printf("magclust knn --merge: %zu part%s\n", n_parts, n_parts == 1 ? "" : "s");
        printf("  graph        %zu faces, k %zu, index %s, centring %s\n", m.n, m.k, m.index,
               m.centered ? "on" : "off");
        printf("  time         read %.3f s  write %.3f s\n", t1 - t0, cli_now() - t1);
        printf("  wrote        %s\n", out_path);
    }
done:
    mc_knn_graph_free(g);
    free(inputs);
    return rc;
}

/* --shard I/N: centre as the whole run does, search the shard's rows, write the part. */
static int build_part(const char *in_path, const char *out_path, cli_opts *o, size_t shard,
                      size_t n_shards)
{
    const char *inputs[] = {in_path, NULL};
    if (cli_check_output(out_path, inputs) != 0) return CLI_FAIL;
    cli_input in;
    if (cli_load(in_path, o, &in) != CLI_OK) return CLI_FAIL;
    int rc = CLI_FAIL;
    mc_knn_part_t *part = NULL;
    mc_cluster_params p = cli_cluster_params(o, MC_ALGO_DEFAULT);
    size_t n = mc_embeddings_n(in.e);
    if (!o->quiet) {
        printf("magclust knn %s --shard %zu/%zu\n", in_path, shard, n_shards);
        printf("  faces        %zu x %zu\n", n, mc_embeddings_dim(in.e));
        fflush(stdout);
    }
    double t0 = cli_now(), shift = NAN;
    int centered = 0;
    mc_status st = mc_cluster_center(in.e, &p, &shift, &centered);
    if (st != MC_OK) {
        rc = cli_fail_status(st);
        goto done;
    }
    cli_progress_state ps = {o->quiet ? CLI_PROGRESS_OFF : CLI_PROGRESS_AUTO, NULL, NULL};
    mc_knn_params kp = p.knn;
    /* as mc_cluster_prepare: a collection of no more than k faces gets k = N - 1 */
    if (n >= 2 && kp.k >= n) kp.k = n - 1;
    kp.n_threads = p.n_threads;
    kp.progress = cli_progress_cb;
    kp.progress_data = &ps;
    mc_knn_info info;
    st = mc_knn_part_build(in.e, &kp, shard, n_shards, &part, &info);
    cli_progress_state_end(&ps);
    if (st != MC_OK) {
        rc = cli_fail_status(st);
        goto done;
    }
    double t1 = cli_now();
    mc_knn_graph_meta m;
    mc_knn_graph_meta_init(&m);
    m.n = n;
    m.k = mc_knn_part_k(part);
    m.dim = mc_embeddings_dim(in.e);
    m.fingerprint = in.fingerprint;
    m.centered = o->center;
    m.center_shift = shift;
    snprintf(m.index, sizeof m.index, "%s", info.index);
    snprintf(m.source, sizeof m.source, "%s", in_path);
    snprintf(m.embeddings_key, sizeof m.embeddings_key, "%s",
             o->rp.embeddings_key ? o->rp.embeddings_key : "embeddings");
    if ((st = mc_knn_part_write_h5(part, &m, out_path)) != MC_OK) {
        rc = cli_fail_status(st);
        goto done;
    }
    rc = CLI_OK;
    if (!o->quiet) {
        size_t first = mc_knn_part_first_row(part), rows = mc_knn_part_rows(part);
        printf("  shard        %zu of %zu: rows %zu to %zu (%zu faces), k %zu, index %s\n", shard,
               n_shards, first, first + rows - 1, rows, m.k,
               info.exact ? "Flat (exact)" : "Int8 (8-bit exhaustive, re-ranked)");
        printf("  time         load %.3f s  knn %.3f s  write %.3f s\n", in.t_load, t1 - t0,
               cli_now() - t1);
        printf("  wrote        %s\n", out_path);
    }
done:
    mc_knn_part_free(part);
    cli_input_free(&in);
    return rc;
}

#ifdef MAGCLUST_MPI
/* Under mpirun: the graph (Flat or Cells) searched over the ranks, written
 * by rank 0 as one process writes it. */
static int mpi_knn(const char *in_path, const char *out_path, cli_opts *o)
{
    if (cli_mpi_check_opts("knn", o) != CLI_OK) return CLI_USAGE;
    const char *inputs[] = {in_path, NULL};
    if (cli_check_output(out_path, inputs) != 0) return CLI_FAIL;
    mc_cluster_params p = cli_cluster_params(o, MC_ALGO_DEFAULT);
    mc_knn_graph_t *g = NULL;
    mc_knn_mpi_info mi;
    double t0 = cli_now();
    if (cli_mpi_graph(in_path, o, &p, &g, &mi) != CLI_OK) return CLI_FAIL;
    if (cli_mpi_rank() != 0) return CLI_OK;
    double t1 = cli_now();
    mc_knn_graph_meta m;
    mc_knn_graph_meta_init(&m);
    m.n = mc_knn_graph_n(g);
    m.k = mc_knn_graph_k(g);
    m.dim = mi.d;
    m.fingerprint = mi.fingerprint;
    m.centered = o->center;
    m.center_shift = mi.center_shift;
    snprintf(m.index, sizeof m.index, "%s", mi.index);
    snprintf(m.source, sizeof m.source, "%s", in_path);
    snprintf(m.embeddings_key, sizeof m.embeddings_key, "%s",
             o->rp.embeddings_key ? o->rp.embeddings_key : "embeddings");
    mc_status st = mc_knn_graph_write_h5(g, &m, out_path);
    int rc = CLI_OK;
    if (st != MC_OK) {
        rc = cli_fail_status(st);
    } else if (!o->quiet) {
        mc_knn_info ki;
        memset(&ki, 0, sizeof ki);
        snprintf(ki.index, sizeof ki.index, "%s", mi.index);
        ki.exact = mi.exact;
        ki.n_candidates = mi.n_candidates;
        ki.nprobe = mi.nprobe;
        ki.train_size = mi.train_size;
        ki.scan_frac = mi.scan_frac;
        ki.t_train = mi.t_train;
        ki.t_add = mi.t_add;
        ki.t_search = mi.t_search - mi.t_train - mi.t_add;
        printf("magclust knn %s\n", in_path);
        printf("  faces        %zu x %zu\n", m.n, m.dim);
        cli_print_knn_line(stdout, &ki, m.n, m.k, NULL, NULL);
        cli_mpi_print(stdout, &mi);
        printf("  time         knn %.3f s  write %.3f s\n", t1 - t0, cli_now() - t1);
        printf("  wrote        %s\n", out_path);
    }
    mc_knn_graph_free(g);
    return rc;
}
#endif

int cmd_knn(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"k", required_argument, NULL, CLI_O_K},
        {"index", required_argument, NULL, CLI_O_INDEX},
        {"nprobe", required_argument, NULL, CLI_O_NPROBE},
        {"ef-search", required_argument, NULL, CLI_O_EF},
        {"center", required_argument, NULL, CLI_O_CENTER},
        {"quality-key", required_argument, NULL, CLI_O_QKEY},
        {"embeddings-key", required_argument, NULL, CLI_O_EKEY},
        {"threads", required_argument, NULL, CLI_O_THREADS},
        {"recall-sample", required_argument, NULL, CLI_O_RECALL},
        {"recall-k", required_argument, NULL, CLI_O_RECALLK},
        {"shard", required_argument, NULL, KNN_O_SHARD},
        {"merge", no_argument, NULL, KNN_O_MERGE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_opts o;
    cli_opts_default(&o);
    o.rp.labels_key = "";
    o.rp.paths_key = "";
    o.want_fingerprint = 1;
    const char *out_path = NULL;
    const char *search_opt = NULL; /* an option that only a search takes */
    size_t shard = 0, n_shards = 0;
    int merge = 0, c;

    optind = 0;
    opterr = 0;
    while ((c = cli_getopt("knn", argc, argv, ":o:k:qh", opts, 0)) != -1) {
        int h = cli_opts_handle(&o, "knn", c, optarg);
        if (h < 0) return CLI_USAGE;
        if (h > 0) {
            /* "-k" "10" leaves the option one token back; "-k10", "--k=10" in place */
            search_opt = optarg && optind >= 2 && argv[optind - 1] == optarg ? argv[optind - 2]
                                                                            : argv[optind - 1];
            continue;
        }
        switch (c) {
        case 'o': out_path = optarg; break;
        case KNN_O_SHARD:
            if (parse_shard(optarg, &shard, &n_shards) != 0) return CLI_USAGE;
            break;
        case KNN_O_MERGE: merge = 1; break;
        case 'q': o.quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("knn", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("knn", "unknown option '%s'", argv[optind - 1]);
        }
    }
#ifdef MAGCLUST_MPI
    if (cli_mpi_on()) {
        if (merge || n_shards) {
            cli_error("knn under mpirun: %s: the ranks search the whole graph together (run "
                      "--shard and --merge without mpirun)", merge ? "--merge" : "--shard");
            return CLI_USAGE;
        }
        if (optind + 1 != argc)
            return cli_usage_error("knn", optind == argc ? "no input file" : "more than one input file");
        if (!out_path) return cli_usage_error("knn", "-o GRAPH.h5 is required");
        return mpi_knn(argv[optind], out_path, &o);
    }
#endif
    if (merge) {
        if (n_shards) return cli_usage_error("knn", "--merge and --shard exclude each other");
        if (search_opt)
            return cli_usage_error("knn", "--merge takes only -o and -q, not '%s': the parts "
                                   "record k, the index and the centring", search_opt);
        if (optind == argc) return cli_usage_error("knn", "--merge needs the part files");
        if (!out_path) return cli_usage_error("knn", "-o GRAPH.h5 is required");
        return merge_parts(argv + optind, (size_t)(argc - optind), out_path, o.quiet);
    }
    if (optind + 1 != argc)
        return cli_usage_error("knn", optind == argc ? "no input file" : "more than one input file");
    if (!out_path) return cli_usage_error("knn", n_shards ? "-o PART.h5 is required" : "-o GRAPH.h5 is required");
    const char *in_path = argv[optind];
    if (n_shards) {
        if (o.recall_sample > 0)
            return cli_usage_error("knn", "--recall-sample needs the whole graph: estimate it with "
                                   "'cluster --graph' on the merged graph");
        return build_part(in_path, out_path, &o, shard, n_shards);
    }
    const char *inputs[] = {in_path, NULL};
    if (cli_check_output(out_path, inputs) != 0) return CLI_FAIL;

    cli_input in;
    mc_cluster_result_t *prep = NULL;
    if (cli_load(in_path, &o, &in) != CLI_OK) return CLI_FAIL;
    mc_cluster_params p = cli_cluster_params(&o, MC_ALGO_DEFAULT); /* its k: the graph 'cluster' would build */
    if (!o.quiet) {
        /* what is being searched, before the search */
        printf("magclust knn %s\n", in_path);
        printf("  faces        %zu x %zu\n", mc_embeddings_n(in.e), mc_embeddings_dim(in.e));
        fflush(stdout);
    }
    if (cli_cluster(&o, &p, &in, 0, &prep) != CLI_OK) {
        cli_input_free(&in);
        return CLI_FAIL;
    }
    const mc_cluster_info *info = mc_cluster_result_info(prep);
    const mc_knn_graph_t *g = mc_cluster_result_graph(prep);
    double t0 = cli_now();
    mc_knn_graph_meta m;
    mc_knn_graph_meta_init(&m);
    m.n = mc_knn_graph_n(g);
    m.k = mc_knn_graph_k(g);
    m.dim = mc_embeddings_dim(in.e);
    m.fingerprint = in.fingerprint;
    m.centered = o.center;
    m.center_shift = info->center_shift;
    snprintf(m.index, sizeof m.index, "%s", info->knn.index);
    snprintf(m.source, sizeof m.source, "%s", in_path);
    snprintf(m.embeddings_key, sizeof m.embeddings_key, "%s",
             o.rp.embeddings_key ? o.rp.embeddings_key : "embeddings");
    /* the graph's recall, before the file is written: it may fail */
    mc_knn_recall recall;
    int have_recall = cli_recall(&o, &in, prep, &recall);
    t0 = cli_now();
    mc_status st = have_recall < 0 ? MC_OK : mc_knn_graph_write_h5(g, &m, out_path);
    double t1 = cli_now();
    int rc = CLI_OK;
    if (have_recall < 0) {
        rc = CLI_FAIL;
    } else if (st != MC_OK) {
        rc = cli_fail_status(st);
    } else if (!o.quiet) {
        cli_print_knn_line(stdout, &info->knn, m.n, m.k, NULL, have_recall ? &recall : NULL);
        printf("  time         load %.3f s  knn %.3f s  write %.3f s\n", in.t_load, info->t_prepare,
               t1 - t0);
        printf("  wrote        %s\n", out_path);
    }
    mc_cluster_result_free(prep);
    cli_input_free(&in);
    return rc;
}
