"""Progress of the library's long phases, and Ctrl-C during them (private)."""
import signal
import sys
import threading
import time

from ._lib import PROGRESS_FN, check


class Progress:
    """The ``mc_progress_fn`` handed to the library for one call, and the
    cancellation of that call.

    ``show``: None prints a line on stderr only when it is a terminal; True
    or False force it; a callable gets ``(phase, done, total)`` and cancels
    the call by returning a true value.

    Use it as a context manager around the library call, then call
    ``done(status)``::

        with Progress(show) as prog:
            params.progress = prog.c_fn
            status = lib.mc_cluster_run(...)
        prog.done(status)

    Ctrl-C: while the call runs, in the main thread and when SIGINT has
    Python's default handler, a temporary handler records the signal (and
    the previous one is put back afterwards). The library calls the callback
    in the calling thread, where Python runs signal handlers; the callback
    then returns 1, the library stops at that report (``MC_ERR_CANCELLED``)
    and ``done()`` raises ``KeyboardInterrupt``. Elsewhere (another thread,
    another handler) a ``KeyboardInterrupt`` raised inside the callback
    cancels the call the same way.

    A user callback that raises cancels the call too, and ``done()`` raises
    its exception; one that returns a true value cancels it, and ``done()``
    raises ``CancelledError`` (the library's status).
    """

    def __init__(self, show=None):
        if show is None:
            show = sys.stderr is not None and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.show = show
        self.interrupted = False
        self.error = None
        self.phase = None
        self.last = 0.0
        self._saved = None
        self.c_fn = PROGRESS_FN(self._cb)  # kept alive as long as this object

    def _on_sigint(self, _signum, _frame):
        self.interrupted = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                    self._saved = signal.signal(signal.SIGINT, self._on_sigint)
            except (ValueError, OSError):  # no signals here (embedded interpreter)
                self._saved = None
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            signal.signal(signal.SIGINT, self._saved)
            self._saved = None
        return False

    def _cb(self, _data, phase, done, total):
        # nothing may cross into C: every exception is kept for done()
        try:
            if self.interrupted:
                return 1
            if callable(self.show):
                if self.show(phase.decode(), int(done), int(total)):
                    return 1
            elif self.show:
                now = time.monotonic()
                name = phase.decode()
                if name != self.phase or done >= total or now - self.last >= 0.2:
                    pct = 100.0 * done / total if total else 100.0
                    end = "\n" if done >= total else ""
                    sys.stderr.write("\r%s %3.0f%% %d/%d faces%s" % (name, pct, done, total, end))
                    sys.stderr.flush()
                    self.phase, self.last = name, now
        except KeyboardInterrupt:
            self.interrupted = True
        except BaseException as exc:  # SystemExit too: raised after the call
            self.error = exc
            self.show = False
            return 1
        # a SIGINT handled while this ran counts now
        return 1 if self.interrupted else 0

    def done(self, status):
        """After the call: raise ``KeyboardInterrupt`` for a Ctrl-C that
        arrived during it, the exception a user callback raised, or the
        library's error for ``status`` (``CancelledError`` when the callback
        asked to stop)."""
        if self.interrupted:
            raise KeyboardInterrupt
        if self.error is not None:
            err, self.error = self.error, None
            raise err
        check(status)

