#define _POSIX_C_SOURCE 200809L
#include "pipeline.h"
#include "progress.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"

static const char *const algo_names[CLI_ALGO_COUNT] = {"dbscan", "linkage", "cw"};

const char *cli_algo_name(cli_algo a) { return a < CLI_ALGO_COUNT ? algo_names[a] : "unknown"; }

int cli_algo_parse(const char *s, cli_algo *out)
{
    for (int a = 0; a < CLI_ALGO_COUNT; a++)
        if (strcmp(s, algo_names[a]) == 0) {
            *out = (cli_algo)a;
            return 0;
        }
    return -1;
}

/* Chosen with `magclust sweep --param frac=...` on eight sets (two real, six
 * synthetic of 0.9k to 22k faces); docs/experiments.md has the figures. */
double cli_default_frac(cli_algo a)
{
    switch (a) {
    case CLI_ALGO_LINKAGE: return 0.45;
    case CLI_ALGO_CW: return 0.55;
    default: return 0.60;
    }
}

double cli_default_z(cli_algo a)
{
    switch (a) {
    case CLI_ALGO_LINKAGE: return 2.5;
    case CLI_ALGO_CW: return 3.0;
    default: return 3.5;
    }
}

mc_threshold cli_default_core(cli_algo a)
{
    mc_threshold t;
    t.kind = MC_THRESH_PERCENTILE;
    t.value = a == CLI_ALGO_LINKAGE ? 50.0 : 30.0;
    return t;
}

void cli_opts_default(cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rp = mc_h5_read_params_default();
    o->kp = mc_knn_params_default();
    o->dp = mc_dbscan_params_default();
    o->cwp = mc_cw_params_default();
    o->lkp = mc_linkage_params_default();
    o->center = 1;
}

int cli_opts_handle(cli_opts *o, const char *cmd, int c, const char *arg)
{
    switch (c) {
    case CLI_O_EPS:
        if (cli_parse_double("--eps", arg, 0.0, 2.0, &o->dp.eps)) return -1;
        o->eps_given = 1;
        return 1;
    case CLI_O_Z:
        if (cli_parse_double("--calib-z", arg, -100.0, 100.0, &o->z)) return -1;
        o->z_given = 1;
        return 1;
    case CLI_O_FRAC:
        if (cli_parse_double("--calib-frac", arg, 0.0, 1.0, &o->frac)) return -1;
        o->frac_given = 1;
        return 1;
    case CLI_O_CENTER:
        if (strcmp(arg, "on") == 0) o->center = 1;
        else if (strcmp(arg, "off") == 0) o->center = 0;
        else {
            cli_usage_error(cmd, "--center: '%s' is not on or off", arg);
            return -1;
        }
        return 1;
    case CLI_O_MINS:
        return cli_parse_size("--min-samples", arg, 1, 100000, &o->dp.min_samples) ? -1 : 1;
    case CLI_O_K:
        o->k_given = 1;
        return cli_parse_size("--k", arg, 1, 100000, &o->kp.k) ? -1 : 1;
    case CLI_O_INDEX:
        if (!arg[0] || strlen(arg) >= sizeof ((mc_knn_info *)0)->index) {
            cli_usage_error(cmd, "--index: '%s' is empty or longer than %zu characters", arg,
                            sizeof ((mc_knn_info *)0)->index - 1);
            return -1;
        }
        o->kp.index = arg;
        return 1;
    case CLI_O_NPROBE:
        return cli_parse_size("--nprobe", arg, 1, 1000000, &o->kp.nprobe) ? -1 : 1;
    case CLI_O_EF:
        return cli_parse_size("--ef-search", arg, 1, 1000000, &o->kp.ef_search) ? -1 : 1;
    case CLI_O_SKIPBAD: o->rp.skip_bad_rows = 1; return 1;
    case CLI_O_GRAPH:
        o->graph_path = arg;
        return 1;
    case CLI_O_CORE:
    case CLI_O_NOISE:
        if (mc_threshold_parse(arg, c == CLI_O_CORE ? &o->dp.core_quality : &o->dp.noise_quality) != MC_OK) {
            cli_usage_error(cmd, "%s: %s", c == CLI_O_CORE ? "--core-quality" : "--noise-quality",
                            mc_last_error_detail());
            return -1;
        }
        if (c == CLI_O_CORE) o->core_given = 1;
        return 1;
    case CLI_O_QKEY: o->rp.quality_key = arg; return 1;
    case CLI_O_EKEY: o->rp.embeddings_key = arg; return 1;
    case CLI_O_LKEY: o->rp.labels_key = arg; return 1;
    case CLI_O_PKEY: o->rp.paths_key = arg; return 1;
    case CLI_O_THREADS:
        if (cli_parse_int("--threads", arg, 0, 4096, &o->threads)) return -1;
        o->kp.n_threads = o->dp.n_threads = o->cwp.n_threads = o->lkp.n_threads = (int)o->threads;
        return 1;
    case CLI_O_LINKAGE:
        if (mc_linkage_parse(arg, &o->lkp.kind) != MC_OK) {
            cli_usage_error(cmd, "--linkage: %s", mc_last_error_detail());
            return -1;
        }
        return 1;
    case CLI_O_SEED:
        return cli_parse_u64("--seed", arg, &o->cwp.seed) ? -1 : 1;
    case CLI_O_ITER:
        return cli_parse_size("--iterations", arg, 1, 1000000, &o->cwp.iterations) ? -1 : 1;
    default:
        return 0;
    }
}

int cli_opts_check(const cli_opts *o, const char *cmd, int runs_dbscan)
{
    if (o->eps_given && (o->z_given || o->frac_given)) {
        cli_usage_error(cmd, "--eps sets the threshold, --calib-* calibrate it: give one");
        return -1;
    }
    if (runs_dbscan && o->dp.min_samples > o->kp.k + 1) {
        cli_usage_error(cmd, "--min-samples %zu exceeds k + 1 = %zu: raise --k or lower --min-samples",
                        o->dp.min_samples, o->kp.k + 1);
        return -1;
    }
    return 0;
}

void cli_opts_help(FILE *f)
{
    mc_dbscan_params d = mc_dbscan_params_default();
    mc_knn_params k = mc_knn_params_default();
    fprintf(f,
"  -k, --k K                neighbours per face in the graph (default %zu; < N)\n"
"      --eps D              cosine-distance radius, 0..2: dbscan's\n"
"                           neighbourhood, cw's edges, linkage's stop (merging\n"
"                           stops below similarity 1 - eps). Default: chosen\n"
"                           from the data (label-free calibration, below)\n"
"      --calib-frac W       calibration: the threshold lies W of the way from\n"
"                           the median cosine of random pairs of good faces\n"
"                           (unrelated) to the median cosine of a good face to\n"
"                           its nearest good neighbour (related) (default %g\n"
"                           for linkage, %g for cw, %g for dbscan)\n"
"      --calib-z Z          ... and at least Z robust deviations above the\n"
"                           unrelated pairs (default %g for linkage, %g for\n"
"                           cw, %g for dbscan)\n"
"      --center on|off      subtract the mean direction of the better half of\n"
"                           the faces before anything else (default on)\n"
"      --core-quality Q     quality a face needs to seed and link clusters: a\n"
"                           value, a percentile such as p30, or off (default\n"
"                           p50 for linkage, p30 for dbscan and cw)\n"
"      --noise-quality Q    faces below this are noise (default off)\n"
"      --linkage L          linkage: single, average or complete (default\n"
"                           average)\n"
"      --min-samples N      dbscan: faces within eps, self included, for a\n"
"                           core face (default %zu; at most k+1)\n"
"      --seed S             cw: seed of the visiting order (default 1)\n"
"      --iterations N       cw: rounds at most (default 100)\n"
"      --quality-key NAME   dataset holding the quality (default: the\n"
"                           embedding magnitude, i.e. its L2 norm)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"      --labels-key NAME    (default labels; read when present)\n"
"      --paths-key NAME     (default paths; read when present)\n"
"      --index SPEC         k-NN index: Flat (exact); Cells<nlist>, our\n"
"                           sgemm inverted file (approximate); or a FAISS\n"
"                           index_factory string such as IVF4096,Flat or\n"
"                           HNSW32 (approximate). Default auto: Flat up to\n"
"                           %d faces, else Cells<nlist>, nlist the power\n"
"                           of two nearest sqrt(N/2)\n"
"      --nprobe N           Cells and IVF: cells or lists visited per face\n"
"                           (default: Cells max(8, nlist/8), IVF max(16,\n"
"                           nlist/32))\n"
"      --ef-search N        HNSW: search depth (default max(64, 2(k+1)))\n"
"      --graph GRAPH.h5     use the k-NN graph that 'magclust knn' saved for\n"
"                           this file instead of searching again\n"
"      --skip-bad-rows      leave out rows with a NaN or Inf value, a zero\n"
"                           norm or a NaN quality (listed on stderr; the\n"
"                           CSV's index stays the file row) instead of\n"
"                           refusing the file\n"
"      --threads N          threads for the search and clustering\n"
"                           (default 0 = all cores); results do not depend\n"
"                           on it\n",
            k.k, cli_default_frac(CLI_ALGO_LINKAGE), cli_default_frac(CLI_ALGO_CW),
            cli_default_frac(CLI_ALGO_DBSCAN), cli_default_z(CLI_ALGO_LINKAGE),
            cli_default_z(CLI_ALGO_CW), cli_default_z(CLI_ALGO_DBSCAN), d.min_samples,
            MC_KNN_AUTO_EXACT_MAX);
}

/* ---- progress of the library's long phases -------------------------------- */

void cli_progress_cb(void *user_data, const char *phase, uint64_t done, uint64_t total)
{
    cli_progress_state *ps = user_data;
    if (ps->mode == CLI_PROGRESS_OFF) return;
    if (!ps->p || !ps->phase || strcmp(ps->phase, phase) != 0) {
        cli_progress_end(ps->p);
        ps->p = cli_progress_start(stderr, ps->mode, phase, total, "faces");
        ps->phase = phase;
    }
    cli_progress_update(ps->p, done);
}

void cli_progress_state_end(cli_progress_state *ps)
{
    cli_progress_end(ps->p);
    ps->p = NULL;
    ps->phase = NULL;
}

/* Adopt a saved graph: it must come from the same embeddings, centred the
 * same way, with the k asked for. Prints its own error; CLI code. */
static int load_graph(const char *in_path, const cli_opts *o, cli_prepared *out)
{
    mc_knn_graph_meta m;
    mc_status st = mc_knn_graph_read_h5(o->graph_path, &out->g, &m);
    if (st != MC_OK) return cli_fail_status(st);
    size_t n = mc_embeddings_n(out->e);
    if (m.n != n) {
        cli_error("%s: the graph has %zu faces, %s has %zu: build it from this file with "
                  "'magclust knn %s -o GRAPH.h5'", o->graph_path, m.n, in_path, n, in_path);
        return CLI_FAIL;
    }
    if (m.fingerprint != 0 && m.fingerprint != out->fingerprint) {
        cli_error("%s: the graph was built from other embeddings than those of %s (fingerprint "
                  "differs): rebuild it with 'magclust knn %s -o GRAPH.h5'", o->graph_path, in_path,
                  in_path);
        return CLI_FAIL;
    }
    if (m.centered != o->center) {
        cli_error("%s: the graph was built with --center %s; give the same --center", o->graph_path,
                  m.centered ? "on" : "off");
        return CLI_FAIL;
    }
    if (o->k_given && o->kp.k != m.k) {
        cli_error("%s: the graph has k = %zu, --k asks for %zu: drop --k or rebuild the graph",
                  o->graph_path, m.k, o->kp.k);
        return CLI_FAIL;
    }
    snprintf(out->knn.index, sizeof out->knn.index, "%s", m.index);
    out->knn.exact = strcmp(m.index, "Flat") == 0;
    out->graph_file = 1;
    return CLI_OK;
}

int cli_prepare(const char *in_path, const cli_opts *o, cli_prepared *out)
{
    memset(out, 0, sizeof *out);
    out->center_shift = NAN;
    mc_status st;
    int rc = CLI_FAIL;
    cli_progress_state ps = {o->quiet ? CLI_PROGRESS_OFF : CLI_PROGRESS_AUTO, NULL, NULL};
    double t0 = cli_now();
    if ((st = mc_embeddings_read_h5(in_path, &o->rp, &out->e)) != MC_OK) goto fail_st;
    /* Only a graph file records or checks it (a read of all the data). */
    size_t nskip = mc_embeddings_n_skipped(out->e);
    if (nskip && !o->quiet) {
        const size_t *rows = mc_embeddings_skipped_rows(out->e);
        fprintf(stderr, "magclust: %s: skipped %zu bad row%s (a NaN or Inf value, a zero norm or a NaN quality): row%s",
                in_path, nskip, nskip == 1 ? "" : "s", nskip == 1 ? "" : "s");
        for (size_t i = 0; i < nskip && i < 10; i++) fprintf(stderr, "%s %zu", i ? "," : "", rows[i]);
        fprintf(stderr, "%s\n", nskip > 10 ? ", ..." : "");
    }
    if (o->after_load && o->after_load(o->after_load_ctx, out->e) != 0) goto fail;
    if (o->graph_path || o->want_fingerprint) out->fingerprint = mc_embeddings_fingerprint(out->e);
    double t1 = cli_now();
    /* centring and calibration use the same good faces: resolve the gate once */
    mc_calibrate_params cp = mc_calibrate_params_default();
    const float *q = mc_embeddings_quality(out->e);
    cp.sample_quality.value = mc_threshold_resolve(&cp.sample_quality, q, mc_embeddings_n(out->e));
    cp.sample_quality.kind = MC_THRESH_ABSOLUTE;
    if (o->center) {
        if (!(out->center = malloc(mc_embeddings_dim(out->e) * sizeof *out->center))) {
            st = MC_ERR_NOMEM;
            goto fail_st;
        }
        if ((st = mc_embeddings_center_ex(out->e, q, cp.sample_quality.value, &out->center_shift,
                                          out->center)) != MC_OK)
            goto fail_st;
    }
    if (o->graph_path) {
        if ((rc = load_graph(in_path, o, out)) != CLI_OK) goto fail;
    } else {
        mc_knn_params kp = o->kp;
        kp.progress = cli_progress_cb;
        kp.progress_data = &ps;
        st = mc_knn_graph_build_ex(out->e, &kp, &out->g, &out->knn);
        cli_progress_state_end(&ps);
        if (st != MC_OK) goto fail_st;
    }
    if ((st = mc_calibrate(out->e, q, out->g, &cp, &out->cal)) != MC_OK) goto fail_st;
    double t2 = cli_now();
    out->t_load = t1 - t0;
    out->t_knn = t2 - t1;
    return CLI_OK;
fail_st:
    if (st == MC_ERR_BAD_DATA && !o->rp.skip_bad_rows &&
        (strstr(mc_last_error_detail(), "NaN or Inf") || strstr(mc_last_error_detail(), "(norm 0)") ||
         strstr(mc_last_error_detail(), "norm outside"))) {
        cli_error("%s: %s; --skip-bad-rows leaves such rows out", mc_strerror(st), mc_last_error_detail());
        rc = CLI_FAIL;
    } else {
        rc = cli_fail_status(st);
    }
fail:
    cli_prepared_free(out);
    return rc;
}

void cli_prepared_free(cli_prepared *p)
{
    mc_knn_graph_free(p->g);
    mc_embeddings_free(p->e);
    free(p->center);
    p->g = NULL;
    p->e = NULL;
    p->center = NULL;
}

double cli_z(const cli_opts *o, cli_algo a) { return o->z_given ? o->z : cli_default_z(a); }

double cli_frac(const cli_opts *o, cli_algo a) { return o->frac_given ? o->frac : cli_default_frac(a); }

double cli_threshold(const cli_opts *o, cli_algo a, const cli_prepared *p)
{
    if (o->eps_given) return 1.0 - o->dp.eps;
    return mc_calibration_threshold(&p->cal, cli_frac(o, a), cli_z(o, a));
}

mc_threshold cli_core(const cli_opts *o, cli_algo a)
{
    return o->core_given ? o->dp.core_quality : cli_default_core(a);
}

mc_status cli_run(cli_algo a, const cli_opts *o, double t, mc_threshold core,
                  const cli_prepared *p, mc_clustering_t **out, double *core_q, double *noise_q)
{
    const float *q = mc_embeddings_quality(p->e);
    if (a == CLI_ALGO_CW) {
        mc_cw_params c = o->cwp;
        c.threshold = t;
        c.core_quality = core;
        c.noise_quality = o->dp.noise_quality;
        return mc_cw_run(p->g, q, &c, out, core_q, noise_q);
    }
    if (a == CLI_ALGO_LINKAGE) {
        mc_linkage_params l = o->lkp;
        l.threshold = t;
        l.core_quality = core;
        l.noise_quality = o->dp.noise_quality;
        return mc_linkage_run(p->g, q, &l, out, core_q, noise_q);
    }
    mc_dbscan_params d = o->dp;
    d.eps = 1.0 - t;
    if (d.eps < 0.0) d.eps = 0.0;
    d.core_quality = core;
    return mc_dbscan_run(p->g, q, &d, out, core_q, noise_q);
}
