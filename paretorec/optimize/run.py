"""The run loop: ask pymoo for a generation, evaluate it, commit it, repeat.

The loop is replayable: a run resumed with ``resume=True`` re-creates the algorithm from the
same seed and, for every point the store already holds, hands pymoo the stored objectives
instead of evaluating again. Since pymoo is deterministic given its seed and the objective
values, the resumed run asks for exactly the points the uninterrupted run would have.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymoo
from pymoo.core.evaluator import Evaluator
from pymoo.core.problem import Problem
from pymoo.termination.max_gen import MaximumGenerationTermination
from tqdm import tqdm

from paretorec import __version__
from paretorec.errors import ConfigError
from paretorec.objectives import normalise, to_min
from paretorec.optimize.algorithms import ALGORITHMS
from paretorec.optimize.store import TrialRecord, TrialStore
from paretorec.select.pareto import finite_min, front_mask, hypervolume
from paretorec.study import Study

CONFIG = "config.json"
META = "run.json"
TRIALS = "trials.csv"
FRONT = "front.csv"
HISTORY = "history.csv"


class _SearchProblem(Problem):
    """pymoo's view of the study: ``n_var`` unit-interval variables, ``n_obj`` minimised."""

    def __init__(self, n_var: int, n_obj: int, batch: Any) -> None:
        super().__init__(n_var=n_var, n_obj=n_obj, xl=0.0, xu=1.0)
        self._batch = batch

    def _evaluate(self, X, out, *args, **kwargs):
        out["F"] = self._batch(X)


@dataclass
class _Progress:
    """Mutable state of the loop shared with the batch callback."""

    generation: int = 0
    trial: int = 0


def _check_resumable(run_dir: Path, study: Study, resume: bool) -> None:
    has_trials = (run_dir / TrialStore.FILENAME).exists()
    if has_trials and not resume:
        raise ConfigError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )
    if has_trials:
        saved = json.loads((run_dir / CONFIG).read_text())
        if saved != study.config.to_dict():
            raise ConfigError(
                f"{run_dir}: --resume needs the config the run was started with "
                f"(see {run_dir / CONFIG})"
            )
        meta = json.loads((run_dir / META).read_text())
        if meta["dataset"]["checksum"] != study.dataset.checksum:
            raise ConfigError(f"{run_dir}: --resume on different data than the run started with")


def _metadata(study: Study, status: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": status,
        "paretorec_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pymoo": pymoo.__version__,
        "seed": study.config.search.seed,
        "dataset": {
            "name": study.dataset.name,
            "checksum": study.dataset.checksum,
            "users": study.dataset.n_users,
            "items": study.dataset.n_items,
            "interactions": len(study.dataset.interactions),
            "cleaning": [] if study.dataset.cleaning is None else study.dataset.cleaning.lines(),
        },
        "split": {
            **dataclasses.asdict(study.config.split),
            "sizes": {
                "train": len(study.split.train),
                "validation": len(study.split.validation),
                "test": len(study.split.test),
            },
            "users": {
                stage: study.pipeline.stage(stage).counts for stage in ("validation", "test")
            },
        },
        "k": study.config.evaluation.k,
        "objectives": [
            {"name": o.name, "direction": o.direction, "best": o.best, "worst": o.worst}
            for o in study.objectives
        ],
        "hypervolume": {
            "space": "each objective scaled to [0, 1]: 0 at `best`, 1 at `worst`",
            "reference_point": [1.0] * len(study.objectives),
        },
        "space": study.space.describe(),
        "parameters": study.space.names,
        **extra,
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)


def trials_frame(study: Study, records: list[TrialRecord]) -> pd.DataFrame:
    """One row per trial: ids, parameters by name (blank when inactive), results, timing."""
    rows = [
        {
            "trial": r.trial,
            "generation": r.generation,
            **{name: r.params.get(name) for name in study.space.names},
            **r.results,
            "seconds": r.seconds,
            "cached": r.cached,
        }
        for r in records
    ]
    columns = ["trial", "generation", *study.space.names, *study.columns(), "seconds", "cached"]
    return pd.DataFrame(rows, columns=columns)


def objective_matrix(study: Study, frame: pd.DataFrame, stage: str = "validation") -> np.ndarray:
    """``(n, m)`` minimisation F of a trials frame's validation (or test) objectives."""
    return finite_min(to_min(study.objectives, frame[study.objective_columns(stage)].to_numpy()))


def run_search(
    study: Study, run_dir: str | Path, resume: bool = False, progress: bool = True
) -> pd.DataFrame:
    """Run the configured search, writing the run directory as it goes.

    Args:
        study: The prepared study.
        run_dir: Output directory (created).
        resume: Continue a run found in ``run_dir`` (same config and data required).
        progress: Show a progress bar on a terminal.

    Returns:
        The trials frame (also in ``trials.csv``).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_resumable(run_dir, study, resume)
    _write_json(run_dir / CONFIG, study.config.to_dict())
    started = datetime.now(UTC).isoformat(timespec="seconds")
    _write_json(run_dir / META, _metadata(study, "running", {"started": started}))

    search = study.config.search
    store = TrialStore(run_dir)
    previous = store.trials()
    records: list[TrialRecord] = []
    state = _Progress()
    bar = tqdm(
        total=search.population * search.generations,
        unit="eval",
        desc="tune",
        disable=None if progress else True,
    )
    objective_cols = study.objective_columns()

    def batch(X: np.ndarray) -> np.ndarray:
        F = np.empty((len(X), len(study.objectives)))
        for i, x in enumerate(X):
            t = state.trial
            if t < len(previous):
                record = previous[t]
                if not np.allclose(record.x, x, rtol=0.0, atol=1e-12):
                    raise ConfigError(
                        f"{run_dir}: stored trial {t} differs from what the seeded search asks "
                        "for; the run cannot be resumed (was it made by another version?)"
                    )
            else:
                values = study.space.decode(x)
                start = time.perf_counter()
                results, cached = study.evaluate(values)
                record = TrialRecord(
                    t,
                    state.generation,
                    tuple(float(v) for v in x),
                    values,
                    results,
                    time.perf_counter() - start,
                    cached,
                )
            records.append(record)
            F[i] = to_min(study.objectives, np.array([[record.results[c] for c in objective_cols]]))
            state.trial += 1
            bar.update(1)
        return finite_min(F)

    algorithm = ALGORITHMS.get(search.algorithm)(search, study.space)
    problem = _SearchProblem(study.space.n_var, len(study.objectives), batch)
    algorithm.setup(
        problem, termination=MaximumGenerationTermination(search.generations), seed=search.seed
    )
    evaluator = Evaluator()
    clock = time.perf_counter()
    try:
        while algorithm.has_next():
            state.generation += 1
            first_new = len(records)
            population = algorithm.ask()
            evaluator.eval(problem, population)
            algorithm.tell(infills=population)
            frame = trials_frame(study, records)
            F = objective_matrix(study, frame)
            hv = hypervolume(normalise(study.objectives, F))
            history = (
                state.generation,
                len(records),
                hv,
                int(front_mask(F).sum()),
                time.perf_counter() - clock,
            )
            fresh = [r for r in records[first_new:] if r.trial >= len(previous)]
            store.commit_generation(fresh, history)
            _mirror(run_dir, study, frame, F, store)
            bar.set_postfix(hv=f"{hv:.4f}")
    finally:
        bar.close()
        store.close()
    finished = datetime.now(UTC).isoformat(timespec="seconds")
    _write_json(
        run_dir / META,
        _metadata(
            study,
            "finished",
            {
                "started": started,
                "finished": finished,
                "evaluations": len(records),
                "fits": study.pipeline.fits,
                "hypervolume_final": hv,
            },
        ),
    )
    return trials_frame(study, records)


def _mirror(
    run_dir: Path, study: Study, frame: pd.DataFrame, F: np.ndarray, store: TrialStore
) -> None:
    """Rewrite the CSV views of the store (small files; rewritten whole, atomically)."""
    _write_csv(run_dir / TRIALS, frame)
    front = frame[front_mask(F)].drop_duplicates(subset=study.space.names, keep="first")
    _write_csv(run_dir / FRONT, front)
    hist = pd.DataFrame(
        store.history(),
        columns=["generation", "evaluations", "hypervolume", "front_size", "elapsed_seconds"],
    )
    _write_csv(run_dir / HISTORY, hist)
