/* magclust eval: metrics of a CSV prediction against the file's labels. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_util.h"
#include "commands.h"
#include "summary.h"
#include "svg.h"

#include <math.h>
#include <string.h>

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust eval IN.h5 PRED.csv|PRED.h5 [options]\n"
"\n"
"Score a prediction against the identity labels of IN.h5: BCubed precision,\n"
"recall and F, pairwise precision, recall and F, and NMI. PRED.csv needs a\n"
"header with a 'cluster' column (and optionally 'index'), as `magclust\n"
"cluster -o` writes; PRED.h5 (or .hdf5) a /cluster dataset with a row per\n"
"face, as `magclust cluster -o X.h5` writes. A negative label, in the truth (unknown identity,\n"
"distractor) or in the prediction (noise), counts as a singleton.\n"
"\n"
"With --reject-curve, also score the faces that remain as the lowest-quality\n"
"0, 5, 10 ... 50 %% are set aside (error-versus-reject, as MagFace and AdaFace\n"
"judge a quality signal): if F rises steeply, the quality is worth trusting\n"
"and a noise gate belongs where it flattens.\n"
"\n"
"options:\n"
"      --reject-curve PATH    write the curve as CSV (quality,reject_pct,faces,\n"
"                             quality_below,bcubed_p,bcubed_r,bcubed_f,\n"
"                             pairwise_f,nmi), atomically\n"
"      --plot PATH            and as an SVG plot (needs --reject-curve)\n"
"      --quality-key LIST     comma-separated qualities for the curve:\n"
"                             'magnitude' (the embedding norm) or dataset\n"
"                             names (default magnitude)\n"
"      --reject-max PCT       largest share set aside, 1..95 (default 50)\n"
"      --reject-step PCT      step, 1..50 (default 5)\n"
"      --labels-key NAME      (default labels)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"  -q, --quiet                print nothing but errors (the exit code tells)\n"
"  -h, --help                 this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n");
}

static const char *const curve_colors[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

static int write_curves(const char *csv_path, const char *plot_path, const char *in_path,
                        char **names, size_t nk, const mc_reject_point *pts, size_t per)
{
    mc_output_t *o = NULL;
    FILE *f = cli_output_open(csv_path, &o);
    if (!f) return -1;
    fprintf(f, "quality,reject_pct,faces,quality_below,bcubed_p,bcubed_r,bcubed_f,pairwise_f,nmi\n");
    for (size_t k = 0; k < nk; k++)
        for (size_t j = 0; j < per; j++) {
            const mc_reject_point *c = &pts[k * per + j];
            fprintf(f, "%s,%g,%zu,", names[k], c->reject_pct, c->faces);
            if (!isnan(c->quality_below)) fprintf(f, "%.9g", c->quality_below);
            fprintf(f, ",%.6f,%.6f,%.6f,%.6f,%.6f\n", c->m.bcubed_precision, c->m.bcubed_recall,
                    c->m.bcubed_f, c->m.pairwise_f, c->m.nmi);
        }
    if (cli_output_commit(o) != 0) return -1;
    if (!plot_path) return 0;
    size_t ns = 3 * nk;
    svg_series *s = calloc(ns, sizeof *s);
    double *buf = malloc(4 * nk * per * sizeof *buf);
    char(*labels)[SVG_LABEL_MAX] = malloc(ns * sizeof *labels);
    int rc = -1;
    if (!s || !buf || !labels) {
        cli_error("out of memory");
        goto out;
    }
    for (size_t k = 0; k < nk; k++) {
        double *x = buf + 4 * k * per, *P = x + per, *R = P + per, *F = R + per;
        for (size_t j = 0; j < per; j++) {
            const mc_reject_point *c = &pts[k * per + j];
            x[j] = c->reject_pct;
            P[j] = c->m.bcubed_precision;
            R[j] = c->m.bcubed_recall;
            F[j] = c->m.bcubed_f;
        }
        const char *col = curve_colors[k % (sizeof curve_colors / sizeof *curve_colors)];
        char prefix[SVG_LABEL_MAX - 16];
        snprintf(prefix, sizeof prefix, "%s: ", names[k]);
        svg_prf_series(s + 3 * k, labels + 3 * k, prefix, col, x, P, R, F, per);
    }
    double ymin = 1.0;
    for (size_t j = 0; j < nk * per; j++) {
        const mc_metrics *m = &pts[j].m;
        double lo = fmin(m->bcubed_f, fmin(m->bcubed_precision, m->bcubed_recall));
        if (lo < ymin) ymin = lo;
    }
    ymin = floor(ymin * 10.0 - 0.5) / 10.0;
    if (ymin < 0.0) ymin = 0.0;
    char title[512];
    const char *base = strrchr(in_path, '/');
    snprintf(title, sizeof title, "magclust eval: error versus reject, %s", base ? base + 1 : in_path);
    rc = svg_write_plot(plot_path, title, "lowest-quality faces set aside (%)",
                        "BCubed precision / recall / F over the rest", ymin, 1.0, s, ns, NULL, 0);
out:
    free(s);
    free(buf);
    free(labels);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    enum { O_LKEY = 256, O_EKEY, O_CURVE, O_PLOT, O_QKEY, O_RMAX, O_RSTEP };
    static const struct option opts[] = {
        {"labels-key", required_argument, NULL, O_LKEY},
        {"embeddings-key", required_argument, NULL, O_EKEY},
        {"reject-curve", required_argument, NULL, O_CURVE},
        {"plot", required_argument, NULL, O_PLOT},
        {"quality-key", required_argument, NULL, O_QKEY},
        {"reject-max", required_argument, NULL, O_RMAX},
        {"reject-step", required_argument, NULL, O_RSTEP},
        {"help", no_argument, NULL, 'h'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    mc_h5_read_params rp = mc_h5_read_params_default();
    rp.paths_key = NULL;
    const char *curve_path = NULL, *plot_path = NULL, *qkeys = "magnitude";
    double rmax = 50, rstep = 5;
    int c;
    optind = 0;
    opterr = 0;
    int quiet = 0;
    while ((c = cli_getopt("eval", argc, argv, ":hq", opts, 0)) != -1) {
        switch (c) {
        case O_LKEY: rp.labels_key = optarg; break;
        case O_EKEY: rp.embeddings_key = optarg; break;
        case O_CURVE: curve_path = optarg; break;
        case O_PLOT: plot_path = optarg; break;
        case O_QKEY: qkeys = optarg; break;
        case O_RMAX:
            if (cli_parse_double("--reject-max", optarg, 1, 95, &rmax)) return CLI_USAGE;
            break;
        case O_RSTEP:
            if (cli_parse_double("--reject-step", optarg, 1, 50, &rstep)) return CLI_USAGE;
            break;
        case 'h': help(stdout); return CLI_OK;
        case 'q': quiet = 1; break;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("eval", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("eval", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2) return cli_usage_error("eval", "expected IN.h5 and PRED.csv");
    /* -q: nothing on stdout; the exit code (and any error) still tell */
    if (quiet && !freopen("/dev/null", "w", stdout)) return cli_usage_error("eval", "-q: cannot open /dev/null");
    if (plot_path && !curve_path) return cli_usage_error("eval", "--plot needs --reject-curve");
    if (!qkeys[0]) return cli_usage_error("eval", "--quality-key: empty list");
    const char *in_path = argv[optind], *pred_path = argv[optind + 1];
    const char *inputs[] = {in_path, pred_path, NULL};
    if (curve_path && cli_check_output(curve_path, inputs) != 0) return CLI_FAIL;
    if (plot_path && cli_check_output(plot_path, inputs) != 0) return CLI_FAIL;
    if (plot_path && strcmp(plot_path, curve_path) == 0) {
        cli_error("%s: --plot and --reject-curve name the same file", plot_path);
        return CLI_FAIL;
    }

    int rc = CLI_FAIL;
    mc_status st;
    mc_embeddings_t *e = NULL;
    int64_t *pred = NULL;
    char *keys_copy = NULL, *names[16];
    mc_reject_point *pts = NULL;
    size_t nk = 0;
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
    if (mc_format_from_path(pred_path) == MC_FMT_H5) {
        /* a result as `cluster -o X.h5` writes it: /cluster, a row per face */
        mc_previous_t *res = NULL;
        if ((st = mc_previous_read_h5(pred_path, &res)) != MC_OK) goto fail;
        if (mc_previous_n(res) != n) {
            cli_error("%s: %zu rows, but %s has %zu faces", pred_path, mc_previous_n(res), in_path, n);
            mc_previous_free(res);
            goto cleanup;
        }
        for (size_t i = 0; i < n; i++) pred[i] = mc_previous_cluster(res, i);
        mc_previous_free(res);
    } else if ((st = mc_clustering_read_csv(pred_path, n, pred)) != MC_OK) {
        goto fail;
    }
    if ((st = mc_metrics_compute(truth, pred, n, &m)) != MC_OK) goto fail;
    size_t ids, unl;
    cli_count_identities(truth, n, &ids, &unl);
    printf("magclust eval %s %s\n", in_path, pred_path);
    printf("  faces        %zu; %zu identities, %zu unlabelled; %zu predicted clusters (singletons included)\n",
           n, ids, unl, m.n_clusters);
    cli_print_metrics(stdout, &m);
    if (curve_path) {
        keys_copy = strdup(qkeys);
        if (!keys_copy) {
            cli_error("out of memory");
            goto cleanup;
        }
        char *save = NULL;
        for (char *t = strtok_r(keys_copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (nk == sizeof names / sizeof *names) {
                cli_error("--quality-key: at most %zu qualities", sizeof names / sizeof *names);
                goto cleanup;
            }
            names[nk++] = t;
        }
        size_t per = mc_reject_curve_points(rstep, rmax);
        pts = calloc(nk * per, sizeof *pts);
        if (!pts) {
            cli_error("out of memory");
            goto cleanup;
        }
        for (size_t k = 0; k < nk; k++) {
            mc_embeddings_t *ek = NULL;
            const float *q = mc_embeddings_magnitudes(e);
            if (strcmp(names[k], "magnitude") != 0) {
                mc_h5_read_params rq = rp;
                rq.quality_key = names[k];
                rq.labels_key = NULL;
                if ((st = mc_embeddings_read_h5(in_path, &rq, &ek)) != MC_OK) goto fail;
                q = mc_embeddings_quality(ek);
            }
            st = mc_reject_curve(truth, pred, q, n, rstep, rmax, pts + k * per);
            mc_embeddings_free(ek);
            if (st == MC_ERR_BAD_DATA) {
                cli_error("%s: too few faces for a %g %% reject curve", in_path, rmax);
                goto cleanup;
            }
            if (st != MC_OK) goto fail;
            printf("  reject curve (%s): F", names[k]);
            for (size_t j = 0; j < per; j++) printf(" %g%%:%.3f", pts[k * per + j].reject_pct, pts[k * per + j].m.bcubed_f);
            printf("\n");
        }
        /* the curve and the plot are committed together, or neither */
        mc_outputs_t *run_out = cli_outputs_new();
        const char *curve_tmp = run_out ? cli_outputs_add(run_out, curve_path, 0) : NULL;
        const char *plot_tmp = plot_path && curve_tmp ? cli_outputs_add(run_out, plot_path, 0) : NULL;
        int bad = !curve_tmp || (plot_path && !plot_tmp) ||
                  write_curves(curve_tmp, plot_tmp, in_path, names, nk, pts, per) != 0 ||
                  cli_outputs_commit(run_out) != 0;
        mc_outputs_free(run_out);
        if (bad) goto cleanup;
        printf("  wrote        %s%s%s\n", curve_path, plot_path ? " and " : "", plot_path ? plot_path : "");
    }
    rc = CLI_OK;
    goto cleanup;
fail:
    rc = cli_fail_status(st);
cleanup:
    free(pts);
    free(keys_copy);
    free(pred);
    mc_embeddings_free(e);
    return rc;
}
