/* python_layout: print the size of every public struct the Python package
 * mirrors with ctypes (python/magclust/_lib.py), and each field's offset, as
 * "struct field offset" lines ("struct - size" for the size). The pytest
 * suite compares them with ctypes' own (python/tests/test_layout.py), so a
 * field added to a header and not to _lib.py fails the tests instead of
 * corrupting memory. The status codes follow as "mc_status NAME value"
 * lines (and "mc_status_count - MC_STATUS_COUNT"), checked against _lib's
 * MC_* constants. */
#include <stddef.h>
#include <stdio.h>

#include "magclust/magclust.h"

#define S(T) printf(#T " - %zu\n", sizeof(T))
#define F(T, f) printf(#T " " #f " %zu\n", offsetof(T, f))

int main(void)
{
    S(mc_threshold); F(mc_threshold, kind); F(mc_threshold, value);
    S(mc_knn_params); F(mc_knn_params, k); F(mc_knn_params, block_size);
    F(mc_knn_params, n_threads); F(mc_knn_params, index); F(mc_knn_params, nprobe);
    F(mc_knn_params, ef_search); F(mc_knn_params, train_size); F(mc_knn_params, seed);
    F(mc_knn_params, log); F(mc_knn_params, user_data); F(mc_knn_params, progress);
    F(mc_knn_params, progress_data); F(mc_knn_params, candidates);
    F(mc_knn_params, ef_construction);
    S(mc_knn_info); F(mc_knn_info, index); F(mc_knn_info, exact); F(mc_knn_info, nprobe);
    F(mc_knn_info, ef_search); F(mc_knn_info, ef_construction); F(mc_knn_info, train_size);
    F(mc_knn_info, n_candidates); F(mc_knn_info, scan_frac); F(mc_knn_info, t_train);
    F(mc_knn_info, t_add); F(mc_knn_info, t_search);
    S(mc_calibrate_params); F(mc_calibrate_params, sample_quality);
    F(mc_calibrate_params, max_pairs); F(mc_calibrate_params, seed);
    S(mc_calibration); F(mc_calibration, mean); F(mc_calibration, sd); F(mc_calibration, median);
    F(mc_calibration, mad); F(mc_calibration, nn_median); F(mc_calibration, n_nn);
    F(mc_calibration, n_faces); F(mc_calibration, n_pairs); F(mc_calibration, quality_gate);
    S(mc_quality_check_result); F(mc_quality_check_result, rho); F(mc_quality_check_result, n);
    F(mc_quality_check_result, informative);
    S(mc_threshold_spec); F(mc_threshold_spec, mode); F(mc_threshold_spec, similarity);
    F(mc_threshold_spec, frac); F(mc_threshold_spec, z); F(mc_threshold_spec, ungated_frac);
    F(mc_threshold_spec, attach_frac); F(mc_threshold_spec, attach_z);
    S(mc_map_params); F(mc_map_params, threshold); F(mc_map_params, attach_threshold);
    F(mc_map_params, k); F(mc_map_params, temperature); F(mc_map_params, cut);
    F(mc_map_params, window); F(mc_map_params, flow); F(mc_map_params, teleport);
    F(mc_map_params, trials); F(mc_map_params, seed); F(mc_map_params, core_quality);
    F(mc_map_params, noise_quality); F(mc_map_params, n_threads);
    S(mc_map_info); F(mc_map_info, core_q); F(mc_map_info, noise_q); F(mc_map_info, nodes);
    F(mc_map_info, links); F(mc_map_info, modules); F(mc_map_info, window);
    F(mc_map_info, trials);
    F(mc_map_info, codelength); F(mc_map_info, one_level);
    S(mc_cluster_params); F(mc_cluster_params, algo); F(mc_cluster_params, center);
    F(mc_cluster_params, knn); F(mc_cluster_params, calibrate); F(mc_cluster_params, threshold);
    F(mc_cluster_params, core_quality); F(mc_cluster_params, noise_quality);
    F(mc_cluster_params, quality_use); F(mc_cluster_params, core_slope);
    F(mc_cluster_params, linkage); F(mc_cluster_params, min_samples); F(mc_cluster_params, seed);
    F(mc_cluster_params, min_cluster_size); F(mc_cluster_params, iterations);
    F(mc_cluster_params, map); F(mc_cluster_params, corrections); F(mc_cluster_params, previous);
    F(mc_cluster_params, n_threads); F(mc_cluster_params, progress);
    F(mc_cluster_params, progress_data); F(mc_cluster_params, score);
    F(mc_cluster_params, contested);
    S(mc_corrections_info); F(mc_corrections_info, lines); F(mc_corrections_info, unknown);
    F(mc_corrections_info, named); F(mc_corrections_info, not_named); F(mc_corrections_info, same);
    F(mc_corrections_info, different);
    S(mc_constraint_stats); F(mc_constraint_stats, violations); F(mc_constraint_stats, moved);
    F(mc_constraint_stats, to_noise); F(mc_constraint_stats, gathered);
    F(mc_constraint_stats, new_clusters); F(mc_constraint_stats, unresolved);
    S(mc_carry_stats); F(mc_carry_stats, kept); F(mc_carry_stats, merged); F(mc_carry_stats, split);
    F(mc_carry_stats, added); F(mc_carry_stats, gone); F(mc_carry_stats, carried);
    S(mc_cluster_info); F(mc_cluster_info, algo); F(mc_cluster_info, threshold_mode);
    F(mc_cluster_info, threshold); F(mc_cluster_info, attach_threshold); F(mc_cluster_info, frac);
    F(mc_cluster_info, z); F(mc_cluster_info, frac_ungated); F(mc_cluster_info, calibration);
    F(mc_cluster_info, core_quality); F(mc_cluster_info, noise_quality);
    F(mc_cluster_info, quality_checked); F(mc_cluster_info, quality_check);
    F(mc_cluster_info, calibration_doubts); F(mc_cluster_info, gates_dropped);
    F(mc_cluster_info, core_q); F(mc_cluster_info, noise_q); F(mc_cluster_info, centered);
    F(mc_cluster_info, center_shift); F(mc_cluster_info, k); F(mc_cluster_info, k_asked);
    F(mc_cluster_info, knn); F(mc_cluster_info, graph_given);
    F(mc_cluster_info, constraints_applied); F(mc_cluster_info, photo_pairs);
    F(mc_cluster_info, corrections); F(mc_cluster_info, constraints); F(mc_cluster_info, carry);
    F(mc_cluster_info, previous_found); F(mc_cluster_info, previous_rows);
    F(mc_cluster_info, named_clusters); F(mc_cluster_info, map);
    F(mc_cluster_info, small_clusters); F(mc_cluster_info, small_cluster_faces);
    F(mc_cluster_info, t_prepare); F(mc_cluster_info, t_cluster);
    F(mc_cluster_info, contested);
    S(mc_metrics); F(mc_metrics, bcubed_precision); F(mc_metrics, bcubed_recall);
    F(mc_metrics, bcubed_f); F(mc_metrics, pairwise_precision); F(mc_metrics, pairwise_recall);
    F(mc_metrics, pairwise_f); F(mc_metrics, nmi); F(mc_metrics, n); F(mc_metrics, n_classes);
    F(mc_metrics, n_clusters);
    S(mc_reject_point); F(mc_reject_point, reject_pct); F(mc_reject_point, quality_below);
    F(mc_reject_point, faces); F(mc_reject_point, m);
    S(mc_model_params); F(mc_model_params, threshold); F(mc_model_params, k);
    F(mc_model_params, core_q); F(mc_model_params, noise_q); F(mc_model_params, center);
    F(mc_model_params, algorithm); F(mc_model_params, quality_name); F(mc_model_params, source);
    S(mc_assign_params); F(mc_assign_params, n_threads); F(mc_assign_params, constraints);
    S(mc_assign_stats); F(mc_assign_stats, n_core); F(mc_assign_stats, n_border);
    F(mc_assign_stats, n_unassigned); F(mc_assign_stats, n_noise);
    F(mc_assign_stats, n_new_clusters); F(mc_assign_stats, n_new_clustered);
    F(mc_assign_stats, constraints);
    S(mc_h5_read_params); F(mc_h5_read_params, embeddings_key); F(mc_h5_read_params, labels_key);
    F(mc_h5_read_params, paths_key); F(mc_h5_read_params, quality_key);
    F(mc_h5_read_params, group_key); F(mc_h5_read_params, skip_bad_rows);
    S(mc_reader_params); F(mc_reader_params, format); F(mc_reader_params, h5);
    F(mc_reader_params, label_from_dir); F(mc_reader_params, labels_path);
    F(mc_reader_params, dim); F(mc_reader_params, delimiter);
    F(mc_reader_params, csv_embedding_columns); F(mc_reader_params, csv_quality_columns);
    F(mc_reader_params, csv_ignore_columns); F(mc_reader_params, csv_path_column);
    F(mc_reader_params, csv_label_column); F(mc_reader_params, csv_photo_column);
#define ST(c) printf("mc_status " #c " %d\n", (int)(c))
    ST(MC_OK); ST(MC_ERR_NOMEM); ST(MC_ERR_INVALID_ARG); ST(MC_ERR_IO); ST(MC_ERR_HDF5);
    ST(MC_ERR_FAISS); ST(MC_ERR_DIM_MISMATCH); ST(MC_ERR_BAD_DATA); ST(MC_ERR_CANCELLED);
    printf("mc_status_count - %d\n", MC_STATUS_COUNT);
    return 0;
}
