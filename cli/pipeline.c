#define _POSIX_C_SOURCE 200809L
#include "pipeline.h"
#include "progress.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "quality_keys.h"

void cli_opts_default(cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->recall_sample = -1;
    mc_cluster_params d = mc_cluster_params_default(MC_ALGO_LINKAGE);
    o->rp = mc_h5_read_params_default();
    o->kp = d.knn;
    o->center = d.center;
    o->noise = d.noise_quality;
    o->linkage = d.linkage;
    o->min_samples = d.min_samples;
    o->seed = d.seed;
    o->iterations = d.iterations;
    o->map = d.map;
    o->contested = d.contested;
}

mc_cluster_params cli_cluster_params(const cli_opts *o, mc_algo a)
{
    mc_cluster_params p = mc_cluster_params_default(a);
    p.center = o->center;
    size_t k_algo = p.knn.k;
    p.knn = o->kp;
    if (!o->k_given) p.knn.k = k_algo; /* the algorithm's default */
    if (o->eps_given) {
        p.threshold.mode = MC_THRESHOLD_FIXED;
        p.threshold.similarity = 1.0 - o->eps;
    }
    if (o->frac_given) {
        p.threshold.frac = o->frac;
        p.threshold.ungated_frac = NAN; /* the caller's, gate or none */
    }
    if (o->z_given) p.threshold.z = o->z;
    if (o->core_given) p.core_quality = o->core;
    p.noise_quality = o->noise;
    /* gates the user chose apply whatever the quality check says */
    if (o->trust_quality || o->core_given || o->noise_given) p.quality_use = MC_QUALITY_GATE;
    p.linkage = o->linkage;
    p.min_samples = o->min_samples;
    p.seed = o->seed;
    p.iterations = o->iterations;
    p.map = o->map;
    if (o->slope_given) p.core_slope = o->core_slope;
    p.min_cluster_size = o->min_cluster_size;
    p.contested = o->contested;
    p.n_threads = (int)o->threads;
    return p;
}

/* The options only some algorithms take: which ones. */
static const struct {
    int id;
    const char *name;
    unsigned algos; /* bits (1 << mc_algo) */
} algo_opts[] = {
    {CLI_O_LINKAGE, "--linkage", 1u << MC_ALGO_LINKAGE},
    {CLI_O_MINS, "--min-samples", 1u << MC_ALGO_DBSCAN},
    {CLI_O_SEED, "--seed", (1u << MC_ALGO_CW) | (1u << MC_ALGO_MAP)},
    {CLI_O_ITER, "--iterations", 1u << MC_ALGO_CW},
    {CLI_O_FLOW, "--flow", 1u << MC_ALGO_MAP},
    {CLI_O_TELEPORT, "--teleport", 1u << MC_ALGO_MAP},
    {CLI_O_TEMP, "--temperature", 1u << MC_ALGO_MAP},
    {CLI_O_CUT, "--cut", 1u << MC_ALGO_MAP},
    {CLI_O_WINDOW, "--window", 1u << MC_ALGO_MAP},
    {CLI_O_TRIALS, "--trials", 1u << MC_ALGO_MAP},
    {CLI_O_SLOPE, "--core-slope", 1u << MC_ALGO_MAP},
};

static unsigned opt_bit(int id) { return 1u << (unsigned)(id - CLI_OPT_BASE); }

int cli_opts_handle(cli_opts *o, const char *cmd, int c, const char *arg)
{
    for (size_t i = 0; i < sizeof algo_opts / sizeof *algo_opts; i++)
        if (algo_opts[i].id == c) o->algo_opts |= opt_bit(c);
    switch (c) {
    case CLI_O_EPS:
        if (cli_parse_double("--eps", arg, 0.0, 2.0, &o->eps)) return -1;
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
    case CLI_O_CONTESTED:
        if (strcmp(arg, "noise") == 0) o->contested = 1;
        else if (strcmp(arg, "keep") == 0) o->contested = 0;
        else {
            cli_usage_error(cmd, "--contested: '%s' is not noise or keep", arg);
            return -1;
        }
        return 1;
    case CLI_O_MINS:
        return cli_parse_size("--min-samples", arg, 1, 100000, &o->min_samples) ? -1 : 1;
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
        if (mc_threshold_parse(arg, c == CLI_O_CORE ? &o->core : &o->noise) != MC_OK) {
            cli_usage_error(cmd, "%s: %s", c == CLI_O_CORE ? "--core-quality" : "--noise-quality",
                            mc_last_error_detail());
            return -1;
        }
        if (c == CLI_O_CORE) o->core_given = 1;
        else o->noise_given = 1;
        return 1;
    case CLI_O_TRUSTQ: o->trust_quality = 1; return 1;
    case CLI_O_QKEY: o->rp.quality_key = arg; return 1;
    case CLI_O_EKEY: o->rp.embeddings_key = arg; return 1;
    case CLI_O_LKEY: o->rp.labels_key = arg; return 1;
    case CLI_O_PKEY: o->rp.paths_key = arg; return 1;
    case CLI_O_RECALL:
        if (cli_parse_int("--recall-sample", arg, 0, 10000000, &o->recall_sample)) return -1;
        return 1;
    case CLI_O_RECALLK:
        return cli_parse_size("--recall-k", arg, 1, 100000, &o->recall_k) ? -1 : 1;
    case CLI_O_THREADS:
        if (cli_parse_int("--threads", arg, 0, 4096, &o->threads)) return -1;
        return 1;
    case CLI_O_LINKAGE:
        if (mc_linkage_parse(arg, &o->linkage) != MC_OK) {
            cli_usage_error(cmd, "--linkage: %s", mc_last_error_detail());
            return -1;
        }
        return 1;
    case CLI_O_SEED:
        return cli_parse_u64("--seed", arg, &o->seed) ? -1 : 1;
    case CLI_O_ITER:
        return cli_parse_size("--iterations", arg, 1, 1000000, &o->iterations) ? -1 : 1;
    case CLI_O_FLOW:
        if (strcmp(arg, "undirected") == 0) o->map.flow = MC_MAP_UNDIRECTED;
        else if (strcmp(arg, "directed") == 0) o->map.flow = MC_MAP_DIRECTED;
        else {
            cli_usage_error(cmd, "--flow: '%s' is not undirected or directed", arg);
            return -1;
        }
        return 1;
    case CLI_O_CUT:
        if (strcmp(arg, "none") == 0) o->map.cut = MC_MAP_CUT_NONE;
        else if (strcmp(arg, "outlier") == 0) o->map.cut = MC_MAP_CUT_OUTLIER;
        else {
            cli_usage_error(cmd, "--cut: '%s' is not none or outlier", arg);
            return -1;
        }
        return 1;
    case CLI_O_TELEPORT:
        if (cli_parse_double("--teleport", arg, 1e-6, 0.999999, &o->map.teleport)) return -1;
        return 1;
    case CLI_O_TEMP:
        if (cli_parse_double("--temperature", arg, 0.0, 1e6, &o->map.temperature)) return -1;
        return 1;
    case CLI_O_WINDOW:
        return cli_parse_size("--window", arg, 1, 1000, &o->map.window) ? -1 : 1;
    case CLI_O_MINSIZE:
        return cli_parse_size("--min-cluster-size", arg, 1, 1000000, &o->min_cluster_size) ? -1 : 1;
    case CLI_O_SLOPE:
        if (cli_parse_double("--core-slope", arg, 0.0, 1000.0, &o->core_slope)) return -1;
        o->slope_given = 1;
        return 1;
    case CLI_O_TRIALS:
        return cli_parse_size("--trials", arg, 1, 1000, &o->map.trials) ? -1 : 1;
    default:
        return 0;
    }
}

int cli_opts_check(const cli_opts *o, const char *cmd, const int *use)
{
    if (o->eps_given && (o->z_given || o->frac_given)) {
        cli_usage_error(cmd, "--eps sets the threshold, --calib-* calibrate it: give one");
        return -1;
    }
    unsigned running = 0;
    for (int a = 0; a < MC_ALGO_COUNT; a++)
        if (use[a]) running |= 1u << a;
    for (size_t i = 0; i < sizeof algo_opts / sizeof *algo_opts; i++) {
        if (!(o->algo_opts & opt_bit(algo_opts[i].id)) || (algo_opts[i].algos & running)) continue;
        char names[64] = "";
        for (int a = 0; a < MC_ALGO_COUNT; a++)
            if (algo_opts[i].algos & (1u << a))
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         names[0] ? " or " : "", mc_algo_name((mc_algo)a));
        if (!o->quiet)
            fprintf(stderr, "magclust: warning: %s applies to --algo %s only: ignored\n",
                    algo_opts[i].name, names);
    }
    if (!o->quiet && (o->algo_opts & opt_bit(CLI_O_TELEPORT)) && use[MC_ALGO_MAP] &&
        o->map.flow != MC_MAP_DIRECTED)
        fprintf(stderr, "magclust: warning: --teleport applies to --flow directed only: ignored\n");
    if (!o->quiet && (o->algo_opts & opt_bit(CLI_O_WINDOW)) && use[MC_ALGO_MAP] &&
        o->map.cut != MC_MAP_CUT_OUTLIER)
        fprintf(stderr, "magclust: warning: --window applies to --cut outlier only: ignored\n");
    if (use[MC_ALGO_DBSCAN] && o->min_samples > o->kp.k + 1) {
        cli_usage_error(cmd, "--min-samples %zu exceeds k + 1 = %zu: raise --k or lower --min-samples",
                        o->min_samples, o->kp.k + 1);
        return -1;
    }
    return 0;
}

void cli_opts_help(FILE *f)
{
    mc_cluster_params lk = mc_cluster_params_default(MC_ALGO_LINKAGE),
                      cw = mc_cluster_params_default(MC_ALGO_CW),
                      db = mc_cluster_params_default(MC_ALGO_DBSCAN);
    fprintf(f,
"  -k, --k K                neighbours per face in the graph (default %zu, %zu\n"
"                           with --algo map; < N)\n"
"      --eps D              cosine-distance radius, 0..2: dbscan's\n"
"                           neighbourhood, cw's edges, linkage's stop (merging\n"
"                           stops below similarity 1 - eps). Default: chosen\n"
"                           from the data (label-free calibration, below)\n"
"      --calib-frac W       calibration: the threshold lies W of the way from\n"
"                           the median cosine of random pairs of good faces\n"
"                           (unrelated) to the median cosine of a good face to\n"
"                           its nearest good neighbour (related) (default %g\n"
"                           for linkage, %g for cw and map, %g for dbscan;\n"
"                           with no core gate %g for cw, %g for dbscan; map's\n"
"                           faces outside its modules join at linkage's\n"
"                           threshold)\n"
"      --calib-z Z          ... and at least Z robust deviations above the\n"
"                           unrelated pairs (default %g for linkage, %g for\n"
"                           cw and map, %g for dbscan)\n"
"      --center on|off      subtract the mean direction of the better half of\n"
"                           the faces before anything else (default on)\n"
"      --core-quality Q     quality a face needs to seed and link clusters: a\n"
"                           value, a percentile such as p30, or off (default\n"
"                           p%g for linkage, p%g for dbscan and cw; map: the\n"
"                           percentile 85 x the quality check's correlation)\n"
"      --noise-quality Q    faces below this are noise (default off)\n"
"      --core-slope S       map: with an informative quality, the core gate is\n"
"                           the percentile S x the quality check's rank\n"
"                           correlation (default 85; 0: --core-quality's\n"
"                           default, p50)\n"
"      --min-cluster-size N clusters of fewer than N faces become noise (as\n"
"                           HDBSCAN's min_cluster_size; Immich uses 3);\n"
"                           corrections may still name a single face\n"
"                           (default 1: every cluster is kept)\n"
"      --contested noise|keep\n"
"                           a border face (attached, not core) that is nearer\n"
"                           the centre of one of its neighbours' other\n"
"                           clusters than its own cluster's: noise (default)\n"
"                           or kept where the algorithm put it\n"
"      --trust-quality      gate by the quality even when the quality check\n"
"                           finds it uninformative (by default the gates are\n"
"                           then off; giving --core-quality or\n"
"                           --noise-quality also keeps them)\n"
"      --linkage L          linkage: single, average or complete (default\n"
"                           average)\n"
"      --min-samples N      dbscan: faces within eps, self included, for a\n"
"                           core face (default %zu; at most k+1)\n"
"      --seed S             cw and map: seed of the visiting order (default 1)\n"
"      --iterations N       cw: rounds at most (default 100)\n"
"      --flow F             map: undirected (links count both ways, default)\n"
"                           or directed (the k-NN lists as they are, PageRank\n"
"                           with teleportation)\n"
"      --teleport T         map, directed: teleportation probability (default\n"
"                           0.15)\n"
"      --temperature T      map: link weight exp((s - 1) / T) for similarity\n"
"                           s; 0: the similarity itself (default 0)\n"
"      --cut C              map: none, or outlier: each face keeps its\n"
"                           neighbours down to where the drops between its\n"
"                           sorted similarities stop looking like the tail\n"
"                           (FaceMap's outlier detection) (default outlier)\n"
"      --window W           map, --cut outlier: drops per sliding window\n"
"                           (default: k / 6 rounded, at least 2: 10 at k 60)\n"
"      --trials N           map: independent searches, run in parallel; the\n"
"                           shortest codelength wins (default: 10 up to 2\n"
"                           million links, fewer above, at least 1)\n"
"      --quality-key NAME   dataset holding the quality (default: the\n"
"                           embedding magnitude, i.e. its L2 norm)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"      --labels-key NAME    (default labels; read when present)\n"
"      --paths-key NAME     (default paths; read when present)\n"
"      --index SPEC         k-NN index: Flat (exact); Int8, every pair on\n"
"                           8-bit directions, the best re-ranked in floats\n"
"                           (near exact; fast with AVX-512 VNNI);\n"
"                           PCA<d>,Int8, the same on d principal axes, its\n"
"                           best 4k rescored on all (faster, lossy);\n"
"                           Cells<nlist>, our sgemm inverted file\n"
"                           (approximate); HNSW<M>,\n"
"                           hnswlib's graph with M links a face (approximate;\n"
"                           with more than one thread the graph varies from\n"
"                           run to run); or a FAISS index_factory string such\n"
"                           as IVF4096,Flat or HNSW32,Flat (approximate).\n"
"                           Default auto: Flat up to %d faces; with\n"
"                           AVX-512 VNNI Int8 up to %d, PCA256,Int8 up\n"
"                           to %d, then PCA128,Int8; without, Flat up to\n"
"                           %d, then Cells<nlist>, nlist the power of two\n"
"                           nearest sqrt(N/2)\n"
"      --nprobe N           Cells and IVF: cells or lists visited per face\n"
"                           (default: Cells max(8, nlist/8), IVF max(16,\n"
"                           nlist/32))\n"
"      --ef-search N        HNSW: search depth (default HNSW<M> max(128,\n"
"                           4(k+1)), FAISS max(64, 2(k+1)))\n"
"      --graph GRAPH.h5     use the k-NN graph that 'magclust knn' saved for\n"
"                           this file instead of searching again\n"
"      --skip-bad-rows      leave out rows with a NaN or Inf value, a zero\n"
"                           norm or a NaN quality (listed on stderr; the\n"
"                           CSV's index stays the file row) instead of\n"
"                           refusing the file\n"
"      --threads N          threads for the search and clustering\n"
"                           (default 0 = all cores); results do not depend\n"
"                           on it\n",
            lk.knn.k, mc_cluster_params_default(MC_ALGO_MAP).knn.k, lk.threshold.frac, cw.threshold.frac, db.threshold.frac, cw.threshold.ungated_frac, db.threshold.ungated_frac, lk.threshold.z,
            cw.threshold.z, db.threshold.z, lk.core_quality.value, db.core_quality.value,
            db.min_samples, MC_KNN_AUTO_FLAT_MAX, MC_KNN_AUTO_EXACT_MAX, MC_KNN_AUTO_PCA256_MAX,
            MC_KNN_AUTO_EXACT_MAX);
}

/* ---- progress of the library's long phases -------------------------------- */

/* Never cancels (returns 0): Ctrl-C ends the CLI through its signal handler
 * (main.c), which removes the temporaries. */
int cli_progress_cb(void *user_data, const char *phase, uint64_t done, uint64_t total)
{
    cli_progress_state *ps = user_data;
    if (ps->mode == CLI_PROGRESS_OFF) return 0;
    if (!ps->p || !ps->phase || strcmp(ps->phase, phase) != 0) {
        cli_progress_end(ps->p);
        ps->p = cli_progress_start(stderr, ps->mode, phase, total, "faces");
        ps->phase = phase;
    }
    cli_progress_update(ps->p, done);
    return 0;
}

void cli_progress_state_end(cli_progress_state *ps)
{
    cli_progress_end(ps->p);
    ps->p = NULL;
    ps->phase = NULL;
}

/* Adopt a saved graph: it must come from the same embeddings, centred the
 * same way, with the k asked for. Prints its own error. */
static int load_graph(const char *in_path, const cli_opts *o, cli_input *out)
{
    mc_knn_graph_meta m;
    mc_status st = mc_knn_graph_read_h5(o->graph_path, &out->graph, &m);
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
    snprintf(out->graph_info.index, sizeof out->graph_info.index, "%s", m.index);
    out->graph_info.exact = strcmp(m.index, "Flat") == 0;
    return CLI_OK;
}

int cli_load(const char *in_path, const cli_opts *o, cli_input *out)
{
    memset(out, 0, sizeof *out);
    mc_status st;
    int rc = CLI_FAIL;
    double t0 = cli_now();
    if ((st = mc_embeddings_read_h5(in_path, &o->rp, &out->e)) != MC_OK) {
        char want[512], hint[1024];
        const char *qk = o->rp.quality_key ? o->rp.quality_key : "";
        snprintf(want, sizeof want, "no dataset /%s", qk + strspn(qk, "/"));
        if (st == MC_ERR_BAD_DATA && mc_last_error_reason() == MC_REASON_BAD_ROW && !o->rp.skip_bad_rows)
            cli_error("%s: %s; --skip-bad-rows leaves such rows out", mc_strerror(st), mc_last_error_detail());
        else if (o->rp.quality_key && strstr(mc_last_error_detail(), want)) {
            char detail[1024];
            snprintf(detail, sizeof detail, "%s", mc_last_error_detail());
            cli_quality_key_hint(in_path, &o->rp, o->rp.quality_key, hint, sizeof hint);
            cli_error("%s: %s (--quality-key)%s", mc_strerror(st), detail, hint);
        } else
            cli_fail_status(st);
        goto fail;
    }
    size_t nskip = mc_embeddings_n_skipped(out->e);
    if (nskip && !o->quiet) {
        const size_t *rows = mc_embeddings_skipped_rows(out->e);
        fprintf(stderr, "magclust: %s: skipped %zu bad row%s (a NaN or Inf value, a zero norm or a NaN quality): row%s",
                in_path, nskip, nskip == 1 ? "" : "s", nskip == 1 ? "" : "s");
        for (size_t i = 0; i < nskip && i < 10; i++) fprintf(stderr, "%s %zu", i ? "," : "", rows[i]);
        fprintf(stderr, "%s\n", nskip > 10 ? ", ..." : "");
    }
    /* Only a graph file records or checks it (a read of all the data). */
    if (o->graph_path || o->want_fingerprint) out->fingerprint = mc_embeddings_fingerprint(out->e);
    if (o->graph_path && (rc = load_graph(in_path, o, out)) != CLI_OK) goto fail;
    out->t_load = cli_now() - t0;
    return CLI_OK;
fail:
    cli_input_free(out);
    return CLI_FAIL;
}

void cli_input_free(cli_input *in)
{
    mc_knn_graph_free(in->graph);
    mc_embeddings_free(in->e);
    in->graph = NULL;
    in->e = NULL;
}

int cli_cluster(const cli_opts *o, const mc_cluster_params *p, cli_input *in, int run,
                mc_cluster_result_t **out)
{
    cli_progress_state ps = {o->quiet ? CLI_PROGRESS_OFF : CLI_PROGRESS_AUTO, NULL, NULL};
    mc_cluster_params q = *p;
    q.progress = cli_progress_cb;
    q.progress_data = &ps;
    mc_status st = run ? mc_cluster_run(in->e, in->graph, &q, out) : mc_cluster_prepare(in->e, in->graph, &q, out);
    cli_progress_state_end(&ps);
    return st == MC_OK ? CLI_OK : cli_fail_status(st);
}

const mc_knn_info *cli_knn_info(const cli_input *in, const mc_cluster_result_t *r)
{
    return in->graph ? &in->graph_info : &mc_cluster_result_info(r)->knn;
}

int cli_recall(const cli_opts *o, const cli_input *in, const mc_cluster_result_t *r,
               mc_knn_recall *out)
{
    long ns = o->recall_sample;
    if (ns < 0) ns = cli_knn_info(in, r)->exact ? 0 : CLI_RECALL_AUTO_SAMPLE;
    if (ns == 0) return 0;
    mc_knn_recall_params rp = mc_knn_recall_params_default();
    rp.n_sample = (size_t)ns;
    rp.n_threads = (int)o->threads;
    rp.k = o->recall_k;
    rp.candidates = mc_cluster_result_params(r)->knn.candidates;
    mc_status st = mc_knn_recall_sample(mc_cluster_result_graph(r), in->e, &rp, out);
    if (st != MC_OK) {
        cli_fail_status(st);
        return -1;
    }
    return 1;
}
