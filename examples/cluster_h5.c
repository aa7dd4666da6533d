/* Cluster an HDF5 file through the public magclust API, exactly as
 * `magclust cluster IN.h5 -o OUT.csv` does, and print the result.
 *
 *   example_cluster_h5 faces.h5 [out.csv] [--algo A] [--photo-key NAME]
 *                      [--corrections FILE] [--previous OLD.csv]
 *
 * Reads /embeddings (and /labels, /paths when present), runs the library's
 * recipe with its defaults (mc_cluster_run: centring, exact k-NN graph,
 * label-free threshold, quality gates, the algorithm, the constraints),
 * prints what it chose and, with labels, BCubed F; writes the CSV if asked.
 * Its CSV is byte for byte the CLI's (ctest example_cluster_h5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magclust/magclust.h>

static int fail(mc_status st)
{
    fprintf(stderr, "example: error: %s: %s\n", mc_strerror(st), mc_last_error_detail());
    return 1;
}

int main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    mc_h5_read_params rp = mc_h5_read_params_default();
    mc_algo algo = MC_ALGO_DEFAULT; /* what magclust cluster runs: map */
    const char *corrections = NULL, *previous = NULL;
    for (int i = 1; i < argc; i++) {
        int has_value = i + 1 < argc;
        if (strcmp(argv[i], "--algo") == 0 && has_value) {
            if (mc_algo_parse(argv[++i], &algo) != MC_OK) return fail(MC_ERR_INVALID_ARG);
        } else if (strcmp(argv[i], "--photo-key") == 0 && has_value) {
            rp.group_key = argv[++i];
        } else if (strcmp(argv[i], "--corrections") == 0 && has_value) {
            corrections = argv[++i];
        } else if (strcmp(argv[i], "--previous") == 0 && has_value) {
            previous = argv[++i];
        } else if (argv[i][0] != '-' && !in) {
            in = argv[i];
        } else if (argv[i][0] != '-' && !out) {
            out = argv[i];
        } else {
            in = NULL;
            break;
        }
    }
    if (!in) {
        fprintf(stderr, "usage: %s faces.h5 [out.csv] [--algo A] [--photo-key NAME] "
                        "[--corrections FILE] [--previous OLD.csv]\n", argv[0]);
        return 2;
    }
    mc_embeddings_t *e = NULL;
    mc_cluster_result_t *r = NULL;
    mc_status st;
    int rc = 1;

    if ((st = mc_embeddings_read_h5(in, &rp, &e)) != MC_OK) return fail(st);
    mc_cluster_params p = mc_cluster_params_default(algo);
    p.corrections = corrections;
    p.previous = previous;
    if ((st = mc_cluster_run(e, NULL, &p, &r)) != MC_OK) goto done;
    const mc_clustering_t *c = mc_cluster_result_clustering(r);
    const mc_cluster_info *info = mc_cluster_result_info(r);
    printf("%zu faces, %s at similarity %.4f (chosen from the data), %zu clusters, %zu noise\n",
           mc_embeddings_n(e), mc_algo_name(info->algo), info->threshold,
           mc_clustering_n_clusters(c), mc_clustering_n_noise(c));
    if (mc_embeddings_labels(e)) {
        mc_metrics m;
        if ((st = mc_metrics_compute(mc_embeddings_labels(e), mc_clustering_labels(c),
                                     mc_embeddings_n(e), &m)) != MC_OK)
            goto done;
        printf("BCubed F %.4f\n", m.bcubed_f);
    }
    if (out && (st = mc_clustering_write_csv(c, e, out)) != MC_OK) goto done;
    st = MC_OK;
    rc = 0;
done:
    if (st != MC_OK) rc = fail(st);
    mc_cluster_result_free(r);
    mc_embeddings_free(e);
    return rc;
}
