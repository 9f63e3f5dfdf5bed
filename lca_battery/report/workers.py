"""Processes forked at the very start of ``lca-battery footprint`` that draw the chart and write the workbook.

matplotlib's import (about a third of a second) and the two renderings (PNG, SVG), then XlsxWriter's import
and the workbook, are the slowest part of writing a results folder. :meth:`Worker.start` forks a child
before the command imports anything heavy; the child imports what its file needs (matplotlib without
pyplot; XlsxWriter) while the parent imports the model and computes the footprint, then waits for its
input on a pipe (pickled: the chart's part of the result, :func:`~lca_battery.report.charts.footprint_chart_input`,
or the whole result for the workbook) and writes into the temporary results folder the parent names.
The chart worker lays the figure out once, then forks again: the PNG and the SVG are rendered side by
side (the same bytes as one after the other, checked by the tests). Each outcome comes back on a second
pipe: "ok", or the error with its traceback, which the parent raises (:meth:`Worker.wait`); the results
folder is moved into place only after that (``write_atomic``).

A child writes nothing else: its standard streams point to /dev/null (it holds no pipe of the caller
open), and it ends with ``os._exit`` (no atexit handler, no buffered output of the parent flushed twice).
A parent that ends without sending (a bad study, an error) kills it (:meth:`Worker.close`). Where fork is
not available, the process already runs other threads or ``LCA_BATTERY_PREFORK=0``, :meth:`Worker.start`
returns None and the files are written as before (the chart by a child forked then,
:func:`~lca_battery.report.outputs._in_child`).
"""
from __future__ import annotations

import os
import sys

OK = b"ok"
KINDS = ("chart", "workbook")


def _prepare(kind: str) -> None:
    """Import what ``kind`` needs, in the child."""
    if kind == "chart":
        # matplotlib builds, for every Artist class it defines, a docstring listing all settable properties
        # (about 0.1 s of its import): this child never shows a docstring, so it gets an empty one here
        try:
            import matplotlib.artist as artist
            artist.kwdoc = lambda _artist: ""
        except (ImportError, AttributeError):  # pragma: no cover - another matplotlib: import as it comes
            pass
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.backends.backend_svg  # noqa: F401
        import matplotlib.figure  # noqa: F401
        from . import charts  # noqa: F401
    else:
        import xlsxwriter  # noqa: F401
        from . import outputs  # noqa: F401


def _run(kind: str, payload) -> None:
    if os.environ.get("LCA_BATTERY_TEST_WORKER_FAIL") == kind:          # tests: an error in the child
        raise RuntimeError(f"test failure in the {kind} worker")
    if kind == "chart":
        from .charts import footprint_figure, lay_out, save_as
        data, stem = payload
        fig = footprint_figure(data)
        lay_out(fig)
        svg = _fork(lambda: save_as(fig, stem, "svg"))           # the SVG beside the PNG
        if svg is None:                                          # pragma: no cover - fork failed
            save_as(fig, stem, "svg")
        try:
            save_as(fig, stem, "png")
        finally:
            if svg is not None:
                svg()
    else:
        from pathlib import Path
        from .outputs import write_workbook
        result, path = payload
        write_workbook(result, Path(path))


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fork(fn):
    """Run ``fn()`` in a forked child (of a worker); return a function that waits and raises its error."""
    import traceback
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:                            # pragma: no cover
        os.close(r)
        os.close(w)
        return None
    if pid == 0:
        try:
            os.close(r)
            try:
                fn()
                answer = OK
            except BaseException:              # noqa: BLE001 - handed to the waiting process
                answer = traceback.format_exc().encode("utf-8", "replace")
            _write_all(w, answer)
        finally:
            os._exit(0)
    os.close(w)

    def wait():
        try:
            answer = _read_all(r)
        finally:
            os.close(r)
            os.waitpid(pid, 0)
        if answer != OK:
            raise RuntimeError(answer.decode("utf-8", "replace") or "the SVG process ended without a result")
    return wait


def _child(kind: str, data_r: int, done_w: int) -> None:
    import pickle
    import traceback
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    error = None
    try:
        _prepare(kind)
    except BaseException:                      # noqa: BLE001 - reported to the parent once it sends
        error = traceback.format_exc()
    payload = _read_all(data_r)
    if not payload:                            # the parent had nothing for this worker
        return
    if error is None:
        try:
            _run(kind, pickle.loads(payload))
        except BaseException:                  # noqa: BLE001 - handed to the parent with its traceback
            error = traceback.format_exc()
    _write_all(done_w, OK if error is None else error.encode("utf-8", "replace"))


class Worker:
    """A forked child that writes one file of a results folder: :meth:`send` its input, :meth:`wait` for it."""

    _parent_fds: set[int] = set()       # this process's ends of every worker's pipes (closed in a new child)

    def __init__(self, kind: str, pid: int, data_w: int, done_r: int):
        self.kind, self.pid, self._data_w, self._done_r = kind, pid, data_w, done_r
        self.sent = False
        Worker._parent_fds.update((data_w, done_r))

    @classmethod
    def start(cls, kind: str) -> "Worker | None":
        """Fork the ``kind`` worker ("chart" or "workbook"); None where fork is unavailable, other threads
        run, or ``LCA_BATTERY_PREFORK=0``."""
        if kind not in KINDS:
            raise ValueError(f"unknown worker {kind!r}; one of {', '.join(KINDS)}")
        if not hasattr(os, "fork") or os.environ.get("LCA_BATTERY_PREFORK") == "0":
            return None
        threading = sys.modules.get("threading")
        if threading is not None and threading.active_count() > 1:    # a held lock could be copied
            return None
        for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        data_r, data_w = os.pipe()
        done_r, done_w = os.pipe()
        pid = os.fork()
        if pid == 0:                               # the child
            try:
                # the other workers' pipe ends too: a copy held here would keep their input open
                for fd in (data_w, done_r, *Worker._parent_fds):
                    os.close(fd)
                _child(kind, data_r, done_w)
            finally:
                os._exit(0)
        os.close(data_r)
        os.close(done_w)
        return cls(kind, pid, data_w, done_r)

    def send(self, payload) -> bool:
        """Hand the child its input (pickled); False (the child is gone) if it could not be handed
        over: the caller then writes the file another way."""
        import pickle
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_all(self._data_w, data)
        except OSError:                          # pragma: no cover - the child ended (killed from outside)
            self.close()
            return False
        self._close_fd("_data_w")
        self.sent = True
        return True

    def wait(self) -> None:
        """Wait for the file; raise the child's error (with its traceback) if it failed."""
        try:
            answer = _read_all(self._done_r)
        finally:
            self._reap()
        if answer != OK:
            text = answer.decode("utf-8", "replace").strip()
            # the error first (the CLI shows the start of the message), its traceback after
            raise RuntimeError(f"the {self.kind} failed in its worker process: "
                               + (f"{text.splitlines()[-1]}\n{text}" if text else "the process ended without a result"))

    def close(self) -> None:
        """End the child if it still runs (an error before :meth:`wait`); safe to repeat. A child that was
        sent its input is waited for (it writes into a folder the caller is about to remove), its error
        ignored; one that was not is killed."""
        if self.pid is None:
            return
        if self.sent:
            try:
                self.wait()
            except RuntimeError:
                pass
            return
        import signal
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:             # pragma: no cover - already gone
            pass
        self._reap()

    def _close_fd(self, name: str) -> None:
        fd = getattr(self, name)
        if fd is not None:
            os.close(fd)
            Worker._parent_fds.discard(fd)
            setattr(self, name, None)

    def _reap(self) -> None:
        self._close_fd("_data_w")
        self._close_fd("_done_r")
        if self.pid is not None:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:          # pragma: no cover
                pass
            self.pid = None


def start_footprint_workers() -> dict:
    """The chart and workbook workers of a footprint run (those that could be started)."""
    return {k: w for k in KINDS if (w := Worker.start(k)) is not None}


def close_all(workers: dict) -> None:
    for w in workers.values():
        w.close()
