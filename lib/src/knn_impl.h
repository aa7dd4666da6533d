/* Library-internal access to a k-NN graph's storage, for code that fills a
 * graph in place (the graph-file reader) instead of copying arrays in. */
#ifndef MAGCLUST_KNN_IMPL_H
#define MAGCLUST_KNN_IMPL_H

#include "magclust/knn.h"

/* A graph of n rows of k entries, contents uninitialised. */
mc_status mc_knn_graph_alloc(size_t n, size_t k, mc_knn_graph_t **out);
int64_t *mc_knn_graph_ids_mut(mc_knn_graph_t *g);
float *mc_knn_graph_sims_mut(mc_knn_graph_t *g);
/* Check every id is in [-1, n) and every neighbour's similarity is finite
 * (MC_ERR_BAD_DATA naming the first bad row otherwise), set the similarity
 * of absent (-1) entries to -inf, and put each row in the canonical order. */
mc_status mc_knn_graph_finish(mc_knn_graph_t *g);

#endif
