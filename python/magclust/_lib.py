"""The shared library, its structs and its errors (private).

Every struct here mirrors one of the public headers field for field; the
test suite checks each offset against the C compiler's (tests/python_layout.c).
"""
import ctypes
import ctypes.util
import os
import pathlib
import sys
import sysconfig

from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int,
                    c_int64, c_size_t, c_uint, c_uint8, c_uint64, c_void_p)

# ---- errors -----------------------------------------------------------------

MC_OK = 0
MC_ERR_NOMEM = 1
MC_ERR_INVALID_ARG = 2
MC_ERR_IO = 3
MC_ERR_HDF5 = 4
MC_ERR_FAISS = 5
MC_ERR_DIM_MISMATCH = 6
MC_ERR_BAD_DATA = 7
MC_ERR_CANCELLED = 8


class MagClustError(Exception):
    """Base of every error the library reports.

    Attributes
    ----------
    status : int
        The library's ``mc_status`` code.
    detail : str
        ``mc_last_error_detail()``: what failed, where.
    """

    status = None
    detail = ""


class InvalidInputError(MagClustError, ValueError):
    """Bad parameters or unusable data (``MC_ERR_INVALID_ARG``,
    ``MC_ERR_BAD_DATA``, ``MC_ERR_DIM_MISMATCH``)."""


class LibraryMemoryError(MagClustError, MemoryError):
    """An allocation failed or would pass the memory limit (``MC_ERR_NOMEM``)."""


class FileError(MagClustError, OSError):
    """A file could not be read or written (``MC_ERR_IO``, ``MC_ERR_HDF5``)."""


class SearchError(MagClustError, RuntimeError):
    """FAISS reported an error (``MC_ERR_FAISS``)."""


class CancelledError(MagClustError, RuntimeError):
    """The call was cancelled by its progress callback (``MC_ERR_CANCELLED``):
    a ``progress`` callable returned a true value. (Ctrl-C raises
    ``KeyboardInterrupt`` instead, and an exception raised by the callback
    is raised itself.)"""


class NotFittedError(ValueError, AttributeError):
    """A fitted attribute or method was used before ``fit()`` (as scikit-learn's)."""


_ERROR_CLASS = {
    MC_ERR_NOMEM: LibraryMemoryError,
    MC_ERR_INVALID_ARG: InvalidInputError,
    MC_ERR_IO: FileError,
    MC_ERR_HDF5: FileError,
    MC_ERR_FAISS: SearchError,
    MC_ERR_DIM_MISMATCH: InvalidInputError,
    MC_ERR_BAD_DATA: InvalidInputError,
    MC_ERR_CANCELLED: CancelledError,
}

# ---- structs (public headers) ---------------------------------------------------

# mc_progress_fn: returns 0 to continue, non-zero to cancel (MC_ERR_CANCELLED)
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_char_p, c_uint64, c_uint64)


class Threshold(Structure):  # quality.h mc_threshold
    _fields_ = [("kind", c_int), ("value", c_double)]


MC_THRESH_OFF, MC_THRESH_ABSOLUTE, MC_THRESH_PERCENTILE = 0, 1, 2


class KnnParams(Structure):  # knn.h mc_knn_params
    _fields_ = [("k", c_size_t), ("block_size", c_size_t), ("n_threads", c_int),
                ("index", c_char_p), ("nprobe", c_size_t), ("ef_search", c_size_t),
                ("train_size", c_size_t), ("seed", c_uint64), ("log", c_void_p),
                ("user_data", c_void_p), ("progress", PROGRESS_FN),
                ("progress_data", c_void_p), ("candidates", c_void_p),
                ("ef_construction", c_size_t)]


class KnnInfo(Structure):  # knn.h mc_knn_info
    _fields_ = [("index", c_char * 64), ("exact", c_int), ("nprobe", c_size_t),
                ("ef_search", c_size_t), ("ef_construction", c_size_t),
                ("train_size", c_size_t), ("n_candidates", c_size_t), ("scan_frac", c_double),
                ("t_train", c_double), ("t_add", c_double), ("t_search", c_double)]


class CalibrateParams(Structure):  # calibrate.h mc_calibrate_params
    _fields_ = [("sample_quality", Threshold), ("max_pairs", c_size_t), ("seed", c_uint64)]


class Calibration(Structure):  # calibrate.h mc_calibration
    _fields_ = [("mean", c_double), ("sd", c_double), ("median", c_double), ("mad", c_double),
                ("nn_median", c_double), ("n_nn", c_size_t), ("n_faces", c_size_t),
                ("n_pairs", c_size_t), ("quality_gate", c_double)]


class QualityCheck(Structure):  # calibrate.h mc_quality_check_result
    _fields_ = [("rho", c_double), ("n", c_size_t), ("informative", c_int)]


class ThresholdSpec(Structure):  # cluster.h mc_threshold_spec
    _fields_ = [("mode", c_int), ("similarity", c_double), ("frac", c_double), ("z", c_double),
                ("ungated_frac", c_double), ("attach_frac", c_double), ("attach_z", c_double)]


MC_THRESHOLD_AUTO, MC_THRESHOLD_FIXED = 0, 1
MC_QUALITY_AUTO, MC_QUALITY_GATE = 0, 1


class MapParams(Structure):  # map.h mc_map_params
    _fields_ = [("threshold", c_double), ("attach_threshold", c_double), ("k", c_size_t),
                ("temperature", c_double), ("cut", c_int), ("window", c_size_t),
                ("flow", c_int), ("teleport", c_double), ("trials", c_size_t),
                ("seed", c_uint64), ("core_quality", Threshold), ("noise_quality", Threshold),
                ("n_threads", c_int)]


class MapInfo(Structure):  # map.h mc_map_info
    _fields_ = [("core_q", c_double), ("noise_q", c_double), ("nodes", c_size_t),
                ("links", c_size_t), ("modules", c_size_t), ("window", c_size_t),
                ("trials", c_size_t), ("codelength", c_double), ("one_level", c_double)]


class ClusterParams(Structure):  # cluster.h mc_cluster_params
    _fields_ = [("algo", c_int), ("center", c_int), ("knn", KnnParams),
                ("calibrate", CalibrateParams), ("threshold", ThresholdSpec),
                ("core_quality", Threshold), ("noise_quality", Threshold),
                ("quality_use", c_int), ("core_slope", c_double), ("linkage", c_int),
                ("min_samples", c_size_t), ("seed", c_uint64), ("min_cluster_size", c_size_t),
                ("iterations", c_size_t), ("map", MapParams), ("corrections", c_char_p),
                ("previous", c_char_p), ("n_threads", c_int), ("progress", PROGRESS_FN),
                ("progress_data", c_void_p), ("score", c_int),
                ("contested", c_int)]


class CorrectionsInfo(Structure):  # constraints.h mc_corrections_info
    _fields_ = [("lines", c_size_t), ("unknown", c_size_t), ("named", c_size_t),
                ("not_named", c_size_t), ("same", c_size_t), ("different", c_size_t)]


class ConstraintStats(Structure):  # constraints.h mc_constraint_stats
    _fields_ = [("violations", c_size_t), ("moved", c_size_t), ("to_noise", c_size_t),
                ("gathered", c_size_t), ("new_clusters", c_size_t), ("unresolved", c_size_t)]


class CarryStats(Structure):  # previous.h mc_carry_stats
    _fields_ = [("kept", c_size_t), ("merged", c_size_t), ("split", c_size_t),
                ("added", c_size_t), ("gone", c_size_t), ("carried", c_size_t)]


class ClusterInfo(Structure):  # cluster.h mc_cluster_info
    _fields_ = [("algo", c_int), ("threshold_mode", c_int), ("threshold", c_double),
                ("attach_threshold", c_double), ("frac", c_double), ("z", c_double),
                ("frac_ungated", c_int), ("calibration", Calibration),
                ("core_quality", Threshold), ("noise_quality", Threshold),
                ("quality_checked", c_int), ("quality_check", QualityCheck),
                ("calibration_doubts", c_uint), ("gates_dropped", c_int),
                ("core_q", c_double), ("noise_q", c_double), ("centered", c_int),
                ("center_shift", c_double), ("k", c_size_t), ("k_asked", c_size_t),
                ("knn", KnnInfo), ("graph_given", c_int), ("constraints_applied", c_int),
                ("photo_pairs", c_size_t), ("corrections", CorrectionsInfo),
                ("constraints", ConstraintStats), ("carry", CarryStats),
                ("previous_found", c_size_t), ("previous_rows", c_size_t),
                ("named_clusters", c_size_t), ("map", MapInfo), ("small_clusters", c_size_t),
                ("small_cluster_faces", c_size_t), ("t_prepare", c_double),
                ("t_cluster", c_double), ("contested", c_size_t)]


class Metrics(Structure):  # metrics.h mc_metrics
    _fields_ = [("bcubed_precision", c_double), ("bcubed_recall", c_double),
                ("bcubed_f", c_double), ("pairwise_precision", c_double),
                ("pairwise_recall", c_double), ("pairwise_f", c_double), ("nmi", c_double),
                ("n", c_size_t), ("n_classes", c_size_t), ("n_clusters", c_size_t)]


class RejectPoint(Structure):  # metrics.h mc_reject_point
    _fields_ = [("reject_pct", c_double), ("quality_below", c_double), ("faces", c_size_t),
                ("m", Metrics)]


class ModelParams(Structure):  # model.h mc_model_params
    _fields_ = [("threshold", c_double), ("k", c_size_t), ("core_q", c_double),
                ("noise_q", c_double), ("center", c_void_p), ("algorithm", c_char_p),
                ("quality_name", c_char_p), ("source", c_char_p)]


class AssignParams(Structure):  # model.h mc_assign_params
    _fields_ = [("n_threads", c_int), ("constraints", c_void_p)]


class AssignStats(Structure):  # model.h mc_assign_stats
    _fields_ = [("n_core", c_size_t), ("n_border", c_size_t), ("n_unassigned", c_size_t),
                ("n_noise", c_size_t), ("n_new_clusters", c_size_t),
                ("n_new_clustered", c_size_t), ("constraints", ConstraintStats)]


class H5ReadParams(Structure):  # embeddings.h mc_h5_read_params
    _fields_ = [("embeddings_key", c_char_p), ("labels_key", c_char_p),
                ("paths_key", c_char_p), ("quality_key", c_char_p), ("group_key", c_char_p),
                ("skip_bad_rows", c_int)]


class ReaderParams(Structure):  # io.h mc_reader_params
    _fields_ = [("format", c_int), ("h5", H5ReadParams), ("label_from_dir", c_int),
                ("labels_path", c_char_p), ("dim", c_size_t), ("delimiter", c_char),
                ("csv_embedding_columns", c_char_p), ("csv_quality_columns", c_char_p),
                ("csv_ignore_columns", c_char_p), ("csv_path_column", c_char_p),
                ("csv_label_column", c_char_p), ("csv_photo_column", c_char_p)]


# The structs the layout test compares with the C compiler's offsets.
LAYOUT = {
    "mc_threshold": Threshold, "mc_knn_params": KnnParams, "mc_knn_info": KnnInfo,
    "mc_calibrate_params": CalibrateParams, "mc_calibration": Calibration,
    "mc_quality_check_result": QualityCheck, "mc_threshold_spec": ThresholdSpec,
    "mc_map_params": MapParams, "mc_map_info": MapInfo, "mc_cluster_params": ClusterParams,
    "mc_corrections_info": CorrectionsInfo, "mc_constraint_stats": ConstraintStats,
    "mc_carry_stats": CarryStats, "mc_cluster_info": ClusterInfo, "mc_metrics": Metrics, "mc_reject_point": RejectPoint,
    "mc_model_params": ModelParams, "mc_assign_params": AssignParams,
    "mc_assign_stats": AssignStats, "mc_h5_read_params": H5ReadParams,
    "mc_reader_params": ReaderParams,
}

# ---- finding and loading the library ------------------------------------------------

_HERE = pathlib.Path(__file__).resolve().parent


def _candidates():
    """Where libmagclust is looked for, in order."""
    env = os.environ.get("MAGCLUST_LIBRARY")
    if env:
        return [env]  # the user's choice: no fallback that would hide a mistake
    out = []
    # the source tree (python/magclust beside CMakeLists.txt): its build trees
    root = _HERE.parent.parent
    if (root / "CMakeLists.txt").exists():
        for build in ("build", "build-release"):
            out.append(str(root / build / "libmagclust.so"))
    # the install prefix: ldconfig's cache, then the usual lib directories
    found = ctypes.util.find_library("magclust")
    if found:
        out.append(found)
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for prefix in (sys.prefix, "/usr/local", "/usr"):
        for libdir in ("lib", "lib64", os.path.join("lib", multiarch) if multiarch else None):
            if libdir:
                out.append(os.path.join(prefix, libdir, "libmagclust.so.0"))
    return list(dict.fromkeys(out))


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            tried.append("%s (%s)" % (path, exc))
    raise ImportError("magclust: libmagclust.so not found; build it (cmake --build build) or "
                      "install it, or set MAGCLUST_LIBRARY to its path. Tried: " +
                      "; ".join(tried))


lib, path = _load()


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


P = c_void_p  # opaque handles
c_int_p = POINTER(c_int)
c_size_p = POINTER(c_size_t)

_fn("mc_strerror", c_char_p, c_int)
_fn("mc_last_error_detail", c_char_p)
_fn("mc_version", c_char_p)
_fn("mc_set_memory_limit", None, c_uint64)
_fn("mc_memory_limit", c_uint64)
# embeddings.h
_fn("mc_embeddings_new", c_int, c_void_p, c_size_t, c_size_t, POINTER(P))
_fn("mc_embeddings_free", None, P)
_fn("mc_embeddings_set_labels", c_int, P, c_void_p)
_fn("mc_embeddings_set_paths", c_int, P, POINTER(c_char_p))
_fn("mc_embeddings_set_quality", c_int, P, c_void_p, c_char_p)
_fn("mc_embeddings_set_groups", c_int, P, c_void_p, c_char_p)
_fn("mc_embeddings_n", c_size_t, P)
_fn("mc_embeddings_dim", c_size_t, P)
_fn("mc_embeddings_directions", P, P)
_fn("mc_embeddings_magnitudes", P, P)
_fn("mc_embeddings_quality", P, P)
_fn("mc_embeddings_quality_name", c_char_p, P)
_fn("mc_embeddings_labels", P, P)
_fn("mc_embeddings_groups", P, P)
_fn("mc_embeddings_path", c_char_p, P, c_size_t)
_fn("mc_embeddings_n_skipped", c_size_t, P)
_fn("mc_embeddings_source_row", c_size_t, P, c_size_t)
_fn("mc_h5_read_params_default", H5ReadParams)
_fn("mc_embeddings_read_h5", c_int, c_char_p, POINTER(H5ReadParams), POINTER(P))
# quality.h
_fn("mc_threshold_parse", c_int, c_char_p, POINTER(Threshold))
_fn("mc_threshold_format", None, POINTER(Threshold), c_char_p, c_size_t)
# io.h
_fn("mc_reader_params_default", ReaderParams)
_fn("mc_format_from_name", c_int, c_char_p)
_fn("mc_format_name", c_char_p, c_int)
_fn("mc_reader_open", c_int, c_char_p, POINTER(ReaderParams), POINTER(P))
_fn("mc_reader_dim", c_size_t, P)
_fn("mc_reader_count", c_uint64, P)
_fn("mc_reader_has_labels", c_int, P)
_fn("mc_reader_has_paths", c_int, P)
_fn("mc_reader_has_photos", c_int, P)
_fn("mc_reader_photos", POINTER(c_char_p), P)
_fn("mc_reader_format", c_int, P)
_fn("mc_reader_next", c_int, P, c_size_t, c_void_p, c_void_p, POINTER(c_char_p), c_size_p)
_fn("mc_reader_label_names", c_size_t, P, POINTER(POINTER(c_char_p)))
_fn("mc_reader_free", None, P)
_fn("mc_reader_extra_names", c_size_t, P, POINTER(POINTER(c_char_p)))
_fn("mc_reader_extras", P, P)
# knn.h
_fn("mc_knn_params_default", KnnParams)
_fn("mc_knn_graph_build_ex", c_int, P, POINTER(KnnParams), POINTER(P), POINTER(KnnInfo))
_fn("mc_knn_graph_free", None, P)
_fn("mc_knn_graph_n", c_size_t, P)
_fn("mc_knn_graph_k", c_size_t, P)
_fn("mc_knn_graph_ids", P, P)
_fn("mc_knn_graph_sims", P, P)
# cluster.h
_fn("mc_algo_parse", c_int, c_char_p, c_int_p)
_fn("mc_algo_name", c_char_p, c_int)
_fn("mc_linkage_parse", c_int, c_char_p, c_int_p)
_fn("mc_cluster_params_default", ClusterParams, c_int)
_fn("mc_cluster_run", c_int, P, P, POINTER(ClusterParams), POINTER(P))
_fn("mc_cluster_result_free", None, P)
_fn("mc_cluster_result_clustering", P, P)
_fn("mc_cluster_result_info", POINTER(ClusterInfo), P)
_fn("mc_cluster_result_model_params", ModelParams, P, P, c_char_p)
_fn("mc_cluster_result_center", P, P)
# clustering.h
_fn("mc_clustering_free", None, P)
_fn("mc_clustering_n", c_size_t, P)
_fn("mc_clustering_n_clusters", c_size_t, P)
_fn("mc_clustering_labels", P, P)
_fn("mc_clustering_roles", P, P)
_fn("mc_clustering_similarities", P, P)
_fn("mc_clustering_margins", P, P)
_fn("mc_clustering_representative", c_int64, P, c_int64)
_fn("mc_clustering_name", c_char_p, P, c_int64)
_fn("mc_clustering_has_names", c_int, P)
_fn("mc_clustering_write_csv", c_int, P, P, c_char_p)
# model.h
_fn("mc_model_build", c_int, P, P, POINTER(ModelParams), POINTER(P))
_fn("mc_model_write_h5", c_int, P, c_char_p)
_fn("mc_model_read_h5", c_int, c_char_p, POINTER(P))
_fn("mc_model_free", None, P)
_fn("mc_model_dim", c_size_t, P)
_fn("mc_model_n_clusters", c_size_t, P)
_fn("mc_model_n_exemplars", c_size_t, P)
_fn("mc_model_threshold", c_double, P)
_fn("mc_model_core_q", c_double, P)
_fn("mc_model_noise_q", c_double, P)
_fn("mc_model_algorithm", c_char_p, P)
_fn("mc_model_quality_name", c_char_p, P)
_fn("mc_assign_params_default", AssignParams)
_fn("mc_model_assign", c_int, P, P, POINTER(AssignParams), POINTER(P), POINTER(AssignStats))
_fn("mc_model_update", c_int, P, P, POINTER(AssignParams), POINTER(P), POINTER(AssignStats))
# metrics.h
_fn("mc_model_constraints_new", c_int, P, P, c_char_p, POINTER(P), POINTER(CorrectionsInfo))
_fn("mc_constraints_free", None, P)
_fn("mc_model_cluster_size", c_size_t, P, c_size_t)
_fn("mc_model_exemplar_clusters", P, P)
_fn("mc_metrics_compute", c_int, c_void_p, c_void_p, c_size_t, POINTER(Metrics))
_fn("mc_reject_curve_points", c_size_t, c_double, c_double)
_fn("mc_reject_curve", c_int, c_void_p, c_void_p, c_void_p, c_size_t, c_double, c_double,
    POINTER(RejectPoint))


def check(status):
    """Raise the Python exception of a failed call, with the library's message."""
    if status == MC_OK:
        return
    name = lib.mc_strerror(status).decode("utf-8", "replace")
    detail = lib.mc_last_error_detail().decode("utf-8", "replace")
    cls = _ERROR_CLASS.get(status, MagClustError)
    # one argument only: OSError reads (errno, strerror, filename) from three
    err = cls("%s: %s" % (name, detail) if detail else name)
    err.status = status
    err.detail = detail
    raise err


def text(b):
    """A C string the library owns, as str (None for NULL)."""
    return None if b is None else b.decode("utf-8", "surrogateescape")


def cstr(s):
    """str (or path-like) to the bytes a C string parameter takes; None stays NULL."""
    if s is None:
        return None
    return os.fsencode(s) if isinstance(s, os.PathLike) else str(s).encode("utf-8", "surrogateescape")
