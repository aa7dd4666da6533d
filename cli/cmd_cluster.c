/* magclust cluster: HDF5 -> k-NN graph -> quality-aware DBSCAN -> CSV. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "summary.h"

static void help(FILE *f)
{
    mc_dbscan_params d = mc_dbscan_params_default();
    mc_knn_params k = mc_knn_params_default();
    char cq[32], nq[32];
    mc_threshold_format(&d.core_quality, cq, sizeof cq);
    mc_threshold_format(&d.noise_quality, nq, sizeof nq);
    fprintf(f,
"usage: magclust cluster IN.h5 [-o OUT.csv] [options]\n"
"\n"
"Cluster the faces of IN.h5 on an exact k-NN graph (cosine distance = 1 -\n"
"similarity of the unit directions) with quality-aware DBSCAN or Chinese\n"
"whispers. Good faces seed and link clusters; weaker ones may only join one;\n"
"the worst are demoted to noise.\n"
"Prints a summary (and BCubed / pairwise F / NMI when the file has labels).\n"
"\n"
"options:\n"
"  -o, --output PATH        write the result: CSV (index,path,cluster,role,\n"
"                           quality) or HDF5 (/cluster /role /quality /paths\n"
"                           and the parameters as attributes), by extension\n"
"                           (.csv, .h5/.hdf5) or --format; atomically:\n"
"                           nothing is written on failure\n"
"      --format F           csv or h5 (default: from the extension; csv)\n"
"      --json               print the summary as one JSON object on stdout\n"
"      --algo A             dbscan, linkage (agglomerative) or cw (Chinese\n"
"                           whispers, dlib's face clustering method)\n"
"                           (default dbscan)\n"
"      --linkage L          linkage: single, average or complete (default\n"
"                           average); merging stops below similarity 1 - eps\n"
"      --eps D              cosine-distance radius, 0..2: dbscan's\n"
"                           neighbourhood, cw's edges, linkage's stop\n"
"                           (default %g)\n"
"      --min-samples N      dbscan: faces within eps, self included, for a\n"
"                           core face (default %zu; at most k+1)\n"
"      --seed S             cw: seed of the visiting order (default 1)\n"
"      --iterations N       cw: rounds at most (default 100)\n"
"  -k, --k K                neighbours per face in the graph (default %zu; < N)\n"
"      --core-quality Q     quality a face needs to be core: a value, a\n"
"                           percentile such as p30, or off (default %s)\n"
"      --noise-quality Q    faces below this are noise (default %s)\n"
"      --quality-key NAME   dataset holding the quality (default: the\n"
"                           embedding magnitude, i.e. its L2 norm)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"      --labels-key NAME    (default labels; read when present)\n"
"      --paths-key NAME     (default paths; read when present)\n"
"      --threads N          threads for the search and clustering\n"
"                           (default 0 = all cores)\n"
"  -q, --quiet              print nothing but errors\n"
"  -h, --help               this text\n"
"\n"
"With --core-quality off --noise-quality off and k >= N-1 this is plain DBSCAN.\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n",
            d.eps, d.min_samples, k.k, cq, nq);
}

int cmd_cluster(int argc, char **argv)
{
    enum { O_EPS = 256, O_MINS, O_CORE, O_NOISE, O_QKEY, O_EKEY, O_LKEY, O_PKEY, O_THREADS,
           O_FORMAT, O_JSON, O_ALGO, O_SEED, O_ITER, O_LINKAGE };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"eps", required_argument, NULL, O_EPS},
        {"min-samples", required_argument, NULL, O_MINS},
        {"k", required_argument, NULL, 'k'},
        {"core-quality", required_argument, NULL, O_CORE},
        {"noise-quality", required_argument, NULL, O_NOISE},
        {"quality-key", required_argument, NULL, O_QKEY},
        {"embeddings-key", required_argument, NULL, O_EKEY},
        {"labels-key", required_argument, NULL, O_LKEY},
        {"paths-key", required_argument, NULL, O_PKEY},
        {"threads", required_argument, NULL, O_THREADS},
        {"format", required_argument, NULL, O_FORMAT},
        {"algo", required_argument, NULL, O_ALGO},
        {"linkage", required_argument, NULL, O_LINKAGE},
        {"seed", required_argument, NULL, O_SEED},
        {"iterations", required_argument, NULL, O_ITER},
        {"json", no_argument, NULL, O_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mc_h5_read_params rp = mc_h5_read_params_default();
    mc_knn_params kp = mc_knn_params_default();
    mc_dbscan_params dp = mc_dbscan_params_default();
    mc_cw_params cwp = mc_cw_params_default();
    mc_linkage_params lkp = mc_linkage_params_default();
    const char *algo = "dbscan";
    const char *out_path = NULL;
    int quiet = 0, json = 0, c;
    const char *format = NULL;
    long threads = 0;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:k:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case O_EPS:
            if (cli_parse_double("--eps", optarg, 0.0, 2.0, &dp.eps)) return CLI_USAGE;
            break;
        case O_MINS:
            if (cli_parse_size("--min-samples", optarg, 1, 100000, &dp.min_samples)) return CLI_USAGE;
            break;
        case 'k':
            if (cli_parse_size("--k", optarg, 1, 100000, &kp.k)) return CLI_USAGE;
            break;
        case O_CORE:
        case O_NOISE:
            if (mc_threshold_parse(optarg, c == O_CORE ? &dp.core_quality : &dp.noise_quality) != MC_OK) {
                cli_error("%s: %s", c == O_CORE ? "--core-quality" : "--noise-quality",
                          mc_last_error_detail());
                return CLI_USAGE;
            }
            break;
        case O_QKEY: rp.quality_key = optarg; break;
        case O_EKEY: rp.embeddings_key = optarg; break;
        case O_LKEY: rp.labels_key = optarg; break;
        case O_PKEY: rp.paths_key = optarg; break;
        case O_THREADS:
            if (cli_parse_int("--threads", optarg, 0, 4096, &threads)) return CLI_USAGE;
            break;
        case O_FORMAT: format = optarg; break;
        case O_ALGO:
            if (strcmp(optarg, "dbscan") != 0 && strcmp(optarg, "cw") != 0 &&
                strcmp(optarg, "linkage") != 0)
                return cli_usage_error("cluster", "--algo: '%s' is not dbscan, linkage or cw", optarg);
            algo = optarg;
            break;
        case O_LINKAGE:
            if (mc_linkage_parse(optarg, &lkp.kind) != MC_OK)
                return cli_usage_error("cluster", "--linkage: %s", mc_last_error_detail());
            break;
        case O_SEED:
            if (cli_parse_u64("--seed", optarg, &cwp.seed)) return CLI_USAGE;
            break;
        case O_ITER:
            if (cli_parse_size("--iterations", optarg, 1, 1000000, &cwp.iterations)) return CLI_USAGE;
            break;
        case O_JSON: json = 1; break;
        case 'q': quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        case ':': return cli_usage_error("cluster", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("cluster", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("cluster", optind == argc ? "no input file" : "more than one input file");
    const char *in_path = argv[optind];
    const char *inputs[] = {in_path, NULL};
    if (out_path && cli_check_output(out_path, inputs) != 0) return CLI_FAIL;
    mc_format out_fmt = MC_FMT_CSV;
    if (format) {
        out_fmt = mc_format_from_name(format);
        if (out_fmt != MC_FMT_CSV && out_fmt != MC_FMT_H5)
            return cli_usage_error("cluster", "--format: '%s' is not csv or h5", format);
    } else if (out_path && mc_format_from_path(out_path) == MC_FMT_H5) {
        out_fmt = MC_FMT_H5;
    }
    int use_cw = strcmp(algo, "cw") == 0, use_linkage = strcmp(algo, "linkage") == 0;
    if (!use_cw && !use_linkage && dp.min_samples > kp.k + 1)
        return cli_usage_error("cluster", "--min-samples %zu exceeds k + 1 = %zu: raise --k or lower --min-samples",
                               dp.min_samples, kp.k + 1);
    kp.n_threads = (int)threads;
    dp.n_threads = (int)threads;
    /* One radius for every algorithm: cw's edges join faces within eps. */
    cwp.threshold = 1.0 - dp.eps;
    cwp.core_quality = dp.core_quality;
    cwp.noise_quality = dp.noise_quality;
    cwp.n_threads = (int)threads;
    lkp.threshold = 1.0 - dp.eps;
    lkp.core_quality = dp.core_quality;
    lkp.noise_quality = dp.noise_quality;
    lkp.n_threads = (int)threads;

    int rc = CLI_FAIL;
    mc_status st;
    mc_embeddings_t *e = NULL;
    mc_knn_graph_t *g = NULL;
    mc_clustering_t *cl = NULL;
    cli_timings t = {0};
    double core_q = -INFINITY, noise_q = -INFINITY;

    double t0 = cli_now();
    if ((st = mc_embeddings_read_h5(in_path, &rp, &e)) != MC_OK) goto fail;
    double t1 = cli_now();
    if ((st = mc_knn_graph_build(e, &kp, &g)) != MC_OK) goto fail;
    double t2 = cli_now();
    const float *quality = mc_embeddings_quality(e);
    if (use_cw)
        st = mc_cw_run(g, quality, &cwp, &cl, &core_q, &noise_q);
    else if (use_linkage)
        st = mc_linkage_run(g, quality, &lkp, &cl, &core_q, &noise_q);
    else
        st = mc_dbscan_run(g, quality, &dp, &cl, &core_q, &noise_q);
    if (st != MC_OK) goto fail;
    double t3 = cli_now();
    if (out_path) {
        if (out_fmt == MC_FMT_H5) {
            char cq[32], nq[32];
            mc_threshold_format(&dp.core_quality, cq, sizeof cq);
            mc_threshold_format(&dp.noise_quality, nq, sizeof nq);
            mc_attr attrs[16] = {
                {"magclust_version", mc_version(), 0},
                {"input", in_path, 0},
                {"algo", algo, 0},
                {"quality_key", mc_embeddings_quality_name(e), 0},
                {"eps", NULL, dp.eps},
                {"k", NULL, (double)kp.k},
                {"core_quality", cq, 0},
                {"core_quality_value", NULL, core_q},
                {"noise_quality", nq, 0},
                {"noise_quality_value", NULL, noise_q},
            };
            size_t na = 10;
            if (use_linkage) {
                attrs[na++] = (mc_attr){"linkage", mc_linkage_name(lkp.kind), 0};
            } else if (use_cw) {
                attrs[na++] = (mc_attr){"seed", NULL, (double)cwp.seed};
                attrs[na++] = (mc_attr){"iterations", NULL, (double)cwp.iterations};
            } else {
                attrs[na++] = (mc_attr){"min_samples", NULL, (double)dp.min_samples};
            }
            st = mc_clustering_write_h5(cl, e, out_path, attrs, na);
        } else {
            st = mc_clustering_write_csv(cl, e, out_path);
        }
        if (st != MC_OK) goto fail;
    }
    double t4 = cli_now();
    t.load = t1 - t0;
    t.knn = t2 - t1;
    t.cluster = t3 - t2;
    t.write = t4 - t3;
    cli_summary_params sp = {in_path, out_path, &dp, &kp, core_q, noise_q,
                             mc_format_name(out_fmt), algo, &cwp, &lkp};
    if (json) {
        if (cli_print_summary_json(stdout, e, cl, &sp, &t) != 0) goto cleanup;
    } else if (!quiet) {
        if (cli_print_summary(stdout, e, cl, &sp, &t) != 0) goto cleanup;
    }
    rc = CLI_OK;
    goto cleanup;
fail:
    rc = cli_fail_status(st);
cleanup:
    mc_clustering_free(cl);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
    return rc;
}
