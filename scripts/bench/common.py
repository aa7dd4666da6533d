"""Shared pieces of the magclust benchmark: data loading, BCubed F, the FAISS
k-NN graph the graph-based peers use, and /usr/bin/time -v runs.

Debian 12 packages only (python3-numpy, python3-h5py, python3-faiss); run with
/usr/bin/python3 so that a pyenv or virtualenv interpreter does not shadow them.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time

import numpy as np

TIME = "/usr/bin/time"


# ---------------------------------------------------------------- data

def load_h5(path, normalise=True):
    """Return (X, labels) from a magclust HDF5 file: X float32 N x D (unit rows
    when normalise), labels int64 N (-1 = distractor) or None."""
    import h5py
    with h5py.File(path, "r") as f:
        x = np.ascontiguousarray(f["embeddings"][:], dtype=np.float32)
        labels = f["labels"][:].astype(np.int64) if "labels" in f else None
    if normalise:
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, labels


def count_rows(path):
    import h5py
    with h5py.File(path, "r") as f:
        return int(f["embeddings"].shape[0])


# ---------------------------------------------------------------- metrics

def _singletons(labels):
    """Copy of labels where every negative entry becomes a fresh id of its own."""
    out = np.asarray(labels, dtype=np.int64).copy()
    neg = out < 0
    base = out.max(initial=-1) + 1
    out[neg] = base + np.arange(int(neg.sum()), dtype=np.int64)
    return out


def bcubed(pred, truth):
    """Item-averaged BCubed (precision, recall, F) of a clustering.

    A negative label, in the truth (distractor, unknown identity) or in the
    prediction (noise), is a singleton: magclust's convention.
    """
    pred = _singletons(pred)
    truth = _singletons(truth)
    n = pred.size
    if n == 0 or truth.size != n:
        raise ValueError("pred and truth must be non-empty and of one length")
    _, p = np.unique(pred, return_inverse=True)
    _, t = np.unique(truth, return_inverse=True)
    _, joint, n_pt = np.unique(p * (t.max() + 1) + t, return_inverse=True, return_counts=True)
    n_p = np.bincount(p)
    n_t = np.bincount(t)
    both = n_pt[joint].astype(np.float64)   # per item: faces sharing its cluster and identity
    precision = float(np.mean(both / n_p[p]))
    recall = float(np.mean(both / n_t[t]))
    f = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f


def bcubed_f(pred, truth):
    return bcubed(pred, truth)[2]


# ---------------------------------------------------------------- k-NN graph

def faiss_knn(x, k):
    """Exact k-NN by inner product (FAISS IndexFlatIP) on unit rows, itself
    excluded: (ids int64 N x k, sims float32 N x k), most similar first."""
    import faiss
    n, d = x.shape
    index = faiss.IndexFlatIP(d)
    index.add(x)
    sims, ids = index.search(x, k + 1)
    # Drop each row's own id; when duplicates hide it, drop the last column.
    own = ids == np.arange(n)[:, None]
    missing = ~own.any(axis=1)
    own[missing, k] = True
    keep = ~own
    return ids[keep].reshape(n, k), sims[keep].reshape(n, k)


def recall_at(approx_ids, exact_ids, k):
    """Mean fraction of each row's exact k nearest found among the approximate
    graph's first k (ids < 0 are empty slots)."""
    a = approx_ids[:, :k]
    e = exact_ids[:, :k]
    hits = 0
    for lo in range(0, a.shape[0], 65536):
        aa, ee = a[lo:lo + 65536], e[lo:lo + 65536]
        hits += int(((aa[:, :, None] == ee[:, None, :]) & (ee[:, None, :] >= 0)).any(axis=1).sum())
    return hits / float(e.size)


# ---------------------------------------------------------------- timed runs

def parse_time_v(text):
    """(wall seconds, peak RSS KiB, CPU percent) from /usr/bin/time -v's report."""
    wall = rss = cpu = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Percent of CPU this job got"):
            value = line.rsplit(":", 1)[1].strip().rstrip("%")
            cpu = float(value) if value.replace(".", "", 1).isdigit() else None
        elif line.startswith("Elapsed (wall clock) time"):
            parts = [float(p) for p in line.rsplit(" ", 1)[1].split(":")]
            wall = 0.0
            for p in parts:
                wall = wall * 60 + p
        elif line.startswith("Maximum resident set size"):
            rss = int(line.rsplit(":", 1)[1])
    return wall, rss, cpu


def quote(cmd):
    return " ".join(shlex.quote(c) for c in cmd)


class RunFailed(RuntimeError):
    pass


def run(cmd, cwd=None, log=None, timeout=None):
    """Run cmd in a session of its own; on timeout kill that session (the
    command and its children). Return (returncode, stdout, stderr); the
    command and its output are appended to log."""
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        err += "\nkilled after %.0f s (time limit)\n" % timeout
    if log:
        with open(log, "a") as f:
            f.write("$ " + quote(cmd) + "\n" + out + err + "\n")
    return p.returncode, out, err


def run_timed(cmd, cwd=None, log=None, timeout=None):
    """Run cmd under /usr/bin/time -v. Return dict(wall_s, rss_mib, cpu_pct,
    stdout, json (the last JSON object printed on stdout, or None), command); raise
    RunFailed when it fails or runs past timeout seconds."""
    full = [TIME, "-v"] + list(cmd)
    t0 = time.perf_counter()
    code, out, err = run(full, cwd=cwd, log=log, timeout=timeout)
    elapsed = time.perf_counter() - t0
    wall, rss, cpu = parse_time_v(err)
    if code != 0:
        tail = err.split("\tCommand being timed")[0].strip()
        raise RunFailed("exit %d after %.0f s: %s" % (code, elapsed, tail[-600:] or "(no message)"))
    return {
        "command": quote(full),
        "wall_s": wall if wall is not None else elapsed,
        "rss_mib": rss / 1024.0 if rss is not None else float("nan"),
        "cpu_pct": cpu,
        "stdout": out,
        "json": last_json(out),
    }


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    try:
        return json.loads(text)
    except ValueError:
        return None


class Stopwatch:
    """Named phases in seconds, in the order they were recorded."""

    def __init__(self):
        self.seconds = {}
        self._start = time.perf_counter()
        self._last = self._start

    def lap(self, name):
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now

    def total(self):
        self.seconds["total"] = self._last - self._start
        return self.seconds


def eprint(*args):
    print(*args, file=sys.stderr, flush=True)

