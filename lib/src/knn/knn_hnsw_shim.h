/* The C face of lib/hnsw/hnsw_shim.cpp: hnswlib's HierarchicalNSW over unit
 * directions, inner product, with distance kernels chosen at run time for
 * the CPU. No exception crosses into C: every fallible call returns 0, or
 * MC_HNSW_NOMEM / MC_HNSW_FAIL with a message copied into err. Nothing is
 * printed. mc_hnsw_add may run concurrently on one index (hnswlib locks per
 * element); mc_hnsw_search may run concurrently with other searches, not
 * with adds or mc_hnsw_set_ef. */
#ifndef MAGCLUST_KNN_HNSW_SHIM_H
#define MAGCLUST_KNN_HNSW_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { MC_HNSW_NOMEM = 1, MC_HNSW_FAIL = 2 };

typedef struct mc_hnsw mc_hnsw;

/* An empty index for up to max_elements vectors of d floats; M links per
 * node (2M on the base layer). Levels are not drawn by hnswlib: every
 * mc_hnsw_add names its own, so the hierarchy is the caller's (seeded). */
int mc_hnsw_new(size_t d, size_t max_elements, size_t M, size_t ef_construction, mc_hnsw **out,
                char *err, size_t errsize);
/* Insert x (d floats, copied) as label, on layers 0..level. */
int mc_hnsw_add(mc_hnsw *h, const float *x, size_t label, int level, char *err, size_t errsize);
void mc_hnsw_set_ef(mc_hnsw *h, size_t ef);
/* The k nearest labels to q by inner product, best first, into labels and
 * sims (k each); *found of them are real, the rest -1 / -inf. */
int mc_hnsw_search(const mc_hnsw *h, const float *q, size_t k, int64_t *labels, float *sims,
                   char *err, size_t errsize);
void mc_hnsw_free(mc_hnsw *h);
/* The distance kernel in use on this CPU: "avx512f", "avx2+fma" or "sse2"
 * (or "scalar" off x86-64). */
const char *mc_hnsw_kernel(void);
/* Inner product of two vectors of d floats with that kernel. */
float mc_hnsw_dot(const float *a, const float *b, size_t d);

#ifdef __cplusplus
}
#endif
#endif
