"""MagClust gives the labels and roles `magclust cluster` writes, for every
algorithm, on the bundled sample and on the constraint fixtures."""
import numpy as np
import pytest

import magclust

from conftest import SAMPLE, read_csv

ALGOS = ["map", "linkage", "cw", "dbscan"]


@pytest.fixture(scope="module")
def sample():
    return magclust.read(SAMPLE)


@pytest.mark.parametrize("algo", ALGOS)
def test_sample_defaults(cli, work, sample, algo):
    out = work / "cli.csv"
    cli("cluster", SAMPLE, "-q", "--algo", algo, "-o", out)
    want_labels, want_roles = read_csv(out)
    mc = magclust.MagClust(algo=algo).fit(sample.X)
    assert mc.labels_.dtype == np.int64 and mc.labels_.shape == (len(sample),)
    assert mc.n_clusters_ == want_labels.max() + 1 > 10
    np.testing.assert_array_equal(mc.labels_, want_labels)
    np.testing.assert_array_equal(mc.roles_, want_roles)


def test_sample_options(cli, work, sample):
    """Options reach the library as the CLI's do (a fixed eps, gates, k, seed)."""
    out = work / "cli.csv"
    cli("cluster", SAMPLE, "-q", "--algo", "cw", "--eps", "0.55", "--core-quality", "p40",
        "--noise-quality", "p5", "--k", "25", "--seed", "7", "--threads", "1", "-o", out)
    mc = magclust.MagClust(algo="cw", eps=0.55, core_quality="p40", noise_quality="p5", k=25,
                           seed=7, threads=1).fit(sample.X)
    labels, roles = read_csv(out)
    np.testing.assert_array_equal(mc.labels_, labels)
    np.testing.assert_array_equal(mc.roles_, roles)
    assert mc.threshold_ == 1.0 - 0.55
    assert (mc.roles_ == magclust.NOISE).sum() >= int(0.05 * len(sample)) - 1


@pytest.mark.parametrize("algo", ALGOS)
def test_photo_fixture(cli, fx, work, algo):
    src = fx / "tiny_photo.h5"
    out = work / "cli.csv"
    opts = ["--eps", "1.9", "--core-quality", "off", "--noise-quality", "off"]
    cli("cluster", src, "-q", "--algo", algo, "--photo-key", "photo", "-o", out, *opts)
    faces = magclust.read(src, photo_key="photo")
    assert faces.photo is not None and (faces.photo >= 0).sum() == 20
    mc = magclust.MagClust(algo=algo, eps=1.9, core_quality="off", noise_quality="off")
    mc.fit(faces.X, photo=faces.photo)
    labels, roles = read_csv(out)
    np.testing.assert_array_equal(mc.labels_, labels)
    np.testing.assert_array_equal(mc.roles_, roles)
    # the constraint did its work: no two faces of one photo share a cluster
    for p in range(10):
        a, b = np.flatnonzero(faces.photo == p)
        assert mc.labels_[a] < 0 or mc.labels_[a] != mc.labels_[b]


FIX = ('path,person\n# two faces of id2 are named, one is "not Ann"\nid2/img_03.jpg,Ann\n'
       'id2/img_04.jpg,Ann\nid2/img_05.jpg,!Ann\n\n"id3/img_01.jpg",Bo\n'
       'id1/img_01.jpg,id1/img_02.jpg,different\nnot/here.jpg,Cy\n')


@pytest.mark.parametrize("algo", ALGOS)
def test_corrections_fixture(cli, fx, work, algo):
    src = fx / "tiny.h5"
    fix = work / "fix.csv"
    fix.write_text(FIX)
    opts = ["--noise-quality", "off", "--core-quality", "off", "--k", "20", "--eps", "0.3"]
    if algo == "dbscan":
        opts += ["--min-samples", "3"]
    out = work / "cli.csv"
    cli("cluster", src, "-q", "--algo", algo, "--corrections", fix, "-o", out, *opts)
    faces = magclust.read(src)
    mc = magclust.MagClust(algo=algo, noise_quality="off", core_quality="off", k=20, eps=0.3,
                           min_samples=3 if algo == "dbscan" else None)
    mc.fit(faces.X, paths=faces.paths, corrections=fix)
    labels, roles = read_csv(out)
    np.testing.assert_array_equal(mc.labels_, labels)
    np.testing.assert_array_equal(mc.roles_, roles)
    at = {p: i for i, p in enumerate(faces.paths)}
    assert mc.labels_[at["id1/img_01.jpg"]] != mc.labels_[at["id1/img_02.jpg"]]
    # and --previous carries the ids over the same way
    out2 = work / "cli2.csv"
    cli("cluster", src, "-q", "--algo", algo, "--corrections", fix, "--previous", out, "-o",
        out2, *opts)
    mc2 = magclust.MagClust(**mc.get_params()).fit(faces.X, paths=faces.paths,
                                                   corrections=fix, previous=out)
    np.testing.assert_array_equal(mc2.labels_, read_csv(out2)[0])


def test_quality_key(cli, fx, work):
    """Another quality (a dataset) judged by the gates, as --quality-key."""
    src = fx / "tiny.h5"
    out = work / "cli.csv"
    cli("cluster", src, "-q", "--algo", "linkage", "--quality-key", "det_score",
        "--core-quality", "p40", "-o", out)
    faces = magclust.read(src, quality_key="det_score")
    mc = magclust.MagClust(algo="linkage", core_quality="p40")
    mc.fit(faces.X, quality=faces.quality, quality_name=faces.quality_name)
    np.testing.assert_array_equal(mc.labels_, read_csv(out)[0])
    np.testing.assert_array_equal(mc.quality_, faces.quality)
    assert mc.calibration_["quality_name"] == "det_score"
