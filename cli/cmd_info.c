/* magclust info: what an HDF5 embeddings file holds (or a graph, model or
 * result magclust wrote). */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "quality_keys.h"
#include "summary.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust info IN.h5 [options]\n"
"\n"
"Describe IN.h5. Embeddings: its datasets, N and D, percentiles of the embedding\n"
"magnitude (and of the quality, with --quality-key), the 1-D numeric datasets\n"
"of length N that could serve as --quality-key, and the identities.\n"
"\n"
"The quality check, as 'cluster' prints it: for the magnitude (or\n"
"--quality-key) and each of those datasets, the rank correlation between a\n"
"face's quality and the cosine to its nearest neighbour in the k-NN graph of\n"
"the centred faces (k 30, every pair compared up to %d faces). A real\n"
"quality signal gives +0.25 or more (better faces look more like someone\n"
"else in the collection); below %.2f, 'cluster' turns its quality gates off.\n"
"\n"
"The other files magclust writes are described too: a k-NN graph ('knn'),\n"
"a model ('cluster --save-model') and an HDF5 result ('cluster -o X.h5').\n"
"\n"
"options:\n"
"      --quality-key NAME     also show the percentiles of this dataset\n"
"      --no-check             skip the quality check (it searches the k-NN\n"
"                             graph: minutes for millions of faces)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"      --labels-key NAME      (default labels)\n"
"      --paths-key NAME       (default paths)\n"
"  -q, --quiet                print nothing but errors (the exit code tells)\n"
"  -h, --help                 this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n",
            MC_KNN_AUTO_EXACT_MAX, MC_QUALITY_MIN_RHO);
}

static void print_percentiles(const char *name, const float *v, size_t n)
{
    static const double pcts[] = {1, 5, 10, 25, 50, 75, 90, 95, 99};
    printf("  %-12s", name);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        printf(" p%g %.4g%s", pcts[i], mc_percentile(v, n, pcts[i]),
               i + 1 < sizeof pcts / sizeof pcts[0] ? " " : "\n");
}

static void print_dims(const mc_h5_dataset_info *d)
{
    for (int r = 0; r < d->rank && r < 4; r++) printf("%s%" PRIu64, r ? "x" : "", d->dims[r]);
    if (d->rank == 0) printf("scalar");
}

static int has_dataset(const mc_h5_dataset_info *ds, size_t nds, const char *name)
{
    for (size_t i = 0; i < nds; i++)
        if (strcmp(ds[i].name, name) == 0) return 1;
    return 0;
}

/* The other files magclust writes: a k-NN graph, a model, a result. Returns
 * CLI_OK, CLI_FAIL, or -1 when the file is none of them. */
static int describe_other(const char *path, const mc_h5_dataset_info *ds, size_t nds)
{
    mc_status st;
    if (has_dataset(ds, nds, "/knn/ids")) {
        mc_knn_graph_t *g = NULL;
        mc_knn_graph_meta meta;
        if ((st = mc_knn_graph_read_h5(path, &g, &meta)) != MC_OK) return cli_fail_status(st);
        printf("magclust info %s\n", path);
        printf("  kind         k-NN graph ('magclust knn'; cluster --graph takes it)\n");
        printf("  faces        %zu, k %zu, dimension %zu\n", mc_knn_graph_n(g), mc_knn_graph_k(g), meta.dim);
        printf("  search       index %s, %s\n", meta.index, meta.centered ? "centred" : "not centred");
        printf("  source       %s%s%s\n", meta.source[0] ? meta.source : "(unknown)",
               meta.embeddings_key[0] ? ", dataset " : "", meta.embeddings_key);
        mc_knn_graph_free(g);
        return CLI_OK;
    }
    if (has_dataset(ds, nds, "/model/center") || has_dataset(ds, nds, "/model/clusters/mean")) {
        mc_model_t *m = NULL;
        if ((st = mc_model_read_h5(path, &m)) != MC_OK) return cli_fail_status(st);
        size_t named = 0;
        for (size_t c = 0; c < mc_model_n_clusters(m); c++) named += mc_model_cluster_name(m, c) != NULL;
        printf("magclust info %s\n", path);
        printf("  kind         model ('cluster --save-model'; 'assign' places new faces with it)\n");
        printf("  clusters     %zu (%zu named), %zu faces kept, dimension %zu\n", mc_model_n_clusters(m),
               named, mc_model_n_exemplars(m), mc_model_dim(m));
        char cq[32] = "off", nq[32] = "off";
        if (isfinite(mc_model_core_q(m))) snprintf(cq, sizeof cq, "%.4g", mc_model_core_q(m));
        if (isfinite(mc_model_noise_q(m))) snprintf(nq, sizeof nq, "%.4g", mc_model_noise_q(m));
        printf("  params       algo %s  threshold %.4g  quality %s  core gate %s  noise gate %s\n",
               mc_model_algorithm(m), mc_model_threshold(m), mc_model_quality_name(m), cq, nq);
        mc_model_free(m);
        return CLI_OK;
    }
    if (has_dataset(ds, nds, "/cluster")) {
        mc_previous_t *r = NULL;
        if ((st = mc_previous_read_h5(path, &r)) != MC_OK) return cli_fail_status(st);
        size_t n = mc_previous_n(r), noise = 0, roles[4] = {0}, named = 0;
        int64_t top = -1;
        for (size_t i = 0; i < n; i++) {
            int64_t c = mc_previous_cluster(r, i);
            noise += c < 0;
            if (c > top) top = c;
            int role = mc_previous_role(r, i);
            if (role >= 0 && role < 4) roles[role]++;
            named += mc_previous_person(r, i) != NULL;
        }
        printf("magclust info %s\n", path);
        printf("  kind         clustering result ('cluster -o X.h5'; eval, report and --previous read it)\n");
        printf("  faces        %zu: %zu core, %zu border, %zu noise, %zu unassigned\n", n, roles[0],
               roles[1], roles[2], roles[3]);
        printf("  clusters     %" PRId64 " (ids 0 .. %" PRId64 "), %zu faces in none, %zu faces named\n",
               top + 1, top, noise, named);
        printf("  paths        %s\n", n > 0 && mc_previous_path(r, 0) && mc_previous_path(r, 0)[0] ? "yes" : "no");
        /* the confidence datasets (older results have none) */
        size_t scored = 0, negative = 0, reps = 0;
        for (size_t i = 0; i < n; i++) {
            float mg = mc_previous_margin(r, i);
            scored += isnan(mg) ? 0u : 1u;
            negative += mg < 0.0f;
            reps += mc_previous_representative(r, i) == 1;
        }
        if (scored || reps)
            printf("  confidence   %zu faces with a margin, %zu of them below 0 (nearer another "
                   "cluster); %zu representatives\n", scored, negative, reps);
        else
            printf("  confidence   none recorded (an older result)\n");
        mc_previous_free(r);
        return CLI_OK;
    }
    return -1;
}

/* The quality check of the quality in use and of every other candidate, on
 * the graph 'cluster' would build (centres e in place). */
static int quality_check(const char *path, const mc_h5_read_params *rp, mc_embeddings_t *e)
{
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_DEFAULT);
    mc_cluster_result_t *r = NULL;
    mc_status st = mc_cluster_prepare(e, NULL, &p, &r);
    if (st != MC_OK) {
        /* too few faces for a graph or a calibration: nothing to check */
        printf("  check        not made: %s\n", mc_last_error_detail());
        return CLI_OK;
    }
    cli_qkey *k = NULL;
    long n = cli_quality_keys(path, rp, e, mc_cluster_result_graph(r), &k);
    const mc_cluster_info *in = mc_cluster_result_info(r);
    if (n >= 0) {
        printf("  check        rank correlation of quality and nearest-neighbour cosine (>= %.2f: "
               "informative):\n", MC_QUALITY_MIN_RHO);
        if (in->quality_checked)
            printf("    %-18s %+.2f  %s (in use)\n", mc_embeddings_quality_name(e),
                   in->quality_check.rho, in->quality_check.informative ? "informative" : "uninformative");
        for (long i = 0; i < n; i++)
            printf("    %-18s %+.2f  %s\n", k[i].name, k[i].rho,
                   k[i].informative ? "informative" : "uninformative");
    }
    cli_qkeys_free(k, n > 0 ? (size_t)n : 0);
    mc_cluster_result_free(r);
    return n >= 0 ? CLI_OK : CLI_FAIL;
}

int cmd_info(int argc, char **argv)
{
    enum { O_QKEY = 256, O_EKEY, O_LKEY, O_PKEY, O_NOCHECK };
    static const struct option opts[] = {
        {"quality-key", required_argument, NULL, O_QKEY},
        {"embeddings-key", required_argument, NULL, O_EKEY},
        {"labels-key", required_argument, NULL, O_LKEY},
        {"paths-key", required_argument, NULL, O_PKEY},
        {"no-check", no_argument, NULL, O_NOCHECK},
        {"help", no_argument, NULL, 'h'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    mc_h5_read_params rp = mc_h5_read_params_default();
    int c, check = 1;
    optind = 0;
    opterr = 0;
    int quiet = 0;
    while ((c = cli_getopt("info", argc, argv, ":hq", opts, 0)) != -1) {
        switch (c) {
        case O_QKEY: rp.quality_key = optarg; break;
        case O_EKEY: rp.embeddings_key = optarg; break;
        case O_LKEY: rp.labels_key = optarg; break;
        case O_PKEY: rp.paths_key = optarg; break;
        case O_NOCHECK: check = 0; break;
        case 'h': help(stdout); return CLI_OK;
        case 'q': quiet = 1; break;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("info", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("info", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) return cli_usage_error("info", "expected one input file");
    /* -q: nothing on stdout; the exit code (and any error) still tell */
    if (quiet && !freopen("/dev/null", "w", stdout)) return cli_usage_error("info", "-q: cannot open /dev/null");
    const char *in_path = argv[optind];

    mc_h5_dataset_info *ds = NULL;
    size_t nds = 0;
    mc_embeddings_t *e = NULL;
    mc_status st;
    int rc = CLI_FAIL;
    if ((st = mc_h5_list_datasets(in_path, &ds, &nds)) != MC_OK) goto fail;
    {
        /* not embeddings: one of the other files magclust writes? */
        char emb[256];
        const char *ek = rp.embeddings_key ? rp.embeddings_key : "embeddings";
        snprintf(emb, sizeof emb, "/%s", ek + strspn(ek, "/"));
        if (!has_dataset(ds, nds, emb) && (rc = describe_other(in_path, ds, nds)) != -1) goto cleanup;
        rc = CLI_FAIL;
    }
    if ((st = mc_embeddings_read_h5(in_path, &rp, &e)) != MC_OK) goto fail;
    size_t n = mc_embeddings_n(e);
    printf("magclust info %s\n", in_path);
    printf("  faces        %zu x %zu\n", n, mc_embeddings_dim(e));
    printf("  datasets    ");
    for (size_t i = 0; i < nds; i++) {
        printf(" %s (", ds[i].name);
        print_dims(&ds[i]);
        printf(" %s)%s", ds[i].type, i + 1 < nds ? "," : "\n");
    }
    print_percentiles("magnitude", mc_embeddings_magnitudes(e), n);
    if (rp.quality_key) print_percentiles(mc_embeddings_quality_name(e), mc_embeddings_quality(e), n);
    printf("  quality keys");
    int any = 0;
    for (size_t i = 0; i < nds; i++) {
        int is_labels = rp.labels_key && strcmp(ds[i].name + 1, rp.labels_key[0] == '/' ? rp.labels_key + 1 : rp.labels_key) == 0;
        if (!is_labels && cli_is_per_face_number(&ds[i], n)) {
            printf(" %s", ds[i].name + 1);
            any = 1;
        }
    }
    printf("%s\n", any ? "" : " (none besides the magnitude)");
    const int64_t *labels = mc_embeddings_labels(e);
    if (labels) {
        size_t ids, unl;
        cli_count_identities(labels, n, &ids, &unl);
        printf("  identities   %zu (%zu faces unlabelled or distractors)\n", ids, unl);
    } else {
        printf("  identities   no labels\n");
    }
    printf("  paths        %s\n", mc_embeddings_path(e, 0) ? "yes" : "no");
    if (check && quality_check(in_path, &rp, e) != CLI_OK) goto cleanup;
    rc = CLI_OK;
    goto cleanup;
fail:
    rc = cli_fail_status(st);
cleanup:
    free(ds);
    mc_embeddings_free(e);
    return rc;
}
