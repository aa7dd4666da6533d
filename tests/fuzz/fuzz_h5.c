/* libFuzzer harness: every HDF5 loader, fed the input as an in-memory file
 * image (HDF5's core driver; mc_h5_use_image), so no file is written: the
 * embeddings loader (with and without a quality and a group key), the
 * streaming importer, the model, k-NN graph and previous-assignment readers,
 * and the dataset listing of `magclust info`. */
#include "fuzz_util.h"
#include "h5_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8) return 0; /* not even a signature */
    mc_h5_use_image(data, size);
    const char *path = "fuzz.h5";

    mc_embeddings_t *e = NULL;
    mc_h5_read_params rp = mc_h5_read_params_default();
    if (mc_embeddings_read_h5(path, &rp, &e) == MC_OK) {
        for (size_t i = 0; i < mc_embeddings_n(e); i++) {
            const char *p = mc_embeddings_path(e, i);
            if (p) (void)strlen(p);
        }
        mc_embeddings_free(e);
    }
    rp.quality_key = "det_score";
    rp.group_key = "photo";
    e = NULL;
    if (mc_embeddings_read_h5(path, &rp, &e) == MC_OK) mc_embeddings_free(e);

    mc_reader_params p = mc_reader_params_default();
    p.format = MC_FMT_H5;
    mc_reader_t *r = NULL;
    if (mc_reader_open(path, &p, &r) == MC_OK) fuzz_drain(r);

    mc_model_t *m = NULL;
    if (mc_model_read_h5(path, &m) == MC_OK) {
        for (size_t i = 0; i < mc_model_n_clusters(m); i++) {
            const char *nm = mc_model_cluster_name(m, i);
            if (nm) (void)strlen(nm);
        }
        for (size_t i = 0; i < mc_model_n_exemplars(m); i++) {
            const char *ep = mc_model_exemplar_path(m, i);
            if (ep) (void)strlen(ep);
        }
        mc_model_free(m);
    }

    mc_knn_graph_t *g = NULL;
    mc_knn_graph_meta meta;
    if (mc_knn_graph_read_h5(path, &g, &meta) == MC_OK) mc_knn_graph_free(g);

    mc_previous_t *prev = NULL;
    if (mc_previous_read_h5(path, &prev) == MC_OK) {
        for (size_t i = 0; i < mc_previous_n(prev); i++) {
            const char *pp = mc_previous_path(prev, i);
            if (pp) (void)strlen(pp);
        }
        mc_previous_free(prev);
    }

    mc_h5_dataset_info *info = NULL;
    size_t ni = 0;
    if (mc_h5_list_datasets(path, &info, &ni) == MC_OK) free(info);

    mc_h5_use_image(NULL, 0);
    /* Every loader must have closed everything it opened, whatever the
     * file: an identifier left open is a leak that LeakSanitizer cannot be
     * relied on to see (HDF5 keeps it reachable). */
    ssize_t open_objs = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_objs != 0) {
        fprintf(stderr, "fuzz_h5: %zd HDF5 objects left open\n", open_objs);
        abort();
    }
    return 0;
}
