"""Every error path: library errors become Python exceptions carrying the
library's message; Ctrl-C during a fit is raised."""
import signal

import numpy as np
import pytest

import magclust

from conftest import SAMPLE


@pytest.fixture(scope="module")
def X():
    return magclust.read(SAMPLE).X[:300].copy()


def test_bad_rows_name_the_row(X):
    bad = X.copy()
    bad[7, 3] = np.nan
    with pytest.raises(ValueError, match="embeddings row 7 has a NaN or Inf value") as e:
        magclust.MagClust().fit(bad)
    assert isinstance(e.value, magclust.InvalidInputError) and e.value.status == 7
    bad = X.copy()
    bad[11] = 0
    with pytest.raises(ValueError, match="row 11 is all zeros"):
        magclust.MagClust().fit(bad)


def test_shapes(X):
    with pytest.raises(ValueError, match="must be 2-D"):
        magclust.MagClust().fit(X[0])
    with pytest.raises(ValueError, match="no data"):
        magclust.MagClust().fit(np.zeros((0, 8), np.float32))
    with pytest.raises(ValueError, match="at least 2"):
        magclust.MagClust().fit(X[:1])
    with pytest.raises(ValueError, match="one value per face"):
        magclust.MagClust().fit(X, quality=np.ones(5))
    with pytest.raises(ValueError, match="one value per face"):
        magclust.MagClust().fit(X, photo=np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="one entry per face"):
        magclust.MagClust().fit(X, paths=["a"])
    with pytest.raises(ValueError, match="integers or strings"):
        magclust.MagClust().fit(X, photo=np.zeros(len(X)))


def test_quality_not_finite(X):
    q = np.ones(len(X), np.float32)
    q[4] = np.inf
    with pytest.raises(ValueError, match="row 4 is NaN or Inf"):
        magclust.MagClust().fit(X, quality=q)


@pytest.mark.parametrize("params, message", [
    (dict(algo="kmeans"), "algo must be one of"),
    (dict(core_quality="p200"), "core_quality"),
    (dict(noise_quality="cheap"), "noise_quality"),
    (dict(noise_quality=[1]), "noise_quality must be"),
    (dict(threshold=0.5, eps=0.5), "not both"),
    (dict(eps=0.5, calib_frac=0.3), "give one"),
    (dict(eps=3.0), r"eps must be in \[0, 2\]"),
    (dict(k=0), "k must be at least 1"),
    (dict(algo="linkage", linkage="median"), "median"),
    (dict(algo="map", flow="sideways"), "flow must be"),
    (dict(algo="map", cut="some"), "cut must be"),
    (dict(algo="dbscan", k=5, min_samples=20), "min_samples"),
    (dict(threshold=1.5), "threshold"),
    (dict(index="Cells0x"), "index|Cells"),
])
def test_bad_parameters(X, params, message):
    with pytest.raises(ValueError, match=message):
        magclust.MagClust(**params).fit(X)


def test_files(X, work):
    with pytest.raises(OSError, match="nosuch.csv") as e:
        magclust.MagClust().fit(X, paths=[str(i) for i in range(len(X))],
                                corrections=work / "nosuch.csv")
    assert isinstance(e.value, magclust.FileError) and e.value.detail
    fix = work / "fix.csv"
    fix.write_text("a.jpg,Ann\n")
    with pytest.raises(ValueError, match="paths"):
        magclust.MagClust().fit(X, corrections=fix)
    with pytest.raises(OSError, match="nosuch.h5"):
        magclust.read(work / "nosuch.h5")
    (work / "text.h5").write_text("not hdf5")
    with pytest.raises(OSError):
        magclust.read(work / "text.h5")
    with pytest.raises(OSError, match="nosuch"):
        magclust.Model.load(work / "nosuch.model.h5")
    with pytest.raises((OSError, ValueError)):
        magclust.Model.load(SAMPLE)  # an embeddings file, not a model
    with pytest.raises(ValueError, match="format must be"):
        magclust.read(SAMPLE, format="xls")
    with pytest.raises(OSError, match="nodataset"):
        magclust.read(SAMPLE, quality_key="nodataset")


def test_memory_limit_raises_memory_error(fx):
    old = magclust.memory_limit()
    magclust.set_memory_limit(1000)
    try:
        assert magclust.memory_limit() == 1000
        with pytest.raises(MemoryError) as e:
            magclust.read(fx / "tiny.h5", quality_key="det_score")
        assert isinstance(e.value, magclust.LibraryMemoryError)
        assert "limit" in str(e.value) and "tiny.h5" in str(e.value)
    finally:
        magclust.set_memory_limit(0)
    assert magclust.memory_limit() != 1000 and old >= 0


def test_model_misuse(X, work):
    with pytest.raises(magclust.NotFittedError, match="not fitted yet"):
        magclust.MagClust().save_model(work / "m.h5")
    mc = magclust.MagClust(algo="linkage").fit(X)
    m = mc.to_model()
    with pytest.raises(ValueError, match="512-d|-d"):
        m.predict(X[:, :100])
    with pytest.raises(ValueError, match="magnitude"):
        m.predict(X, quality=np.ones(len(X)))
    mq = magclust.MagClust(algo="linkage").fit(X, quality=np.linspace(0, 1, len(X)),
                                                quality_name="det").to_model()
    assert mq.quality_name == "det"
    with pytest.raises(ValueError, match="give quality"):
        mq.predict(X)


def test_metrics_errors():
    with pytest.raises(ValueError, match="items"):
        magclust.metrics.bcubed([0, 1], [0])
    with pytest.raises(ValueError, match=r"n == 0 \(no items\)"):
        magclust.metrics.bcubed([], [])
    with pytest.raises(ValueError, match="integers"):
        magclust.metrics.nmi([0.5, 1.5], [0, 1])


def test_progress_callback_error_is_raised_after_the_call(X):
    def boom(phase, done, total):
        raise RuntimeError("my callback broke in " + phase)
    with pytest.raises(RuntimeError, match="my callback broke in search"):
        magclust.MagClust(progress=boom).fit(X)


def test_progress_callback_sees_the_search(X):
    seen = []
    magclust.MagClust(progress=lambda *a: seen.append(a)).fit(X)
    assert seen and seen[-1] == ("search", len(X), len(X))


def test_ctrl_c_during_a_fit_raises_keyboard_interrupt(X):
    """SIGINT delivered while the library works (here from its progress
    callback) ends the fit with KeyboardInterrupt, not a result."""
    mc = magclust.MagClust(progress=lambda *a: signal.raise_signal(signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        mc.fit(X)
    assert not hasattr(mc, "labels_")
    assert magclust.MagClust(progress=False).fit(X).labels_.shape == (len(X),)
