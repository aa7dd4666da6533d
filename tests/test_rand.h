/* Small deterministic generators and graph builders shared by the suites (no rand()). */
#ifndef MAGCLUST_TEST_RAND_H
#define MAGCLUST_TEST_RAND_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/embeddings.h"
#include "magclust/knn.h"

static inline uint64_t tr_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline double tr_uniform(uint64_t *s) { return (double)(tr_next(s) >> 11) * 0x1.0p-53; }

static inline double tr_gauss(uint64_t *s)
{
    double u = tr_uniform(s), v = tr_uniform(s);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* n points in d dims: n_centers Gaussian blobs of spread `spread` around random
 * unit centres, plus about 10% uniform outliers. Raw (not normalised), with
 * magnitudes in [1, 3]. Caller frees. */
static inline float *tr_blobs(size_t n, size_t d, size_t n_centers, double spread, uint64_t seed)
{
    uint64_t s = seed;
    float *x = malloc(n * d * sizeof *x);
    double *c = malloc(n_centers * d * sizeof *c);
    if (!x || !c) {
        free(x);
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < n_centers * d; i++) c[i] = tr_gauss(&s);
    for (size_t i = 0; i < n; i++) {
        int outlier = tr_uniform(&s) < 0.1;
        size_t ci = (size_t)(tr_uniform(&s) * (double)n_centers) % n_centers;
        double mag = 1.0 + 2.0 * tr_uniform(&s);
        for (size_t j = 0; j < d; j++) {
            double v = outlier ? tr_gauss(&s) : c[ci * d + j] + spread * tr_gauss(&s);
            x[i * d + j] = (float)(mag * v);
        }
    }
    free(c);
    return x;
}

/* Hand-built graph helper: n faces, full symmetric similarity matrix s. */
static inline mc_knn_graph_t *graph_from_matrix(size_t n, const float *s)
{
    size_t k = n - 1;
    int64_t *ids = malloc(n * k * sizeof *ids);
    float *sims = malloc(n * k * sizeof *sims);
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (size_t j = 0; j < n; j++)
            if (j != i) {
                ids[i * k + c] = (int64_t)j;
                sims[i * k + c] = s[i * n + j];
                c++;
            }
    }
    mc_knn_graph_t *g = NULL;
    mc_knn_graph_new(n, k, ids, sims, &g);
    free(ids);
    free(sims);
    return g;
}

/* The 7-face bridging case: groups {0,1,2} and {4,5,6} with similarity
 * `within` inside each and 0 across, and face 3 at `bridge` to every other
 * face, except `favoured`, at `favoured_sim`. s has 7 x 7 entries. */
static inline void bridge_matrix(float *s, float within, float bridge, int favoured,
                                 float favoured_sim)
{
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++) {
            int gi = i < 3 ? 0 : i > 3 ? 1 : 2, gj = j < 3 ? 0 : j > 3 ? 1 : 2;
            s[i * 7 + j] = i == j ? 1.0f : gi == gj ? within : 0.0f;
        }
    for (int j = 0; j < 7; j++)
        if (j != 3) s[3 * 7 + j] = s[j * 7 + 3] = bridge;
    s[3 * 7 + favoured] = s[favoured * 7 + 3] = favoured_sim;
}

/* Whether cluster ids 0..nc-1 come in order of non-increasing size. */
static inline int sizes_decreasing(const int64_t *lab, size_t n, size_t nc)
{
    size_t *size = calloc(nc ? nc : 1, sizeof *size);
    int ok = size != NULL;
    for (size_t i = 0; ok && i < n; i++)
        if (lab[i] >= 0) size[lab[i]]++;
    for (size_t a = 1; ok && a < nc; a++) ok = size[a - 1] >= size[a];
    free(size);
    return ok;
}

/* n faces of tr_blobs(n, d, 5, 0.5, seed) as embeddings (NULL out of memory). */
static inline mc_embeddings_t *tr_blob_embeddings(size_t n, size_t d, uint64_t seed)
{
    float *x = tr_blobs(n, d, 5, 0.5, seed);
    mc_embeddings_t *e = NULL;
    if (x) mc_embeddings_new(x, n, d, &e);
    free(x);
    return e;
}

/* The two graphs hold the same rows, bit for bit. */
static inline int tr_same_graph(const mc_knn_graph_t *a, const mc_knn_graph_t *b)
{
    size_t n = mc_knn_graph_n(a), k = mc_knn_graph_k(a);
    return n == mc_knn_graph_n(b) && k == mc_knn_graph_k(b) &&
           memcmp(mc_knn_graph_ids(a), mc_knn_graph_ids(b), n * k * sizeof(int64_t)) == 0 &&
           memcmp(mc_knn_graph_sims(a), mc_knn_graph_sims(b), n * k * sizeof(float)) == 0;
}

#endif
