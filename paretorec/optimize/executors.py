"""Where evaluations run: in this process, in worker processes, or on a Dask cluster.

Every executor evaluates a generation's jobs and yields each outcome as soon as it is ready, so
the run loop can commit it before anything else can go wrong. Outcomes do not depend on where
they were computed: an evaluation is a pure function of the point and the data.

Expensive state (a fitted model) is cached inside each worker, so jobs are routed by the
problem's ``affinity``: all points of one model (same hyperparameters) go to the same worker,
which fits it once; a new model goes to the worker that holds the fewest. Assignments are
sticky for the whole run. On Linux worker processes are forked and inherit the problem as it
is (data, stages, fitted baselines, compiled kernels); elsewhere they rebuild it from its
``recipe()``. Each worker starts its own session, so Linux's per-session CPU sharing gives it
a core of its own under load.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from paretorec.errors import ConfigError, ParetoRecError

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Job:
    """One point to evaluate on some stages."""

    values: dict[str, Any]
    stages: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """The result columns of a job, whether the worker had it memoised, wall time, and the
    worker's running count of model fits, and the fits this job made (``FitRecord`` dicts)."""

    results: dict[str, float]
    cached: bool
    seconds: float
    worker: int
    fits: int
    fit_records: tuple[dict, ...] = ()


class Router:
    """Sticky assignment of affinity keys to workers, the least-loaded worker for a new key."""

    def __init__(self, n_workers: int, affinity: Callable[[Values], tuple]) -> None:
        self.n_workers = n_workers
        self.affinity = affinity
        self.assigned: dict[tuple, int] = {}
        self.load = [0] * n_workers

    def worker(self, values: Values) -> int:
        key = self.affinity(values)
        if key not in self.assigned:
            target = min(range(self.n_workers), key=lambda w: (self.load[w], w))
            self.assigned[key] = target
            self.load[target] += 1
        return self.assigned[key]


def _run(target: Any, job: Job, worker: int, fits_before: int = 0) -> Outcome:
    start = time.perf_counter()
    results, cached = target.evaluate(job.values, job.stages)
    drain = getattr(target, "drain_fit_records", None)
    fitted = tuple(r.to_dict() for r in drain()) if drain is not None else ()
    seconds = time.perf_counter() - start
    return Outcome(results, cached, seconds, worker, target.fits - fits_before, fitted)


class _FitCounter:
    """Model fits summed over workers (each reports its own running count)."""

    def __init__(self) -> None:
        self.by_worker: dict[int, int] = {}

    def saw(self, outcome: Outcome) -> Outcome:
        self.by_worker[outcome.worker] = max(self.by_worker.get(outcome.worker, 0), outcome.fits)
        return outcome

    @property
    def fits(self) -> int:
        return sum(self.by_worker.values())


class SerialExecutor:
    """Evaluates in this process, one job after another."""

    n_workers = 1

    def __init__(self, problem: Any) -> None:
        self.target = problem

    @property
    def fits(self) -> int:
        return self.target.fits

    def map(self, jobs: Sequence[Job]) -> Iterator[tuple[int, Outcome]]:
        for index, job in enumerate(jobs):
            yield index, _run(self.target, job, 0)

    def close(self) -> None:
        pass


def _worker_main(connection: Connection, source: Any, worker: int, forked: bool) -> None:
    """A worker: the parent's problem itself when forked, else rebuilt from its recipe."""
    _own_session()
    try:
        target = source if forked else source.build()
        drain = getattr(target, "drain_fit_records", None)
        if drain is not None:
            drain()  # a forked copy's earlier fits are the parent's to report
        fits_before = target.fits if forked else 0
    except Exception as exc:  # reported to the parent, which raises it there
        connection.send(("error", _describe(exc)))
        return
    connection.send(("ready", None))
    while True:
        message = connection.recv()
        if message is None:
            connection.close()
            # return, so multiprocessing runs its finalisers (semaphores created here are
            # released); a forked worker then leaves without interpreter teardown
            return
        try:
            for index, job in message:
                connection.send((index, _run(target, job, worker, fits_before)))
        except Exception as exc:
            connection.send(("error", _describe(exc)))
            return
        connection.send(("done", None))


def _own_session() -> None:
    """Put this worker in its own session. Linux's autogroup scheduler shares CPU between
    sessions, not processes: workers in the parent's session shared one share between them and
    the parent (measured under load: two processes in one session 4.1 s each, in their own
    sessions 2.5 s each, one alone 2.1 s)."""
    try:
        os.setsid()
    except (AttributeError, OSError):  # not POSIX, or already a session leader
        pass


def _start_method() -> str:
    """``fork`` on Linux (workers inherit imports, data, stages, compiled kernels and the
    baselines' fits: start-up 7.3 s -> 0.06 s measured), unless BLAS runs on OpenMP, whose
    thread pool is not fork-safe, or another Python thread runs; ``spawn`` otherwise."""
    if sys.platform != "linux" or "fork" not in mp.get_all_start_methods():
        return "spawn"
    # another Python thread (a Dask client, say) may hold a lock the child would inherit held;
    # tqdm's monitor only wakes to check bars, and workers draw none
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(t.name != "tqdm_monitor" for t in others):
        return "spawn"
    try:
        from threadpoolctl import threadpool_info

        if any(info.get("threading_layer") == "openmp" for info in threadpool_info()):
            return "spawn"
    except Exception:  # an unknown BLAS: the safe choice
        return "spawn"
    return "fork"


def _describe(exc: Exception) -> tuple[str, str, str]:
    return type(exc).__name__, str(exc), traceback.format_exc()


def _reraise(name: str, message: str, trace: str) -> None:
    """A worker's user error (a ParetoRecError) is raised here as itself; anything else is a bug
    and keeps the worker's traceback."""
    import paretorec.errors as errors

    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, ParetoRecError):
        raise cls(message)
    raise RuntimeError(f"a worker process failed:\n{trace}")


class ProcessExecutor:
    """``--workers N``: N worker processes on this machine, each with its own model cache."""

    def __init__(self, problem: Any, n_workers: int) -> None:
        if n_workers < 1:
            raise ConfigError(f"--workers: `N >= 1` must hold, got {n_workers}")
        method = _start_method()
        context = mp.get_context(method)
        problem.warm_up()  # e.g. compile kernels once; workers then load them from the cache
        forked = method == "fork"
        source = problem if forked else problem.recipe()  # a fork inherits it, unpickled
        self.start_method = method
        self.n_workers = n_workers
        self.router = Router(n_workers, problem.affinity)
        self.counter = _FitCounter()
        self.connections: list[Connection] = []
        self.processes = []
        for worker in range(n_workers):
            parent, child = context.Pipe()
            process = context.Process(
                target=_worker_main, args=(child, source, worker, forked), daemon=True
            )
            process.start()
            child.close()  # the worker's end lives in the worker: its death is EOF here
            self.connections.append(parent)
            self.processes.append(process)
        for connection in self.connections:
            self._expect(connection, "ready")

    def _expect(self, connection: Connection, what: str) -> Any:
        try:
            tag, payload = connection.recv()
        except EOFError:
            raise RuntimeError("a worker process died; see its error above") from None
        if tag == "error":
            self.close()
            _reraise(*payload)
        if tag != what:
            raise RuntimeError(f"worker protocol error: expected {what}, got {tag}")
        return payload

    def map(self, jobs: Sequence[Job]) -> Iterator[tuple[int, Outcome]]:
        batches: list[list[tuple[int, Job]]] = [[] for _ in range(self.n_workers)]
        for index, job in enumerate(jobs):
            batches[self.router.worker(job.values)].append((index, job))
        busy = []
        for connection, batch in zip(self.connections, batches, strict=True):
            if batch:
                connection.send(batch)
                busy.append(connection)
        while busy:
            for connection in wait(busy):
                try:
                    tag, payload = connection.recv()
                except EOFError:
                    raise RuntimeError("a worker process died; see its error above") from None
                if tag == "done":
                    busy.remove(connection)
                elif tag == "error":
                    self.close()
                    _reraise(*payload)
                else:
                    yield tag, self.counter.saw(payload)

    @property
    def fits(self) -> int:
        return self.counter.fits

    def close(self) -> None:
        for connection in self.connections:
            try:
                connection.send(None)
            except (BrokenPipeError, OSError):
                pass
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


_DASK_TARGETS: dict[bytes, Any] = {}  # per Dask worker process: problems built so far


def _dask_batch(recipe: Any, worker: int, batch: list[tuple[int, Job]]) -> list:
    key = pickle.dumps(recipe)
    target = _DASK_TARGETS.get(key)
    if target is None:
        target = _DASK_TARGETS[key] = _build_on_worker(recipe)
    return [(index, _run(target, job, worker)) for index, job in batch]


def _build_on_worker(recipe: Any) -> Any:
    """The recipe's problem, built on a Dask worker; a worker that cannot read the data says
    so in one line (it has neither our environment nor our working directory)."""
    try:
        return recipe.build()
    except ParetoRecError as exc:
        import socket

        folder = getattr(recipe, "data_dir", None) or "no data folder"
        raise type(exc)(
            f"on Dask worker {socket.gethostname()}: {exc} (the run passed {folder}; every "
            "worker needs the data at that path: a shared folder, or --data-dir)"
        ) from None


class DaskExecutor:
    """``--scheduler ADDRESS``: evaluate on an existing Dask distributed cluster.

    Each Dask worker builds the target once (data, caches) and keeps it between tasks; jobs are
    routed to workers by model key like the local executor. Dask exchanges pickles with the
    scheduler and workers, so a cluster must be trusted as much as this process.
    """

    def __init__(self, problem: Any, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ConfigError(
                "--scheduler needs dask.distributed: pip install 'paretorec[dask]'"
            ) from None
        try:
            self.client = Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise ConfigError(f"--scheduler {address}: cannot connect ({exc})") from None
        self.workers = sorted(self.client.scheduler_info()["workers"])
        if not self.workers:
            raise ConfigError(f"--scheduler {address}: the cluster has no workers")
        self.n_workers = len(self.workers)
        problem.warm_up()  # workers on this machine then load what it prepared
        self.recipe = problem.recipe()
        self.router = Router(self.n_workers, problem.affinity)
        self.counter = _FitCounter()

    def map(self, jobs: Sequence[Job]) -> Iterator[tuple[int, Outcome]]:
        from distributed import as_completed

        batches: list[list[tuple[int, Job]]] = [[] for _ in range(self.n_workers)]
        for index, job in enumerate(jobs):
            batches[self.router.worker(job.values)].append((index, job))
        futures = [
            self.client.submit(
                _dask_batch,
                self.recipe,
                w,
                batch,
                workers=[self.workers[w]],
                allow_other_workers=False,
                pure=False,
            )
            for w, batch in enumerate(batches)
            if batch
        ]
        for future in as_completed(futures):
            for index, outcome in future.result():
                yield index, self.counter.saw(outcome)

    @property
    def fits(self) -> int:
        return self.counter.fits

    def close(self) -> None:
        self.client.close()
