"""The facts a stakeholder report states, computed once so that results.md and report.html say
the same numbers: the chosen point against the popularity baseline and the most accurate
front point, what the hypervolume curve says, and why validation and test values differ (with
the bootstrap intervals ``paretorec evaluate`` prints).

Everything here returns plain strings and numbers; escaping for Markdown or HTML is the
renderer's job.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from paretorec.errors import ParetoRecError
from paretorec.metrics import parse_metric
from paretorec.metrics.stats import LEVEL, bootstrap
from paretorec.objectives import Objective, column
from paretorec.result import Result, Selection

# Objectives that measure what serving costs: the "at 154x the cost" of a comparison.
COST_NAMES = ("cost", "ms_per_user", "memory_mb")
# Units of the objectives that have one (accuracy and satisfaction metrics are unitless shares)
UNITS = {
    "cost": "operations per request",
    "ms_per_user": "ms per user",
    "memory_mb": "MiB",
    "miscalibration": "nats",
    "novelty": "bits",
    "arp": "training users per item",
}
# The hypervolume "stopped improving" once within this share of its final value.
SETTLED = 0.01


def number(value: Any) -> str:
    """``value`` to 4 significant digits, the way every report prints numbers: no exponent
    between 1e-4 and 1e6 (thousands separated), integers as integers."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if not isinstance(value, float | np.floating):
        return str(value)
    v = float(value)
    if math.isnan(v):
        return ""
    if math.isinf(v) or v == 0:
        return f"{v:g}"
    exponent = math.floor(math.log10(abs(v)))
    if not -4 <= exponent < 6:
        return f"{v:.3e}"
    rounded = round(v, 3 - exponent)
    exponent = math.floor(math.log10(abs(rounded))) if rounded else exponent  # 9.9996 -> 10.00
    return f"{rounded:,.{max(0, 3 - exponent)}f}"


def unit(name: str) -> str:
    """The unit of a metric (``cost`` -> ``operations per request``), empty if unitless."""
    return UNITS.get(name.split("@")[0], "")


def _ratio(mine: float, other: float) -> str:
    """``154x`` or ``1/6`` of: a ratio of two positive values, two significant digits."""
    r = mine / other
    if r >= 1:
        return f"{r:.2g}×" if r < 100 else f"{r:,.0f}×"
    inverse = 1 / r
    return f"1/{inverse:.2g}" if inverse < 100 else f"1/{inverse:,.0f}"


def change(mine: float, other: float, objective: Objective) -> str:
    """How ``mine`` differs from ``other`` in words: ``+75 %``, ``-12 %``, ``154× (more)``;
    costs (and any value that moved by 3x or more) as a multiple."""
    if not (np.isfinite(mine) and np.isfinite(other)):
        return ""
    if mine == other:
        return "same"
    if other == 0 or mine == 0:
        return f"{number(mine)} against {number(other)}"  # no ratio with a 0
    r = mine / other
    if objective.name in COST_NAMES or (r > 0 and (r >= 3 or r <= 1 / 3)):
        return _ratio(mine, other) if r > 0 else f"{number(mine - other)}"
    pct = 100 * (mine - other) / abs(other)
    text = f"{pct:+.1f} %" if abs(pct) < 10 else f"{pct:+.0f} %"
    return text.replace("-", "−")


def better(mine: float, other: float, objective: Objective) -> str:
    """``better``, ``worse`` or ``same`` for the report's reader."""
    if not (np.isfinite(mine) and np.isfinite(other)) or mine == other:
        return "same" if mine == other else ""
    up = mine > other
    return "better" if up == (objective.direction == "max") else "worse"


@dataclass(frozen=True)
class Point:
    """One column of the comparison: a label, what it is, its validation values."""

    label: str
    what: str
    values: dict[str, float]
    trial: int | None = None
    short: str = ""  # the label in "chosen vs ..." column names


@dataclass(frozen=True)
class Comparison:
    """The chosen point against the popularity baseline and the most accurate front point.

    Attributes:
        objectives: The run's objectives (rows).
        chosen: The chosen point's validation values.
        others: The points it is compared with (popularity, the most accurate point).
        sentences: The comparison in words, one sentence per other point.
    """

    objectives: tuple[Objective, ...]
    chosen: Point
    others: list[Point] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per objective: its unit and direction, each point's value and the chosen
        point's change against it (strings, 4 significant digits)."""
        rows = []
        for o in self.objectives:
            mine = self.chosen.values.get(o.name, math.nan)
            u = unit(o.name)
            row = {
                "objective": f"{o.name} ({u})" if u else o.name,
                "better": "higher" if o.direction == "max" else "lower",
                self.chosen.label: number(mine),
            }
            for other in self.others:
                theirs = other.values.get(o.name, math.nan)
                row[other.label] = number(theirs)
                verdict = better(mine, theirs, o)
                row[f"chosen vs {other.short}"] = " ".join(
                    part
                    for part in (change(mine, theirs, o), f"({verdict})" if verdict else "")
                    if part
                )
            rows.append(row)
        return pd.DataFrame(rows)


def _cost_objective(objectives: tuple[Objective, ...]) -> Objective | None:
    for name in COST_NAMES:
        for o in objectives:
            if o.name == name:
                return o
    return None


def _sentence(chosen: Point, other: Point, objectives: tuple[Objective, ...]) -> str:
    """``+75 % ndcg@10 over popularity at 154× the cost``."""
    accuracy = objectives[0]
    cost = _cost_objective(objectives)
    mine, theirs = chosen.values.get(accuracy.name), other.values.get(accuracy.name)
    if mine is None or theirs is None:
        return ""
    text = f"{change(mine, theirs, accuracy)} {accuracy.name} against {other.what}"
    if cost is not None and cost is not accuracy:
        c_mine, c_theirs = chosen.values.get(cost.name), other.values.get(cost.name)
        if c_mine is not None and c_theirs is not None and c_mine > 0 and c_theirs > 0:
            ratio = c_mine / c_theirs
            if abs(ratio - 1) < 0.005:
                text += f" at the same {cost.name}"
            elif ratio >= 1:
                text += f" at {_ratio(c_mine, c_theirs)} the {cost.name}"
            else:
                text += f" at {_ratio(c_mine, c_theirs)} of the {cost.name}"
    return text


def comparison(view: Result, selection: Selection | None) -> Comparison | None:
    """The chosen point (validation values, the stage the choice was made on) against the
    popularity baseline (``run.json``'s baselines: models at defaults, no re-ranking) and
    the front point best on the first objective. None without a chosen point."""
    if selection is None:
        return None
    names = [o.name for o in view.objectives]
    values = selection.values.get("validation", {})
    model = selection.point.candidate.model.name
    chosen = Point(
        "chosen",
        f"the chosen point (trial {selection.trial}, {model})",
        {n: float(values.get(n, math.nan)) for n in names},
        selection.trial,
    )
    out = Comparison(view.objectives, chosen)
    baselines = view.meta.get("baselines", {})
    popular = baselines.get("popularity")
    if isinstance(popular, dict):
        out.others.append(
            Point(
                "popularity",
                "the popularity baseline",
                {n: float(popular.get(n, math.nan)) for n in names},
                short="popularity",
            )
        )
    front = view.front
    if not front.empty:
        first = view.objectives[0]
        col = column("validation", first.name)
        series = front[col].astype(float)
        row = front.loc[series.idxmax() if first.direction == "max" else series.idxmin()]
        trial = int(row["trial"])
        label = f"most accurate (trial {trial})"
        out.others.append(
            Point(
                label,
                f"the front's best {first.name} point (trial {trial}, {row['model']})",
                {n: float(row[column("validation", n)]) for n in names},
                trial,
                short="most accurate",
            )
        )
    for other in out.others:
        if other.trial is not None and other.trial == chosen.trial:
            out.sentences.append(f"It is the front's best {view.objectives[0].name} point.")
            continue
        sentence = _sentence(chosen, other, view.objectives)
        if sentence:
            out.sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return out


def hypervolume_lines(view: Result) -> list[str]:
    """The hypervolume in words: the final value, when the search stopped improving, and what
    the number compares."""
    history = view.history
    objectives = view.objectives
    if history.empty:
        return ["No generation finished, so there is no hypervolume yet."]
    hv = history["hypervolume"].to_numpy(dtype=np.float64)
    evaluations = history["evaluations"].to_numpy()
    final = float(hv[-1])
    total = int(evaluations[-1])
    lines = [f"Final hypervolume: {number(final)} after {total:,} evaluations."]
    if final > 0:
        settled = int(evaluations[np.flatnonzero(hv >= (1 - SETTLED) * final)[0]])
        gains = np.flatnonzero(np.diff(hv) > 1e-12 * max(final, 1e-300))
        last = int(evaluations[gains[-1] + 1]) if gains.size else int(evaluations[0])
        if settled >= total:
            lines.append(
                f"It was still growing at the end (the last gain came at evaluation {last:,}): "
                "a larger budget would probably find a better front."
            )
        else:
            lines.append(
                f"The search stopped improving noticeably after {settled:,} of {total:,} "
                f"evaluations: from then on the hypervolume grew by less than "
                f"{SETTLED:.0%} (its last gain came at evaluation {last:,})."
            )
    bounds = "; ".join(
        f"{o.name} from {number(o.best)} (best) to {number(o.worst)} (worst)" for o in objectives
    )
    lines.append(
        f"What the number means: each objective is rescaled so that 0 is its best value and 1 "
        f"its worst ({bounds}). The hypervolume is the share of that {len(objectives)}-"
        "dimensional box that the front's points dominate: 1 would be one point at the best "
        "of every objective at once, 0 a front no better than the worst corner. With "
        f"{len(objectives)} objectives the share is a product of {len(objectives)} fractions, "
        "so small values are normal."
    )
    lines.append(
        "Use it to compare searches of this same config (algorithms, budgets, seeds): larger "
        "is better. It is not comparable between configs with other objectives or bounds."
    )
    return lines


@dataclass(frozen=True)
class StageGap:
    """Why validation and test values differ, and the chosen point's 95 % intervals.

    Attributes:
        lines: The explanation in words (data sizes per stage).
        intervals: Rows ``metric, validation, validation_low, validation_high, test,
            test_low, test_high`` (empty when not computed).
        note: Why the intervals are missing, if they are.
    """

    lines: list[str]
    intervals: pd.DataFrame
    note: str = ""


def _per_user(held_out: int, users: Any) -> str:
    return f", {held_out / users:.1f} per user" if isinstance(users, int) and users > 0 else ""


def stage_lines(view: Result) -> list[str]:
    """The validation/test protocol in words, from ``run.json``'s split sizes."""
    split = view.meta["split"]
    sizes = split["sizes"]
    users = split.get("users", {})

    def evaluated(stage: str) -> Any:
        return users.get(stage, {}).get("evaluated users")

    train, val, test = sizes["train"], sizes["validation"], sizes["test"]
    return [
        "Every point was chosen on validation values: the model is fit on the training part "
        f"({train:,} interactions) and judged on the validation part ({val:,} held-out "
        f"interactions{_per_user(val, evaluated('validation'))}).",
        "Test values come from fitting the same settings on train + validation "
        f"({train + val:,} interactions) and judging on the test part ({test:,} held-out "
        f"interactions{_per_user(test, evaluated('test'))}), which the search never saw.",
        "So test has more training data and more held-out items per user: a list of 10 has "
        "more chances to hit, and accuracy metrics such as NDCG and precision are higher on "
        "test for every point. The gap is a property of the protocol, not a sign of "
        "overfitting; compare points with each other on the same stage.",
    ]


def stage_gap(
    view: Result,
    selection: Selection | None,
    data_dir: str | os.PathLike[str] | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> StageGap:
    """The protocol in words and, with ``resamples`` > 0, the chosen point's bootstrap 95 %
    intervals of every objective on both stages (``paretorec evaluate``'s method: the point is
    refit on its own split, users resampled; ``seed`` fixes the resamples)."""
    lines = stage_lines(view)
    empty = pd.DataFrame()
    if selection is None:
        return StageGap(lines, empty, "no chosen point (run `paretorec select` first)")
    if resamples <= 0:
        return StageGap(lines, empty, "intervals not computed (--bootstrap 0)")
    from paretorec.export.recommender import point_pipeline

    point = selection.point
    refs = [parse_metric(o.name) for o in view.objectives]
    pipeline = point_pipeline([point], data_dir, split=True)
    found = {}
    for stage in ("validation", "test"):
        ctx = pipeline.context(stage, pipeline.recommend(stage, point.candidate))
        found[stage] = bootstrap(ctx, refs, n_resamples=resamples, seed=seed, level=LEVEL)
    rows = []
    for ref in refs:
        row: dict[str, Any] = {"metric": ref.name}
        for stage in ("validation", "test"):
            iv = found[stage][ref.name]
            row.update({stage: iv.mean, f"{stage}_low": iv.low, f"{stage}_high": iv.high})
        rows.append(row)
    return StageGap(lines, pd.DataFrame(rows))


def interval_text(mean: float, low: float, high: float) -> tuple[str, str]:
    """``(mean, "[low, high]")`` to 4 significant digits; no interval for a measurement that
    has none (a wall-clock metric)."""
    spread = "" if not np.isfinite(low) else f"[{number(low)}, {number(high)}]"
    return number(mean), spread


# The knob explanations (issue 15, section 2) come from ``paretorec.explain``, a layer above
# the report: whoever calls ``facts`` passes its function in (the CLI does when it is
# installed). It takes the run and returns importances as a DataFrame: long
# (``objective, parameter, importance[, r2]``, as ``paretorec.explain.knob_importance``) or
# wide (one row per knob, one column per objective).
Importance = Callable[[Result], pd.DataFrame]
IMPORTANCE_WORDS = (
    "Per objective, how much each knob (a decision variable of the search) moves it over this "
    "run's trials: the drop in a random-forest surrogate's accuracy when the knob's values are "
    "shuffled (0 = no effect; paretorec explain RUN gives details and partial dependence)."
)
# Knobs shown in the report's importance table: the most important ones of any objective.
TOP_KNOBS = 12


def importance_table(frame: pd.DataFrame, objectives: list[str]) -> tuple[pd.DataFrame, str]:
    """Importances as one row per knob (the ``TOP_KNOBS`` that matter most to some
    objective), one column per objective, and a sentence on how far to trust them (the
    surrogate's held-out R^2 per objective, when given)."""
    trust = ""
    if {"objective", "parameter", "importance"} <= set(frame.columns):
        if "r2" in frame.columns:
            r2 = frame.groupby("objective", sort=False)["r2"].first()
            trust = "Surrogate fit on held-out trials (R², 1 = perfect): " + ", ".join(
                f"{name} {number(float(r2[name]))}" for name in objectives if name in r2.index
            )
        frame = frame.pivot_table(
            index="parameter", columns="objective", values="importance", aggfunc="first"
        )
    frame = frame[[c for c in objectives if c in frame.columns] or list(frame.columns)]
    numeric = frame.select_dtypes("number")
    order = numeric.max(axis=1).sort_values(ascending=False).index[:TOP_KNOBS]
    shown = frame.loc[order]
    shown.index.name = "knob"
    return shown, trust


@dataclass(frozen=True)
class Facts:
    """Everything both renderings of a report state, computed once."""

    view: Result
    selection: Selection | None
    comparison: Comparison | None
    hypervolume: list[str]
    stages: StageGap
    importance: pd.DataFrame | None = None  # one row per knob, one column per objective
    importance_note: str = ""  # why there is none
    importance_trust: str = ""  # how well the surrogate behind them fits


def facts(
    view: Result,
    selection: Selection | None,
    data_dir: str | os.PathLike[str] | None = None,
    resamples: int = 1000,
    seed: int = 0,
    importance: Importance | None = None,
) -> Facts:
    """The report's facts; ``importance`` (the knob-importance hook) is optional and its
    section is left out, said so, without it."""
    table, trust = None, ""
    note = "knob importances are not available in this installation (paretorec.explain)"
    if importance is not None:
        try:
            raw = importance(view)
        except ParetoRecError as exc:  # e.g. too few trials for a surrogate: said, not fatal
            raw, note = None, str(exc).removeprefix(f"{view.run_dir}: ")
        if raw is not None and not raw.empty:
            table, trust = importance_table(raw, [o.name for o in view.objectives])
        elif raw is not None:
            note = "no knob importances were computed"
    return Facts(
        view,
        selection,
        comparison(view, selection),
        hypervolume_lines(view),
        stage_gap(view, selection, data_dir, resamples, seed),
        table,
        note if table is None else "",
        trust,
    )


def interval_table(gap: StageGap) -> pd.DataFrame:
    """The chosen point's values with their 95 % intervals on both stages, as text, one row per
    metric: the table both reports show."""
    rows = []
    for row in gap.intervals.itertuples(index=False):
        val, val_iv = interval_text(row.validation, row.validation_low, row.validation_high)
        test, test_iv = interval_text(row.test, row.test_low, row.test_high)
        rows.append([row.metric, val, val_iv, test, test_iv])
    # the second interval header has a trailing space: column names must differ
    return pd.DataFrame(
        rows, columns=["metric", "validation", "95 % interval", "test", "95 % interval "]
    )
