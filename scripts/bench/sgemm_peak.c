/* OpenBLAS cblas_sgemm throughput at the shapes of exact inner-product search.
 *
 *   sgemm_peak [REPEATS]
 *
 * For each shape M x K times K x N (queries x dim times dim x database block)
 * and for all cores and for one thread, runs the product REPEATS times
 * (default 5) after one warm-up and prints the best rate as one JSON line:
 *   {"m": 4096, "k": 512, "n": 16384, "threads": 2, "best_s": ..., "gflops": ...}
 * FAISS's IndexFlatIP search multiplies 4,096 queries at a time against
 * database blocks of 1,024 rows (FAISS 1.7's distance_compute_blas_query_bs
 * and _database_bs), hence the first shape; the second, a wider block, shows
 * how far that is from the rate of a larger product.
 *
 * Build: cc -O2 -std=c11 sgemm_peak.c -o sgemm_peak -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas
 */
#define _POSIX_C_SOURCE 199309L

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Declared by OpenBLAS's cblas.h; repeated so a reference cblas.h also works. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_procs(void);

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *random_matrix(size_t count, unsigned *state) {
    float *a = malloc(count * sizeof *a);
    if (!a)
        return NULL;
    for (size_t i = 0; i < count; ++i) {
        *state = *state * 1664525u + 1013904223u;
        a[i] = (float)(*state >> 8) / 16777216.0f - 0.5f;
    }
    return a;
}

/* Best-of-repeats seconds of C (M x N) = A (M x K) B^T, B stored N x K as a
 * database of row vectors is. Returns a negative value when out of memory. */
static double best_seconds(int m, int k, int n, int repeats) {
    unsigned state = 12345u;
    float *a = random_matrix((size_t)m * (size_t)k, &state);
    float *b = random_matrix((size_t)n * (size_t)k, &state);
    float *c = malloc((size_t)m * (size_t)n * sizeof *c);
    double best = -1.0;
    if (a && b && c) {
        for (int r = -1; r < repeats; ++r) { /* r = -1: warm-up, not counted */
            double t0 = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
            double t = now_s() - t0;
            if (r >= 0 && (best < 0.0 || t < best))
                best = t;
        }
    }
    free(a);
    free(b);
    free(c);
    return best;
}

int main(int argc, char **argv) {
    static const int shapes[][3] = {{4096, 512, 1024}, {4096, 512, 16384}};
    int repeats = argc > 1 ? atoi(argv[1]) : 5;
    if (repeats < 1) {
        fprintf(stderr, "usage: sgemm_peak [REPEATS >= 1]\n");
        return 2;
    }
    int procs = openblas_get_num_procs();
    int thread_counts[2] = {procs, 1};
    for (int t = 0; t < (procs > 1 ? 2 : 1); ++t) {
        openblas_set_num_threads(thread_counts[t]);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
            int m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
            double best = best_seconds(m, k, n, repeats);
            if (best <= 0.0) {
                fprintf(stderr, "sgemm_peak: out of memory at %d x %d x %d\n", m, k, n);
                return 1;
            }
            double gflops = 2.0 * m * (double)k * n / best * 1e-9;
            printf("{\"m\": %d, \"k\": %d, \"n\": %d, \"threads\": %d, \"best_s\": %.6f, \"gflops\": %.2f}\n",
                   m, k, n, thread_counts[t], best, gflops);
            fflush(stdout);
        }
    }
    return 0;
}
