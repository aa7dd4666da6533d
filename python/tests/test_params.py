"""scikit-learn's estimator conventions, and defaults that are the library's."""
import ctypes

import numpy as np
import pytest

import magclust
from magclust import _lib

from conftest import SAMPLE


def raw_bytes(p):
    return ctypes.string_at(ctypes.addressof(p), ctypes.sizeof(p))


@pytest.mark.parametrize("algo", ["dbscan", "linkage", "cw", "map"])
def test_defaults_are_the_librarys(algo):
    """With no parameter given, the struct handed to mc_cluster_run is
    mc_cluster_params_default(algo), byte for byte."""
    a = ctypes.c_int()
    _lib.check(_lib.lib.mc_algo_parse(algo.encode(), ctypes.byref(a)))
    want = _lib.lib.mc_cluster_params_default(a.value)
    got = magclust.MagClust(algo=algo)._params()
    assert raw_bytes(got) == raw_bytes(want)


def test_default_algo_is_the_librarys():
    import inspect
    default = inspect.signature(magclust.MagClust).parameters["algo"].default
    d = _lib.lib.mc_cluster_params_default(3)  # MC_ALGO_DEFAULT is MC_ALGO_MAP
    assert _lib.lib.mc_algo_name(d.algo).decode() == default


def test_get_set_params_round_trip():
    mc = magclust.MagClust(algo="linkage", eps=0.4, k=12, core_quality="p20", threads=1)
    params = mc.get_params()
    assert params["algo"] == "linkage" and params["eps"] == 0.4 and params["k"] == 12
    twin = magclust.MagClust(**params)
    assert twin.get_params() == params
    assert twin.set_params(k=15, linkage="single") is twin
    assert twin.k == 15 and twin.linkage == "single" and mc.k == 12
    with pytest.raises(ValueError, match="invalid parameter 'kk'"):
        twin.set_params(kk=3)
    assert "algo='linkage'" in repr(mc) and "eps=0.4" in repr(mc)


def test_sklearn_clone_if_installed():
    base = pytest.importorskip("sklearn.base")
    mc = magclust.MagClust(algo="cw", seed=3, noise_quality="p10")
    c = base.clone(mc)
    assert c is not mc and c.get_params() == mc.get_params()


def test_clone_of_a_fitted_estimator_is_unfitted_and_fits_the_same():
    X = magclust.read(SAMPLE).X
    mc = magclust.MagClust(algo="linkage").fit(X)
    twin = magclust.MagClust(**mc.get_params())
    assert not hasattr(twin, "labels_")
    np.testing.assert_array_equal(twin.fit_predict(X), mc.labels_)


def test_thread_count_does_not_change_the_result():
    X = magclust.read(SAMPLE).X
    one = magclust.MagClust(threads=1).fit(X)
    two = magclust.MagClust(threads=2).fit(X)
    np.testing.assert_array_equal(one.labels_, two.labels_)
    assert one.threshold_ == two.threshold_


def test_fitted_attributes():
    faces = magclust.read(SAMPLE)
    mc = magclust.MagClust().fit(faces.X)
    n = len(faces)
    assert mc.roles_.dtype == np.uint8 and set(np.unique(mc.roles_)) <= {0, 1, 2}
    assert ((mc.labels_ == -1) == (mc.roles_ == magclust.NOISE)).all()
    np.testing.assert_allclose(mc.quality_, np.linalg.norm(faces.X, axis=1), rtol=1e-6)
    assert mc.similarities_.shape == mc.margins_.shape == (n,)
    assert mc.n_features_in_ == faces.X.shape[1] and mc.center_.shape == (faces.X.shape[1],)
    cal = mc.calibration_
    assert cal["threshold"] == mc.threshold_ and cal["threshold_mode"] == "auto"
    # the automatic rule, from the statistics it records
    rule = max(cal["random_median"] + cal["frac"] * (cal["nn_median"] - cal["random_median"]),
               cal["random_median"] + cal["z"] * cal["random_mad"])
    assert mc.threshold_ == pytest.approx(rule, abs=1e-12)
    assert cal["k"] == 60 and cal["index"] == "Flat" and cal["quality_checked"]
    bc = magclust.metrics.bcubed(faces.labels, mc.labels_)
    assert bc[2] > 0.8


def test_pickle_keeps_the_results_and_parameters():
    import pickle
    X = magclust.read(SAMPLE).X
    mc = magclust.MagClust(algo="linkage", k=20).fit(X)
    back = pickle.loads(pickle.dumps(mc))
    assert back.get_params() == mc.get_params()
    np.testing.assert_array_equal(back.labels_, mc.labels_)
    assert back.calibration_ == mc.calibration_
    with pytest.raises(magclust.NotFittedError, match="fit"):
        back.to_model()  # the library's objects are not pickled: fit again to save a model


def test_progress_prints_on_request(capfd):
    X = magclust.read(SAMPLE).X
    magclust.MagClust(algo="linkage", progress=True).fit(X)
    err = capfd.readouterr().err
    assert "search 100%% %d/%d faces" % (len(X), len(X)) in err
    magclust.MagClust(algo="linkage", progress=False).fit(X)
    assert capfd.readouterr().err == ""
