"""magclust: quality-aware clustering of face embeddings, from Python.

A thin ``ctypes`` layer over libmagclust: the library does all the work
(``mc_cluster_run``, the recipe of ``magclust cluster``); this package turns
NumPy arrays into its inputs and its results into NumPy arrays.

>>> import magclust
>>> faces = magclust.read("datasets/sample.h5")
>>> mc = magclust.MagClust().fit(faces.X)          # as `magclust cluster`
>>> magclust.metrics.bcubed(faces.labels, mc.labels_)
"""
from . import metrics
from ._lib import (CancelledError, FileError, InvalidInputError, LibraryMemoryError,
                   MagClustError, NotFittedError, SearchError, lib as _clib,
                   path as library_path)
from .cluster import BORDER, CORE, NOISE, ROLES, UNASSIGNED, MagClust
from .io import Faces, read
from .knn import knn_graph
from .model import Model

__version__ = _clib.mc_version().decode()


def set_memory_limit(nbytes):
    """Cap what the library sets out to allocate for data an input states
    the size of (an HDF5 or .npy header's N x D, a model's faces), for the
    calling thread; a larger request raises MemoryError before allocating.
    0 (the default) means the memory available (``mc_set_memory_limit``)."""
    _clib.mc_set_memory_limit(int(nbytes))


def memory_limit():
    """The calling thread's cap in bytes (``mc_memory_limit``)."""
    return int(_clib.mc_memory_limit())

__all__ = ["MagClust", "Model", "Faces", "read", "knn_graph", "metrics", "ROLES", "CORE",
           "BORDER", "NOISE", "UNASSIGNED", "MagClustError", "InvalidInputError",
           "LibraryMemoryError", "FileError", "SearchError", "CancelledError", "NotFittedError",
           "library_path", "set_memory_limit", "memory_limit", "__version__"]
