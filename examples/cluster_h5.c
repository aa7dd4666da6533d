/* Cluster an HDF5 file through the public magclust API and print the result.
 *
 *   example_cluster_h5 faces.h5 [out.csv]
 *
 * Reads /embeddings (and /labels when present), builds the exact k-NN graph,
 * runs quality-aware DBSCAN with the library defaults (quality = magnitude),
 * prints the cluster count and, with labels, BCubed F; writes a CSV if asked. */
#include <stdio.h>
#include <stdlib.h>

#include <magclust/magclust.h>

static int fail(mc_status st)
{
    fprintf(stderr, "example: error: %s: %s\n", mc_strerror(st), mc_last_error_detail());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s faces.h5 [out.csv]\n", argv[0]);
        return 2;
    }
    mc_embeddings_t *e = NULL;
    mc_knn_graph_t *g = NULL;
    mc_clustering_t *c = NULL;
    mc_status st;
    int rc = 1;

    if ((st = mc_embeddings_read_h5(argv[1], NULL, &e)) != MC_OK) return fail(st);
    if ((st = mc_knn_graph_build(e, NULL, &g)) != MC_OK) goto done;
    if ((st = mc_dbscan_run(g, mc_embeddings_quality(e), NULL, &c, NULL, NULL)) != MC_OK) goto done;
    printf("%zu faces, %zu clusters, %zu noise\n", mc_embeddings_n(e), mc_clustering_n_clusters(c),
           mc_clustering_n_noise(c));
    if (mc_embeddings_labels(e)) {
        mc_metrics m;
        if ((st = mc_metrics_compute(mc_embeddings_labels(e), mc_clustering_labels(c),
                                     mc_embeddings_n(e), &m)) != MC_OK)
            goto done;
        printf("BCubed F %.4f\n", m.bcubed_f);
    }
    if (argc == 3 && (st = mc_clustering_write_csv(c, e, argv[2])) != MC_OK) goto done;
    st = MC_OK;
    rc = 0;
done:
    if (st != MC_OK) rc = fail(st);
    mc_clustering_free(c);
    mc_knn_graph_free(g);
    mc_embeddings_free(e);
    return rc;
}
