"""Reading embedding files (every format ``magclust import`` reads)."""
import ctypes
import os

import numpy as np

from . import _lib
from ._faces import c_array
from ._lib import check, cstr, lib, text

_FORMATS = ("h5", "magface", "l2c", "npy", "csv")


class Faces:
    """The faces of one file, as :func:`read` returns them.

    Attributes
    ----------
    X : ndarray of float32, shape (n_faces, n_dims)
        The raw embeddings as stored (their norms are the magnitudes).
    labels : ndarray of int64 or None
        Identities (negative: unknown).
    label_names : list of str or None
        ``label_names[i]`` names identity i when the file named them.
    paths : list of str or None
    photo : ndarray of int64 or None
        Photo group of each face, 0.. (-1: none).
    quality : ndarray of float32 or None
        The quality dataset asked for (``quality_key``).
    quality_name : str or None
    extras : dict of str to ndarray
        CSV: the per-face number columns (det_score, ...).
    format : str
        The format read.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __len__(self):
        return self.X.shape[0]

    def __repr__(self):
        return "<magclust.Faces %d x %d from %s%s%s%s>" % (
            self.X.shape[0], self.X.shape[1], self.format,
            ", labels" if self.labels is not None else "",
            ", paths" if self.paths is not None else "",
            ", photos" if self.photo is not None else "")


def _photo_codes(strings):
    ids = np.empty(len(strings), dtype=np.int64)
    seen = {}
    for i, s in enumerate(strings):
        ids[i] = -1 if not s else seen.setdefault(s, len(seen))
    return ids


def read(path, format=None, quality_key=None, photo_key=None, embeddings_key=None,
         labels_key=None, paths_key=None, labels_path=None, label_from_dir=False, dim=None,
         block=8192):
    """Read an embeddings file: HDF5 (the magclust schema), MagFace's
    feature list, learn-to-cluster's .bin, NumPy .npy or CSV.

    Parameters
    ----------
    path : str or path-like
    format : {"h5", "magface", "l2c", "npy", "csv"}, optional
        Default: from the extension.
    quality_key : str, optional
        HDF5: the dataset holding the quality (``--quality-key``); CSV: the
        quality column to return as ``quality``.
    photo_key : str, optional
        HDF5: the dataset naming each face's photo (``--photo-key``); CSV
        files give it by a photo column.
    embeddings_key, labels_key, paths_key : str, optional
        HDF5 dataset names (default embeddings, labels, paths).
    labels_path : str, optional
        MagFace/NPY/L2C: labels in a separate file.
    label_from_dir : bool
        MagFace/CSV: the identity is the path's parent folder.
    dim : int, optional
        L2C: the dimension (required there).

    Returns
    -------
    Faces

    Raises
    ------
    OSError
        The file is missing or unreadable (HDF5 errors included).
    ValueError
        Malformed contents (the message names the line or row).
    """
    fpath = cstr(os.fspath(path))
    rp = lib.mc_reader_params_default()
    if format is not None:
        if format not in _FORMATS:
            raise ValueError("format must be one of %s, got %r" % (", ".join(_FORMATS), format))
        rp.format = lib.mc_format_from_name(cstr(format))
    h5 = rp.h5
    for field, value in (("embeddings_key", embeddings_key), ("labels_key", labels_key),
                         ("paths_key", paths_key)):
        if value is not None:
            setattr(h5, field, cstr(value))
    rp.h5 = h5
    rp.labels_path = cstr(labels_path)
    rp.label_from_dir = 1 if label_from_dir else 0
    if dim is not None:
        rp.dim = int(dim)
    r = ctypes.c_void_p()
    check(lib.mc_reader_open(fpath, ctypes.byref(rp), ctypes.byref(r)))
    try:
        fmt = text(lib.mc_format_name(lib.mc_reader_format(r)))
        d = int(lib.mc_reader_dim(r))
        count = int(lib.mc_reader_count(r))
        has_labels = bool(lib.mc_reader_has_labels(r))
        has_paths = bool(lib.mc_reader_has_paths(r))
        has_photos = bool(lib.mc_reader_has_photos(r))
        names_p = ctypes.POINTER(ctypes.c_char_p)()
        n_extra = int(lib.mc_reader_extra_names(r, ctypes.byref(names_p)))
        extra_names = [text(names_p[i]) for i in range(n_extra)]
        chunks, lab_chunks, paths, photos, extra_chunks = [], [], [], [], []
        X = np.empty((count, d), dtype=np.float32) if count else None
        pos = 0
        while True:
            want = min(block, count - pos) if count else block
            if count and want == 0:
                break
            rows = X[pos:pos + want] if count else np.empty((want, d), dtype=np.float32)
            lab = np.empty(want, dtype=np.int64) if has_labels else None
            pp = (ctypes.c_char_p * want)() if has_paths else None
            got = ctypes.c_size_t()
            check(lib.mc_reader_next(r, want, rows.ctypes.data,
                                     lab.ctypes.data if lab is not None else None, pp,
                                     ctypes.byref(got)))
            g = got.value
            if g == 0:
                break
            if not count:
                chunks.append(rows[:g].copy())
            if lab is not None:
                lab_chunks.append(lab[:g])
            if pp is not None:
                paths.extend(text(pp[i]) for i in range(g))
            if has_photos:
                ph = lib.mc_reader_photos(r)
                photos.extend(text(ph[i]) for i in range(g))
            if n_extra:
                extra_chunks.append(c_array(lib.mc_reader_extras(r), g * n_extra,
                                            np.float32).reshape(g, n_extra))
            pos += g
        if count:
            X = X[:pos]
        else:
            X = np.concatenate(chunks) if chunks else np.empty((0, d), dtype=np.float32)
        ln_p = ctypes.POINTER(ctypes.c_char_p)()
        n_names = int(lib.mc_reader_label_names(r, ctypes.byref(ln_p)))
        label_names = [text(ln_p[i]) for i in range(n_names)] or None
    finally:
        lib.mc_reader_free(r)
    extras = {}
    if extra_chunks:
        allx = np.concatenate(extra_chunks)
        extras = {name: np.ascontiguousarray(allx[:, i]) for i, name in enumerate(extra_names)}
    faces = Faces(X=X, labels=np.concatenate(lab_chunks) if lab_chunks else None,
                  label_names=label_names, paths=paths if has_paths else None,
                  photo=_photo_codes(photos) if has_photos else None, quality=None,
                  quality_name=None, extras=extras, format=fmt)
    if quality_key is not None and fmt != "h5":
        if quality_key not in extras:
            raise ValueError("%s has no quality column %r (it has: %s)"
                             % (path, quality_key, ", ".join(extras) or "none"))
        faces.quality, faces.quality_name = extras[quality_key], quality_key
    if fmt == "h5" and (quality_key is not None or photo_key is not None):
        # the library's own reader, for what the streaming one does not carry
        rp.h5.quality_key = cstr(quality_key)
        rp.h5.group_key = cstr(photo_key)
        e = ctypes.c_void_p()
        check(lib.mc_embeddings_read_h5(fpath, ctypes.byref(rp.h5), ctypes.byref(e)))
        try:
            n = int(lib.mc_embeddings_n(e))
            if quality_key is not None:
                faces.quality = c_array(lib.mc_embeddings_quality(e), n, np.float32)
                faces.quality_name = text(lib.mc_embeddings_quality_name(e))
            if photo_key is not None:
                faces.photo = c_array(lib.mc_embeddings_groups(e), n, np.int64)
        finally:
            lib.mc_embeddings_free(e)
    elif photo_key is not None and fmt != "h5":
        raise ValueError("photo_key applies to HDF5 files; a CSV file gives the photo by a "
                         "photo column")
    return faces


