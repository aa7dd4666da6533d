/* The quality-gated similarity graph shared by the clustering algorithms
 * (dbscan.c, cw.c): the gates resolved against the collection, which faces
 * pass the noise gate, and the symmetric adjacency of the graph edges within
 * a cosine-distance radius. Never installed. */
#ifndef MAGCLUST_QGRAPH_IMPL_H
#define MAGCLUST_QGRAPH_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "magclust/knn.h"
#include "magclust/quality.h"

typedef struct {
    uint32_t j; /* neighbour */
    float s;    /* cosine similarity */
} mc_edge;

typedef struct {
    size_t n;
    double core_q, noise_q; /* resolved gates; -INFINITY when off */
    uint8_t *kept;          /* passes the noise gate */
    uint8_t *core_ok;       /* passes both gates (quality only; density is the algorithm's) */
    size_t *start;          /* row i is adj[start[i] .. start[i] + deg[i]) */
    size_t *deg;
    mc_edge *adj;
} mc_qgraph;

/* Resolves the gates (they need quality unless both are off), then keeps the
 * graph edges between faces that pass the noise gate whose distance
 * 1 - similarity is at most max_dist, read in both directions: each row is
 * sorted by neighbour index, and a pair listed from both ends keeps the
 * larger similarity, so the result does not depend on which direction FAISS
 * rounded higher. On failure everything is freed. */
mc_status mc_qgraph_build(const mc_knn_graph_t *g, const float *quality, const mc_threshold *core,
                          const mc_threshold *noise, double max_dist, int n_threads,
                          mc_qgraph *out);

/* Final labels and roles: a face with core[i] set takes core_label[i]; any
 * other face that passes the noise gate joins the cluster of its most
 * similar core neighbour (ties: the lowest index) as a border face, provided
 * that similarity is at least min_sim, so it never links two clusters; the
 * rest is noise. labels and roles have n. */
void mc_qgraph_attach(const mc_qgraph *q, const uint8_t *core, const int64_t *core_label,
                      double min_sim, int64_t *labels, uint8_t *roles);

void mc_qgraph_free(mc_qgraph *q);

#endif
