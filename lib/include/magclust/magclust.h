/**
 * @file magclust.h
 * @brief Umbrella header: the whole magclust public API.
 *
 * @code
 * #include <magclust/magclust.h>
 * mc_embeddings_t *e = NULL; mc_knn_graph_t *g = NULL; mc_clustering_t *c = NULL;
 * mc_embeddings_read_h5("faces.h5", NULL, &e);
 * mc_knn_graph_build(e, NULL, &g);
 * mc_dbscan_run(g, mc_embeddings_quality(e), NULL, &c, NULL, NULL);
 * mc_clustering_write_csv(c, e, "clusters.csv");
 * mc_clustering_free(c); mc_knn_graph_free(g); mc_embeddings_free(e);
 * @endcode
 * (Check every mc_status in real code.)
 */
#ifndef MAGCLUST_MAGCLUST_H
#define MAGCLUST_MAGCLUST_H

#include "calibrate.h"
#include "clustering.h"
#include "constraints.h"
#include "cw.h"
#include "dbscan.h"
#include "embeddings.h"
#include "io.h"
#include "knn.h"
#include "knn_io.h"
#include "linkage.h"
#include "model.h"
#include "previous.h"
#include "metrics.h"
#include "quality.h"
#include "status.h"
#include "synth.h"

#endif
