/* magclust cluster: HDF5 -> centre, calibrate -> k-NN graph -> quality-aware
 * clustering -> CSV or HDF5. */
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
"usage: magclust cluster IN.h5 [-o OUT.csv] [options]\n"
"\n"
"Cluster the faces of IN.h5 on a k-NN graph (cosine similarity of the unit\n"
"directions) with quality-aware average linkage, DBSCAN, Chinese whispers\n"
"or the map equation. Good faces seed and link clusters; weaker ones may only join one;\n"
"the worst are demoted to noise. With no parameters the similarity threshold\n"
"is chosen from the data (label-free), and printed.\n"
"Prints a summary (and BCubed / pairwise F / NMI when the file has labels).\n"
"In an MPI build (-DMAGCLUST_MPI=ON), 'mpirun -np R magclust cluster ...'\n"
"searches the graph (Flat or Cells) over R ranks and writes the same result\n"
"(README, 'MPI build').\n"
"\n"
"options:\n"
"  -o, --output PATH        write the result: CSV (index,path,cluster,role,\n"
"                           quality[,person],similarity,margin,representative)\n"
"                           or HDF5 (/cluster /role /quality /similarity\n"
"                           /margin /representative /paths and the parameters\n"
"                           as attributes), by extension\n"
"                           (.csv, .h5/.hdf5) or --format; atomically:\n"
"                           nothing is written on failure\n"
"      --format F           csv or h5 (default: from the extension; csv)\n"
"      --save-model PATH    also save a model of the result (HDF5): every\n"
"                           face with its cluster and role, cluster means,\n"
"                           threshold, gates, centring; 'magclust assign'\n"
"                           places new faces with it\n"
"      --photo-key NAME     faces with the same value of dataset NAME (the\n"
"                           photo each face comes from: strings or integers)\n"
"                           never share a cluster; when two would, the one\n"
"                           that matches the cluster better stays and the\n"
"                           other moves to its next-best cluster or to noise\n"
"      --corrections FILE   a user's corrections, CSV: 'path,NAME' (this face\n"
"                           is NAME), 'path,!NAME' (is not), 'path,ID' /\n"
"                           'path,!ID' (is / is not the person of cluster ID\n"
"                           of --previous), 'pathA,pathB,same|different';\n"
"                           enforced on every run; the clusters keep the names\n"
"                           (a 'person' column in the output)\n"
"      --previous OLD.csv   a previous result: clusters take the ids (and\n"
"                           person names) of the previous clusters they share\n"
"                           most faces with; prints how many were kept,\n"
"                           merged, split, new and gone\n"
"      --json               print the summary as one JSON object on stdout\n"
"      --algo A             linkage (agglomerative), dbscan, cw (Chinese\n"
"                           whispers, dlib's face clustering method) or map\n"
"                           (the map equation, as Infomap and FaceMap)\n"
"                           (default map)\n");
    cli_opts_help(f);
    fprintf(f,
"      --recall-sample N    estimate the k-NN graph's recall@k against brute\n"
"                           force on N random faces (N x all x D\n"
"                           multiply-adds), overall and for the faces at or\n"
"                           above the median quality, and print it on the knn\n"
"                           line; 0 = off (default %d for an approximate\n"
"                           graph, off for an exact one)\n"
"      --recall-k K         measure recall@K, K <= k: the exact K nearest\n"
"                           against the first K of each row (default k)\n"
"  -q, --quiet              print nothing but errors\n"
"  -h, --help               this text\n"
"\n"
"With --algo dbscan --center off --core-quality off --noise-quality off and\n"
"k >= N-1 this is plain DBSCAN at the given --eps.\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n",
            CLI_RECALL_AUTO_SAMPLE);
}

/* --quality-key auto: prepare with the magnitude (the check needs a graph),
 * then take whichever quality the check finds most informative, the
 * magnitude (*out NULL) unless a dataset beats it. */
static int pick_quality(const char *in_path, const cli_opts *o, const mc_cluster_params *p,
                        char **out)
{
    *out = NULL;
    cli_input in;
    mc_cluster_result_t *r = NULL;
    cli_qkey *k = NULL;
    long n = -1;
    int rc = CLI_FAIL;
    if (cli_load(in_path, o, &in) != CLI_OK) return CLI_FAIL;
    if (cli_cluster(o, p, &in, 0, &r) == CLI_OK &&
        (n = cli_quality_keys(in_path, &o->rp, in.e, mc_cluster_result_graph(r), &k)) >= 0) {
        const mc_cluster_info *info = mc_cluster_result_info(r);
        double mag = info->quality_checked ? info->quality_check.rho : -1.0;
        rc = CLI_OK;
        if (n > 0 && k[0].informative && k[0].rho > mag && !(*out = strdup(k[0].name)))
            rc = cli_fail_status(MC_ERR_NOMEM);
    }
    cli_qkeys_free(k, n > 0 ? (size_t)n : 0);
    mc_cluster_result_free(r);
    cli_input_free(&in);
    return rc;
}

int cmd_cluster(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_JSON, O_ALGO, O_MODEL, O_PHOTO, O_CORR, O_PREV };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        CLI_COMMON_LONGOPTS,
        {"recall-sample", required_argument, NULL, CLI_O_RECALL},
        {"recall-k", required_argument, NULL, CLI_O_RECALLK},
        {"format", required_argument, NULL, O_FORMAT},
        {"algo", required_argument, NULL, O_ALGO},
        {"json", no_argument, NULL, O_JSON},
        {"save-model", required_argument, NULL, O_MODEL},
        {"photo-key", required_argument, NULL, O_PHOTO},
        {"corrections", required_argument, NULL, O_CORR},
        {"previous", required_argument, NULL, O_PREV},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_opts o;
    cli_opts_default(&o);
    mc_algo algo = MC_ALGO_DEFAULT;
    const char *out_path = NULL, *model_path = NULL, *corrections = NULL, *previous = NULL;
    const char *format = NULL;
    int json = 0, c;

    /* parse */
    optind = 0;
    opterr = 0;
    while ((c = cli_getopt("cluster", argc, argv, ":o:k:qh", opts, 0)) != -1) {
        int h = cli_opts_handle(&o, "cluster", c, optarg);
        if (h < 0) return CLI_USAGE;
        if (h > 0) continue;
        switch (c) {
        case 'o': out_path = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_ALGO:
            if (mc_algo_parse(optarg, &algo) != MC_OK)
                return cli_usage_error("cluster", "--algo: '%s' is not linkage, dbscan, cw or map", optarg);
            break;
        case O_JSON: json = 1; break;
        case O_MODEL: model_path = optarg; break;
        case O_PHOTO: o.rp.group_key = optarg; break;
        case O_CORR: corrections = optarg; break;
        case O_PREV: previous = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("cluster", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("cluster", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("cluster", optind == argc ? "no input file" : "more than one input file");
    int use[MC_ALGO_COUNT] = {0};
    use[algo] = 1;
    if (cli_opts_check(&o, "cluster", use) != 0) return CLI_USAGE;
    const char *in_path = argv[optind];
    const char *inputs[5] = {in_path, NULL, NULL, NULL, NULL};
    size_t n_in = 1;
    if (corrections) inputs[n_in++] = corrections;
    if (previous) inputs[n_in++] = previous;
    if (o.graph_path) inputs[n_in++] = o.graph_path;
    if (out_path && cli_check_output(out_path, inputs) != 0) return CLI_FAIL;
    if (model_path && cli_check_output(model_path, inputs) != 0) return CLI_FAIL;
    if (model_path && out_path && strcmp(model_path, out_path) == 0)
        return cli_usage_error("cluster", "--save-model and -o name the same file");
    mc_format out_fmt;
    if (cli_result_format("cluster", format, out_path, &out_fmt) != 0) return CLI_USAGE;
    mc_cluster_params p = cli_cluster_params(&o, algo);
    p.corrections = corrections;
    p.previous = previous;

    /* load, run the library's recipe */
    int rc = CLI_FAIL;
    mc_status st = MC_OK;
    cli_input in;
    mc_cluster_result_t *r = NULL;
    mc_model_t *model = NULL;
    mc_outputs_t *run_out = NULL;
    cli_qkey *qkeys = NULL;
    long n_qkeys = 0;
    char *auto_key = NULL;
    if (o.rp.quality_key && strcmp(o.rp.quality_key, "auto") == 0) {
        /* the quality the check finds most informative, on the magnitude's graph */
        o.rp.quality_key = NULL;
        if (pick_quality(in_path, &o, &p, &auto_key) != CLI_OK) return CLI_FAIL;
        o.rp.quality_key = auto_key;
    }
#ifdef MAGCLUST_MPI
    /* under mpirun: the ranks search the graph; rank 0 clusters on it as
     * one process does on the graph it searched */
    mc_knn_graph_t *mpi_graph = NULL;
    mc_knn_mpi_info mpi_info;
    if (cli_mpi_on()) {
        if (cli_mpi_check_opts("cluster", &o) != CLI_OK) return CLI_USAGE;
        if (cli_mpi_graph(in_path, &o, &p, &mpi_graph, &mpi_info) != CLI_OK) return CLI_FAIL;
        if (cli_mpi_rank() != 0) return CLI_OK;
    }
#endif
    if (cli_load(in_path, &o, &in) != CLI_OK) {
#ifdef MAGCLUST_MPI
        mc_knn_graph_free(mpi_graph);
#endif
        free(auto_key);
        return CLI_FAIL;
    }
#ifdef MAGCLUST_MPI
    if (mpi_graph) {
        in.graph = mpi_graph; /* freed with the input */
        snprintf(in.graph_info.index, sizeof in.graph_info.index, "%s", mpi_info.index);
        in.graph_info.exact = mpi_info.exact;
        in.graph_info.n_candidates = mpi_info.n_candidates;
        in.graph_info.nprobe = mpi_info.nprobe;
        in.graph_info.train_size = mpi_info.train_size;
        in.graph_info.scan_frac = mpi_info.scan_frac;
        in.graph_info.t_train = mpi_info.t_train;
        in.graph_info.t_add = mpi_info.t_add;
        in.graph_info.t_search = mpi_info.t_search - mpi_info.t_train - mpi_info.t_add;
    }
#endif
    mc_embeddings_t *e = in.e;
    if (!o.quiet && !json) cli_print_summary_head(stdout, "cluster", in_path, e);
    if (cli_cluster(&o, &p, &in, 1, &r) != CLI_OK) goto cleanup;
    if ((!o.quiet || json) &&
        (n_qkeys = cli_quality_keys(in_path, &o.rp, e, mc_cluster_result_graph(r), &qkeys)) < 0)
        goto cleanup;
    const mc_clustering_t *cl = mc_cluster_result_clustering(r);
    const mc_cluster_info *info = mc_cluster_result_info(r);
    /* the graph's recall, before anything is written: it may fail */
    mc_knn_recall recall;
    int have_recall = cli_recall(&o, &in, r, &recall);
    if (have_recall < 0) goto cleanup;

    /* write: the result and the model are committed together, or neither */
    double t3 = cli_now();
    const char *out_tmp = NULL, *model_tmp = NULL;
    if (!(run_out = cli_outputs_new()) || (out_path && !(out_tmp = cli_outputs_add(run_out, out_path, 0))) ||
        (model_path && !(model_tmp = cli_outputs_add(run_out, model_path, 0))))
        goto cleanup;
    if (out_path) {
        st = out_fmt == MC_FMT_H5 ? mc_cluster_result_write_h5(r, e, out_tmp, in_path)
                                  : mc_clustering_write_csv(cl, e, out_tmp);
        if (st != MC_OK) {
            rc = cli_fail_output(st, out_tmp, out_path);
            goto cleanup;
        }
    }
    if (model_path) {
        mc_model_params mp = mc_cluster_result_model_params(r, e, in_path);
        if ((st = mc_model_build(e, cl, &mp, &model)) != MC_OK) goto fail;
        if ((st = mc_model_write_h5(model, model_tmp)) != MC_OK) {
            rc = cli_fail_output(st, model_tmp, model_path);
            goto cleanup;
        }
    }
    if (cli_outputs_commit(run_out) != 0) goto cleanup;

    /* report */
    cli_timings t = {in.t_load, info->t_prepare, info->t_cluster, cli_now() - t3};
    cli_summary_params sp = {in_path, out_path, mc_format_name(out_fmt), o.graph_path, o.threads, r,
                             cli_knn_info(&in, r), qkeys, (size_t)n_qkeys,
                             have_recall ? &recall : NULL};
    if (json) {
        if (cli_print_summary_json(stdout, e, cl, &sp, &t) != 0) goto cleanup;
    } else if (!o.quiet) {
        if (cli_print_summary(stdout, e, cl, &sp, &t) != 0) goto cleanup;
        if (model)
            printf("  model        %s (%zu clusters, %zu faces)\n", model_path,
                   mc_model_n_clusters(model), mc_model_n_exemplars(model));
#ifdef MAGCLUST_MPI
        if (mpi_graph) cli_mpi_print(stdout, &mpi_info);
#endif
    }
    rc = CLI_OK;
    goto cleanup;
fail:
    rc = cli_fail_status(st);
cleanup:
    cli_qkeys_free(qkeys, (size_t)(n_qkeys > 0 ? n_qkeys : 0));
    free(auto_key);
    mc_outputs_free(run_out);
    mc_model_free(model);
    mc_cluster_result_free(r);
    cli_input_free(&in);
    return rc;
}
