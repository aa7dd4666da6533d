"""Progress of the library's long phases, and Ctrl-C during them (private)."""
import sys
import time

from ._lib import PROGRESS_FN


class Progress:
    """The ``mc_progress_fn`` handed to the library for one call.

    ``show``: None prints a line on stderr only when it is a terminal; True
    or False force it; a callable gets ``(phase, done, total)``.

    The library has no cancellation point: a Ctrl-C that arrives while it
    works is caught here, when the library next reports progress (the
    callback runs in the calling thread, where Python delivers signals), and
    raised as ``KeyboardInterrupt`` as soon as the call returns (``done()``).
    """

    def __init__(self, show=None):
        if show is None:
            show = sys.stderr is not None and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.show = show
        self.interrupted = False
        self.error = None
        self.phase = None
        self.last = 0.0
        self.c_fn = PROGRESS_FN(self._cb)  # kept alive as long as this object

    def _cb(self, _data, phase, done, total):
        try:
            if callable(self.show):
                self.show(phase.decode(), int(done), int(total))
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
        except Exception as exc:  # must not cross into C: raised after the call
            self.error = exc
            self.show = False

    def done(self):
        """Raise the KeyboardInterrupt that arrived during the call, or the
        error of a user callback, if any."""
        if self.interrupted:
            raise KeyboardInterrupt
        if self.error is not None:
            raise self.error
