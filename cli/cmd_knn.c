/* magclust knn: HDF5 -> (centre) -> k-NN graph -> GRAPH.h5, for `cluster` and
 * `sweep --graph` to re-cluster without searching again. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "pipeline.h"
#include "summary.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust knn IN.h5 -o GRAPH.h5 [options]\n"
"\n"
"Build the k-NN graph of IN.h5 (cosine similarity of the unit directions,\n"
"centred as 'cluster' centres them) and save it, so that 'magclust cluster\n"
"IN.h5 --graph GRAPH.h5' and 'magclust sweep IN.h5 --graph GRAPH.h5' can\n"
"re-cluster with new parameters without a new search. The file records the\n"
"embeddings' fingerprint, k, the index and the centring, and is refused for\n"
"another file or another --center.\n"
"\n"
"options:\n"
"  -o, --output PATH        the graph file (HDF5: /knn/ids, /knn/sims);\n"
"                           written atomically\n"
"  -k, --k K                neighbours per face (default 30; < N)\n"
"      --index SPEC         Flat (exact), Cells<nlist> (approximate, sgemm\n"
"                           inverted file), HNSW<M> (approximate, hnswlib,\n"
"                           M links a face; with more than one thread the\n"
"                           graph varies from run to run) or a FAISS\n"
"                           index_factory string (e.g. IVF4096,Flat,\n"
"                           HNSW32,Flat)\n"
"                           (default auto: Flat up to %d faces, else\n"
"                           Cells<nlist>)\n"
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
"  -q, --quiet              print nothing but errors\n"
"  -h, --help               this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n",
            MC_KNN_AUTO_EXACT_MAX, CLI_RECALL_AUTO_SAMPLE);
}

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
    int c;

    optind = 0;
    opterr = 0;
    while ((c = cli_getopt("knn", argc, argv, ":o:k:qh", opts, 0)) != -1) {
        int h = cli_opts_handle(&o, "knn", c, optarg);
        if (h < 0) return CLI_USAGE;
        if (h > 0) continue;
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("knn", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("knn", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("knn", optind == argc ? "no input file" : "more than one input file");
    if (!out_path) return cli_usage_error("knn", "-o GRAPH.h5 is required");
    const char *in_path = argv[optind];
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
