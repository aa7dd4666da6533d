/**
 * @file magclust.h
 * @brief Umbrella header: the whole magclust public API.
 *
 * @code
 * #include <magclust/magclust.h>
 * mc_embeddings_t *e = NULL; mc_cluster_result_t *r = NULL;
 * mc_embeddings_read_h5("faces.h5", NULL, &e);
 * mc_cluster_params p = mc_cluster_params_default(MC_ALGO_DEFAULT);
 * mc_cluster_run(e, NULL, &p, &r);        // what `magclust cluster` does
 * mc_clustering_write_csv(mc_cluster_result_clustering(r), e, "clusters.csv");
 * mc_cluster_result_free(r); mc_embeddings_free(e);
 * @endcode
 * (Check every mc_status in real code.)
 */
#ifndef MAGCLUST_MAGCLUST_H
#define MAGCLUST_MAGCLUST_H

#include "calibrate.h"
#include "cluster.h"
#include "clustering.h"
#include "constraints.h"
#include "cw.h"
#include "dbscan.h"
#include "embeddings.h"
#include "io.h"
#include "knn.h"
#include "knn_io.h"
#include "knn_shard.h"
#include "linkage.h"
#include "map.h"
#include "model.h"
#include "output.h"
#include "previous.h"
#include "metrics.h"
#include "quality.h"
#include "status.h"
#include "synth.h"

#endif
