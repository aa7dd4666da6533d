#!/usr/bin/python3
"""The peers magclust is compared with, one parameter each.

  peers.py tune PEER FILE.h5 [--work DIR]            best BCubed F over the peer's grid (uses the labels)
  peers.py run  PEER FILE.h5 --param P [--work DIR]  one run at P; one JSON line with the phase seconds and F

Every peer clusters the L2-normalised embeddings (no centring, no quality).
A peer has two steps: prepare (what does not depend on the parameter, e.g. the
k-NN graph) and cluster (at one parameter value). `tune` prepares once and
clusters at every grid value; `run` times both. bench.py runs `run` under
/usr/bin/time -v for the wall time and peak RSS.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DLIB_CW = os.path.join(HERE, "..", "..", "build", "bench", "dlib_cw")
K = 30            # neighbours of the graph-based peers, as magclust's default k
MIN_SAMPLES = 3   # DBSCAN peers: as magclust's default --min-samples


def grid(lo, hi, step):
    return [round(v, 4) for v in np.arange(lo, hi + step / 2, step)]


class Peer:
    """A peer: name, what its parameter means, the tuning grid, and how its
    cost grows with N (exponents of time and peak memory, for skipping sizes
    that would be too slow or too big)."""
    name = ""
    title = ""
    param = ""
    grid = []
    time_exp = 2.0
    rss_exp = 1.0
    prepare_phase = None   # name of the timed phase prepare() is, if it does work

    def static_skip(self, n):
        """A reason not to run at n known before running anything, or None."""
        return None

    def prepare(self, x, work):
        return x

    def cluster(self, state, value, work):
        raise NotImplementedError


class SkDbscan(Peer):
    name = "sk-dbscan"
    title = "sklearn DBSCAN (cosine, brute)"
    param = "eps"
    grid = grid(0.25, 0.58, 0.03)

    def cluster(self, x, value, work):
        from sklearn.cluster import DBSCAN
        return DBSCAN(eps=value, min_samples=MIN_SAMPLES, metric="cosine", algorithm="brute").fit_predict(x)


class SkAverage(Peer):
    name = "sk-average"
    title = "sklearn average linkage (cosine)"
    param = "distance_threshold"
    grid = grid(0.50, 0.94, 0.04)

    def static_skip(self, n):
        # scipy's linkage, which sklearn calls here, holds the condensed
        # N(N-1)/2 float64 distance matrix plus a working copy.
        need = 2 * 8 * n * (n - 1) / 2
        if need > 16 * 2**30:
            return "the dense distance matrix alone needs %.0f GiB" % (need / 2**30)
        return None

    def cluster(self, x, value, work):
        from sklearn.cluster import AgglomerativeClustering
        model = AgglomerativeClustering(n_clusters=None, distance_threshold=value,
                                        linkage="average", metric="cosine")
        return model.fit_predict(x)


class FaissGraphPeer(Peer):
    """Peers on FAISS-python's exact 30-NN graph (IndexFlatIP, itself excluded)."""
    prepare_phase = "knn"

    def prepare(self, x, work):
        return common.faiss_knn(x, K)


class FaissDbscan(FaissGraphPeer):
    name = "faiss-dbscan"
    title = "FAISS 30-NN + sklearn DBSCAN (precomputed)"
    param = "eps"
    grid = grid(0.25, 0.58, 0.03)

    def cluster(self, graph, value, work):
        from scipy import sparse
        from sklearn.cluster import DBSCAN
        from sklearn.neighbors import sort_graph_by_row_values
        ids, sims = graph
        n, k = ids.shape
        rows = np.repeat(np.arange(n, dtype=np.int64), k)
        cols = ids.ravel()
        dist = np.clip(1.0 - sims.ravel().astype(np.float64), 0.0, None)
        ok = cols >= 0
        # A distance matrix is symmetric: an edge found from either end counts.
        r = np.concatenate([rows[ok], cols[ok]])
        c = np.concatenate([cols[ok], rows[ok]])
        d = np.concatenate([dist[ok], dist[ok]])
        _, first = np.unique(r * n + c, return_index=True)
        g = sparse.csr_matrix((d[first], (r[first], c[first])), shape=(n, n))
        g = sort_graph_by_row_values(g, warn_when_not_sorted=False)
        return DBSCAN(eps=value, min_samples=MIN_SAMPLES, metric="precomputed").fit_predict(g)


class DlibCw(FaissGraphPeer):
    name = "dlib-cw"
    title = "FAISS 30-NN + dlib Chinese whispers"
    param = "similarity"
    grid = grid(0.35, 0.68, 0.03)
    binary = DEFAULT_DLIB_CW

    def cluster(self, graph, value, work):
        ids, sims = graph
        n, k = ids.shape
        a = np.repeat(np.arange(n, dtype=np.int64), k)
        b = ids.ravel()
        keep = (b >= 0) & (b != a) & (sims.ravel() > value)
        lo = np.minimum(a[keep], b[keep])
        hi = np.maximum(a[keep], b[keep])
        pairs = np.unique(lo * n + hi)   # one undirected edge per pair
        edges_path = os.path.join(work, "dlib-cw-edges-%d.bin" % os.getpid())
        labels_path = os.path.join(work, "dlib-cw-labels-%d.bin" % os.getpid())
        with open(edges_path, "wb") as f:
            np.array([n, pairs.size], dtype="<i8").tofile(f)
            (pairs // n).astype("<i8").tofile(f)
            (pairs % n).astype("<i8").tofile(f)
        try:
            out = subprocess.run([self.binary, edges_path, labels_path], check=True,
                                 capture_output=True, text=True).stdout
            self.last_report = common.last_json(out)
            return np.fromfile(labels_path, dtype="<i8")
        finally:
            for p in (edges_path, labels_path):
                if os.path.exists(p):
                    os.remove(p)


PEERS = {p.name: p for p in (SkDbscan(), SkAverage(), FaissDbscan(), DlibCw())}


def n_clusters(labels):
    return int(np.unique(labels[labels >= 0]).size)


def tune(peer, path, work):
    """Best BCubed F over peer.grid on path (the labels choose: oracle tuning)."""
    x, truth = common.load_h5(path)
    state = peer.prepare(x, work)
    scores = []
    for value in peer.grid:
        f = common.bcubed_f(peer.cluster(state, value, work), truth)
        scores.append([value, round(f, 6)])
        common.eprint("  %s %s=%g: BCubed F %.4f" % (peer.name, peer.param, value, f))
    best = max(scores, key=lambda s: s[1])
    edge = best[0] in (peer.grid[0], peer.grid[-1])
    return {"peer": peer.name, "file": path, "param_name": peer.param, "param": best[0],
            "bcubed_f": best[1], "grid": scores, "best_on_grid_edge": edge}


def run(peer, path, value, work):
    watch = common.Stopwatch()
    x, truth = common.load_h5(path)
    watch.lap("load")
    state = peer.prepare(x, work)
    if peer.prepare_phase:
        watch.lap(peer.prepare_phase)
    labels = peer.cluster(state, value, work)
    watch.lap("cluster")
    seconds = watch.total()
    report = getattr(peer, "last_report", None)
    if report:
        seconds["dlib_cw"] = report["seconds"]["cw"]
    return {"peer": peer.name, "faces": int(x.shape[0]), "param_name": peer.param, "param": value,
            "seconds": seconds, "clusters": n_clusters(labels),
            "bcubed_f": common.bcubed_f(labels, truth)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["tune", "run"])
    ap.add_argument("peer", choices=sorted(PEERS))
    ap.add_argument("file")
    ap.add_argument("--param", type=float, help="the peer's parameter (run)")
    ap.add_argument("--work", default="/tmp/magclust-bench", help="scratch directory (dlib-cw's edge files)")
    ap.add_argument("--dlib-cw", default=DEFAULT_DLIB_CW, help="the compiled dlib_cw.cpp")
    args = ap.parse_args(argv)
    peer = PEERS[args.peer]
    DlibCw.binary = args.dlib_cw
    os.makedirs(args.work, exist_ok=True)
    if args.action == "tune":
        result = tune(peer, args.file, args.work)
    else:
        if args.param is None:
            ap.error("run needs --param")
        result = run(peer, args.file, args.param, args.work)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
