"""Cancelling a long call: Ctrl-C (SIGINT) stops the library at its next
progress report and raises KeyboardInterrupt; a progress callable returning
a true value cancels with CancelledError; one raising cancels and its
exception is raised. Nothing is fitted, the SIGINT handler is put back, and
the next fit works."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import magclust

from conftest import SRC


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(5).standard_normal((600, 32)).astype(np.float32)


def test_callback_returning_true_cancels(X):
    calls = []

    def stop(phase, done, total):
        calls.append((phase, done, total))
        return True
    mc = magclust.MagClust(progress=stop, threads=1)
    with pytest.raises(magclust.CancelledError,
                       match="cancelled by the progress callback during search") as e:
        mc.fit(X)
    assert e.value.status == 8 and isinstance(e.value, magclust.MagClustError)
    assert len(calls) == 1  # not called again once it said stop
    assert not hasattr(mc, "labels_")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # a falsy return continues; the same object then fits
    mc.progress = lambda *a: None
    assert mc.fit(X).labels_.shape == (len(X),)


def test_callback_cancels_at_the_last_report(X):
    """The final report (done == total) may cancel too."""
    calls = []
    magclust.knn_graph(X, k=5, threads=1, progress=lambda *a: calls.append(a))
    n_calls = len(calls)
    assert n_calls >= 1 and calls[-1] == ("search", len(X), len(X))
    calls.clear()

    def last(phase, done, total):
        calls.append(done)
        return len(calls) == n_calls
    with pytest.raises(magclust.CancelledError):
        magclust.knn_graph(X, k=5, threads=1, progress=last)
    assert len(calls) == n_calls
    ids, _ = magclust.knn_graph(X, k=5, progress=False)
    assert ids.shape == (len(X), 5)


def test_callback_exception_cancels_and_is_raised(X):
    calls = []

    def boom(phase, done, total):
        calls.append(phase)
        raise LookupError("stop here")
    with pytest.raises(LookupError, match="stop here"):
        magclust.MagClust(progress=boom).fit(X)
    assert calls == ["search"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_another_sigint_handler_is_left_alone(X):
    def mine(signum, frame):
        raise KeyboardInterrupt
    old = signal.signal(signal.SIGINT, mine)
    try:
        seen = []

        def cb(*a):
            assert signal.getsignal(signal.SIGINT) is mine
            seen.append(a)
        magclust.MagClust(progress=cb).fit(X)
        assert seen
        # its KeyboardInterrupt, raised inside the callback, still cancels
        mc = magclust.MagClust(progress=lambda *a: signal.raise_signal(signal.SIGINT))
        with pytest.raises(KeyboardInterrupt):
            mc.fit(X)
        assert not hasattr(mc, "labels_")
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, old)


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import magclust

    X = np.random.default_rng(1).standard_normal((20000, 128)).astype(np.float32)
    seen = []

    def progress(phase, done, total):
        if not seen:
            print("started", flush=True)  # the parent sends SIGINT now
        seen.append((phase, done, total))

    try:
        magclust.MagClust(progress=progress, threads=2).fit(X)
    except KeyboardInterrupt:
        phase, done, total = seen[-1]
        print("interrupted %s %d %d %d" % (phase, done, total, len(seen)), flush=True)
        sys.exit(0)
    print("finished", flush=True)
    sys.exit(3)
""")


def test_ctrl_c_during_a_long_fit_raises_keyboard_interrupt_promptly():
    """A fit of 20,000 x 128 faces (seconds of exact search) in a child
    process, SIGINT sent after its first progress report: the child raises
    KeyboardInterrupt with the search unfinished, and exits cleanly."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(SRC / "python")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = p.stdout.readline()
        assert first == "started\n", first + p.stderr.read()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, out + err
    words = out.split()
    assert words[0] == "interrupted", out + err
    phase, done, total = words[1], int(words[2]), int(words[3])
    assert phase == "search" and total == 20000
    assert done < total, "the search ran to its end before the interrupt: " + out
    assert "Traceback" not in err, err
