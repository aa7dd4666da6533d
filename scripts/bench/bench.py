#!/usr/bin/python3
"""The measurements of scripts/bench/bench.sh (which builds what they need and
then runs this): synthetic sets, magclust, the peers, the GEMM rate, the
approximate-index recall, then results.md, results.json and time_vs_n.svg.

Every figure is printed with the command that produced it.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import common  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402

DIM = 512
SEED = 1
TUNE_SIZE = 10000          # the set every peer is tuned on
ZIPF, MAX_SIZE, MIN_SIZE, DISTRACTORS = 0.6, 110, 5, 0.05   # magclust synth's defaults
PYTHON = "/usr/bin/python3"


def say(*args):
    print(*args, flush=True)


class Bench:
    def __init__(self, args):
        self.args = args
        self.magclust = args.magclust
        self.sets = {}
        self.runs, self.skips, self.tuning = [], [], []
        self.gemm, self.rates, self.recall, self.notes = [], [], [], []
        self.commands = list(args.prior_commands)
        self.log = os.path.join(args.work, "bench.log")
        self.help = {c: self.help_text(c) for c in ("", "cluster", "knn")}
        self.fingerprint = self.binary_sha256()

    # ------------------------------------------------------------ helpers

    def help_text(self, command):
        cmd = [self.magclust] + ([command] if command else []) + ["--help"]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        return r.stdout + r.stderr if r.returncode == 0 else ""

    def binary_sha256(self):
        with open(os.path.join(ROOT, self.magclust), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def has_command(self, name):
        return any(line.split()[:1] == [name] for line in self.help[""].splitlines() if line.startswith("  "))

    def timed(self, cmd, timeout=None):
        self.commands.append(common.quote([common.TIME, "-v"] + cmd))
        return common.run_timed(cmd, cwd=ROOT, log=self.log, timeout=timeout)

    def plain(self, cmd):
        self.commands.append(common.quote(cmd))
        code, out, err = common.run(cmd, cwd=ROOT, log=self.log)
        if code != 0:
            raise common.RunFailed("exit %d: %s\n%s" % (code, common.quote(cmd), err[-2000:]))
        return out

    def record(self, tool, title, setting, n, timed, summary, extra=None):
        rec = {"tool": tool, "title": title, "setting": setting, "n": n,
               "wall_s": timed["wall_s"], "rss_mib": timed["rss_mib"], "cpu_pct": timed["cpu_pct"],
               "seconds": summary.get("seconds", {}), "bcubed_f": summary["bcubed_f"],
               "command": timed["command"]}
        rec.update(extra or {})
        self.runs.append(rec)
        say("  %s N=%s: wall %s s (CPU %s), peak RSS %.0f MiB, BCubed F %.4f" % (
            title, report.fmt_n(n), report.fmt_s(rec["wall_s"]), report.fmt_pct(rec["cpu_pct"]),
            rec["rss_mib"], rec["bcubed_f"]))
        say("    phases: %s" % report.fmt_phases(rec["seconds"]))
        say("    command: %s" % rec["command"])
        return rec

    def skip(self, tool, title, n, reason):
        self.skips.append({"tool": tool, "title": title, "n": n, "reason": reason})
        say("  %s N=%s: skipped: %s" % (title, report.fmt_n(n), reason))

    # ------------------------------------------------------------ data

    @staticmethod
    def faces_for_ids(ids):
        i = np.arange(ids, dtype=np.float64)
        sizes = np.maximum(MIN_SIZE, np.floor(MAX_SIZE / (i + 1) ** ZIPF + 0.5))   # C round()
        faces = int(sizes.sum())
        return faces + int(math.floor(DISTRACTORS * faces + 0.5))

    @classmethod
    def ids_for(cls, target):
        """The smallest --ids whose collection has at least target faces."""
        lo, hi = 1, 1
        while cls.faces_for_ids(hi) < target:
            hi *= 2
        while lo < hi:
            mid = (lo + hi) // 2
            if cls.faces_for_ids(mid) < target:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def dataset(self, target):
        """(N, path) of the synthetic set of about target faces, made once."""
        if target not in self.sets:
            self.sets[target] = self.make_dataset(target)
        return self.sets[target]

    def make_dataset(self, target):
        ids = self.ids_for(target)
        st = self.args.structure
        # the structure is in the cached file's name: the two models never share a file
        path = os.path.join(self.args.work, "synth-ids%d-d%d-s%d%s.h5" % (
            ids, DIM, SEED, "" if st == "isotropic" else "-" + st))
        cmd = [self.magclust, "synth", "-o", path, "--ids", str(ids), "--dim", str(DIM), "--seed", str(SEED),
               "--structure", st]
        if os.path.exists(path):
            self.commands.append(common.quote(cmd) + "   # cached")
            how = "cached"
        else:
            self.plain(cmd)
            how = "generated"
        n = common.count_rows(path)
        say("  set ~%s: %s faces (--ids %d), %s: %s" % (report.fmt_n(target), report.fmt_n(n), ids, how, path))
        say("    command: %s" % common.quote(cmd))
        return n, path

    # ------------------------------------------------------------ magclust

    def run_magclust(self, n, path):
        out = os.path.join(self.args.work, "magclust-%d.csv" % n)
        res = self.timed([self.magclust, "cluster", path, "-o", out, "--json"])
        j = res["json"]
        knn = j.get("knn") or {}
        index = j.get("index") or knn.get("index")
        setting = "auto (eps %.3f)" % j["params"]["eps"] + (", index %s" % index if index else "")
        label = "magclust (%s)" % j["params"].get("algo", "default")
        return self.record("magclust", label, setting, j["faces"], res,
                           {"seconds": self.magclust_phases(j), "bcubed_f": j["metrics"]["bcubed_f"]},
                           {"index": index, "exact": knn.get("exact"), "dim": j["dim"],
                            "search_s": knn.get("search_seconds")})

    @staticmethod
    def magclust_phases(j):
        """The JSON's "seconds", whatever keys it has, with the k-NN object's
        non-zero *_seconds (train, add, search) after "knn" as knn.train etc."""
        sub = [("knn." + k[:-len("_seconds")], v) for k, v in (j.get("knn") or {}).items()
               if k.endswith("_seconds") and isinstance(v, (int, float)) and v > 0]
        phases = {}
        for k, v in j["seconds"].items():
            phases[k] = v
            if k == "knn":
                phases.update(sub)
        return phases

    # ------------------------------------------------------------ peers

    def tune(self, peer, tune_path):
        cache = os.path.join(self.args.work, "tune-%s-%s.json" % (peer.name, os.path.basename(tune_path)))
        cmd = [PYTHON, os.path.relpath(os.path.join(HERE, "peers.py"), ROOT), "tune", peer.name, tune_path,
               "--work", self.args.work, "--dlib-cw", self.args.dlib_cw]
        result = None
        if os.path.exists(cache):
            with open(cache) as f:
                result = json.load(f)
            if [g[0] for g in result["grid"]] != peer.grid:
                result = None
        if result is None:
            result = common.last_json(self.plain(cmd))
            with open(cache, "w") as f:
                json.dump(result, f)
        else:
            self.commands.append(common.quote(cmd) + "   # cached in " + cache)
        result["title"] = peer.title
        self.tuning.append(result)
        say("  %s: %s = %g (BCubed F %.4f on the 10k set, best of %d; oracle-tuned)%s" % (
            peer.title, peer.param, result["param"], result["bcubed_f"], len(result["grid"]),
            "  WARNING: best on the grid's edge" if result["best_on_grid_edge"] else ""))
        say("    command: %s" % common.quote(cmd))
        return result["param"]

    def too_costly(self, peer, n, prev):
        reason = peer.static_skip(n)
        if reason or prev is None:
            return reason
        scale = n / float(prev["n"])
        t = prev["wall_s"] * scale ** peer.time_exp
        rss = prev["rss_mib"] * scale ** peer.rss_exp
        if t > self.args.peer_time_limit:
            return "about %.0f min expected (%.0f s at N=%s, time ~ N^%g), over the %.0f min limit" % (
                t / 60, prev["wall_s"], report.fmt_n(prev["n"]), peer.time_exp, self.args.peer_time_limit / 60)
        if rss > self.args.peer_mem_limit_gib * 1024:
            return "about %.0f GiB expected (%.0f MiB at N=%s, memory ~ N^%g), over the %g GiB limit" % (
                rss / 1024, prev["rss_mib"], report.fmt_n(prev["n"]), peer.rss_exp, self.args.peer_mem_limit_gib)
        return None

    def run_peer(self, peer, value, sets):
        prev = failed = None
        for n, path in sets:
            reason = "failed at N=%s" % report.fmt_n(failed) if failed else self.too_costly(peer, n, prev)
            if reason:
                self.skip(peer.name, peer.title, n, reason)
                continue
            cmd = [PYTHON, os.path.relpath(os.path.join(HERE, "peers.py"), ROOT), "run", peer.name, path,
                   "--param", repr(value), "--work", self.args.work, "--dlib-cw", self.args.dlib_cw]
            try:   # a generous hard limit, for when the extrapolation was wrong
                res = self.timed(cmd, timeout=2 * self.args.peer_time_limit)
            except common.RunFailed as e:
                self.skip(peer.name, peer.title, n, "failed: %s" % e)
                failed = n
                continue
            prev = self.record(peer.name, peer.title, "%s %g" % (peer.param, value), n, res, res["json"])

    # ------------------------------------------------------------ GEMM

    def run_gemm(self):
        res = self.timed([self.args.sgemm, str(self.args.gemm_repeats)])
        cmd = res["command"]
        for line in res["stdout"].splitlines():
            g = json.loads(line)
            text = "sgemm %d x %d times %d x %d, %d thread%s: %.1f GFLOP/s (best of %d: %.4f s)" % (
                g["m"], g["k"], g["k"], g["n"], g["threads"], "" if g["threads"] == 1 else "s",
                g["gflops"], self.args.gemm_repeats, g["best_s"])
            self.gemm.append(text)
            say("  " + text)
        text = "the probe (both thread counts) ran %s s at CPU %s" % (
            report.fmt_s(res["wall_s"]), report.fmt_pct(res["cpu_pct"]))
        self.gemm.append(text + "  (`%s`)" % cmd)
        say("  " + text)
        say("    command: %s" % cmd)
        for r in self.runs:
            found = self.search_seconds(r)
            if found is None:
                continue
            seconds, what = found
            d = r.get("dim", DIM)
            rate = 2.0 * r["n"] * r["n"] * d / seconds * 1e-9
            text = "%s N=%s: %.1f GFLOP/s effective (2 x %s^2 x %d / %.2f s, %s)" % (
                r["title"], report.fmt_n(r["n"]), rate, report.fmt_n(r["n"]), d, seconds, what)
            self.rates.append(text)
            say("  " + text)

    def search_seconds(self, r):
        """(seconds, what) of the exact (Flat) search of a run, else None."""
        sec = r["seconds"]
        if r["tool"] != "magclust":
            return (sec["knn"], "k-NN phase, FAISS IndexFlatIP") if "knn" in sec else None
        if r.get("exact") is not None:
            exact = bool(r["exact"])
        elif r.get("index"):
            exact = str(r["index"]).lower() == "flat"
        else:   # a build without --index searches exactly
            exact = "--index" not in self.help["cluster"]
        if not exact:
            return None
        if r.get("search_s"):
            return r["search_s"], "search only"
        return (sec["knn"], "k-NN phase, centring and calibration included") if "knn" in sec else None

    # ------------------------------------------------------------ approximate vs exact

    DEFAULT_APPROX = ("Cells256", "IVF256,Flat")

    @staticmethod
    def file_tag(spec):
        """spec as a file-name part: 'IVF256,Flat' -> 'IVF256_Flat'."""
        return "".join(c if c.isalnum() or c in "._-" else "_" for c in spec) or "_"

    def knn_line(self, name, n, res):
        text = "magclust knn, %s, N=%s: wall %s s, peak RSS %.0f MiB" % (
            name, report.fmt_n(n), report.fmt_s(res["wall_s"]), res["rss_mib"])
        summary = [line.strip() for line in res["stdout"].splitlines() if line.strip().startswith("knn ")]
        if summary:   # the tool's own line: index, nprobe, share of pairs compared, train/add/search seconds
            text += "; it says: %s" % " ".join(summary[0].split())
        self.recall.append(text + "  (`%s`)" % res["command"])
        say("  " + text)
        say("    command: %s" % res["command"])

    def cluster_line(self, name, n, path, g):
        res = self.timed([self.magclust, "cluster", path, "--graph", g, "--json"])
        text = "magclust cluster --graph (%s), N=%s: BCubed F %.4f, wall %s s" % (
            name, report.fmt_n(n), res["json"]["metrics"]["bcubed_f"], report.fmt_s(res["wall_s"]))
        self.recall.append(text + "  (`%s`)" % res["command"])
        say("  " + text)
        say("    command: %s" % res["command"])

    @staticmethod
    def one_line(error):
        """A RunFailed's text on one line, without time's own exit report."""
        text = " ".join(str(error).split())
        return text.split(" Command exited with non-zero status")[0]

    def run_recall(self, sets):
        """The exact (Flat) graph once, then for each --approx-index, at the
        same --approx-nprobe: its knn run, recall@10/@30 against Flat and the
        BCubed F of 'cluster --graph' on it."""
        def say_line(text):
            self.recall.append(text)
            say("  " + text)

        def skipped(why):
            say_line("skipped: " + why)

        if not self.has_command("knn"):
            return skipped("magclust knn not available in this build")
        if "--index" not in self.help["knn"]:
            return skipped("magclust knn has no --index option in this build")
        size = self.args.recall_size
        target = [(n, p) for n, p in sets if 0.9 * size <= n <= 1.1 * size]
        if not target:
            return skipped("no set of about %s faces in --sizes" % report.fmt_n(size))
        n, path = target[0]
        with_graph = "--graph" in self.help["cluster"]
        if not with_graph:
            skipped("magclust cluster has no --graph option in this build, so no BCubed F per graph")
        nprobe = []
        if self.args.approx_nprobe > 0:
            if "--nprobe" in self.help["knn"]:
                nprobe = ["--nprobe", str(self.args.approx_nprobe)]
            else:
                say_line("note: magclust knn has no --nprobe option in this build; each index's own default")

        import h5py
        exact_name = "exact (Flat)"
        flat = os.path.join(self.args.work, "graph-flat-%d.h5" % n)
        try:
            self.knn_line(exact_name, n, self.timed([self.magclust, "knn", path, "-o", flat, "--index", "Flat"]))
            if with_graph:
                self.cluster_line(exact_name, n, path, flat)
        except common.RunFailed as e:
            return skipped("the exact graph failed: %s" % self.one_line(e))
        with h5py.File(flat, "r") as f:
            exact_ids = f["knn/ids"][:]

        tags = set()
        for spec in self.args.approx_index:
            auto = spec.lower() == "auto"
            name = "automatic index" if auto else "index %s" % spec
            if nprobe:
                name += ", nprobe %d" % self.args.approx_nprobe
            tag = self.file_tag(spec)
            while tag in tags:   # two specs that sanitise alike keep distinct files
                tag += "_"
            tags.add(tag)
            g = os.path.join(self.args.work, "graph-approx-%s-%d.h5" % (tag, n))
            cmd = [self.magclust, "knn", path, "-o", g] + ([] if auto else ["--index", spec]) + nprobe
            try:
                self.knn_line(name, n, self.timed(cmd))
            except common.RunFailed as e:
                say_line("magclust knn, %s, N=%s: failed: %s  (`%s`)" % (
                    name, report.fmt_n(n), self.one_line(e), common.quote([common.TIME, "-v"] + cmd)))
                continue
            with h5py.File(g, "r") as f:
                approx_ids = f["knn/ids"][:]
                used = f["knn"].attrs.get("index")
            if isinstance(used, bytes):
                used = used.decode()
            if used is not None and str(used).lower() == "flat":
                say_line("note: the %s is Flat at N=%s, so this comparison is exact against exact" % (
                    name, report.fmt_n(n)))
            k = min(exact_ids.shape[1], approx_ids.shape[1])
            for at in sorted({10, 30, k}):
                if at <= k:
                    say_line("recall@%d of the %s%s against Flat, N=%s: %.4f" % (
                        at, name, "" if used == spec else " (%s)" % used, report.fmt_n(n),
                        common.recall_at(approx_ids, exact_ids, at)))
            if with_graph:
                try:
                    self.cluster_line(name, n, path, g)
                except common.RunFailed as e:
                    say_line("magclust cluster --graph (%s), N=%s: failed: %s" % (
                        name, report.fmt_n(n), self.one_line(e)))

    # ------------------------------------------------------------ all

    def environment(self):
        def first(cmd):
            try:
                return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stdout.strip()
            except OSError:
                return ""
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name")), platform.processor())
        mem = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
        import faiss
        import scipy
        import sklearn
        dirty = first(["git", "status", "--porcelain", "--untracked-files=no"])
        built = datetime.datetime.fromtimestamp(os.path.getmtime(os.path.join(ROOT, self.magclust)))
        return [
            "date: %s" % datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine: %s, %d cores, %.0f GiB RAM, %s; load average %.2f at the start" % (
                cpu, os.cpu_count() or 0, mem / 2**20, platform.platform(), os.getloadavg()[0]),
            "magclust: %s (sha256 %s..., built %s) from git %s%s" % (
                self.magclust, self.fingerprint[:12], built.strftime("%Y-%m-%d %H:%M"),
                first(["git", "rev-parse", "--short", "HEAD"]), " with uncommitted changes" if dirty else ""),
            "peers: Python %s, numpy %s, scikit-learn %s, scipy %s, faiss %s, dlib %s" % (
                platform.python_version(), np.__version__, sklearn.__version__, scipy.__version__,
                faiss.__version__, first(["pkg-config", "--modversion", "dlib-1"])),
            "data: `magclust synth --dim %d --seed %d --structure %s`, default identity sizes (Zipf %g, %d..%d faces) "
            "and %g %% distractors" % (DIM, SEED, self.args.structure, ZIPF, MIN_SIZE, MAX_SIZE, 100 * DISTRACTORS),
        ]

    def main(self):
        a = self.args
        os.makedirs(a.work, exist_ok=True)
        os.makedirs(a.out, exist_ok=True)
        env = self.environment()
        say("== environment")
        for line in env:
            say("  " + line)

        say("== data sets (cached in %s)" % a.work)
        sets = [self.dataset(t) for t in sorted(a.sizes)]
        tune_set = self.dataset(TUNE_SIZE)

        say("== magclust cluster (automatic parameters)")
        for n, path in sets:
            try:
                self.run_magclust(n, path)
            except common.RunFailed as e:
                self.skip("magclust", "magclust (default)", n, "failed: %s" % e)

        say("== peers: tuned once on the 10k set with the labels, then reused")
        chosen = [(peer, self.tune(peer, tune_set[1])) for peer in peers.PEERS.values() if peer.name in a.peers]
        for peer, value in chosen:
            say("-- %s" % peer.title)
            self.run_peer(peer, value, sets)

        say("== GEMM")
        self.run_gemm()

        say("== approximate against exact k-NN")
        self.run_recall(sets)

        self.notes.append("Load average at the end: %.2f (the 1-minute figure; above 0.5 or so, "
                          "something else shared the cores during the run)" % os.getloadavg()[0])
        if self.binary_sha256() != self.fingerprint:
            warning = ("WARNING: %s changed during the run (rebuilt?); the magclust figures may mix two builds"
                       % self.magclust)
            self.notes.append(warning)
            say(warning)
        self.notes.append("Per-phase timers: magclust's k-NN phase includes centring and the calibration; "
                          "a peer's `load` is h5py plus L2 normalisation, its `knn` FAISS IndexFlatIP (k = 31, "
                          "itself dropped), its `cluster` everything after.")
        ctx = {"env": env, "runs": self.runs, "skips": self.skips, "tuning": self.tuning,
               "gemm": self.gemm, "rates": self.rates, "recall": self.recall, "notes": self.notes,
               "commands": self.commands}
        md = os.path.join(a.out, "results.md")
        svg = os.path.join(a.out, "time_vs_n.svg")
        report.write_markdown(md, ctx)
        series = {}
        for r in self.runs:
            series.setdefault(r["title"], []).append((r["n"], r["wall_s"]))
        report.write_svg(svg, list(series.items()))
        with open(os.path.join(a.out, "results.json"), "w") as f:
            json.dump(ctx, f, indent=1)
        say("== results")
        for r in self.runs:
            say("  %-45s N=%-9s wall %8s s  RSS %7.0f MiB  F %.4f" % (
                r["title"], report.fmt_n(r["n"]), report.fmt_s(r["wall_s"]), r["rss_mib"], r["bcubed_f"]))
        say("wrote %s, %s, %s; full command log in %s" % (md, svg, os.path.join(a.out, "results.json"), self.log))
        return 0


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,20000,100000,1000000",
                    help="target set sizes, comma-separated (default %(default)s)")
    ap.add_argument("--quick", action="store_true", help="only the 10k and 20k sets")
    ap.add_argument("--structure", choices=("realistic", "isotropic"), default="realistic",
                    help="magclust synth --structure of the sets: realistic (default; identity centres with "
                    "the decaying spectrum of real face models, docs/experiments.md) or isotropic (the "
                    "model of the results before 2026-12-02)")
    ap.add_argument("--work", default="/tmp/magclust-bench", help="data sets and scratch files (default %(default)s)")
    ap.add_argument("--out", default=os.path.join(ROOT, "scripts", "bench", "results"),
                    help="where results.md, results.json and time_vs_n.svg go")
    ap.add_argument("--peers", default=",".join(peers.PEERS), help="peers to run (default all: %(default)s)")
    ap.add_argument("--peer-time-limit", type=float, default=1200,
                    help="skip a peer at a size whose expected wall time exceeds this, s (default %(default)s)")
    ap.add_argument("--peer-mem-limit-gib", type=float, default=16,
                    help="skip a peer at a size whose expected peak RSS exceeds this, GiB (default %(default)s)")
    ap.add_argument("--gemm-repeats", type=int, default=5)
    ap.add_argument("--approx-index", action="append", default=None, metavar="SPEC",
                    help="an approximate index to compare with the exact (Flat) graph, as magclust's --index "
                    "takes it (Cells<nlist>, a FAISS index_factory string such as IVF256,Flat, or auto for "
                    "magclust's automatic choice); repeat it for several (default: %s)"
                    % " and ".join(Bench.DEFAULT_APPROX))
    ap.add_argument("--approx-nprobe", type=int, default=32, metavar="N",
                    help="--nprobe for every approximate graph, so that they visit as many cells "
                    "(default %(default)s; 0: each index's own default)")
    ap.add_argument("--recall-size", type=int, default=100000,
                    help="size of the set for approximate against exact k-NN (default %(default)s)")
    ap.add_argument("--magclust", default=os.path.join(ROOT, "build", "magclust"))
    ap.add_argument("--sgemm", default=os.path.join(ROOT, "build", "bench", "sgemm_peak"))
    ap.add_argument("--dlib-cw", default=os.path.join(ROOT, "build", "bench", "dlib_cw"))
    ap.add_argument("--prior-command", dest="prior_commands", action="append", default=[],
                    help="a command run before this script (the builds), listed in results.md")
    args = ap.parse_args(argv)
    args.sizes = [10000, 20000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    args.peers = [p for p in args.peers.split(",") if p]
    specs = args.approx_index or list(Bench.DEFAULT_APPROX)
    args.approx_index = [s for i, s in enumerate(specs) if s and s not in specs[:i]]   # in order, once each
    if not args.approx_index:
        ap.error("--approx-index needs an index specification")
    if args.approx_nprobe < 0:
        ap.error("--approx-nprobe needs 0 or more")
    unknown = set(args.peers) - set(peers.PEERS)
    if unknown:
        ap.error("unknown peer(s): %s" % ", ".join(sorted(unknown)))
    if not args.sizes or min(args.sizes) < 100:
        ap.error("--sizes needs sizes of at least 100 faces")
    args.work = os.path.abspath(args.work)
    args.out = os.path.abspath(args.out)
    for key in ("magclust", "sgemm", "dlib_cw"):   # relative to the repository when inside it
        path = os.path.abspath(getattr(args, key))
        inside = os.path.commonpath([path, ROOT]) == ROOT
        setattr(args, key, os.path.relpath(path, ROOT) if inside else path)
    return args


if __name__ == "__main__":
    sys.exit(Bench(parse_args()).main())
