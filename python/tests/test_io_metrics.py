"""read() in every format magclust imports; metrics from their definitions."""
import itertools

import numpy as np
import pytest

import magclust

from conftest import SAMPLE


def test_read_h5(fx):
    f = magclust.read(fx / "tiny.h5", quality_key="det_score")
    assert f.X.shape == (40, 8) and f.X.dtype == np.float32 and f.format == "h5"
    np.testing.assert_array_equal(f.labels, 100 + np.arange(40) // 10)
    assert f.paths[0] == "id0/img_00.jpg" and f.paths[39] == "id3/caf\u00e9_09.jpg"
    np.testing.assert_allclose(f.quality, 0.30 + 0.07 * (np.arange(40) % 10), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(f.X, axis=1), 2 + 2 * (np.arange(40) % 10),
                               rtol=1e-5)
    assert f.photo is None and len(f) == 40


def test_read_npy_csv_magface_l2c(work):
    X = magclust.read(SAMPLE).X[:50]
    np.save(work / "x.npy", X)
    np.testing.assert_array_equal(magclust.read(work / "x.npy").X, X)
    X.tofile(work / "x.bin")
    (work / "x.meta").write_text("".join("%d\n" % (i % 3) for i in range(50)))
    f = magclust.read(work / "x.bin", dim=X.shape[1], labels_path=work / "x.meta")
    np.testing.assert_array_equal(f.X, X)
    np.testing.assert_array_equal(f.labels, np.arange(50) % 3)
    with open(work / "x.list", "w") as out:
        for i, row in enumerate(X):
            out.write("p%d/f%d.jpg %s\n" % (i % 4, i, " ".join(repr(float(v)) for v in row)))
    f = magclust.read(work / "x.list", label_from_dir=True)
    np.testing.assert_array_equal(f.X, X)
    assert f.paths[5] == "p1/f5.jpg" and f.label_names[f.labels[5]] == "p1"
    with open(work / "x.csv", "w") as out:
        out.write("path,photo,det_score," + ",".join("e%d" % j for j in range(X.shape[1])) + "\n")
        for i, row in enumerate(X):
            out.write("f%d.jpg,%s,%g,%s\n" % (i, "ph%d" % (i // 2) if i < 10 else "",
                                               i / 10, ",".join(repr(float(v)) for v in row)))
    f = magclust.read(work / "x.csv", quality_key="det_score")
    np.testing.assert_array_equal(f.X, X)
    assert f.format == "csv" and f.paths[3] == "f3.jpg"
    np.testing.assert_allclose(f.quality, np.arange(50) / 10, rtol=1e-6)
    assert list(f.photo[:12]) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, -1, -1]


def definitions(t, p):
    """BCubed, pairwise and NMI straight from their definitions (negative:
    a singleton)."""
    n = len(t)
    t = [v if v >= 0 else -1 - i for i, v in enumerate(t)]
    p = [v if v >= 0 else -1 - i for i, v in enumerate(p)]
    prec = np.mean([np.mean([t[j] == t[i] for j in range(n) if p[j] == p[i]]) for i in range(n)])
    rec = np.mean([np.mean([p[j] == p[i] for j in range(n) if t[j] == t[i]]) for i in range(n)])
    pairs = list(itertools.combinations(range(n), 2))
    sp = sum(p[i] == p[j] for i, j in pairs)
    st = sum(t[i] == t[j] for i, j in pairs)
    both = sum(p[i] == p[j] and t[i] == t[j] for i, j in pairs)
    pp, pr = (both / sp if sp else 1.0), (both / st if st else 1.0)

    def h(x):
        _, c = np.unique(x, return_counts=True)
        q = c / n
        return -(q * np.log(q)).sum()
    joint = [a * 1000003 + b for a, b in zip(t, p)]
    mi = h(t) + h(p) - h(joint)
    nmi = mi / ((h(t) + h(p)) / 2) if h(t) + h(p) > 0 else 1.0
    return (prec, rec, 2 * prec * rec / (prec + rec)), (pp, pr, 2 * pp * pr / (pp + pr)), nmi


def test_metrics_match_their_definitions():
    rng = np.random.default_rng(3)
    t = rng.integers(-1, 6, 60)
    p = rng.integers(-1, 8, 60)
    bc, pw, nmi = definitions(list(t), list(p))
    np.testing.assert_allclose(magclust.metrics.bcubed(t, p), bc, rtol=1e-12)
    np.testing.assert_allclose(magclust.metrics.pairwise(t, p), pw, rtol=1e-12)
    assert magclust.metrics.nmi(t, p) == pytest.approx(nmi, rel=1e-9)
    m = magclust.metrics.compute(t, p)
    assert m["n"] == 60 and m["bcubed_f"] == magclust.metrics.bcubed(t, p)[2]


def test_reject_curve_matches_the_cli(cli, work):
    """metrics.reject_curve() gives `magclust eval --reject-curve`'s CSV."""
    import csv
    f = magclust.read(SAMPLE)
    mc = magclust.MagClust(algo="linkage").fit(f.X)
    out = work / "pred.csv"
    cli("cluster", SAMPLE, "-q", "--algo", "linkage", "-o", out)
    cli("eval", SAMPLE, out, "--reject-curve", work / "curve.csv")
    with open(work / "curve.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    pts = magclust.metrics.reject_curve(f.labels, mc.labels_, mc.quality_)
    assert [p["reject_pct"] for p in pts] == [float(r["reject_pct"]) for r in rows]
    assert [p["faces"] for p in pts] == [int(r["faces"]) for r in rows]
    for p, r in zip(pts, rows):
        assert p["bcubed_f"] == pytest.approx(float(r["bcubed_f"]), abs=1e-6)
        assert p["nmi"] == pytest.approx(float(r["nmi"]), abs=1e-6)
    assert pts[-1]["bcubed_f"] > pts[0]["bcubed_f"]  # the magnitude is a useful quality
    with pytest.raises(ValueError, match="too few faces"):
        magclust.metrics.reject_curve([0], [0], [1.0], step=50, max_pct=50)
    with pytest.raises(ValueError, match="max_pct"):
        magclust.metrics.reject_curve([0, 1], [0, 1], [1.0, 2.0], max_pct=100)
