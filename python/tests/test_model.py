"""Models: saved from Python and read by `magclust assign`, and the other way."""
import numpy as np
import pytest

import magclust

from conftest import SAMPLE, read_csv


@pytest.fixture(scope="module")
def split():
    """The sample's faces, in two parts: the collection and later faces."""
    X = magclust.read(SAMPLE).X
    rng = np.random.default_rng(5)
    later = np.zeros(len(X), bool)
    later[rng.choice(len(X), 300, replace=False)] = True
    first, new = np.ascontiguousarray(X[~later]), np.ascontiguousarray(X[later])
    return first, new


def write_h5(cli, work, name, X):
    """An embeddings file of X, through magclust import (from .npy)."""
    npy = work / (name + ".npy")
    np.save(npy, X)
    h5 = work / (name + ".h5")
    cli("import", "npy", npy, "-o", h5)
    return h5


def test_python_model_read_by_the_cli(cli, work, split):
    first, new = split
    mc = magclust.MagClust(algo="linkage").fit(first)
    path = work / "py.model.h5"
    mc.save_model(path, source="first.h5")
    new_h5 = write_h5(cli, work, "new", new)
    out = work / "assign.csv"
    cli("assign", path, new_h5, "-q", "-o", out)
    want_labels, want_roles = read_csv(out)
    m = magclust.Model.load(path)
    labels, roles = m.predict(new)
    np.testing.assert_array_equal(labels, want_labels)
    np.testing.assert_array_equal(roles, want_roles)
    assert m.n_clusters == mc.n_clusters_ and m.n_exemplars == len(first)
    assert m.threshold == mc.threshold_ and m.algorithm == "linkage"
    np.testing.assert_array_equal(m.exemplar_labels, mc.labels_)
    assert (labels >= 0).mean() > 0.5  # most later faces have a cluster
    # an update, both ways
    out2 = work / "update.csv"
    cli("assign", path, new_h5, "-q", "-o", out2, "--update", "--model-out", work / "cli2.h5")
    ul, ur = magclust.Model.load(path).update(new)
    np.testing.assert_array_equal(ul, read_csv(out2)[0])
    np.testing.assert_array_equal(ur, read_csv(out2)[1])
    assert magclust.Model.load(work / "cli2.h5").n_exemplars == len(first) + len(new)


def test_cli_model_read_by_python(cli, work, split):
    first, new = split
    first_h5 = write_h5(cli, work, "first", first)
    new_h5 = write_h5(cli, work, "new", new)
    path = work / "cli.model.h5"
    cli("cluster", first_h5, "-q", "-o", work / "first.csv", "--save-model", path)
    out = work / "assign.csv"
    cli("assign", path, new_h5, "-q", "-o", out)
    m = magclust.Model.load(path)
    labels, roles = m.predict(new)
    np.testing.assert_array_equal(labels, read_csv(out)[0])
    np.testing.assert_array_equal(roles, read_csv(out)[1])
    # the same model as Python's own fit builds (defaults: map)
    mc = magclust.MagClust().fit(first)
    assert m.algorithm == "map" and m.threshold == mc.threshold_
    np.testing.assert_array_equal(m.exemplar_labels, mc.labels_)
    # saved again from Python, the CLI still reads it
    m.save(work / "again.h5")
    cli("assign", work / "again.h5", new_h5, "-q", "-o", work / "again.csv")
    np.testing.assert_array_equal(read_csv(work / "again.csv")[0], labels)
    assert "clusters" in repr(m)


def test_update_changes_the_model(split):
    first, new = split
    m = magclust.MagClust(algo="linkage").fit(first).to_model()
    c0 = m.n_clusters
    labels, roles = m.update(new)
    assert m.n_exemplars == len(first) + len(new)
    assert m.n_clusters >= c0 and labels.max() < m.n_clusters
    # each new core face is now a reference face of its cluster: predicted
    # again, it finds itself (similarity 1) and stays
    again, _ = m.predict(new)
    core = roles == magclust.CORE
    assert core.sum() > 100
    np.testing.assert_array_equal(again[core], labels[core])
