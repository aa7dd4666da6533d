/* Map-equation clustering: the codelength against a textbook evaluation of
 * the map equation on random partitions (undirected and directed flow), the
 * search against exhaustive search on small graphs, local optimality,
 * recovery of planted modules, the quality rules (a low-quality bridge),
 * determinism, parameter errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/magclust.h"
#include "magclust/map.h"
#include "test_common.h"
#include "test_rand.h"

const char *mc_test_suite_name = "map";

static double xlogx(double x) { return x > 0.0 ? x * log2(x) : 0.0; }

/* The link weight the rules of map.h give a similarity (0: no link). */
static double weight(double s, const mc_map_params *p)
{
    if (s < p->threshold) return 0.0;
    double w = p->temperature > 0.0 ? exp((s - 1.0) / p->temperature) : s;
    return w > 0.0 ? w : 0.0;
}

/* The map equation evaluated from its definition on a dense similarity
 * matrix s (row i = what face i lists; every face is a node, no gates, no
 * cut, every neighbour), for the partition m[n].
 * Undirected: L = q log q - 2 sum q_i log q_i - sum p log p
 *               + sum (q_i + p_i) log (q_i + p_i)   (Rosvall & Bergstrom 2008),
 * with w_ab + w_ba per pair and p proportional to a node's total weight.
 * Directed: PageRank p (teleport tau, uniform; dangling nodes teleport),
 * link flow p_a T_ab, and the index codebook weighted by enter flows. */
static double reference_L(size_t n, const float *s, const mc_map_params *p, const int64_t *m)
{
    double *W = calloc(n * n, sizeof *W), *pf = calloc(n, sizeof *pf), *F = calloc(n * n, sizeof *F);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            if (a != b) W[a * n + b] = weight(s[a * n + b], p);
    if (p->flow == MC_MAP_UNDIRECTED) {
        double tot = 0.0;
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++) {
                F[a * n + b] = W[a * n + b] + W[b * n + a];
                tot += F[a * n + b];
            }
        for (size_t a = 0; a < n * n; a++) F[a] /= tot;
        for (size_t a = 0; a < n; a++)
            for (size_t b = 0; b < n; b++) pf[a] += F[a * n + b];
        double q = 0.0, sum_q = 0.0, sum_qp = 0.0, h = 0.0;
        for (size_t a = 0; a < n; a++) h += xlogx(pf[a]);
        for (size_t a = 0; a < n; a++) { /* module of the first member only */
            int first = 1;
            for (size_t b = 0; b < a; b++) first &= m[b] != m[a];
            if (!first) continue;
            double qi = 0.0, pi = 0.0;
            for (size_t x = 0; x < n; x++) {
                if (m[x] != m[a]) continue;
                pi += pf[x];
                for (size_t y = 0; y < n; y++)
                    if (m[y] != m[a]) qi += F[x * n + y];
            }
            q += qi;
            sum_q += xlogx(qi);
            sum_qp += xlogx(qi + pi);
        }
        free(W);
        free(pf);
        free(F);
        return xlogx(q) - 2.0 * sum_q - h + sum_qp;
    }
    double tau = p->teleport, *next = calloc(n, sizeof *next), *out = calloc(n, sizeof *out);
    for (size_t a = 0; a < n; a++) {
        pf[a] = 1.0 / (double)n;
        for (size_t b = 0; b < n; b++) out[a] += W[a * n + b];
    }
    for (int it = 0; it < 5000; it++) {
        double dang = 0.0;
        for (size_t a = 0; a < n; a++)
            if (out[a] == 0.0) dang += pf[a];
        for (size_t b = 0; b < n; b++) {
            next[b] = (tau + (1.0 - tau) * dang) / (double)n;
            for (size_t a = 0; a < n; a++)
                if (out[a] > 0.0) next[b] += (1.0 - tau) * pf[a] * W[a * n + b] / out[a];
        }
        memcpy(pf, next, n * sizeof *pf);
    }
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            F[a * n + b] = out[a] > 0.0 ? pf[a] * W[a * n + b] / out[a] : 0.0;
    double s_en = 0.0, t = 0.0, h = 0.0;
    for (size_t a = 0; a < n; a++) h += xlogx(pf[a]);
    for (size_t a = 0; a < n; a++) {
        int first = 1;
        for (size_t b = 0; b < a; b++) first &= m[b] != m[a];
        if (!first) continue;
        double en = 0.0, ex = 0.0, pi = 0.0;
        for (size_t x = 0; x < n; x++) {
            if (m[x] != m[a]) continue;
            pi += pf[x];
            for (size_t y = 0; y < n; y++)
                if (m[y] != m[a]) {
                    ex += F[x * n + y];
                    en += F[y * n + x];
                }
        }
        s_en += en;
        t += -xlogx(en) - xlogx(ex) + xlogx(ex + pi);
    }
    free(W);
    free(pf);
    free(F);
    free(next);
    free(out);
    return xlogx(s_en) + t - h;
}

/* A random similarity matrix: symmetric for undirected tests, not for
 * directed ones; a few blocks make the partitions matter. */
static float *random_sims(size_t n, size_t blocks, int symmetric, uint64_t *rs)
{
    float *s = malloc(n * n * sizeof *s);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            if (symmetric && b < a) {
                s[a * n + b] = s[b * n + a];
                continue;
            }
            int same = a % blocks == b % blocks;
            s[a * n + b] = a == b ? 1.0f : (float)((same ? 0.5 : 0.05) + 0.4 * tr_uniform(rs));
        }
    return s;
}

static mc_map_params plain(mc_map_flow flow)
{
    mc_map_params p = mc_map_params_default();
    p.core_quality = mc_threshold_off();
    p.cut = MC_MAP_CUT_NONE; /* the tests of the map equation itself take every link */
    p.flow = flow;
    p.n_threads = 1; /* thousands of tiny runs: no thread start-up each time */
    return p;
}

static void test_codelength_matches_definition(void)
{
    uint64_t rs = 7;
    double worst = 0.0;
    for (int trial = 0; trial < 40; trial++) {
        size_t n = 5 + (size_t)trial % 8;
        mc_map_params p = plain(trial % 2 ? MC_MAP_DIRECTED : MC_MAP_UNDIRECTED);
        if (trial % 4 >= 2) p.temperature = 0.1;
        if (trial % 5 == 0) p.threshold = 0.3; /* some links cut, some nodes dangling */
        float *s = random_sims(n, 2 + (size_t)trial % 3, p.flow == MC_MAP_UNDIRECTED, &rs);
        mc_knn_graph_t *g = graph_from_matrix(n, s);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        int64_t m[16];
        for (int part = 0; part < 6; part++) {
            size_t modules = 1 + (size_t)part % n;
            for (size_t a = 0; a < n; a++) m[a] = (int64_t)(tr_next(&rs) % modules) * 7 - 3;
            double L = NAN;
            CU_ASSERT_EQUAL_FATAL(mc_map_codelength(g, NULL, &p, m, &L), MC_OK);
            double ref = reference_L(n, s, &p, m);
            if (fabs(L - ref) > worst) worst = fabs(L - ref);
            CU_ASSERT_DOUBLE_EQUAL(L, ref, 1e-9);
        }
        /* one module: the entropy of the node flows; singletons cost more
         * than that whenever links join faces */
        for (size_t a = 0; a < n; a++) m[a] = 0;
        double L1 = 0.0, Ls = 0.0;
        CU_ASSERT_EQUAL(mc_map_codelength(g, NULL, &p, m, &L1), MC_OK);
        for (size_t a = 0; a < n; a++) m[a] = (int64_t)a;
        CU_ASSERT_EQUAL(mc_map_codelength(g, NULL, &p, m, &Ls), MC_OK);
        CU_ASSERT(Ls >= L1 - 1e-12);
        mc_knn_graph_free(g);
        free(s);
    }
    CU_ASSERT(worst < 1e-9);
}

/* Every partition of n <= 9 items, as restricted growth strings. */
static int next_partition(int64_t *m, int64_t *mx, size_t n)
{
    for (size_t i = n; i-- > 1;) {
        if (m[i] <= mx[i - 1]) {
            m[i]++;
            mx[i] = mx[i - 1] > m[i] ? mx[i - 1] : m[i];
            for (size_t j = i + 1; j < n; j++) {
                m[j] = 0;
                mx[j] = mx[i];
            }
            return 1;
        }
    }
    return 0;
}

static void test_search_finds_the_optimum(void)
{
    /* on small graphs with structure, the search reaches the best of all
     * partitions (exhaustive: Bell(8) = 4140 of them); it never beats it */
    uint64_t rs = 99;
    for (int trial = 0; trial < 12; trial++) {
        size_t n = 8;
        mc_map_params p = plain(trial % 2 ? MC_MAP_DIRECTED : MC_MAP_UNDIRECTED);
        p.temperature = 0.1;
        float *s = random_sims(n, 2 + (size_t)trial % 2, p.flow == MC_MAP_UNDIRECTED, &rs);
        mc_knn_graph_t *g = graph_from_matrix(n, s);
        int64_t m[8] = {0}, mx[8] = {0};
        double best = INFINITY;
        do {
            double L = 0.0;
            CU_ASSERT_EQUAL_FATAL(mc_map_codelength(g, NULL, &p, m, &L), MC_OK);
            if (L < best) best = L;
        } while (next_partition(m, mx, n));
        mc_clustering_t *c = NULL;
        mc_map_info info;
        CU_ASSERT_EQUAL_FATAL(mc_map_run(g, NULL, &p, &c, &info), MC_OK);
        double L = 0.0;
        CU_ASSERT_EQUAL(mc_map_codelength(g, NULL, &p, mc_clustering_labels(c), &L), MC_OK);
        CU_ASSERT_DOUBLE_EQUAL(info.codelength, L, 1e-9);
        CU_ASSERT(L >= best - 1e-9);
        CU_ASSERT_DOUBLE_EQUAL(L, best, 1e-9);
        CU_ASSERT(info.codelength <= info.one_level + 1e-9);
        mc_clustering_free(c);
        mc_knn_graph_free(g);
        free(s);
    }
}

/* A k-NN graph with planted modules: each face lists `intra` faces of its
 * module (similarity 0.6-0.9) and `inter` faces of others (0.2-0.35). */
static mc_knn_graph_t *planted(size_t modules, size_t size, size_t intra, size_t inter, uint64_t seed)
{
    size_t n = modules * size, k = intra + inter;
    int64_t *ids = malloc(n * k * sizeof *ids);
    float *sims = malloc(n * k * sizeof *sims);
    uint64_t rs = seed;
    for (size_t i = 0; i < n; i++) {
        size_t mod = i / size, c = 0;
        while (c < k) {
            size_t j;
            if (c < intra) j = mod * size + (size_t)(tr_next(&rs) % size);
            else j = (size_t)(tr_next(&rs) % n);
            if (j == i || (c >= intra && j / size == mod)) continue;
            int dup = 0;
            for (size_t t = 0; t < c; t++) dup |= ids[i * k + t] == (int64_t)j;
            if (dup) continue;
            ids[i * k + c] = (int64_t)j;
            sims[i * k + c] = (float)(c < intra ? 0.6 + 0.3 * tr_uniform(&rs)
                                                : 0.2 + 0.15 * tr_uniform(&rs));
            c++;
        }
    }
    mc_knn_graph_t *g = NULL;
    mc_knn_graph_new(n, k, ids, sims, &g);
    free(ids);
    free(sims);
    return g;
}

static void test_recovers_planted_modules(void)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        mc_knn_graph_t *g = planted(5, 20, 8, 3, seed);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        for (int flow = 0; flow < 2; flow++) {
            mc_map_params p = plain((mc_map_flow)flow);
            p.seed = seed;
            mc_clustering_t *c = NULL;
            mc_map_info info;
            CU_ASSERT_EQUAL_FATAL(mc_map_run(g, NULL, &p, &c, &info), MC_OK);
            const int64_t *lab = mc_clustering_labels(c);
            CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 5);
            CU_ASSERT_EQUAL(info.modules, 5);
            CU_ASSERT_EQUAL(info.nodes, 100);
            size_t wrong = 0;
            for (size_t i = 0; i < 100; i++)
                for (size_t j = 0; j < 100; j++)
                    wrong += (lab[i] == lab[j]) != (i / 20 == j / 20);
            CU_ASSERT_EQUAL(wrong, 0);
            CU_ASSERT(info.codelength < info.one_level);
            mc_clustering_free(c);
        }
        mc_knn_graph_free(g);
    }
}

static void test_local_optimum(void)
{
    /* no single face can move to another module (or a new one) and shorten
     * the description: the fine-tuning leaves none behind */
    mc_knn_graph_t *g = planted(4, 12, 5, 4, 42);
    mc_map_params p = plain(MC_MAP_UNDIRECTED);
    p.temperature = 0.2;
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, NULL, &p, &c, NULL), MC_OK);
    size_t n = 48, nc = mc_clustering_n_clusters(c);
    int64_t *m = malloc(n * sizeof *m);
    memcpy(m, mc_clustering_labels(c), n * sizeof *m);
    double L0 = 0.0;
    CU_ASSERT_EQUAL(mc_map_codelength(g, NULL, &p, m, &L0), MC_OK);
    size_t better = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t own = m[i];
        for (int64_t t = 0; t <= (int64_t)nc; t++) { /* nc: a module of its own */
            if (t == own) continue;
            m[i] = t;
            double L = 0.0;
            CU_ASSERT_EQUAL(mc_map_codelength(g, NULL, &p, m, &L), MC_OK);
            better += L < L0 - 1e-10;
        }
        m[i] = own;
    }
    CU_ASSERT_EQUAL(better, 0);
    free(m);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

static void test_low_quality_bridge(void)
{
    /* two groups joined only through face 3, as close to each as they are
     * to themselves. With face 3 a core face the walk flows freely through
     * it and the groups become one module; with its quality below the core
     * gate it carries no flow, the groups stay apart, and it joins the one
     * it is closest to as a border face. */
    float s[49];
    bridge_matrix(s, 0.9f, 0.9f, 4, 0.95f);
    mc_knn_graph_t *g = graph_from_matrix(7, s);
    float q[7] = {10, 10, 10, 1, 10, 10, 10};
    mc_map_params p = plain(MC_MAP_UNDIRECTED);
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, q, &p, &c, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 1);
    mc_clustering_free(c);
    p.core_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 5.0};
    for (int flow = 0; flow < 2; flow++) {
        p.flow = (mc_map_flow)flow;
        mc_map_info info;
        CU_ASSERT_EQUAL_FATAL(mc_map_run(g, q, &p, &c, &info), MC_OK);
        const int64_t *lab = mc_clustering_labels(c);
        const uint8_t *role = mc_clustering_roles(c);
        CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
        CU_ASSERT_EQUAL(info.nodes, 6);
        CU_ASSERT_DOUBLE_EQUAL(info.core_q, 5.0, 0.0);
        CU_ASSERT(lab[0] == lab[1] && lab[1] == lab[2]);
        CU_ASSERT(lab[4] == lab[5] && lab[5] == lab[6]);
        CU_ASSERT(lab[0] != lab[4]);
        CU_ASSERT_EQUAL(role[3], MC_ROLE_BORDER);
        CU_ASSERT_EQUAL(lab[3], lab[4]); /* its most similar core face */
        mc_clustering_free(c);
    }
    /* the noise gate: face 3 is noise */
    p.noise_quality = (mc_threshold){MC_THRESH_ABSOLUTE, 5.0};
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, q, &p, &c, NULL), MC_OK);
    CU_ASSERT_EQUAL(mc_clustering_labels(c)[3], -1);
    CU_ASSERT_EQUAL(mc_clustering_roles(c)[3], MC_ROLE_NOISE);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

static void test_deterministic(void)
{
    /* blobs through the whole library: the same seed gives the same
     * clusters whatever the thread count; the result is a good one */
    size_t n = 600, d = 16;
    float *x = tr_blobs(n, d, 12, 0.25, 5);
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_new(x, n, d, &e), MC_OK);
    mc_knn_graph_t *g = NULL;
    mc_knn_params kp = mc_knn_params_default();
    kp.k = 20;
    CU_ASSERT_EQUAL_FATAL(mc_knn_graph_build(e, &kp, &g), MC_OK);
    mc_clustering_t *ref = NULL;
    mc_map_params p = mc_map_params_default();
    p.n_threads = 1;
    mc_map_info i1, i2;
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, mc_embeddings_quality(e), &p, &ref, &i1), MC_OK);
    CU_ASSERT(mc_clustering_n_clusters(ref) >= 12);
    for (int threads = 2; threads <= 8; threads *= 2) {
        for (int flow = 0; flow < 2; flow++) {
            mc_clustering_t *c = NULL, *c2 = NULL;
            p.n_threads = threads;
            p.flow = (mc_map_flow)flow;
            CU_ASSERT_EQUAL_FATAL(mc_map_run(g, mc_embeddings_quality(e), &p, &c, &i2), MC_OK);
            p.n_threads = 1;
            CU_ASSERT_EQUAL_FATAL(mc_map_run(g, mc_embeddings_quality(e), &p, &c2, NULL), MC_OK);
            CU_ASSERT(memcmp(mc_clustering_labels(c), mc_clustering_labels(c2),
                             n * sizeof(int64_t)) == 0);
            if (flow == 0) {
                CU_ASSERT(memcmp(mc_clustering_labels(c), mc_clustering_labels(ref),
                                 n * sizeof(int64_t)) == 0);
                CU_ASSERT_EQUAL(i1.codelength, i2.codelength);
            }
            mc_clustering_free(c);
            mc_clustering_free(c2);
        }
    }
    /* the default's ten trials (shared by the threads above) give the
     * shortest of ten one-trial searches with seeds seed .. seed + 9, the
     * first of them on a tie: the trials are the one-trial searches */
    p = mc_map_params_default();
    CU_ASSERT_EQUAL(p.trials, 0);  /* from the network: a small one gets ten */
    CU_ASSERT_EQUAL(i1.trials, 10);
    p.trials = 10;
    size_t best_t = 0;
    double best_L = INFINITY;
    mc_clustering_t *best = NULL;
    for (size_t t = 0; t < p.trials; t++) {
        mc_map_params one = p;
        one.trials = 1;
        one.seed = p.seed + t;
        mc_clustering_t *c = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_map_run(g, mc_embeddings_quality(e), &one, &c, &i2), MC_OK);
        CU_ASSERT(i2.codelength >= i1.codelength); /* never shorter than the best of ten */
        if (i2.codelength < best_L) {
            best_L = i2.codelength;
            best_t = t;
            mc_clustering_free(best);
            best = c;
        } else {
            mc_clustering_free(c);
        }
    }
    CU_ASSERT_EQUAL(best_L, i1.codelength);
    CU_ASSERT_EQUAL(i2.trials, 1);
    /* the budget: ten trials on small networks, fewer on large ones */
    CU_ASSERT_EQUAL(mc_map_auto_trials(0), 10);
    CU_ASSERT_EQUAL(mc_map_auto_trials(i1.links), 10);
    CU_ASSERT_EQUAL(mc_map_auto_trials(2000000), 10);
    CU_ASSERT_EQUAL(mc_map_auto_trials(2000001), 9);
    CU_ASSERT_EQUAL(mc_map_auto_trials(4000000), 5);
    CU_ASSERT_EQUAL(mc_map_auto_trials(20000000), 1);
    CU_ASSERT_EQUAL(mc_map_auto_trials((size_t)1 << 40), 1);
    CU_ASSERT(best_t < p.trials);
    CU_ASSERT(memcmp(mc_clustering_labels(best), mc_clustering_labels(ref), n * sizeof(int64_t)) == 0);
    mc_clustering_free(best);
    mc_clustering_free(ref);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
    free(x);
}

static void test_cut_and_k(void)
{
    /* the outlier cut keeps a face's links down to its outstanding drop:
     * here a face lists 3 faces of its group (0.9) and 4 of another (0.3
     * down to 0.27), so the cut (window 2: the drops 0, 0.6 stand out most
     * against the tail, and FaceMap keeps the ranks down to the one just
     * past the window's middle) leaves only the group */
    size_t n = 8;
    float s[64];
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            s[a * n + b] = a == b ? 1.0f : a / 4 == b / 4 ? 0.9f : 0.3f - 0.01f * (float)((a + b) % 4);
    mc_knn_graph_t *g = graph_from_matrix(n, s);
    mc_map_params p = plain(MC_MAP_UNDIRECTED);
    mc_map_info info;
    mc_clustering_t *c = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, NULL, &p, &c, &info), MC_OK);
    CU_ASSERT_EQUAL(info.links, 8 * 7);
    mc_clustering_free(c);
    p.cut = MC_MAP_CUT_OUTLIER;
    p.window = 2;
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, NULL, &p, &c, &info), MC_OK);
    CU_ASSERT_EQUAL(info.links, 8 * 3);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    CU_ASSERT_EQUAL(info.window, 2);
    mc_clustering_free(c);
    /* window 0: from the 7 neighbours, max(2, round(7 / 6)) = 2, the same cut */
    p.window = 0;
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, NULL, &p, &c, &info), MC_OK);
    CU_ASSERT_EQUAL(info.window, 2);
    CU_ASSERT_EQUAL(info.links, 8 * 3);
    mc_clustering_free(c);
    p.cut = MC_MAP_CUT_NONE;
    p.window = 5;
    p.k = 2; /* each face's two most similar: its own group */
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, NULL, &p, &c, &info), MC_OK);
    CU_ASSERT(info.links <= 8 * 3);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 2);
    mc_clustering_free(c);
    /* threshold above every similarity: no links, every face alone */
    p.k = 0;
    p.threshold = 0.95;
    CU_ASSERT_EQUAL_FATAL(mc_map_run(g, NULL, &p, &c, &info), MC_OK);
    CU_ASSERT_EQUAL(info.links, 0);
    CU_ASSERT_EQUAL(mc_clustering_n_clusters(c), 8);
    CU_ASSERT_EQUAL(mc_clustering_n_role(c, MC_ROLE_CORE), 8);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

static void test_param_errors(void)
{
    float s[9] = {1, .9f, .9f, .9f, 1, .9f, .9f, .9f, 1};
    mc_knn_graph_t *g = graph_from_matrix(3, s);
    float q[3] = {1, 2, 3};
    mc_clustering_t *c = NULL;
    struct {
        const char *word;
        void (*set)(mc_map_params *);
    } bad[] = {
        {"threshold", NULL}, {"k =", NULL}, {"cut", NULL}, {"teleport", NULL},
        {"temperature", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mc_map_params p = mc_map_params_default();
        switch (i) {
        case 0: p.threshold = NAN; break;
        case 1: p.k = 3; break;
        case 2: p.cut = (mc_map_cut)7; break;
        case 3: p.flow = MC_MAP_DIRECTED; p.teleport = 1.0; break;
        default: p.temperature = NAN; break;
        }
        CU_ASSERT_EQUAL(mc_map_run(g, q, &p, &c, NULL), MC_ERR_INVALID_ARG);
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), bad[i].word));
        CU_ASSERT_PTR_NULL(c);
        int64_t lab[3] = {0, 0, 0};
        double L = 0;
        CU_ASSERT_EQUAL(mc_map_codelength(g, q, &p, lab, &L), MC_ERR_INVALID_ARG);
    }
    mc_map_params p = mc_map_params_default();
    CU_ASSERT_EQUAL(mc_map_run(g, NULL, &p, &c, NULL), MC_ERR_INVALID_ARG); /* gate, no quality */
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "quality"));
    CU_ASSERT_EQUAL(mc_map_run(NULL, q, &p, &c, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_map_run(g, q, &p, NULL, NULL), MC_ERR_INVALID_ARG);
    double L = 0;
    CU_ASSERT_EQUAL(mc_map_codelength(g, q, &p, NULL, &L), MC_ERR_INVALID_ARG);
    int64_t lab[3] = {0, 0, 0};
    CU_ASSERT_EQUAL(mc_map_codelength(g, q, &p, lab, NULL), MC_ERR_INVALID_ARG);
    /* NULL params: the defaults; the detail is cleared on success */
    CU_ASSERT_EQUAL(mc_map_run(g, q, NULL, &c, NULL), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_last_error_detail(), "");
    CU_ASSERT_EQUAL(mc_clustering_n(c), 3);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
}

void mc_test_register(void)
{
    add_test("codelength_matches_definition", test_codelength_matches_definition);
    add_test("search_finds_the_optimum", test_search_finds_the_optimum);
    add_test("recovers_planted_modules", test_recovers_planted_modules);
    add_test("local_optimum", test_local_optimum);
    add_test("low_quality_bridge", test_low_quality_bridge);
    add_test("deterministic", test_deterministic);
    add_test("cut_and_k", test_cut_and_k);
    add_test("param_errors", test_param_errors);
}
