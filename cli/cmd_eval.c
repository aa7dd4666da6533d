/* magclust eval: metrics of a CSV prediction against the file's labels. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_util.h"
#include "commands.h"
#include "summary.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust eval IN.h5 PRED.csv [options]\n"
"\n"
"Score a prediction against the identity labels of IN.h5: BCubed precision,\n"
"recall and F, pairwise precision, recall and F, and NMI. PRED.csv needs a\n"
"header with a 'cluster' column (and optionally 'index'), as `magclust\n"
"cluster -o` writes. A negative label, in the truth (unknown identity,\n"
"distractor) or in the prediction (noise), counts as a singleton.\n"
"\n"
"options:\n"
"      --labels-key NAME      (default labels)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"  -h, --help                 this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n");
}

int cmd_eval(int argc, char **argv)
{
    enum { O_LKEY = 256, O_EKEY };
    static const struct option opts[] = {
        {"labels-key", required_argument, NULL, O_LKEY},
        {"embeddings-key", required_argument, NULL, O_EKEY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mc_h5_read_params rp = mc_h5_read_params_default();
    rp.paths_key = NULL;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_LKEY: rp.labels_key = optarg; break;
        case O_EKEY: rp.embeddings_key = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        case ':': return cli_usage_error("eval", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2) return cli_usage_error("eval", "expected IN.h5 and PRED.csv");
    const char *in_path = argv[optind], *pred_path = argv[optind + 1];

    int rc = CLI_FAIL;
    mc_status st;
    mc_embeddings_t *e = NULL;
    int64_t *pred = NULL;
    mc_metrics m;
    if ((st = mc_embeddings_read_h5(in_path, &rp, &e)) != MC_OK) goto fail;
    const int64_t *truth = mc_embeddings_labels(e);
    if (!truth) {
        cli_error("%s: no labels dataset /%s: nothing to score against", in_path,
                  rp.labels_key ? rp.labels_key : "labels");
        goto cleanup;
    }
    size_t n = mc_embeddings_n(e);
    pred = malloc(n * sizeof *pred);
    if (!pred) {
        cli_error("out of memory");
        goto cleanup;
    }
    if ((st = mc_clustering_read_csv(pred_path, n, pred)) != MC_OK) goto fail;
    if ((st = mc_metrics_compute(truth, pred, n, &m)) != MC_OK) goto fail;
    size_t ids, unl;
    cli_count_identities(truth, n, &ids, &unl);
    printf("magclust eval %s %s\n", in_path, pred_path);
    printf("  faces        %zu; %zu identities, %zu unlabelled; %zu predicted clusters (singletons included)\n",
           n, ids, unl, m.n_clusters);
    cli_print_metrics(stdout, &m);
    rc = CLI_OK;
    goto cleanup;
fail:
    rc = cli_fail_status(st);
cleanup:
    free(pred);
    mc_embeddings_free(e);
    return rc;
}
