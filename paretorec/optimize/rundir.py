"""A run directory: the one place that knows its layout, its lock, and how it is written.

::

    RUN/
      config.json     the config as loaded, defaults filled in
      run.json        versions, seed, data checksum, baselines, objectives and their bounds,
                      counts (evaluations, fits, ...), status
      trials.sqlite   the durable trial store (each trial committed as it finishes)
      trials.csv      one row per trial (mirrored after each generation)
      front.csv       the feasible non-dominated trials, one per distinct parameter set
      history.csv     generation, evaluations, hypervolume, front size, elapsed seconds
      chosen.json     the operating point ``select`` exported (optional)
      plots/          ``plot``'s figures (optional)
      check.json      ``check``'s report (optional)
      .lock           held by the process running the search

A second process that tries to run in a busy directory stops with one line naming the
process that holds it. A directory whose store holds no trial (a first start that failed
before evaluating anything) can be started again without resuming.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pymoo

from paretorec._version import __version__
from paretorec.config import SearchConfig
from paretorec.data.paths import read_config, stored_config
from paretorec.errors import ConfigError, DataError
from paretorec.optimize.engine import (
    Ledger,
    Observer,
    RunOutcome,
    RunState,
    objective_values,
    violations,
)
from paretorec.optimize.engine import run as engine_run
from paretorec.optimize.problem import Problem
from paretorec.optimize.store import HISTORY_COLUMNS, TrialRecord, TrialStore

CONFIG = "config.json"
META = "run.json"
STORE = "trials.sqlite"
TRIALS = "trials.csv"
FRONT = "front.csv"
HISTORY = "history.csv"
CHOSEN = "chosen.json"
PLOTS = "plots"
CHECK = "check.json"
LOCK = ".lock"


class RunDirError(ConfigError):
    """A run directory cannot be used as asked (busy, holds another run, damaged)."""


def _file_mode() -> int:
    """The mode a plain ``open`` would give a new file (``mkstemp`` makes them 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a fresh temporary file in the same directory, then
    an atomic rename.

    The temporary file is created exclusively under a random name, so a file or link planted
    under a predictable name (``config.json.tmp``) is never followed, and a link planted at
    ``path`` itself is replaced, not written through.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """``atomic_write_bytes`` of UTF-8 text (newlines as given)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Copy a (small) file's bytes with ``atomic_write_bytes``: a link at ``target`` is
    replaced, never followed (``shutil.copyfile`` writes through it)."""
    atomic_write_bytes(target, Path(source).read_bytes())


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder``: the one test of writability that also holds
    for root, read-only mounts and kernel filesystems (``os.access`` says yes to root)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".paretorec-probe-")
    os.close(fd)
    os.unlink(tmp)


def writable_file(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """Check, before any work, that a file can be written at ``path`` (nothing is left).

    Raises:
        ConfigError: the path is a folder, its folder is missing or not writable.
    """
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise ConfigError(f"{flag} {path}: is a folder; give a file name, e.g. {path / 'out'}")
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise ConfigError(
            f"{flag} {path}: the folder {parent} {what}; create it first or choose another path"
        )
    try:
        _probe(parent)
    except OSError as exc:
        raise ConfigError(
            f"{flag} {path}: cannot write in {parent} ({exc.strerror}); choose a writable place"
        ) from None
    return path


def writable_dir(path: str | os.PathLike[str], flag: str = "--out", create: bool = True) -> Path:
    """Check, before any work, that ``path`` is (or can be made) a writable folder.

    With ``create`` the folder is made (it is the output); without, nothing is left behind:
    a missing folder is made and removed again to prove it could be.

    Raises:
        ConfigError: the path or one of its parents is a file, or the place is not writable.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path}: exists and is not a folder; choose another output")
    ancestor = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not ancestor.is_dir():
        raise ConfigError(f"{flag} {path}: {ancestor} is a file, not a folder; fix the path")
    made: Path | None = None
    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        elif ancestor != path:
            made = ancestor / path.relative_to(ancestor).parts[0]
            made.mkdir()
        _probe(path if create or made is None else made)
    except OSError as exc:
        raise ConfigError(
            f"{flag} {path}: cannot write there ({exc.strerror}); choose a writable folder"
        ) from None
    finally:
        if made is not None and made.is_dir():
            made.rmdir()
    return path


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


class RunDir:
    """The files of one run.

    Args:
        path: The directory (created when a run starts in it).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None

    def file(self, name: str) -> Path:
        return self.path / name

    # --- starting and resuming ------------------------------------------------------------

    def stored_trials(self) -> int:
        """Trials in the store (0 without one)."""
        if not self.file(STORE).is_file():
            return 0
        store = TrialStore(self.file(STORE), readonly=True)
        try:
            return len(store.trials())
        finally:
            store.close()

    def finished(self) -> bool:
        """Whether this holds a finished run: ``run.json`` says so and the store still has every
        evaluation it counted (a store cut short since is resumed, not taken as done)."""
        try:
            meta = json.loads(self.file(META).read_text())
        except (OSError, ValueError):
            return False  # no run yet, or a damaged one: tune says which
        if not isinstance(meta, dict) or meta.get("status") != "finished":
            return False
        return meta.get("evaluations") == self.stored_trials()

    def check_start(self, config: dict[str, Any], resume: bool) -> bool:
        """Whether a run of ``config`` can start here, before any data is read.

        Returns:
            True when it continues stored trials (a resume), False for a fresh start.

        Raises:
            RunDirError: the directory holds trials and ``resume`` is off, resuming with
                another config, or it holds run files the store does not account for (a
                damaged or replaced store, or a folder that is not a run): nothing is
                overwritten.
            DataError: a run file is damaged (named, and left as it is).
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(f"{self.path}: exists and is not a directory; choose another output")
        stored = self.stored_trials()
        if not stored:
            self._refuse_unaccounted_files()
            return False
        if not resume:
            raise RunDirError(
                f"{self.path} already holds a run ({stored} trials); resume it "
                "(--resume, or resume=True) or choose another output directory"
            )
        saved = self.read_json(CONFIG)
        # both in the stored form: a run stored before paths were written relative to it
        # (``paretorec.data.paths``) still resumes
        if stored_config(read_config(saved, self.path), self.path) != stored_config(
            config, self.path
        ):
            raise RunDirError(
                f"{self.path}: resuming needs the config the run was started with "
                f"(see {self.file(CONFIG)})"
            )
        self.read_json(META)  # read now, so a damaged one stops the resume before the data
        return True

    def _refuse_unaccounted_files(self) -> None:
        """Stop when run files exist that an empty (or absent) store cannot explain: starting
        afresh would overwrite them. A first start that failed before its first trial leaves
        only the store's empty tables, a header-only trials.csv and a run.json without
        evaluations, and may start again."""
        store = self.file(STORE)
        if store.is_file():
            foreign = self._foreign_store()
            listed = self._csv_rows(TRIALS)
            evaluations = (
                self.read_json(META).get("evaluations") if self.file(META).is_file() else 0
            )
            if not (foreign or listed or evaluations or self.file(CHOSEN).exists()):
                return
            state = "is not a paretorec trial store" if foreign else "holds no trials"
        else:
            present = [n for n in (CONFIG, META, TRIALS, FRONT, CHOSEN) if self.file(n).exists()]
            if not present:
                return
            listed, state = self._csv_rows(TRIALS), "is missing"
        rows = f" ({listed} trials listed in {TRIALS})" if listed else ""
        raise RunDirError(
            f"{store} {state}, but {self.path} holds run files{rows}; nothing was started or "
            "overwritten: start the run in another --out (the files there were left as they are)"
        )

    def _foreign_store(self) -> bool:
        """Whether the store file holds tables but not paretorec's (another program's file)."""
        store = TrialStore(self.file(STORE), readonly=True)
        try:
            return bool(store.tables) and "trials" not in store.tables
        finally:
            store.close()

    def _csv_rows(self, name: str) -> int:
        """Data rows of one of the run's CSV mirrors (0 when absent or unreadable)."""
        try:
            with self.file(name).open(encoding="utf-8", errors="replace") as fh:
                return max(sum(1 for _ in fh) - 1, 0)
        except OSError:
            return 0

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's lock; another process holding it stops this one with a line
        naming that process."""
        import fcntl  # POSIX; the lock is released by the OS if the process dies

        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # never through a link: a planted .lock link would truncate its target
            fd = os.open(self.file(LOCK), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if self.file(LOCK).is_symlink():
                raise RunDirError(
                    f"{self.file(LOCK)}: is a symbolic link, not paretorec's lock file; "
                    "remove it (it was not followed)"
                ) from None
            raise RunDirError(
                f"{self.path}: cannot write the run directory ({exc.strerror}); choose a "
                "writable output directory"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunDirError(
                f"{self.path} is in use by a running paretorec ({holder}); wait for it to "
                "finish or choose another output directory"
            ) from None
        os.ftruncate(fd, 0)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        os.write(fd, f"pid {os.getpid()} on {platform.node()}, since {stamp}".encode())
        self._lock_fd = fd
        try:
            yield
        finally:
            self._lock_fd = None
            os.close(fd)  # releases the lock

    def store(self) -> TrialStore:
        return TrialStore(self.file(STORE))

    def run(
        self,
        problem: Problem,
        search: SearchConfig,
        config: dict[str, Any],
        resuming: bool,
        *,
        executor: Any = None,
        observers: Sequence[Observer] = (),
        warm_start: np.ndarray | None = None,
    ) -> RunOutcome:
        """Run ``search`` on ``problem`` here, writing the directory as it goes; with
        ``resuming`` (from ``check_start``), continue the stored trials on the same data and
        with the same warm start. Call it while holding ``locked()``."""
        previous = None
        if resuming:
            previous = self.read_json(META)
            checksum = problem.metadata().get("dataset", {}).get("checksum")
            if previous.get("dataset", {}).get("checksum") != checksum:
                raise RunDirError(
                    f"{self.path}: resuming on different data than the run started with"
                )
            if previous.get("warm_start") is not None:
                warm_start = np.asarray(previous["warm_start"]["x"], dtype=np.float64)
        store = self.store()
        writer = RunWriter(self, problem, search, config, warm_start, previous)
        try:
            return engine_run(
                problem,
                search,
                store=store,
                executor=executor,
                observers=[*observers, writer],
                warm_start=warm_start,
            )
        finally:
            store.close()

    # --- reading --------------------------------------------------------------------------

    def require(self, *names: str) -> None:
        """Stop with one line when the directory lacks one of ``names``."""
        if not self.path.is_dir():
            raise DataError(
                f"{self.path}: not a paretorec run (no such directory); run "
                "`paretorec tune CONFIG --out DIR` first"
            )
        missing = [name for name in names if not self.file(name).is_file()]
        if not missing:
            return
        present = [n for n in (CONFIG, META, STORE, TRIALS) if self.file(n).is_file()]
        if not present:
            raise DataError(
                f"{self.path}: not a paretorec run (missing {', '.join(missing)}); "
                "run `paretorec tune CONFIG --out DIR` first"
            )
        listed = self._csv_rows(TRIALS)
        keeps = f"; {TRIALS} lists {listed} trials as a table" if listed else ""
        raise DataError(
            f"{self.path}: a damaged run: {', '.join(missing)} missing (the other files were "
            f"left as they are{keeps}); re-run `paretorec tune` into another --out"
        )

    def read_json(self, name: str) -> dict[str, Any]:
        """One of the run's JSON files, which must hold an object; never rewritten here."""
        path = self.file(name)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError(f"{path}: missing; the run directory is incomplete") from None
        except (OSError, ValueError, RecursionError) as exc:  # ValueError: JSON, UTF-8, digits
            reason = getattr(exc, "strerror", None) or exc
            raise DataError(
                f"{path}: not valid JSON ({reason}); was it edited? it was left as it is"
            ) from None
        if not isinstance(raw, dict):
            raise DataError(
                f"{path}: expected a JSON object, got {type(raw).__name__}; was it edited? "
                "it was left as it is"
            )
        return raw

    def records(self) -> list[TrialRecord]:
        return self._read(TrialStore.trials)

    def history(self) -> list[tuple]:
        return self._read(TrialStore.history)

    def _read(self, what: Any) -> Any:
        store = TrialStore(self.file(STORE), readonly=True)  # reading never writes
        try:
            return what(store)
        finally:
            store.close()


def trials_header(problem: Problem) -> list[str]:
    return ["trial", "generation", *problem.space.names, *problem.columns(), "seconds", "cached"]


def trial_row(problem: Problem, r: TrialRecord) -> list[Any]:
    """A trials.csv row (blank for inactive parameters and missing results)."""
    params = [r.params.get(name, "") for name in problem.space.names]
    results = [r.results.get(col, "") for col in problem.columns()]
    return [r.trial, r.generation, *params, *results, r.seconds, r.cached]


def run_metadata(
    problem: Problem, search: SearchConfig, status: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """``run.json``: versions, seed, what the problem says of itself, objectives and their
    hypervolume bounds, the space, and ``extra`` (dates, counts)."""
    return {
        "status": status,
        "paretorec_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pymoo": pymoo.__version__,
        "seed": search.seed,
        "algorithm": search.algorithm,
        **problem.metadata(),
        "objectives": [
            {"name": o.name, "direction": o.direction, "best": o.best, "worst": o.worst}
            for o in problem.objectives
        ],
        "hypervolume": {
            "space": "each objective scaled to [0, 1]: 0 at `best`, 1 at `worst` (the "
            "reference); infeasible points excluded",
            "reference_point": [1.0] * len(problem.objectives),
        },
        "space": problem.space.describe(),
        "parameters": problem.space.names,
        **extra,
    }


class RunWriter(Observer):
    """Mirrors a run into its directory: config and ``run.json`` at the start, new trials,
    the front and the history after each generation, everything again at the end."""

    def __init__(
        self,
        run_dir: RunDir,
        problem: Problem,
        search: SearchConfig,
        config: dict[str, Any],
        warm_start: np.ndarray | None,
        previous: dict[str, Any] | None,
    ) -> None:
        self.dir = run_dir
        self.problem = problem
        self.search = search
        self.config = config
        self.previous = previous or {}
        self.warm = None if warm_start is None else {"x": np.asarray(warm_start).tolist()}
        self.started_at = self.previous.get(
            "started", datetime.now(UTC).isoformat(timespec="seconds")
        )
        self.on_disk: set[int] = set()
        self.front_members: tuple[int, ...] | None = None

    def _meta(self, status: str, extra: dict[str, Any]) -> None:
        meta = run_metadata(
            self.problem,
            self.search,
            status,
            {"started": self.started_at, "warm_start": self.warm, **extra},
        )
        atomic_write(self.dir.file(META), json.dumps(meta, indent=2, default=str) + "\n")

    def started(self, state: RunState) -> None:
        config = stored_config(self.config, self.dir.path)  # no machine's folders in the file
        atomic_write(self.dir.file(CONFIG), json.dumps(config, indent=2, default=str) + "\n")
        self._meta("running", {})
        stored = state.store.trials()
        rows = [trials_header(self.problem), *(trial_row(self.problem, r) for r in stored)]
        atomic_write(self.dir.file(TRIALS), _csv_text(rows))
        self.on_disk = {r.trial for r in stored}

    def generation(self, state: RunState, records: list[TrialRecord], row: tuple) -> None:
        new = [r for r in records if r.trial not in self.on_disk]
        if new:
            with self.dir.file(TRIALS).open("a", newline="") as fh:
                csv.writer(fh).writerows(trial_row(self.problem, r) for r in new)
            self.on_disk.update(r.trial for r in new)
        front = state.ledger.front()
        members = tuple(r.trial for r in front)
        if members != self.front_members:
            self._write_front(front)
            self.front_members = members
        atomic_write(
            self.dir.file(HISTORY), _csv_text([list(HISTORY_COLUMNS), *state.store.history()])
        )

    def _write_front(self, front: list[TrialRecord]) -> None:
        rows = [trials_header(self.problem), *(trial_row(self.problem, r) for r in front)]
        atomic_write(self.dir.file(FRONT), _csv_text(rows))

    def finished(self, state: RunState, outcome: RunOutcome) -> None:
        rows = [trials_header(self.problem), *(trial_row(self.problem, r) for r in outcome.records)]
        atomic_write(self.dir.file(TRIALS), _csv_text(rows))
        self._write_front(state.ledger.front())
        stats = dict(outcome.stats)
        if self.previous.get("status") is not None and "fits_in_this_session" not in stats:
            # resumed, with no fits stored by earlier sessions (a store written before they
            # were): the earlier count comes from run.json, if that session finished
            stats["fits_in_this_session"] = stats["fits"]
            stats["fits"] = stats["fits"] + int(self.previous.get("fits") or 0)
        self._meta(
            "finished",
            {"finished": datetime.now(UTC).isoformat(timespec="seconds"), **stats},
        )


def front_ledger(problem: Any, records: list[TrialRecord]) -> Ledger:
    """A ledger of stored records, to rebuild a run's front (``problem``: anything with the
    ``space``, ``objectives`` and ``constraints`` of the run)."""
    ledger = Ledger(problem)
    if records:
        ledger.extend(records, objective_values(problem, records), violations(problem, records))
    return ledger
