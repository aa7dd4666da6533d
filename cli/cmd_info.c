/* magclust info: what an HDF5 embeddings file holds. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <inttypes.h>
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
"Describe IN.h5: its datasets, N and D, percentiles of the embedding\n"
"magnitude (and of the quality, with --quality-key), the 1-D numeric datasets\n"
"of length N that could serve as --quality-key, and the identities.\n"
"\n"
"The quality check, as 'cluster' prints it: for the magnitude (or\n"
"--quality-key) and each of those datasets, the rank correlation between a\n"
"face's quality and the cosine to its nearest neighbour in the k-NN graph of\n"
"the centred faces (k 30, exact up to %d faces). A real quality signal\n"
"gives +0.25 or more (better faces look more like someone else in the\n"
"collection); below %.2f, 'cluster' turns its quality gates off.\n"
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

/* The quality check of the quality in use and of every other candidate, on
 * the graph 'cluster' would build (centres e in place). */
static int quality_check(const char *path, const mc_h5_read_params *rp, mc_embeddings_t *e)
{
    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_LINKAGE);
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
        int numeric = strncmp(ds[i].type, "float", 5) == 0 || strstr(ds[i].type, "int") != NULL;
        int is_labels = rp.labels_key && strcmp(ds[i].name + 1, rp.labels_key[0] == '/' ? rp.labels_key + 1 : rp.labels_key) == 0;
        if (numeric && !is_labels && (ds[i].rank == 1 || (ds[i].rank == 2 && ds[i].dims[1] == 1)) &&
            ds[i].dims[0] == n) {
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
