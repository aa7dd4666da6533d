/* How long the map equation takes on a large k-NN graph, next to Chinese
 * whispers on the same graph: magclust's own (mc_cw_run) and, through
 * map_scale.sh, dlib's chinese_whispers() on the same edges.
 *
 *   map_scale [N [K [EDGES.bin]]]     (defaults: 1000000 faces, k = 30)
 *
 * The graph: N faces in planted identities of 5 to 60 faces; each face lists
 * K neighbours, up to min(size - 1, K / 2) of its own identity (similarity
 * 0.35 to 0.9) and the rest other faces (0.1 to 0.55), so that the two
 * ranges overlap as they do in real face graphs. Prints, per method, the
 * seconds of the clustering call alone and BCubed F against the planted
 * identities. With EDGES.bin, also writes the edges at similarity >= the
 * threshold both Chinese whispers use (0.5) in dlib_cw's format.
 * Build: see map_scale.sh. Not a test: nothing fails when a figure drops. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "magclust/magclust.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return (double)(next(s) >> 11) * 0x1.0p-53; }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void report(const char *name, double secs, const mc_clustering_t *c, const int64_t *truth,
                   size_t n)
{
    mc_metrics m;
    if (mc_metrics_compute(truth, mc_clustering_labels(c), n, &m) != MC_OK) return;
    printf("%-38s %8.2f s  %8zu clusters  BCubed F %.4f\n", name, secs,
           mc_clustering_n_clusters(c), m.bcubed_f);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    size_t k = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 30;
    const char *edges = argc > 3 ? argv[3] : NULL;
    if (n < 100 || k < 2 || k >= n) {
        fprintf(stderr, "usage: map_scale [N >= 100 [K >= 2 [EDGES.bin]]]\n");
        return 2;
    }
    int64_t *truth = malloc(n * sizeof *truth), *ids = malloc(n * k * sizeof *ids);
    size_t *first = malloc(n * sizeof *first), *size = malloc(n * sizeof *size);
    float *sims = malloc(n * k * sizeof *sims);
    if (!truth || !ids || !first || !size || !sims) return 1;
    uint64_t rs = 1;
    for (size_t i = 0, id = 0; i < n; id++) {
        size_t sz = 5 + (size_t)(next(&rs) % 56);
        if (i + sz > n) sz = n - i;
        for (size_t t = 0; t < sz; t++) {
            truth[i + t] = (int64_t)id;
            first[i + t] = i;
            size[i + t] = sz;
        }
        i += sz;
    }
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        size_t own = size[i] - 1 < k / 2 ? size[i] - 1 : k / 2, c = 0;
        while (c < k) {
            size_t j = c < own ? first[i] + (size_t)(next(&rs) % size[i]) : (size_t)(next(&rs) % n);
            if (j == i || (c >= own && truth[j] == truth[i])) continue;
            int dup = 0;
            for (size_t t = 0; t < c; t++) dup |= ids[i * k + t] == (int64_t)j;
            if (dup) continue;
            ids[i * k + c] = (int64_t)j;
            sims[i * k + c] = (float)(c < own ? 0.35 + 0.55 * unif(&rs) : 0.1 + 0.45 * unif(&rs));
            c++;
        }
    }
    mc_knn_graph_t *g = NULL;
    if (mc_knn_graph_new(n, k, ids, sims, &g) != MC_OK) {
        fprintf(stderr, "map_scale: %s\n", mc_last_error_detail());
        return 1;
    }
    printf("planted graph: %zu faces, k %zu, built in %.1f s\n", n, k, now() - t0);
    free(ids);
    free(sims);
    mc_clustering_t *c = NULL;
    mc_map_info info;
    /* the default (ten trials shared by the threads), one trial, and
     * directed flow with one trial */
    const struct {
        const char *name;
        int flow;
        size_t trials;
    } runs[] = {{"magclust map (undirected, 10 trials)", 0, 10},
                {"magclust map (undirected, 1 trial)", 0, 1},
                {"magclust map (directed, 1 trial)", 1, 1}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        mc_map_params mp = mc_map_params_default();
        mp.core_quality = mc_threshold_off();
        mp.flow = (mc_map_flow)runs[r].flow;
        mp.trials = runs[r].trials;
        t0 = now();
        if (mc_map_run(g, NULL, &mp, &c, &info) != MC_OK) return 1;
        double secs = now() - t0;
        report(runs[r].name, secs, c, truth, n);
        printf("%-38s codelength %.4f bits, %zu links\n", "", info.codelength, info.links);
        mc_clustering_free(c);
    }
    mc_cw_params cp = mc_cw_params_default();
    cp.core_quality = mc_threshold_off();
    cp.threshold = 0.5;
    t0 = now();
    if (mc_cw_run(g, NULL, &cp, &c, NULL, NULL) != MC_OK) return 1;
    report("magclust cw (threshold 0.5)", now() - t0, c, truth, n);
    mc_clustering_free(c);
    if (edges) { /* dlib_cw's input: int64 n, e, first ends, second ends */
        const int64_t *gi = mc_knn_graph_ids(g);
        const float *gs = mc_knn_graph_sims(g);
        int64_t e = 0, nn = (int64_t)n;
        for (size_t i = 0; i < n * k; i++) e += gs[i] >= 0.5f && gi[i] >= 0;
        FILE *f = fopen(edges, "wb");
        if (!f) return 1;
        fwrite(&nn, sizeof nn, 1, f);
        fwrite(&e, sizeof e, 1, f);
        for (int side = 0; side < 2; side++)
            for (size_t i = 0; i < n * k; i++) {
                if (!(gs[i] >= 0.5f && gi[i] >= 0)) continue;
                int64_t v = side ? gi[i] : (int64_t)(i / k);
                fwrite(&v, sizeof v, 1, f);
            }
        if (fclose(f) != 0) return 1;
        FILE *t = fopen("map_scale_truth.bin", "wb");
        if (t) {
            fwrite(truth, sizeof *truth, n, t);
            fclose(t);
        }
    }
    mc_knn_graph_free(g);
    free(truth);
    free(first);
    free(size);
    return 0;
}
