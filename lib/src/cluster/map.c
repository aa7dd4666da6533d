/* Quality-aware map-equation clustering on a k-NN graph (rules in map.h).
 *
 * 1. The gated graph (mc_qgraph_build, shared with DBSCAN and cw) gives the
 *    resolved gates, which faces are core, and the symmetric rows used for
 *    the border attachment in step 4.
 * 2. The network among the core faces: each core face's k-NN row, cut to
 *    core neighbours at or above the threshold (and at its outstanding drop
 *    with MC_MAP_CUT_GAP), weighted; then undirected flow (weights of both
 *    directions summed, flow proportional to weight) or directed flow
 *    (PageRank by power iteration, unrecorded teleportation).
 * 3. The map equation's search (mapeq.c) on that flow graph.
 * 4. Each non-core face that passes the noise gate joins the cluster of its
 *    most similar core neighbour (mc_qgraph_attach). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/map.h"
#include "mapeq_impl.h"
#include "qgraph_impl.h"
#include "util_impl.h"

/* Power iteration stops when the flow changes by less than this (L1). */
#define PAGERANK_TOL 1e-15
#define PAGERANK_MAX_ITER 1000

mc_map_params mc_map_params_default(void)
{
    mc_map_params p;
    memset(&p, 0, sizeof p);
    p.threshold = -1.0;
    p.attach_threshold = NAN;
    p.k = 0;
    p.temperature = 0.0;
    p.cut = MC_MAP_CUT_OUTLIER;
    p.window = 0; /* from k: map_window() */
    p.flow = MC_MAP_UNDIRECTED;
    p.teleport = 0.15;
    p.trials = 0; /* from the network's size: map_trials() */
    p.seed = 1;
    p.core_quality.kind = MC_THRESH_PERCENTILE;
    p.core_quality.value = 50.0;
    p.noise_quality = mc_threshold_off();
    p.n_threads = 0;
    return p;
}

/* The flow network of the core faces (nodes numbered 0 .. m-1 in face order). */
typedef struct {
    size_t m;
    uint32_t *face;   /* node -> face */
    double *p;
    size_t *ostart, *istart;
    uint32_t *onbr, *inbr;
    double *oflow, *iflow;
    int shared;
} network;

static void network_free(network *w)
{
    free(w->face);
    free(w->p);
    free(w->ostart);
    free(w->onbr);
    free(w->oflow);
    if (!w->shared) {
        free(w->istart);
        free(w->inbr);
        free(w->iflow);
    }
    memset(w, 0, sizeof *w);
}

typedef struct {
    uint32_t j;
    double w;
} wlink;

static int cmp_wlink_j(const void *a, const void *b)
{
    const wlink *x = a, *y = b;
    return (x->j > y->j) - (x->j < y->j);
}

/* FaceMap's outlier detection (map.h) on the m similarities v[] of a row,
 * sorted in decreasing order: how many of them the face keeps. d[c] =
 * v[c] - v[c+1] are the M = m - 1 drops; for j = M - w down to 0, the window
 * d[j .. j+w) against the tail d[j .. M): z = |window mean - tail mean| /
 * tail standard deviation, credited to rank q = j + ceil(w / 2) (FaceMap's
 * code: just past the window's middle drop); the face keeps ranks 0 .. q of
 * the window of largest z (the nearest of equal maxima), and all of them
 * when no z is positive (a list too flat or too short to tell a tail).
 * Suffix sums make it O(m). sum and sum2 have room for m + 1. */
static size_t outlier_cut(const double *v, size_t m, size_t w, double *sum, double *sum2)
{
    if (m < 2) return m;
    size_t M = m - 1;
    if (w >= M) return m; /* too short a list to tell a tail */
    sum[M] = sum2[M] = 0.0;
    for (size_t c = M; c-- > 0;) {
        double d = v[c] - v[c + 1];
        sum[c] = sum[c + 1] + d;
        sum2[c] = sum2[c + 1] + d * d;
    }
    double best_z = 0.0;
    size_t best_q = m - 1; /* no outstanding window: keep them all */
    for (size_t j = M - w + 1; j-- > 0;) {
        double cnt = (double)(M - j);
        double mu_r = sum[j] / cnt;
        double var = sum2[j] / cnt - mu_r * mu_r;
        double mu_t = (sum[j] - sum[j + w]) / (double)w;
        size_t q = j + (w + 1) / 2; /* the last rank kept, as FaceMap's code has it */
        if (!(var > 1e-24)) continue; /* a flat tail: no z-score */
        double z = fabs(mu_t - mu_r) / sqrt(var);
        if (z > best_z || (z == best_z && q < best_q)) {
            best_z = z;
            best_q = q;
        }
    }
    return best_q + 1;
}

static mc_status validate(const mc_knn_graph_t *g, const mc_map_params *p)
{
    if (!(p->threshold >= -1.0 && p->threshold <= 1.0))
        return mc_fail(MC_ERR_INVALID_ARG, "threshold = %g is outside [-1, 1] (cosine similarity)",
                       p->threshold);
    if (p->k > mc_knn_graph_k(g))
        return mc_fail(MC_ERR_INVALID_ARG, "k = %zu is more than the graph's %zu neighbours", p->k,
                       mc_knn_graph_k(g));
    if (p->cut != MC_MAP_CUT_NONE && p->cut != MC_MAP_CUT_OUTLIER)
        return mc_fail(MC_ERR_INVALID_ARG, "unknown cut %d", (int)p->cut);
    if (!isnan(p->attach_threshold) && !(p->attach_threshold >= -1.0 && p->attach_threshold <= 1.0))
        return mc_fail(MC_ERR_INVALID_ARG,
                       "attach threshold = %g is outside [-1, 1] (cosine similarity)",
                       p->attach_threshold);
    if (p->flow != MC_MAP_UNDIRECTED && p->flow != MC_MAP_DIRECTED)
        return mc_fail(MC_ERR_INVALID_ARG, "unknown flow %d", (int)p->flow);
    if (!(p->teleport > 0.0 && p->teleport < 1.0))
        return mc_fail(MC_ERR_INVALID_ARG, "teleport = %g is outside (0, 1)", p->teleport);
    if (isnan(p->temperature)) return mc_fail(MC_ERR_INVALID_ARG, "temperature is NaN");
    return MC_OK;
}

/* The trials of a search on a network of `links` links: the ones asked
 * for, or as many as fit a budget of 2e7 link visits a pass, at most 10
 * and at least 1. Extra trials pay where they are cheap: on a small
 * network one search's codelength (and its clusters) vary from one
 * visiting order to the next, and ten searches find a shorter one (the dev
 * sets of docs/experiments.md gain up to 0.003 BCubed F, none loses); on a
 * large one the many modules average that out, and a search costs seconds.
 * 10 trials up to 2 million links (about 1.2 million faces of a gated k 60
 * graph), 1 above 20 million (a million faces all carrying flow at k 30). */
size_t mc_map_auto_trials(size_t links)
{
    size_t t = links ? (size_t)(2e7 / (double)links) : 10;
    return t < 1 ? 1 : t > 10 ? 10 : t;
}

static size_t map_trials(const mc_map_params *p, size_t links)
{
    return p->trials ? p->trials : mc_map_auto_trials(links);
}

/* The outlier cut's window for kk neighbours a face: the one asked for, or
 * about kk / 6 (5 at k 30, 10 at k 60: FaceMap's 20 drops at K 256 held
 * about a twelfth; at k 30 to 100 windows of k / 6 did as well or better on
 * every dev set, docs/experiments.md), at least 2. */
static size_t map_window(const mc_map_params *p, size_t kk)
{
    if (p->window) return p->window;
    size_t w = (kk + 3) / 6;
    return w < 2 ? 2 : w;
}

/* Each node's kept out-links (directed, weights), as CSR over nodes. */
static int build_rows(const mc_knn_graph_t *g, const mc_map_params *p, const uint8_t *core,
                      const uint32_t *node_of, network *w, size_t **rs, wlink **rl)
{
    size_t K = mc_knn_graph_k(g), kk = p->k ? p->k : K;
    const int64_t *ids = mc_knn_graph_ids(g);
    const float *sims = mc_knn_graph_sims(g);
    size_t *start = mc_calloc_array(w->m + 1, sizeof *start);
    wlink *links = mc_malloc_array(w->m * kk > 0 ? w->m * kk : 1, sizeof *links);
    double *ws = mc_malloc_array(3 * (kk + 1), sizeof *ws);
    if (!start || !links || !ws) {
        free(start);
        free(links);
        free(ws);
        return -1;
    }
    size_t used = 0;
    for (size_t a = 0; a < w->m; a++) {
        size_t i = w->face[a], keep = kk;
        if (p->cut == MC_MAP_CUT_OUTLIER) {
            /* the cut is found on the face's whole list (rows are sorted by
             * decreasing similarity; negative ones count as 0, as FaceMap's
             * transition probabilities) */
            size_t m = 0;
            for (size_t c = 0; c < kk; c++) {
                int64_t j = ids[i * K + c];
                if (j < 0 || (size_t)j == i) continue;
                double s = (double)sims[i * K + c];
                ws[m++] = s > 0.0 ? s : 0.0;
            }
            keep = outlier_cut(ws, m, map_window(p, kk), ws + kk + 1, ws + 2 * (kk + 1));
        }
        for (size_t c = 0, r = 0; c < kk && r < keep; c++) {
            int64_t j = ids[i * K + c];
            if (j < 0 || (size_t)j == i) continue;
            r++; /* rank among the face's neighbours */
            double s = (double)sims[i * K + c];
            if (s < p->threshold) break; /* rows are sorted by decreasing similarity */
            if (!core[j]) continue;
            double wt = p->temperature > 0.0 ? exp((s - 1.0) / p->temperature) : s;
            if (!(wt > 0.0)) continue;
            links[used++] = (wlink){node_of[j], wt};
        }
        start[a + 1] = used;
    }
    free(ws);
    *rs = start;
    *rl = links;
    return 0;
}

/* Undirected flow: w_ab + w_ba on both rows; p_a = strength / total. */
static int flow_undirected(network *w, const size_t *rs, const wlink *rl, int n_threads)
{
    size_t m = w->m;
    size_t *deg = mc_calloc_array(m + 1, sizeof *deg);
    if (!deg) return -1;
    for (size_t a = 0; a < m; a++)
        for (size_t e = rs[a]; e < rs[a + 1]; e++) {
            deg[a + 1]++;
            deg[rl[e].j + 1]++;
        }
    for (size_t a = 0; a < m; a++) deg[a + 1] += deg[a];
    wlink *sym = mc_malloc_array(deg[m] ? deg[m] : 1, sizeof *sym);
    size_t *fill = mc_malloc_array(m ? m : 1, sizeof *fill);
    w->ostart = mc_calloc_array(m + 1, sizeof *w->ostart);
    w->p = mc_calloc_array(m ? m : 1, sizeof *w->p);
    if (!sym || !fill || !w->ostart || !w->p) {
        free(deg);
        free(sym);
        free(fill);
        return -1;
    }
    memcpy(fill, deg, m * sizeof *fill);
    for (size_t a = 0; a < m; a++)
        for (size_t e = rs[a]; e < rs[a + 1]; e++) {
            sym[fill[a]++] = (wlink){rl[e].j, rl[e].w};
            sym[fill[rl[e].j]++] = (wlink){(uint32_t)a, rl[e].w};
        }
    /* sort each row by neighbour and sum duplicates (a pair listed from both
     * ends), in a fixed order; rows in parallel, each on its own */
    size_t *fill_len = fill;
    long long mm = (long long)m;
#pragma omp parallel for schedule(dynamic, 1024) num_threads(n_threads > 0 ? n_threads : omp_get_num_procs())
    for (long long aa = 0; aa < mm; aa++) {
        size_t a = (size_t)aa, len = deg[a + 1] - deg[a], o = 0;
        wlink *row = sym + deg[a];
        qsort(row, len, sizeof *row, cmp_wlink_j);
        for (size_t c = 0; c < len; c++) {
            if (o > 0 && row[c].j == row[o - 1].j) row[o - 1].w += row[c].w;
            else row[o++] = row[c];
        }
        fill_len[a] = o;
    }
    size_t used = 0;
    double total = 0.0;
    for (size_t a = 0; a < m; a++) {
        memmove(sym + used, sym + deg[a], fill_len[a] * sizeof *sym);
        used += fill_len[a];
        w->ostart[a + 1] = used;
    }
    free(deg);
    free(fill_len);
    w->onbr = mc_malloc_array(used ? used : 1, sizeof *w->onbr);
    w->oflow = mc_malloc_array(used ? used : 1, sizeof *w->oflow);
    if (!w->onbr || !w->oflow) {
        free(sym);
        return -1;
    }
    for (size_t e = 0; e < used; e++) total += sym[e].w;
    for (size_t a = 0; a < m; a++)
        for (size_t e = w->ostart[a]; e < w->ostart[a + 1]; e++) {
            w->onbr[e] = sym[e].j;
            w->oflow[e] = total > 0.0 ? sym[e].w / total : 0.0;
            w->p[a] += w->oflow[e];
        }
    free(sym);
    if (!(total > 0.0)) /* no links at all: every face alone, equal flow */
        for (size_t a = 0; a < m; a++) w->p[a] = 1.0 / (double)m;
    w->istart = w->ostart;
    w->inbr = w->onbr;
    w->iflow = w->oflow;
    w->shared = 1;
    return 0;
}

/* Directed flow: PageRank with uniform teleportation; link flow p_a T_ab. */
static int flow_directed(network *w, const size_t *rs, wlink *rl, double tau)
{
    size_t m = w->m, E = rs[m];
    double *out_w = mc_calloc_array(m ? m : 1, sizeof *out_w);
    double *next = mc_malloc_array(m ? m : 1, sizeof *next);
    w->p = mc_malloc_array(m ? m : 1, sizeof *w->p);
    w->ostart = mc_malloc_array(m + 1, sizeof *w->ostart);
    w->onbr = mc_malloc_array(E ? E : 1, sizeof *w->onbr);
    w->oflow = mc_malloc_array(E ? E : 1, sizeof *w->oflow);
    w->istart = mc_calloc_array(m + 1, sizeof *w->istart);
    w->inbr = mc_malloc_array(E ? E : 1, sizeof *w->inbr);
    w->iflow = mc_malloc_array(E ? E : 1, sizeof *w->iflow);
    size_t *fill = mc_malloc_array(m ? m : 1, sizeof *fill);
    int rc = -1;
    if (!out_w || !next || !w->p || !w->ostart || !w->onbr || !w->oflow || !w->istart ||
        !w->inbr || !w->iflow || !fill)
        goto done;
    /* rows sorted by neighbour (in place: the rows are ours), so every sum
     * below runs in a fixed order */
    for (size_t a = 0; a < m; a++) {
        qsort(rl + rs[a], rs[a + 1] - rs[a], sizeof *rl, cmp_wlink_j);
        for (size_t e = rs[a]; e < rs[a + 1]; e++) out_w[a] += rl[e].w;
        w->ostart[a] = rs[a];
    }
    w->ostart[m] = E;
    for (size_t a = 0; a < m; a++) w->p[a] = 1.0 / (double)m;
    for (int it = 0; it < PAGERANK_MAX_ITER; it++) {
        double dangling = 0.0;
        for (size_t a = 0; a < m; a++)
            if (rs[a + 1] == rs[a]) dangling += w->p[a];
        double base = (tau + (1.0 - tau) * dangling) / (double)m;
        for (size_t a = 0; a < m; a++) next[a] = base;
        for (size_t a = 0; a < m; a++)
            for (size_t e = rs[a]; e < rs[a + 1]; e++)
                next[rl[e].j] += (1.0 - tau) * w->p[a] * rl[e].w / out_w[a];
        double sum = 0.0, diff = 0.0;
        for (size_t a = 0; a < m; a++) sum += next[a];
        for (size_t a = 0; a < m; a++) {
            next[a] /= sum;
            diff += fabs(next[a] - w->p[a]);
            w->p[a] = next[a];
        }
        if (diff < PAGERANK_TOL) break;
    }
    for (size_t a = 0; a < m; a++)
        for (size_t e = rs[a]; e < rs[a + 1]; e++) {
            w->onbr[e] = rl[e].j;
            w->oflow[e] = w->p[a] * rl[e].w / out_w[a];
            w->istart[rl[e].j + 1]++;
        }
    for (size_t a = 0; a < m; a++) w->istart[a + 1] += w->istart[a];
    memcpy(fill, w->istart, m * sizeof *fill);
    for (size_t a = 0; a < m; a++) /* in-links in source order: sorted */
        for (size_t e = rs[a]; e < rs[a + 1]; e++) {
            size_t t = fill[rl[e].j]++;
            w->inbr[t] = (uint32_t)a;
            w->iflow[t] = w->oflow[e];
        }
    w->shared = 0;
    rc = 0;
done:
    free(out_w);
    free(next);
    free(fill);
    return rc;
}

/* Steps 1 and 2: the gated graph and the flow network. */
static mc_status build(const mc_knn_graph_t *g, const float *quality, const mc_map_params *par,
                       mc_qgraph *q, network *w)
{
    memset(w, 0, sizeof *w);
    mc_status st = validate(g, par);
    if (st != MC_OK) return st;
    /* the symmetric rows serve the attachment: as far as its threshold */
    double attach = isnan(par->attach_threshold) ? par->threshold : par->attach_threshold;
    st = mc_qgraph_build(g, quality, &par->core_quality, &par->noise_quality, 1.0 - attach,
                         par->n_threads, q);
    if (st != MC_OK) return st;
    size_t n = q->n, *rs = NULL;
    wlink *rl = NULL;
    uint32_t *node_of = mc_malloc_array(n ? n : 1, sizeof *node_of);
    if (!node_of) goto nomem;
    for (size_t i = 0; i < n; i++)
        if (q->core_ok[i]) w->m++;
    w->face = mc_malloc_array(w->m ? w->m : 1, sizeof *w->face);
    if (!w->face) goto nomem;
    for (size_t i = 0, a = 0; i < n; i++)
        if (q->core_ok[i]) {
            node_of[i] = (uint32_t)a;
            w->face[a++] = (uint32_t)i;
        }
    if (build_rows(g, par, q->core_ok, node_of, w, &rs, &rl) != 0) goto nomem;
    int rc = par->flow == MC_MAP_DIRECTED ? flow_directed(w, rs, rl, par->teleport)
                                          : flow_undirected(w, rs, rl, par->n_threads);
    free(rs);
    free(rl);
    free(node_of);
    if (rc != 0) {
        network_free(w);
        mc_qgraph_free(q);
        return mc_fail(MC_ERR_NOMEM, "out of memory for the flow network of %zu faces", n);
    }
    return MC_OK;
nomem:
    free(node_of);
    network_free(w);
    mc_qgraph_free(q);
    return mc_fail(MC_ERR_NOMEM, "out of memory for the flow network of %zu faces", n);
}

static mc_flowgraph as_flowgraph(const network *w)
{
    mc_flowgraph f = {w->m, w->p, w->ostart, w->istart, w->onbr, w->inbr, w->oflow, w->iflow};
    return f;
}

mc_status mc_map_run(const mc_knn_graph_t *g, const float *quality, const mc_map_params *p,
                     mc_clustering_t **out, mc_map_info *info)
{
    mc_clear_error();
    if (!g || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_map_run");
    *out = NULL;
    mc_map_params par = p ? *p : mc_map_params_default();
    mc_qgraph q;
    network w;
    mc_status st = build(g, quality, &par, &q, &w);
    if (st != MC_OK) return st;
    size_t n = q.n;
    double attach = isnan(par.attach_threshold) ? par.threshold : par.attach_threshold;
    uint32_t *module = mc_malloc_array(w.m ? w.m : 1, sizeof *module);
    int64_t *core_label = mc_malloc_array(n ? n : 1, sizeof *core_label);
    int64_t *labels = mc_malloc_array(n ? n : 1, sizeof *labels);
    uint8_t *roles = mc_malloc_array(n ? n : 1, 1);
    if (!module || !core_label || !labels || !roles) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the map equation on %zu faces", n);
        goto cleanup;
    }
    mc_flowgraph fg = as_flowgraph(&w);
    size_t trials = map_trials(&par, w.ostart[w.m]);
    mc_mapeq_params mp = {par.seed, trials, 16, par.n_threads};
    double L = 0.0, L1 = 0.0;
    st = mc_mapeq_optimise(&fg, &mp, module, &L, &L1);
    if (st != MC_OK) goto cleanup;
    size_t modules = 0;
    for (size_t a = 0; a < w.m; a++) {
        core_label[w.face[a]] = module[a];
        if ((size_t)module[a] + 1 > modules) modules = (size_t)module[a] + 1;
    }
    /* a core face the walk left alone joins the cluster of its most similar
     * core face in a module of several, as a border face; failing that it
     * stays a cluster of its own. Then every other face joins the cluster of
     * its most similar core face (alone or not). */
    size_t *msize = mc_calloc_array(modules ? modules : 1, sizeof *msize);
    uint8_t *seed = mc_malloc_array(n ? n : 1, 1);
    if (!msize || !seed) {
        free(msize);
        free(seed);
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the map equation on %zu faces", n);
        goto cleanup;
    }
    for (size_t a = 0; a < w.m; a++) msize[module[a]]++;
    for (size_t i = 0; i < n; i++) seed[i] = q.core_ok[i];
    for (size_t a = 0; a < w.m; a++)
        if (msize[module[a]] == 1) seed[w.face[a]] = 0;
    mc_qgraph_attach(&q, seed, core_label, attach, labels, roles);
    for (size_t a = 0; a < w.m; a++) {
        size_t i = w.face[a];
        if (!seed[i] && labels[i] >= 0) core_label[i] = labels[i]; /* joined */
        seed[i] = !seed[i] && labels[i] >= 0; /* now: joined as a border face */
    }
    mc_qgraph_attach(&q, q.core_ok, core_label, attach, labels, roles);
    for (size_t a = 0; a < w.m; a++)
        if (seed[w.face[a]]) roles[w.face[a]] = MC_ROLE_BORDER;
    free(msize);
    free(seed);
    st = mc_clustering_new(n, labels, roles, out);
    if (st == MC_OK && info) {
        info->core_q = q.core_q;
        info->noise_q = q.noise_q;
        info->nodes = w.m;
        info->window = p->cut == MC_MAP_CUT_OUTLIER ? map_window(p, p->k ? p->k : mc_knn_graph_k(g)) : 0;
        info->links = w.ostart[w.m];
        info->trials = trials;
        info->modules = modules;
        info->codelength = L;
        info->one_level = L1;
    }
cleanup:
    network_free(&w);
    mc_qgraph_free(&q);
    free(module);
    free(core_label);
    free(labels);
    free(roles);
    return st;
}

mc_status mc_map_codelength(const mc_knn_graph_t *g, const float *quality, const mc_map_params *p,
                            const int64_t *labels, double *out_L)
{
    mc_clear_error();
    if (!g || !labels || !out_L) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_map_codelength");
    mc_map_params par = p ? *p : mc_map_params_default();
    mc_qgraph q;
    network w;
    mc_status st = build(g, quality, &par, &q, &w);
    if (st != MC_OK) return st;
    /* the labels renumbered 0 .. M-1 over the nodes, in a fixed order */
    uint32_t *module = mc_malloc_array(w.m ? w.m : 1, sizeof *module);
    int64_t (*pairs)[2] = mc_malloc_array(w.m ? w.m : 1, sizeof *pairs);
    if (!module || !pairs) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the codelength of %zu faces", q.n);
    } else {
        for (size_t a = 0; a < w.m; a++) {
            pairs[a][0] = labels[w.face[a]];
            pairs[a][1] = (int64_t)a;
        }
        qsort(pairs, w.m, sizeof *pairs, mc_cmp_i64_pair);
        uint32_t id = 0;
        for (size_t c = 0; c < w.m; c++) {
            if (c > 0 && pairs[c][0] != pairs[c - 1][0]) id++;
            module[pairs[c][1]] = id;
        }
        mc_flowgraph fg = as_flowgraph(&w);
        *out_L = mc_mapeq_codelength(&fg, module);
        if (isnan(*out_L))
            st = mc_fail(MC_ERR_NOMEM, "out of memory for the codelength of %zu faces", q.n);
    }
    free(module);
    free(pairs);
    network_free(&w);
    mc_qgraph_free(&q);
    return st;
}
