/* magclust sweep: one k-NN graph, many settings, one CSV row (and a plot). */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "pipeline.h"
#include "svg.h"

enum { P_EPS, P_FRAC, P_Z, P_CORE, P_NOISE, P_MINS, P_WINDOW, P_SLOPE, P_TEMP, P_COUNT };
static const char *const pnames[P_COUNT] = {"eps", "frac", "z", "core", "noise", "min-samples",
                                            "window", "slope", "temperature"};
#define MAX_PARAMS 3
#define MAX_VALUES 10000

typedef struct {
    int kind;
    double *v;
    size_t n;
} sweep_param;

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust sweep IN.h5 --param NAME=LO:HI:STEP [--param ...] -o SWEEP.csv\n"
"                      [--algo A[,B...]] [--plot SWEEP.svg] [options]\n"
"\n"
"Evaluate many settings against the labels of IN.h5 on one k-NN graph, built\n"
"once: one CSV row per algorithm and setting with BCubed P/R/F, pairwise\n"
"P/R/F, NMI, cluster and noise counts; and a plot of P/R/F against the first\n"
"parameter, one colour per algorithm, with the label-free (auto) choice\n"
"marked. The auto setting of each algorithm is scored too (rows with\n"
"setting=auto). Several --param give every combination; the plot then shows,\n"
"at each value of the first, the best F over the others.\n"
"\n"
"parameters (NAME=LO:HI:STEP, or NAME=VALUE):\n"
"  eps            cosine-distance radius / 1 - similarity threshold\n"
"  frac           calibration: the fraction of the way from unrelated to\n"
"                 related pairs (--calib-frac)\n"
"  z              calibration: the floor in robust deviations (--calib-z)\n"
"  core           core-quality percentile, 0..100\n"
"  noise          noise-quality percentile, 0..100\n"
"  min-samples    dbscan's density\n"
"  window         map: FaceMap's window (--window), whole\n"
"  slope          map: the core gate's percentile per unit of the quality\n"
"                 check's correlation (--core-slope)\n"
"  temperature    map: link weight exp((s - 1) / T) (--temperature)\n"
"\n"
"options:\n"
"  -o, --output PATH        the CSV (required); written atomically\n"
"      --plot PATH          an SVG plot\n"
"      --algo LIST          comma-separated: linkage, dbscan, cw, map\n"
"                           (default map)\n");
    cli_opts_help(f);
    fprintf(f,
"  -q, --quiet              print nothing but errors\n"
"  -h, --help               this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, no labels, I/O),\n"
"2 usage error\n");
}

static int parse_param(const char *arg, sweep_param *p)
{
    const char *eq = strchr(arg, '=');
    if (!eq) return cli_usage_error("sweep", "--param '%s': expected NAME=LO:HI:STEP", arg);
    size_t nl = (size_t)(eq - arg);
    p->kind = -1;
    for (int k = 0; k < P_COUNT; k++)
        if (strlen(pnames[k]) == nl && strncmp(arg, pnames[k], nl) == 0) p->kind = k;
    if (p->kind < 0)
        return cli_usage_error("sweep", "--param '%.*s' is not eps, frac, z, core, noise, min-samples, window, slope or temperature", (int)nl, arg);
    char buf[3][64];
    int parts = 0;
    const char *s = eq + 1;
    while (parts < 3) {
        const char *c = strchr(s, ':');
        size_t len = c ? (size_t)(c - s) : strlen(s);
        if (len == 0 || len >= sizeof buf[0]) return cli_usage_error("sweep", "--param '%s': bad range", arg);
        memcpy(buf[parts], s, len);
        buf[parts][len] = '\0';
        parts++;
        if (!c) break;
        s = c + 1;
        if (parts == 3) return cli_usage_error("sweep", "--param '%s': expected NAME=LO:HI:STEP", arg);
    }
    if (parts == 2) return cli_usage_error("sweep", "--param '%s': expected NAME=LO:HI:STEP", arg);
    static const double lo_lim[P_COUNT] = {0, 0, -100, 0, 0, 1, 1, 0, 0},
                        hi_lim[P_COUNT] = {2, 1, 100, 100, 100, 100000, 1000, 1000, 1e6};
    double lo, hi, step = 1;
    if (cli_parse_double("--param", buf[0], lo_lim[p->kind], hi_lim[p->kind], &lo)) return CLI_USAGE;
    hi = lo;
    if (parts == 3) {
        if (cli_parse_double("--param", buf[1], lo_lim[p->kind], hi_lim[p->kind], &hi)) return CLI_USAGE;
        if (cli_parse_double("--param", buf[2], 1e-9, 1e9, &step)) return CLI_USAGE;
        if (hi < lo) return cli_usage_error("sweep", "--param '%s': HI is below LO", arg);
    }
    double cnt = floor((hi - lo) / step + 1e-9) + 1;
    if (cnt > MAX_VALUES) return cli_usage_error("sweep", "--param '%s': more than %d values", arg, MAX_VALUES);
    p->n = (size_t)cnt;
    p->v = malloc(p->n * sizeof *p->v);
    if (!p->v) return cli_usage_error("sweep", "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        /* lo + i*step, rounded to 1e-9 so that 0.3 prints as 0.3 */
        p->v[i] = round((lo + (double)i * step) * 1e9) / 1e9;
        if ((p->kind == P_MINS || p->kind == P_WINDOW) && p->v[i] != floor(p->v[i])) {
            free(p->v); /* the caller frees only the parameters it kept */
            p->v = NULL;
            return cli_usage_error("sweep", "--param '%s': %s must be whole", arg, pnames[p->kind]);
        }
    }
    return 0;
}

static int parse_algos(const char *arg, int *use)
{
    char *copy = strdup(arg), *save = NULL;
    if (!copy) return -1;
    int any = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        mc_algo a;
        if (mc_algo_parse(t, &a) != MC_OK) {
            cli_usage_error("sweep", "--algo: '%s' is not linkage, dbscan, cw or map", t);
            free(copy);
            return -1;
        }
        use[a] = 1;
        any = 1;
    }
    free(copy);
    if (!any) {
        cli_usage_error("sweep", "--algo: empty list");
        return -1;
    }
    return 0;
}

typedef struct {
    mc_algo algo;
    double pv[MAX_PARAMS];
    double eps;
    mc_metrics m;
    size_t clusters, noise;
    int is_auto;
} sweep_row;

/* The value a parameter took in the auto setting of an algorithm (the
 * result r of its run with no parameter overridden). */
static double auto_value(int kind, const mc_cluster_result_t *r)
{
    const mc_cluster_info *in = mc_cluster_result_info(r);
    const mc_cluster_params *p = mc_cluster_result_params(r);
    int fixed = in->threshold_mode == MC_THRESHOLD_FIXED;
    switch (kind) {
    case P_EPS: return 1.0 - in->threshold;
    case P_FRAC: return fixed ? NAN : in->frac;
    case P_Z: return fixed ? NAN : in->z;
    case P_CORE: return in->core_quality.kind == MC_THRESH_PERCENTILE ? in->core_quality.value : NAN;
    case P_NOISE: return in->noise_quality.kind == MC_THRESH_PERCENTILE ? in->noise_quality.value : NAN;
    case P_WINDOW: return in->algo == MC_ALGO_MAP ? (double)in->map.window : NAN;
    case P_SLOPE: return in->algo == MC_ALGO_MAP ? p->core_slope : NAN;
    case P_TEMP: return in->algo == MC_ALGO_MAP ? p->map.temperature : NAN;
    default: return in->algo == MC_ALGO_DBSCAN ? (double)p->min_samples : NAN;
    }
}

/* Cluster again on the prepared graph with algorithm a, the options and the
 * np parameters at positions at; score the result into row. With at NULL,
 * the auto setting (no parameter overridden): row->pv gets the values the
 * parameters took in it. */
static mc_status run_one(mc_algo a, const cli_opts *o, const mc_cluster_result_t *prep,
                         const mc_embeddings_t *e, const sweep_param *ps, size_t np, const size_t *at,
                         const int64_t *truth, sweep_row *row)
{
    mc_cluster_params p = cli_cluster_params(o, a);
    p.score = 0; /* a row is the agreement with the labels: no per-face scores */
    for (size_t i = 0; at && i < np; i++) {
        double v = ps[i].v[at[i]];
        row->pv[i] = v;
        switch (ps[i].kind) {
        case P_EPS:
            p.threshold.mode = MC_THRESHOLD_FIXED;
            p.threshold.similarity = 1.0 - v;
            break;
        case P_FRAC: p.threshold.frac = v; p.threshold.ungated_frac = NAN; break;
        case P_Z: p.threshold.z = v; break;
        /* a gate swept is a gate given: it applies whatever the quality
         * check says (as --core-quality does), and replaces map's */
        case P_CORE:
            p.core_quality = (mc_threshold){MC_THRESH_PERCENTILE, v};
            p.quality_use = MC_QUALITY_GATE;
            break;
        case P_NOISE:
            p.noise_quality = (mc_threshold){MC_THRESH_PERCENTILE, v};
            p.quality_use = MC_QUALITY_GATE;
            break;
        case P_WINDOW: p.map.window = (size_t)v; break;
        case P_SLOPE: p.core_slope = v; break;
        case P_TEMP: p.map.temperature = v; break;
        default: p.min_samples = (size_t)v; break;
        }
    }
    mc_cluster_result_t *r = NULL;
    mc_status st = mc_cluster_again(prep, e, &p, &r);
    if (st != MC_OK) return st;
    const mc_clustering_t *cl = mc_cluster_result_clustering(r);
    row->algo = a;
    row->is_auto = !at;
    row->eps = 1.0 - mc_cluster_result_info(r)->threshold;
    for (size_t i = 0; !at && i < np; i++) row->pv[i] = auto_value(ps[i].kind, r);
    st = mc_metrics_compute(truth, mc_clustering_labels(cl), mc_clustering_n(cl), &row->m);
    row->clusters = mc_clustering_n_clusters(cl);
    row->noise = mc_clustering_n_noise(cl);
    mc_cluster_result_free(r);
    return st;
}

static const char *const colors[MC_ALGO_COUNT] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};

static int write_plot(const char *path, const char *in_path, const sweep_param *ps, size_t np,
                      const sweep_row *rows, size_t nrows, const int *use, size_t n_faces)
{
    size_t nx = ps[0].n;
    double *buf = malloc((size_t)MC_ALGO_COUNT * 4 * nx * sizeof *buf);
    if (!buf) {
        cli_error("out of memory");
        return -1;
    }
    svg_series s[MC_ALGO_COUNT * 3];
    svg_marker m[MC_ALGO_COUNT];
    char labels[MC_ALGO_COUNT * 3][SVG_LABEL_MAX], mlabels[MC_ALGO_COUNT][64];
    size_t ns = 0, nm = 0;
    for (int a = 0; a < MC_ALGO_COUNT; a++) {
        if (!use[a]) continue;
        double *x = buf + (size_t)a * 4 * nx, *P = x + nx, *R = P + nx, *F = R + nx;
        for (size_t i = 0; i < nx; i++) {
            x[i] = ps[0].v[i];
            P[i] = R[i] = F[i] = NAN;
        }
        for (size_t r = 0; r < nrows; r++) {
            if (rows[r].is_auto || rows[r].algo != (mc_algo)a) continue;
            size_t i = 0;
            while (i < nx && ps[0].v[i] != rows[r].pv[0]) i++;
            if (i == nx) continue;
            if (isnan(F[i]) || rows[r].m.bcubed_f > F[i]) {
                F[i] = rows[r].m.bcubed_f;
                P[i] = rows[r].m.bcubed_precision;
                R[i] = rows[r].m.bcubed_recall;
            }
        }
        const char *name = mc_algo_name((mc_algo)a);
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%s ", name);
        svg_prf_series(s + ns, labels + ns, prefix, colors[a], x, P, R, F, nx);
        ns += 3;
        double av = NAN;
        for (size_t r = 0; r < nrows; r++)
            if (rows[r].is_auto && rows[r].algo == (mc_algo)a) {
                av = rows[r].pv[0];
                snprintf(mlabels[nm], sizeof mlabels[0], "%s auto %.3g (F %.3f)", name, av, rows[r].m.bcubed_f);
            }
        m[nm] = (svg_marker){av, mlabels[nm], colors[a]};
        nm++;
    }
    char title[512], xlabel[96];
    const char *base = strrchr(in_path, '/');
    snprintf(title, sizeof title, "magclust sweep: %s (%zu faces)", base ? base + 1 : in_path,
             n_faces);
    snprintf(xlabel, sizeof xlabel, "%s%s", pnames[ps[0].kind], np > 1 ? " (best F over the other parameters)" : "");
    int rc = svg_write_plot(path, title, xlabel, "BCubed precision / recall / F", 0.0, 1.0, s, ns, m, nm);
    free(buf);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    enum { O_PARAM = 256, O_PLOT, O_ALGO };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        CLI_COMMON_LONGOPTS,
        {"param", required_argument, NULL, O_PARAM},
        {"plot", required_argument, NULL, O_PLOT},
        {"algo", required_argument, NULL, O_ALGO},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cli_opts o;
    cli_opts_default(&o);
    sweep_param ps[MAX_PARAMS];
    size_t np = 0;
    int use[MC_ALGO_COUNT] = {0}, algo_given = 0, quiet = 0, c, rc = CLI_USAGE;
    const char *out_path = NULL, *plot_path = NULL;
    sweep_row *rows = NULL;
    cli_input in = {0};
    mc_cluster_result_t *prep = NULL;
    mc_outputs_t *run_out = NULL;

    optind = 0;
    opterr = 0;
    while ((c = cli_getopt("sweep", argc, argv, ":o:k:qh", opts, O_PARAM)) != -1) {
        int h = cli_opts_handle(&o, "sweep", c, optarg);
        if (h < 0) goto done;
        if (h > 0) continue;
        switch (c) {
        case 'o': out_path = optarg; break;
        case O_PLOT: plot_path = optarg; break;
        case O_ALGO:
            if (parse_algos(optarg, use) != 0) goto done;
            algo_given = 1;
            break;
        case O_PARAM:
            if (np == MAX_PARAMS) {
                cli_usage_error("sweep", "at most %d --param", MAX_PARAMS);
                goto done;
            }
            if (parse_param(optarg, &ps[np]) != 0) goto done;
            for (size_t i = 0; i < np; i++)
                if (ps[i].kind == ps[np].kind) {
                    cli_usage_error("sweep", "--param %s given twice", pnames[ps[np].kind]);
                    free(ps[np].v);
                    goto done;
                }
            np++;
            break;
        case 'q': quiet = 1; break;
        case 'h': help(stdout); rc = CLI_OK; goto done;
        case CLI_OPT_REPEATED: goto done; /* rc is CLI_USAGE */
        case ':': cli_usage_error("sweep", "%s needs a value", argv[optind - 1]); goto done;
        default: cli_usage_error("sweep", "unknown option '%s'", argv[optind - 1]); goto done;
        }
    }
    if (optind + 1 != argc) {
        cli_usage_error("sweep", optind == argc ? "no input file" : "more than one input file");
        goto done;
    }
    if (!out_path) {
        cli_usage_error("sweep", "-o SWEEP.csv is required");
        goto done;
    }
    if (np == 0) {
        cli_usage_error("sweep", "give at least one --param NAME=LO:HI:STEP");
        goto done;
    }
    if (!algo_given) use[MC_ALGO_DEFAULT] = 1;
    int has_thr_param = 0;
    for (size_t i = 0; i < np; i++) has_thr_param += ps[i].kind == P_EPS;
    for (size_t i = 0; i < np; i++)
        if (has_thr_param && (ps[i].kind == P_FRAC || ps[i].kind == P_Z)) {
            cli_usage_error("sweep", "--param eps sets the threshold, --param frac and z calibrate it: give one");
            goto done;
        }
    o.quiet = o.quiet || quiet;
    if (cli_opts_check(&o, "sweep", use) != 0) goto done;
    for (size_t i = 0; i < np; i++)
        if (ps[i].kind == P_MINS)
            for (size_t j = 0; j < ps[i].n; j++)
                if (ps[i].v[j] > (double)(o.kp.k + 1)) {
                    cli_usage_error("sweep", "--param min-samples=%g exceeds k + 1 = %zu", ps[i].v[j], o.kp.k + 1);
                    goto done;
                }
    const char *in_path = argv[optind];
    const char *inputs[] = {in_path, o.graph_path, NULL};
    rc = CLI_FAIL;
    if (cli_check_output(out_path, inputs) != 0) goto done;
    if (plot_path && cli_check_output(plot_path, inputs) != 0) goto done;
    if (plot_path && strcmp(plot_path, out_path) == 0) {
        cli_error("%s: --plot and -o name the same file", plot_path);
        goto done;
    }

    size_t per_algo = 1;
    for (size_t i = 0; i < np; i++) per_algo *= ps[i].n;
    if (per_algo > 100000) {
        cli_usage_error("sweep", "%zu settings per algorithm: at most 100000", per_algo);
        rc = CLI_USAGE;
        goto done;
    }
    mc_status st;
    o.quiet = quiet;
    if ((rc = cli_load(in_path, &o, &in)) != CLI_OK) goto done;
    rc = CLI_FAIL;
    mc_algo first = MC_ALGO_LINKAGE;
    for (int a = MC_ALGO_COUNT; a-- > 0;)
        if (use[a]) first = (mc_algo)a;
    mc_cluster_params p0 = cli_cluster_params(&o, first);
    if (cli_cluster(&o, &p0, &in, 0, &prep) != CLI_OK) goto done;
    const int64_t *truth = mc_embeddings_labels(in.e);
    if (!truth) {
        cli_error("%s: no labels dataset /%s: a sweep scores against labels", in_path,
                  o.rp.labels_key ? o.rp.labels_key : "labels");
        goto done;
    }
    size_t n_algos = 0;
    for (int a = 0; a < MC_ALGO_COUNT; a++) n_algos += (size_t)use[a];
    rows = calloc(n_algos * (per_algo + 1), sizeof *rows);
    if (!rows) {
        cli_error("out of memory");
        goto done;
    }
    double t0 = cli_now(), t_graph = mc_cluster_result_info(prep)->t_prepare;
    size_t nrows = 0, n_graphs = 1;
    /* the k of each graph built, for the summary */
    size_t graph_k[MC_ALGO_COUNT + 1] = {mc_cluster_result_params(prep)->knn.k};
    for (int a = 0; a < MC_ALGO_COUNT; a++) {
        if (!use[a]) continue;
        /* an algorithm whose default k differs (map's 60) gets its own graph,
         * so that its auto row is what 'cluster' gives */
        mc_cluster_params pa = cli_cluster_params(&o, (mc_algo)a);
        if (!o.graph_path && pa.knn.k != mc_cluster_result_params(prep)->knn.k) {
            mc_cluster_result_free(prep);
            prep = NULL;
            double tg = cli_now();
            /* the recipe centred the faces in place: read them again */
            cli_input_free(&in);
            if (cli_load(in_path, &o, &in) != CLI_OK || cli_cluster(&o, &pa, &in, 0, &prep) != CLI_OK)
                goto done;
            truth = mc_embeddings_labels(in.e);
            t_graph += cli_now() - tg;
            t0 += cli_now() - tg;
            graph_k[n_graphs++] = pa.knn.k;
        }
        /* the auto setting: no parameter overridden */
        if ((st = run_one((mc_algo)a, &o, prep, in.e, ps, np, NULL, truth, &rows[nrows])) != MC_OK) {
            rc = cli_fail_status(st);
            goto done;
        }
        nrows++;
        size_t at[MAX_PARAMS] = {0};
        for (size_t s = 0; s < per_algo; s++) {
            if ((st = run_one((mc_algo)a, &o, prep, in.e, ps, np, at, truth, &rows[nrows])) != MC_OK) {
                rc = cli_fail_status(st);
                goto done;
            }
            nrows++;
            for (size_t i = np; i-- > 0;) { /* odometer, last parameter fastest */
                if (++at[i] < ps[i].n) break;
                at[i] = 0;
            }
        }
    }
    double t1 = cli_now();

    /* the CSV and the plot are committed together, or neither */
    const char *csv_tmp = NULL, *plot_tmp = NULL;
    if (!(run_out = cli_outputs_new()) || !(csv_tmp = cli_outputs_add(run_out, out_path, 0)) ||
        (plot_path && !(plot_tmp = cli_outputs_add(run_out, plot_path, 0))))
        goto done;
    mc_output_t *csv = NULL;
    FILE *f = cli_output_open(csv_tmp, &csv);
    if (!f) goto done;
    fprintf(f, "algo,setting");
    for (size_t i = 0; i < np; i++) fprintf(f, ",%s", pnames[ps[i].kind]);
    fprintf(f, ",threshold,bcubed_p,bcubed_r,bcubed_f,pairwise_p,pairwise_r,pairwise_f,nmi,clusters,noise\n");
    for (size_t r = 0; r < nrows; r++) {
        const sweep_row *w = &rows[r];
        fprintf(f, "%s,%s", mc_algo_name(w->algo), w->is_auto ? "auto" : "sweep");
        for (size_t i = 0; i < np; i++) {
            if (isnan(w->pv[i])) fprintf(f, ",");
            else fprintf(f, ",%.10g", w->pv[i]);
        }
        fprintf(f, ",%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%zu,%zu\n", 1.0 - w->eps,
                w->m.bcubed_precision, w->m.bcubed_recall, w->m.bcubed_f, w->m.pairwise_precision,
                w->m.pairwise_recall, w->m.pairwise_f, w->m.nmi, w->clusters, w->noise);
    }
    if (cli_output_commit(csv) != 0) goto done;
    if (plot_path && write_plot(plot_tmp, in_path, ps, np, rows, nrows, use, mc_embeddings_n(in.e)) != 0)
        goto done;
    if (cli_outputs_commit(run_out) != 0) goto done;
    if (!quiet) {
        char built[128] = "graph built once";
        if (n_graphs > 1) {
            int w = snprintf(built, sizeof built, "%zu graphs built, k %zu", n_graphs, graph_k[0]);
            for (size_t g = 1; g < n_graphs && w > 0 && (size_t)w < sizeof built; g++)
                w += snprintf(built + w, sizeof built - (size_t)w, "%s%zu",
                              g + 1 == n_graphs ? " and " : ", ", graph_k[g]);
        }
        printf("magclust sweep %s: %zu faces, %zu settings in %.2f s (%s in %.2f s)\n", in_path,
               mc_embeddings_n(in.e), nrows, t1 - t0, built, t_graph);
        for (int a = 0; a < MC_ALGO_COUNT; a++) {
            if (!use[a]) continue;
            const sweep_row *au = NULL, *best = NULL;
            for (size_t r = 0; r < nrows; r++) {
                if (rows[r].algo != (mc_algo)a) continue;
                if (rows[r].is_auto) au = &rows[r];
                else if (!best || rows[r].m.bcubed_f > best->m.bcubed_f) best = &rows[r];
            }
            printf("  %-8s auto: F %.4f (eps %.4f)   best of sweep: F %.4f at", mc_algo_name((mc_algo)a),
                   au->m.bcubed_f, au->eps, best->m.bcubed_f);
            for (size_t i = 0; i < np; i++) printf(" %s %g", pnames[ps[i].kind], best->pv[i]);
            printf("   (auto - best: %+.4f)\n", au->m.bcubed_f - best->m.bcubed_f);
        }
        printf("  wrote %s%s%s\n", out_path, plot_path ? " and " : "", plot_path ? plot_path : "");
    }
    rc = CLI_OK;
done:
    for (size_t i = 0; i < np; i++) free(ps[i].v);
    free(rows);
    mc_outputs_free(run_out);
    mc_cluster_result_free(prep);
    cli_input_free(&in);
    return rc;
}
