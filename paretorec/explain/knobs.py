"""Which knob moves which objective: a random-forest surrogate per objective over a run's
trials, ranked by permutation importance on held-out trials, with partial-dependence plots.

Encoding (the forest needs numbers; conditional parameters are blank when their model is not
chosen):

- a choice (``model``, ``hybrid.first``, ...) becomes its position in the space's list of
  values (an ordinal code); blank becomes ``-1``;
- a numeric parameter keeps its value; blank becomes a sentinel one span below its smallest
  value (``low - (high - low) - 1``), so a tree separates "inactive" from every real value
  with one split, and "inactive" never looks like a small value of the knob;
- every parameter is one column, so permuting ``model`` moves the whole model choice at once
  and its importance is not split over one-hot columns.

The surrogate is fit on a seeded 75 % of the trials; its R^2 and the permutation importances
(mean drop of R^2 when one column is shuffled, ``n_repeats`` times) are measured on the other
25 %, so a knob the forest merely memorised scores near 0. An objective whose values span more
than two orders of magnitude (cost) is modelled as log10 of its values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from paretorec.errors import ConfigError, DataError
from paretorec.objectives import column
from paretorec.result import Result
from paretorec.space import Choice

MIN_TRIALS = 10  # fewer trials than this cannot train and test a surrogate
HELD_OUT = 0.25  # share of the trials the surrogate is scored on
LOG_SPAN = 100.0  # a positive objective spanning more than this ratio is modelled in log10

RunLike = Result | str | os.PathLike[str]


@dataclass(frozen=True, eq=False)
class Surrogate:
    """One objective's forest and what it was scored on.

    Attributes:
        objective: The objective's name.
        forest: The fitted ``RandomForestRegressor``.
        X: ``(n, p)`` encoded parameters of every trial with a finite value (all columns).
        y: ``(n,)`` the objective (log10 when ``log``).
        log: Whether the target is log10 of the values.
        r2: R^2 on the held-out trials.
        n_train: Trials it was fit on; ``n_test``: trials it was scored on.
    """

    objective: str
    forest: Any
    X: pd.DataFrame
    y: np.ndarray
    log: bool
    r2: float
    n_train: int
    n_test: int


@dataclass(frozen=True, eq=False)
class KnobAnalysis:
    """The surrogates of a run's objectives and their importances.

    Attributes:
        importances: ``objective, parameter, importance, std, r2`` sorted by objective (in the
            run's order) then importance, largest first.
        surrogates: One per objective, in the run's order.
        categories: Each choice parameter's values, in code order.
        inactive: Each parameter's "inactive" code.
    """

    importances: pd.DataFrame
    surrogates: tuple[Surrogate, ...]
    categories: dict[str, tuple[Any, ...]]
    inactive: dict[str, float]

    def top(self, objective: str, n: int = 3) -> list[str]:
        """The ``n`` most important parameters of ``objective``."""
        rows = self.importances[self.importances["objective"] == objective]
        return rows["parameter"].head(n).tolist()


def _result(run: RunLike) -> Result:
    if isinstance(run, Result):
        return run
    path = os.fspath(run)
    if not os.path.isdir(path):
        raise DataError(f"{path}: not a run directory (no such folder); give the --out of tune")
    return Result.load(path)


def encode(
    params: pd.DataFrame, choices: Mapping[str, tuple[Any, ...]]
) -> tuple[pd.DataFrame, dict[str, tuple[Any, ...]], dict[str, float]]:
    """Parameters as numbers (see the module docstring); parameters that never vary dropped.

    Args:
        params: ``(n_trials, p)`` parameter values by name, blank (NA) when inactive.
        choices: Each choice parameter's values in the space's order (their codes).

    Returns:
        ``(n_trials, p')`` float frame, each kept choice's values, each column's inactive code.
    """
    columns: dict[str, np.ndarray] = {}
    categories: dict[str, tuple[Any, ...]] = {}
    inactive: dict[str, float] = {}
    for name in params.columns:
        raw = params[name]
        missing = raw.isna().to_numpy()
        numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
        if name in choices and not numeric:
            values = tuple(choices[name])
            lookup = {v: i for i, v in enumerate(values)}
            codes = [-1 if m else lookup.get(v, -1) for v, m in zip(raw, missing, strict=True)]
            columns[name] = np.asarray(codes, dtype=float)
            categories[name], inactive[name] = values, -1.0
        else:
            values_f = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            finite = values_f[np.isfinite(values_f)]
            if not finite.size:
                continue
            lo, hi = float(finite.min()), float(finite.max())
            sentinel = lo - (hi - lo) - 1.0
            columns[name] = np.where(np.isfinite(values_f), values_f, sentinel)
            inactive[name] = sentinel
        if np.unique(columns[name]).size < 2:  # a constant column explains nothing
            del columns[name]
            categories.pop(name, None)
            inactive.pop(name, None)
    return pd.DataFrame(columns, index=params.index), categories, inactive


def analyse_knobs(
    run: RunLike,
    objectives: Sequence[str] | None = None,
    *,
    stage: str = "validation",
    seed: int = 0,
    n_repeats: int = 10,
    n_estimators: int = 100,
) -> KnobAnalysis:
    """Fit one surrogate per objective of a run and rank the knobs by held-out permutation
    importance.

    Args:
        run: A ``Result`` or a run directory.
        objectives: Which objectives (default: all of the run's).
        stage: ``validation`` (what the search optimised) or ``test``.
        seed: Seeds the split, the forests and the permutations (same seed, same numbers).
        n_repeats: Shuffles per parameter.
        n_estimators: Trees per forest.

    Raises:
        DataError: not a run, or fewer than ``MIN_TRIALS`` trials with a value.
        ConfigError: an unknown objective or stage.
    """
    result = _result(run)
    if stage not in ("validation", "test"):
        raise ConfigError(f"stage must be validation or test, got {stage!r}")
    known = [o.name for o in result.objectives]
    wanted = list(known if objectives is None else objectives)
    for name in wanted:
        if name not in known:
            raise ConfigError(
                f"`{name}` is not an objective of this run; objectives: {', '.join(known)}"
            )
    trials = result.trials
    choices = {n: d.values for n, d in result.space.params if isinstance(d, Choice)}
    targets = {name: trials[column(stage, name)].to_numpy(dtype=float) for name in wanted}
    return analyse_table(
        trials[result.parameters],
        targets,
        choices,
        where=str(result.run_dir or "run"),
        seed=seed,
        n_repeats=n_repeats,
        n_estimators=n_estimators,
    )


def analyse_table(
    params: pd.DataFrame,
    targets: Mapping[str, np.ndarray],
    choices: Mapping[str, tuple[Any, ...]] | None = None,
    *,
    where: str = "trials",
    seed: int = 0,
    n_repeats: int = 10,
    n_estimators: int = 100,
) -> KnobAnalysis:
    """The surrogates of any table of trials: ``params`` ``(n, p)`` and one ``(n,)`` array
    per objective (NaN where a trial has no value). ``analyse_knobs`` reads a run into it."""
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    if len(params) < MIN_TRIALS:
        raise DataError(
            f"{where}: {len(params)} trials; a surrogate needs at least {MIN_TRIALS} "
            "(tune longer, e.g. a larger budget)"
        )
    X_all, categories, inactive = encode(params, choices or {})
    if X_all.shape[1] == 0:
        raise DataError(f"{where}: no parameter varies over the trials; nothing to explain")
    rows: list[dict[str, Any]] = []
    surrogates: list[Surrogate] = []
    for name, y_raw in targets.items():
        y_raw = np.asarray(y_raw, dtype=float)
        keep = np.isfinite(y_raw)
        if keep.sum() < MIN_TRIALS:
            raise DataError(
                f"{where}: {int(keep.sum())} trials have a value of {name}; a surrogate "
                f"needs at least {MIN_TRIALS}"
            )
        y_kept = y_raw[keep]
        log = bool((y_kept > 0).all() and y_kept.max() / y_kept.min() > LOG_SPAN)
        y = np.log10(y_kept) if log else y_kept
        X = X_all[keep]
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=HELD_OUT, random_state=seed)

        def forest() -> Any:
            return RandomForestRegressor(
                n_estimators=n_estimators, min_samples_leaf=2, random_state=seed, n_jobs=1
            )

        held = forest().fit(X_tr, y_tr)
        r2 = float(r2_score(y_te, held.predict(X_te))) if np.ptp(y_te) > 0 else float("nan")
        perm = permutation_importance(
            held, X_te, y_te, n_repeats=n_repeats, random_state=seed, n_jobs=1
        )
        for p, mean, std in zip(
            X.columns, perm.importances_mean, perm.importances_std, strict=True
        ):
            rows.append(
                {
                    "objective": name,
                    "parameter": p,
                    "importance": float(mean),
                    "std": float(std),
                    "r2": r2,
                }
            )
        # the plots' forest sees every trial: partial dependence should use all the evidence
        surrogates.append(Surrogate(name, forest().fit(X, y), X, y, log, r2, len(y_tr), len(y_te)))
    frame = pd.DataFrame(rows, columns=["objective", "parameter", "importance", "std", "r2"])
    order = {n: i for i, n in enumerate(targets)}
    frame = frame.assign(_o=frame["objective"].map(order)).sort_values(
        ["_o", "importance", "parameter"], ascending=[True, False, True], kind="stable"
    )
    frame = frame.drop(columns="_o").reset_index(drop=True)
    return KnobAnalysis(frame, tuple(surrogates), categories, inactive)


def knob_importance(
    run: RunLike,
    objectives: Sequence[str] | None = None,
    *,
    stage: str = "validation",
    seed: int = 0,
    n_repeats: int = 10,
) -> pd.DataFrame:
    """Per objective, the importance of each decision variable over the run's trials.

    Returns:
        ``objective, parameter, importance, std, r2``: importance is the mean drop of the
        surrogate's held-out R^2 when the parameter is shuffled (``std`` over the shuffles);
        ``r2`` is the surrogate's held-out R^2 for that objective (how far to trust the rank).
        Sorted by objective (the run's order), then importance, largest first.
    """
    return analyse_knobs(run, objectives, stage=stage, seed=seed, n_repeats=n_repeats).importances


def partial_dependence_figure(
    run: RunLike | KnobAnalysis, top: int = 3, objectives: Sequence[str] | None = None
) -> Any:
    """Partial dependence of each objective on its ``top`` knobs (one row per objective).

    A conditional parameter is shown over the trials where it is active (its model chosen),
    so the curve is the knob's effect within its model, not the jump to "inactive". ``model``
    and other choices are drawn as bars labelled with their values.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    import matplotlib.pyplot as plt
    from sklearn.inspection import PartialDependenceDisplay

    analysis = run if isinstance(run, KnobAnalysis) else analyse_knobs(run, objectives)
    chosen = [s for s in analysis.surrogates if objectives is None or s.objective in objectives]
    ncols = max(1, min(top, max((len(analysis.top(s.objective, top)) for s in chosen), default=1)))
    fig, axes = plt.subplots(
        len(chosen), ncols, figsize=(4.2 * ncols, 3.3 * len(chosen)), squeeze=False
    )
    for row, surrogate in zip(axes, chosen, strict=True):
        knobs = analysis.top(surrogate.objective, top)
        for ax, knob in zip(row, knobs, strict=False):
            _panel(ax, surrogate, knob, analysis, PartialDependenceDisplay)
        for ax in row[len(knobs) :]:
            ax.set_visible(False)
        unit = " (log10)" if surrogate.log else ""
        row[0].set_ylabel(f"{surrogate.objective}{unit}\n(held-out R² {surrogate.r2:.2f})")
    fig.suptitle("Partial dependence of each objective on its most important knobs")
    fig.tight_layout(rect=(0, 0, 1, 0.98))  # room for the title above the first row
    return fig


def _panel(ax: Any, surrogate: Surrogate, knob: str, analysis: KnobAnalysis, display: Any) -> None:
    X = surrogate.X
    categorical = knob in analysis.categories
    active = X[knob] != analysis.inactive[knob]
    data = X[active] if active.sum() >= 2 and not categorical else X
    display.from_estimator(
        surrogate.forest,
        data,
        [knob],
        categorical_features=[knob] if categorical else None,
        ax=[ax],  # a list: drawn into ``ax`` itself, not into a grid inside it
        kind="average",
        grid_resolution=30,
    )
    inner = ax
    inner.set_ylabel("")
    if categorical:  # bars stand at the codes: label them with the values
        names = analysis.categories[knob]
        codes = sorted({round(p.get_x() + p.get_width() / 2) for p in inner.patches})
        labels = ["(off)" if c < 0 or c >= len(names) else str(names[c]) for c in codes]
        inner.set_xticks(codes, labels, rotation=45, ha="right")
    inner.set_xlabel(knob + ("" if categorical or active.all() else " (where active)"))
