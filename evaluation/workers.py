"""Evaluation lanes in worker processes, all at once: one spawned worker per lane, one thread each.

    run_lanes(lanes, cfg, described, on_event, parallel=True)   # returns when every lane is done

Each worker (``spawn``; ``OMP_NUM_THREADS`` and friends set to 1 for it, and torch's threads)
runs ``evaluation.lanes.run_lane`` and sends its events to this process over its own pipe, where
``on_event`` sees them (the progress bar), with ``{"kind": "notice", "message"}`` for restarts. A worker that dies (killed, out of memory, a crash in
native code) is started again on the same lane: the lane skips the episodes already recorded, so
its unfinished ones are rerun and none is counted twice; after ``MAX_RESTARTS`` deaths the
evaluation stops. A worker that raises sends the error, which is raised here (``ValueError``
stays a ``ValueError``). On Ctrl-C (or any error) here every worker is stopped; the records they
stored stay, so a rerun resumes. Workers ignore SIGINT (this process decides) and, on Linux, die
with this process even when it is killed, so no orphan keeps writing into a folder a rerun resumes.

``parallel=False`` runs the lanes one after the other in this process instead.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from contextlib import contextmanager
from multiprocessing import connection, get_context
from typing import Callable

# LP_NUM_THREADS: Mesa's software rasterizer (llvmpipe) would otherwise start a thread per core in each worker
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LP_NUM_THREADS")
MAX_RESTARTS = 3
PR_SET_PDEATHSIG = 1
PASSED_ON = (ValueError, FileNotFoundError)


class WorkerError(RuntimeError):
    pass


def run_lanes(lanes, cfg, described: dict, on_event: Callable[[dict], None], parallel: bool = True) -> None:
    from evaluation.lanes import run_lane

    lanes = [lane for lane in lanes if lane.size]
    if not parallel:
        for lane in lanes:
            run_lane(lane, cfg, described, on_event)
        return
    Supervisor(cfg, described, on_event).run(lanes)


# ------------------------------------------------------------------ in the worker


def work(lane, cfg, described: dict, pipe, parent: int) -> None:
    """A worker's body: one lane, its events and any error sent down ``pipe``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    from evaluation.lanes import run_lane

    try:
        run_lane(lane, cfg, described, pipe.send)
    except Exception as err:
        pipe.send({"kind": "error", "lane": lane.name, "type": type(err).__name__, "message": str(err),
                   "passed_on": isinstance(err, PASSED_ON), "traceback": traceback.format_exc()})
        raise SystemExit(1) from None
    finally:
        pipe.close()


def _die_with_parent(parent: int) -> None:
    """Linux: ask the kernel to kill this worker when its parent dies; then check it has not already."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(0)


@contextmanager
def one_thread_environment():
    """Children started inside inherit ``OMP_NUM_THREADS=1`` (etc.); this process's setting is restored."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: "1" for k in THREAD_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ------------------------------------------------------------------ in the parent


class Supervisor:
    def __init__(self, cfg, described: dict, on_event: Callable[[dict], None]):
        self.cfg, self.described, self.on_event = cfg, described, on_event
        self.ctx = get_context("spawn")
        self.running: dict[str, tuple] = {}   # lane name -> (lane, process, reader or None)
        self.deaths: dict[str, int] = {}

    def start(self, lane) -> None:
        reader, writer = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=work, name=f"worldsim-eval-{lane.name}",
                                args=(lane, self.cfg, self.described, writer, os.getpid()))
        with one_thread_environment():
            proc.start()
        writer.close()
        self.running[lane.name] = (lane, proc, reader)

    def run(self, lanes) -> None:
        try:
            for lane in lanes:
                self.start(lane)
            while self.running:
                waitables = [p.sentinel for _, p, _ in self.running.values()]
                waitables += [r for _, _, r in self.running.values() if r is not None]
                connection.wait(waitables, timeout=1.0)
                for name in list(self.running):
                    self.drain(name)
                    self.reap(name)
        finally:
            self.stop()

    def drain(self, name: str) -> None:
        lane, proc, reader = self.running[name]
        while reader is not None and reader.poll():
            try:
                event = reader.recv()
            except Exception:   # EOF, or a message cut short by the worker's death
                reader.close()
                self.running[name] = (lane, proc, None)
                return
            if event.get("kind") == "error":
                raise_worker_error(event)
            self.on_event(event)

    def reap(self, name: str) -> None:
        lane, proc, reader = self.running[name]
        if proc.exitcode is None:
            return
        self.drain(name)
        del self.running[name]
        proc.join()
        if reader is not None:
            reader.close()
        if proc.exitcode == 0:
            return
        self.deaths[name] = self.deaths.get(name, 0) + 1
        if self.deaths[name] > MAX_RESTARTS:
            raise WorkerError(f"the {name} evaluation worker died {self.deaths[name]} times (last exit code "
                              f"{proc.exitcode}); its finished episodes are kept, rerun to resume")
        self.on_event({"kind": "notice", "message": f"worldsim eval: the {name} worker died (exit code "
                                                    f"{proc.exitcode}); starting it again to run its unfinished episodes"})
        self.start(lane)

    def stop(self) -> None:
        for _, proc, reader in self.running.values():
            if proc.exitcode is None:
                proc.terminate()
        for _, proc, reader in self.running.values():
            proc.join(timeout=10)
            if proc.exitcode is None:
                proc.kill()
                proc.join()
            if reader is not None:
                reader.close()
        self.running.clear()


def raise_worker_error(event: dict) -> None:
    if event.get("passed_on"):
        raise ValueError(event["message"])
    raise WorkerError(f"the {event['lane']} evaluation worker failed:\n{event['traceback']}")
