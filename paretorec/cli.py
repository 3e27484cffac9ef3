"""Command line: ``paretorec tune | select | plot | report | recommend | evaluate | check |
replay | data | list``. A thin shell over the Python API (``paretorec.tune``, ``Result``, ...).

User mistakes (a ParetoRecError, a usage error, a file the system cannot read or write) print
at most three lines starting ``error:`` and exit with code 2; warnings print one line each.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
import sys
import warnings
from pathlib import Path

import click
import numpy as np

from paretorec._version import __version__
from paretorec.config import DataConfig, SplitConfig, load_config
from paretorec.data import DATASETS, ENV_VAR, load_dataset, make_split
from paretorec.data.describe import describe
from paretorec.errors import ConfigError, ConfigWarning, DataError, DataWarning, ParetoRecError

# Warnings about the user's config or data; any other warning comes from a library.
ParetoRecWarning = (ConfigWarning, DataWarning)

DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Folder holding datasets (e.g. DIR/ml-100k/u.data). Default: ${ENV_VAR}, "
    "then the user cache, then a checksummed download.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paretorec")
def cli() -> None:
    """Tune recommenders for accuracy, satisfaction and cost; pick and export an operating point."""


@cli.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run directory (trials, front, history, metadata). Required unless --check.",
)
@DATA_DIR
@click.option("--resume", is_flag=True, help="Continue the run in --out without repeating work.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Evaluate each generation in N processes on this machine (at most 4 per core).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Evaluate on an existing, trusted Dask distributed cluster (e.g. tcp://host:8786).",
)
@click.option(
    "--warm-start",
    type=click.Path(path_type=Path),
    default=None,
    metavar="RUN",
    help="Seed the first population with RUN's front (same space).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Only check the config, --out, the data files and memory (no data load, no fit).",
)
def tune(
    config: Path,
    out: Path | None,
    data_dir: Path | None,
    resume: bool,
    workers: int,
    scheduler: str | None,
    warm_start: Path | None,
    quiet: bool,
    check_only: bool,
) -> None:
    """Search model hyperparameters and re-rank settings (NSGA-II by default) for CONFIG."""
    from paretorec.result import constraint_shortfall
    from paretorec.tuning import InfeasibleWarning, preflight
    from paretorec.tuning import tune as run_tune

    if workers > 1 and scheduler:
        raise click.UsageError("use either --workers or --scheduler, not both")
    options = dict(
        data_dir=data_dir,
        resume=resume,
        workers=workers,
        scheduler=scheduler,
        warm_start=warm_start,
    )
    if check_only:
        for line in preflight(config, out, **options).lines:  # type: ignore[arg-type]
            click.echo(line)
        return
    if out is None:
        raise click.UsageError("--out is required (the run directory), unless --check")
    again = _resume_command(config, out, data_dir, workers, scheduler)
    finished = resume and _finished(out)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InfeasibleWarning)  # said below, as the error it is
            result = run_tune(config, out, progress=not quiet, **options)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        from paretorec.optimize.rundir import RunDir

        saved = RunDir(out).stored_trials()
        click.echo(
            f"interrupted: {saved} evaluations are saved in {out}; continue with:\n  {again}",
            err=True,
        )
        sys.exit(130)
    if result.constraints and not result.front_records:
        raise ConfigError(
            f"{config}: {constraint_shortfall(result.constraints, result.records)}; the "
            f"{len(result.records)} trials are kept in {out}; loosen the constraint and tune "
            "into a new --out"
        )
    if finished:
        click.echo(
            f"{out} is already finished ({len(result.records)} evaluations); nothing changed"
        )
    else:
        click.echo(
            f"{len(result.records)} evaluations, {len(result.front_records)} on the front; "
            f"wrote {out}/trials.csv, front.csv, history.csv"
        )
    run = shlex.quote(str(out))
    click.echo(f"next: paretorec select {run}   (then: paretorec report {run} --out REPORT_DIR)")


def _resume_command(
    config: Path, out: Path, data_dir: Path | None, workers: int, scheduler: str | None
) -> str:
    """The exact command that continues this run."""
    words = ["paretorec", "tune", str(config), "--out", str(out), "--resume"]
    if data_dir is not None:
        words += ["--data-dir", str(data_dir)]
    if workers > 1:
        words += ["--workers", str(workers)]
    if scheduler:
        words += ["--scheduler", scheduler]
    return shlex.join(words)


def _finished(out: Path) -> bool:
    """Whether ``out`` holds a finished run (``tune --resume`` then changes nothing)."""
    from paretorec.optimize.rundir import RunDir

    try:
        return RunDir(out).finished()
    except DataError:
        return False  # a damaged store: tune says which


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "source",
    required=True,
    metavar="NEW",
    help="The new data: an experiment config (.toml/.json) or a CSV/Parquet file.",
)
@DATA_DIR
def check(run: Path, source: str, data_dir: Path | None) -> None:
    """Re-score RUN's chosen point and front on new data: still non-dominated? how far moved?"""
    from paretorec.dynamic import check_run

    for line in check_run(run, source, data_dir).lines:
        click.echo(line)


@cli.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--windows", type=int, default=4, show_default=True, help="Cut the events into N windows."
)
@click.option(
    "--policy",
    type=click.Choice(["frozen", "retune", "adaptive", "all"]),
    default="all",
    show_default=True,
    help="Which re-tuning policy to replay (all: compare the three).",
)
@click.option(
    "--threshold",
    type=float,
    default=0.1,
    show_default=True,
    help="Adaptive: re-tune when the point moved more than T (normalised objective space).",
)
@click.option(
    "--budget",
    type=int,
    default=20,
    show_default=True,
    help="Evaluations of each warm-started re-tune.",
)
@click.option(
    "--selector", default="knee", show_default=True, help="Selector that picks each point."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for replay.json, replay.csv, summary.md and the plot (PNG, SVG).",
)
@DATA_DIR
def replay(
    config: Path,
    windows: int,
    policy: str,
    threshold: float,
    budget: int,
    selector: str,
    out: Path,
    data_dir: Path | None,
) -> None:
    """Replay CONFIG's data in time windows: tune on window 1, deploy, and at each boundary
    update the model and score it on the next window, under frozen / retune / adaptive."""
    from paretorec.dynamic.replay import POLICIES, ReplaySettings
    from paretorec.dynamic.replay import replay as run_replay
    from paretorec.dynamic.replay_report import write
    from paretorec.optimize.rundir import writable_dir
    from paretorec.select import SELECTORS
    from paretorec.tuning import check as check_config

    SELECTORS.get(selector)  # an unknown name fails before any data is read
    settings = ReplaySettings(
        windows, POLICIES if policy == "all" else (policy,), threshold, budget, selector
    )
    loaded = check_config(config).config
    writable_dir(out, "--out", create=False)  # before the work; made when written
    result = run_replay(loaded, settings, None if data_dir is None else str(data_dir), click.echo)
    for path in write(result, out):
        click.echo(f"wrote {path}")


def _selector_names() -> str:
    from paretorec.select import SELECTORS

    return ", ".join(SELECTORS.available())


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--method",
    default="knee",
    show_default=True,
    help=f"How to choose from the front: a selector ({_selector_names()}).",
)
@click.option(
    "--weights",
    default=None,
    help="Comma-separated objective weights (utopia, weights), e.g. 0.5,0.3,0.2.",
)
@click.option(
    "--min",
    "minimums",
    multiple=True,
    metavar="NAME=VALUE",
    help="Constraint: NAME at least VALUE or FACTOR*best, e.g. ndcg@10=0.95*best.",
)
@click.option(
    "--max",
    "maximums",
    multiple=True,
    metavar="NAME=VALUE",
    help="Constraint: NAME at most VALUE or FACTOR*best, e.g. cost=2e5.",
)
@click.option(
    "--then",
    "then",
    default=None,
    help="After constraints: a selector name, 'max NAME' or 'min NAME' (default knee).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the chosen point. Default: RUN/chosen.json "
    "(RUN/chosen_per_segment.json with --per-segment).",
)
@click.option(
    "--per-segment",
    "by",
    default=None,
    metavar="BY",
    help="One point per user segment: 'activity' (training items) or a user column "
    "(e.g. age, occupation; needs --allow-demographic). Rescores the front on validation.",
)
@click.option(
    "--cuts",
    default=None,
    metavar="C1,C2",
    help="Segment cut points for --per-segment, e.g. 20,100 (default: terciles).",
)
@click.option(
    "--allow-demographic",
    is_flag=True,
    help="Allow --per-segment by a user attribute (see the README on fairness and privacy).",
)
@click.option(
    "--min-users",
    type=click.IntRange(min=1),
    default=None,
    help="Segments with fewer validation users get the overall point (default 50).",
)
@click.option(
    "--cache",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An .npz file keeping the front's per-user validation values between runs.",
)
@click.option(
    "--scores",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV to write every front point's values on every segment.",
)
@DATA_DIR
def select(
    run: Path,
    method: str,
    weights: str | None,
    minimums: tuple[str, ...],
    maximums: tuple[str, ...],
    then: str | None,
    out: Path | None,
    by: str | None,
    cuts: str | None,
    allow_demographic: bool,
    min_users: int | None,
    cache: Path | None,
    scores: Path | None,
    data_dir: Path | None,
) -> None:
    """Choose an operating point from RUN's front, say why, and export it."""
    from paretorec.optimize.rundir import CHOSEN, writable_file
    from paretorec.report.text import selection_lines
    from paretorec.result import Result

    params: dict[str, object] = {}
    if minimums or maximums or method == "constraint":
        method = "constraint"
        params.update(minimums=minimums, maximums=maximums)
        if then is not None:
            params["then"] = then
    elif then is not None:
        raise click.UsageError("--then applies after --min / --max bounds")
    if weights is not None:
        _check_weighted(method)
        params["weights"] = _parse_weights(weights)
    if by is None:
        for flag, value in (
            ("--cuts", cuts),
            ("--allow-demographic", allow_demographic or None),
            ("--min-users", min_users),
            ("--cache", cache),
            ("--scores", scores),
            ("--data-dir", data_dir),
        ):
            if value is not None:
                raise click.UsageError(f"{flag} applies with --per-segment (it would be ignored)")
    for path, flag in ((out, "--out"), (cache, "--cache"), (scores, "--scores")):
        if path is not None:
            writable_file(path, flag)
    if by is not None:
        segment_options = (by, cuts, allow_demographic, min_users, cache, scores)
        _select_per_segment(run, method, params, out, *segment_options, data_dir)
        return
    result = Result.load(run)
    target = out if out is not None else writable_file(run / CHOSEN, "RUN")
    selection = result.select(method, **params)
    path = selection.export(target)
    for line in selection_lines(result, selection):
        click.echo(line)
    click.echo(f"wrote {path}")


def _select_per_segment(
    run: Path,
    method: str,
    params: dict[str, object],
    out: Path | None,
    by: str,
    cuts: str | None,
    allow_demographic: bool,
    min_users: int | None,
    cache: Path | None,
    scores: Path | None,
    data_dir: Path | None,
) -> None:
    """``select --per-segment``: the overall choice, then one per segment, exported together."""
    from paretorec.export import save_point
    from paretorec.export.segment_select import (
        MIN_USERS,
        FrontPoint,
        demographic_refusal,
        select_per_segment,
    )
    from paretorec.objectives import stage_values
    from paretorec.optimize.rundir import atomic_write, writable_file
    from paretorec.result import Result
    from paretorec.select import build_selector

    if by != "activity" and not allow_demographic:  # before any file is read
        raise ConfigError(demographic_refusal(by))
    cut_points = None if cuts is None else _parse_numbers(cuts, "--cuts")
    result = Result.load(run)
    target = out if out is not None else writable_file(run / "chosen_per_segment.json", "RUN")
    selector = build_selector(method, **params)
    overall = result.select(selector)
    front = [
        FrontPoint(r.trial, result.candidate(r.trial), stage_values(r.results, "validation"))
        for r in result.front_records
    ]
    click.echo(
        f"overall: trial {overall.trial} ({overall.point.candidate.model.name}), method "
        f"{overall.method}; scoring {len(front)} front points per segment on validation"
    )

    def progress(done: int, total: int) -> None:
        if done % 25 == 0 or done == total:
            click.echo(f"  scored {done}/{total}", err=True)

    choice = select_per_segment(
        overall.point,
        front,
        result.objectives,
        selector,
        by,
        cut_points,
        allow_demographic,
        MIN_USERS if min_users is None else min_users,
        data_dir,
        cache,
        progress,
    )
    for line in choice.lines:
        click.echo(line)
    click.echo(f"wrote {save_point(choice.point, target)}")
    if scores is not None:
        atomic_write(scores, choice.scores.to_csv(index=False))
        click.echo(f"wrote {scores}")


def _parse_numbers(text: str, flag: str) -> list[float]:
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"expected numbers separated by commas, e.g. 20,100, got {text[:60]!r}",
            param_hint=flag,
        ) from None
    if not all(math.isfinite(x) for x in numbers):
        raise click.BadParameter(f"finite numbers must hold, got {text[:60]!r}", param_hint=flag)
    return numbers


def _check_weighted(method: str) -> None:
    """``--weights`` only with a selector that reads weights: anywhere else it would be
    silently ignored."""
    from paretorec.registry import declared_params
    from paretorec.select import SELECTORS

    weighted = [
        name
        for name in SELECTORS.available()
        if "weights" in [p.name for p in declared_params(SELECTORS.get(name))]
    ]
    if method not in weighted:
        raise click.UsageError(
            f"--weights applies to --method {' or '.join(weighted)}, not {method} (it would "
            "be ignored); drop --weights or change --method"
        )


def _parse_weights(text: str) -> list[float]:
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"expected numbers separated by commas, got {text[:60]!r}", param_hint="--weights"
        ) from None
    if not all(math.isfinite(w) and w >= 0 for w in weights) or not sum(weights) > 0:
        raise click.BadParameter(
            f"finite, non-negative numbers, not all 0, must hold, got {text[:60]!r}",
            param_hint="--weights",
        )
    return weights


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the PNG and SVG files. Default: RUN/plots.",
)
def plot(run: Path, out: Path | None) -> None:
    """Draw RUN's Pareto plots (PNG and SVG) with the chosen point marked: every pair, and
    for three or more objectives a scatter matrix and parallel coordinates."""
    from paretorec.optimize.rundir import PLOTS, writable_dir
    from paretorec.report import figures, save
    from paretorec.result import Result

    result = Result.load(run)
    folder = writable_dir(out if out is not None else run / PLOTS, "--out")
    for path in save(figures(result), folder):
        click.echo(f"wrote {path}")


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for report.html, results.md, front.csv, history.csv, chosen.json and plots.",
)
@click.option(
    "--bootstrap",
    "resamples",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Bootstrap resamples for the chosen point's 95% intervals (refits it on its own "
    "split); 0 leaves them out and reads no data.",
)
@DATA_DIR
def report(run: Path, out: Path, resamples: int, data_dir: Path | None) -> None:
    """Write RUN's stakeholder report to --out: report.html (interactive, self-contained,
    works offline) and results.md with the same numbers, tables and plots."""
    from paretorec.report.markdown import HTML, write_report

    path = write_report(
        run, out, data_dir=data_dir, resamples=resamples, importance=_importance_hook()
    )
    click.echo(f"wrote {path.parent / HTML} and {path}")


def _importance_hook():  # type: ignore[no-untyped-def]
    """HOOK (issue 15, section 2): the knob-importance function of ``paretorec.explain``
    (run -> DataFrame, one row per knob, one column per objective), or None while that
    module is not installed; the report then leaves its section out and says so."""
    try:
        from paretorec.explain import knob_importance
    except ImportError:
        return None
    return knob_importance


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for importances.csv, explain.md and partial_dependence.png/.svg. "
    "Default: RUN/explain.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the surrogates.")
def explain(run: Path, out: Path | None, seed: int) -> None:
    """Which knob moves which objective in RUN: a random-forest surrogate per objective,
    knobs ranked by permutation importance on held-out trials, partial-dependence plots."""
    from paretorec.explain.render import importance_lines, write_explanation
    from paretorec.optimize.rundir import writable_dir

    if not run.is_dir():
        raise DataError(f"{run}: not a run directory (no such folder); give the --out of tune")
    folder = writable_dir(out if out is not None else run / "explain", "--out")
    analysis, written = write_explanation(run, folder, seed)
    for line in importance_lines(analysis):
        click.echo(line)
    for path in written:
        click.echo(f"wrote {path}")


@cli.command()
@click.argument("chosen", type=click.Path(path_type=Path))
@click.option(
    "--k", type=click.IntRange(min=1), default=None, help="List length. Default: the point's k."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV to write: user,item,rank,score.",
)
@click.option(
    "--fit-on",
    type=click.Choice(["all", "run"]),
    default="all",
    show_default=True,
    help="all: every interaction, every user (serving). run: exactly the run's "
    "train+validation data, test users; must reproduce the run's test numbers.",
)
@click.option(
    "--pseudonymize",
    "salt_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write hmac-sha256(salt, user id) instead of user ids; SALT_FILE holds >= 16 secret "
    "bytes (e.g. `head -c 32 /dev/urandom > salt.key`).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Add per-item reasons: the model's (rated items, neighbours, terms, popularity) and "
    "each re-rank term's contribution to the pick.",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="ID",
    help="Only this user (repeat for more); with --explain, only they are explained.",
)
@DATA_DIR
def recommend(
    chosen: Path,
    k: int | None,
    out: Path,
    fit_on: str,
    salt_file: Path | None,
    explain: bool,
    users: tuple[str, ...],
    data_dir: Path | None,
) -> None:
    """Reload an exported point, refit it and write top-k lists."""
    from paretorec.export import load_point, recommender
    from paretorec.optimize.rundir import atomic_write, writable_file
    from paretorec.privacy import load_salt, pseudonymize

    writable_file(out, "--out")
    salt = None if salt_file is None else load_salt(salt_file)  # refuse before any fit
    point = load_point(chosen)
    if k is not None and k > point.candidate.rerank.pool:
        raise click.BadParameter(
            f"at most the point's rerank.pool ({point.candidate.rerank.pool}) must hold, got {k}",
            param_hint="--k",
        )
    try:
        served = recommender(point, fit_on, data_dir)
    except DataError as exc:  # the data the point names: say which point named it
        raise DataError(f"{chosen}: {exc}") from None
    lists = served.lists(k)
    frame = served.to_frame(lists)
    if explain:  # a separate path: refit for the evidence, replay the re-rank's picks
        from paretorec.explain.items import explain_recommendations

        frame = explain_recommendations(served, users or None, k, show_users=salt is None)
    elif users:
        from paretorec.explain.items import users_frame

        frame = users_frame(served, lists, users)
    if salt is not None:
        frame["user"] = pseudonymize(frame["user"], salt)
    atomic_write(out, frame.to_csv(index=False))
    click.echo(f"wrote {len(frame)} rows for {frame['user'].nunique()} users to {out}")
    if point.segments is not None:
        _served_segments(point, served)
        return
    if fit_on == "run" and (k is None or k == point.k):
        ok, lines = served.reproduce(lists)
        for line in lines:
            click.echo(line)
        if not ok and point.candidate.model.privacy_epsilon() < float("inf"):
            # fresh OpenDP noise per process, by design (README "Privacy"): not a failure
            click.echo(
                "a differentially private model draws new noise at each refit; its "
                "numbers are not expected to reproduce exactly"
            )
            return
        if not ok:
            sys.exit(1)


def _served_segments(point, served) -> None:  # type: ignore[no-untyped-def]
    """Who got which point, for a per-segment export."""
    from paretorec.export.segments import user_segments

    plan = point.segments
    codes = user_segments(plan, served.pipeline, served.stage)
    parts = [
        f"{name} {int((codes == i).sum())} users (trial {p.trial}, {p.candidate.model.name})"
        for i, (name, p) in enumerate(plan.points.items())
    ]
    if (codes < 0).any():
        parts.append(f"no segment {int((codes < 0).sum())} users (the overall point)")
    click.echo(f"served by segment ({plan.segmentation.by}): " + "; ".join(parts))
    click.echo(
        "a per-segment point's test numbers are compared with the overall point's by "
        "`paretorec evaluate CHOSEN`"
    )


_KINDS = ("models", "terms", "metrics", "selectors", "algorithms", "datasets")


@cli.command("list")
@click.argument("kind", type=click.Choice(_KINDS))
def list_plugins(kind: str) -> None:
    """What is registered: each entry, one line of description, and its parameters."""
    from paretorec.plugins import registry
    from paretorec.report.text import entry_lines

    for entry in registry(kind).entries():
        for line in entry_lines(entry):
            click.echo(line)


@cli.command()
@click.argument("chosen", type=click.Path(path_type=Path))
@click.option(
    "--stage",
    type=click.Choice(["test", "validation"]),
    default="test",
    show_default=True,
    help="Score on test (fit on train+validation) or validation.",
)
@click.option(
    "--metrics",
    default=None,
    metavar="M1,M2,...",
    help="Metrics to report (default: every registered metric at the point's k).",
)
@click.option("--segments", is_flag=True, help="Break every metric down by user activity.")
@click.option(
    "--bootstrap",
    "resamples",
    type=click.IntRange(min=10),
    default=1000,
    show_default=True,
    help="Bootstrap resamples for the 95% intervals.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option(
    "--compare",
    "other",
    type=click.Path(path_type=Path),
    default=None,
    help="Another exported point: a paired comparison on the same users.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Per-segment export: folder for evaluation.md and evaluation.json.",
)
@DATA_DIR
def evaluate(
    chosen: Path,
    stage: str,
    metrics: str | None,
    segments: bool,
    resamples: int,
    seed: int,
    other: Path | None,
    out: Path | None,
    data_dir: Path | None,
) -> None:
    """Metrics of an exported point with 95% intervals, by segment, or against another point.
    A per-segment export (select --per-segment) is compared with its single overall point."""
    from paretorec.export.evaluate import evaluate_point

    names = None if metrics is None else [m.strip() for m in metrics.split(",") if m.strip()]
    if _evaluate_per_segment(chosen, stage, names, segments, resamples, seed, other, out, data_dir):
        return
    try:
        lines = evaluate_point(chosen, stage, names, segments, resamples, seed, other, data_dir)
    except DataError as exc:  # the data the point names: say which point named it
        raise DataError(f"{chosen}: {exc}") from None
    for line in lines:
        click.echo(line)


def _evaluate_per_segment(
    chosen: Path,
    stage: str,
    names: list[str] | None,
    segments: bool,
    resamples: int,
    seed: int,
    other: Path | None,
    out: Path | None,
    data_dir: Path | None,
) -> bool:
    """Per-segment selection against the single point, when CHOSEN is a per-segment export
    and neither --segments nor --compare asks for the ordinary evaluation; False otherwise."""
    from paretorec.export import load_point
    from paretorec.export.segment_evaluate import evaluate_segments
    from paretorec.metrics import parse_metric
    from paretorec.optimize.rundir import atomic_write, writable_dir

    point = load_point(chosen)
    if point.segments is None or segments or other is not None:
        if out is not None:
            raise click.UsageError(
                "--out applies to a per-segment export (select --per-segment) evaluated "
                "without --segments / --compare"
            )
        return False
    if out is not None:
        writable_dir(out, "--out")
    refs = None if names is None else [parse_metric(n) for n in names]
    try:
        evaluation = evaluate_segments(point, str(chosen), refs, resamples, seed, data_dir, stage)
    except DataError as exc:  # the data the point names: say which point named it
        raise DataError(f"{chosen}: {exc}") from None
    for line in evaluation.lines():
        click.echo(line)
    if out is not None:
        atomic_write(out / "evaluation.md", evaluation.markdown())
        atomic_write(out / "evaluation.json", evaluation.to_json())
        click.echo(f"wrote {out / 'evaluation.md'} and {out / 'evaluation.json'}")
    return True


@cli.group()
def data() -> None:
    """Inspect datasets (any source) and write the exact splits runs use."""


def _source_options(command):
    options = [
        click.option(
            "--dataset",
            default=None,
            help=f"Registered dataset (default ml-100k): {', '.join(DATASETS.available())}.",
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path),
            default=None,
            help="Take the data (and split) settings from an experiment config.",
        ),
        click.option(
            "--path",
            type=click.Path(path_type=Path),
            default=None,
            help="A CSV or Parquet file of interactions (dataset = file).",
        ),
        click.option(
            "--columns",
            default=None,
            metavar="user=COL,item=COL,...",
            help="Column mapping for --path (rating, timestamp optional).",
        ),
        click.option(
            "--items",
            type=click.Path(path_type=Path),
            default=None,
            help="Item features file (item, genres / tags / text columns).",
        ),
        click.option(
            "--item-columns",
            default=None,
            metavar="item=COL,genres=COL,...",
            help="Column mapping for --items.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            default=None,
            help="Fail on the first data problem instead of dropping and counting.",
        ),
        click.option(
            "--min-user",
            type=click.IntRange(min=1),
            default=None,
            help="k-core: minimum interactions per user (iterated with --min-item).",
        ),
        click.option(
            "--min-item",
            type=click.IntRange(min=1),
            default=None,
            help="k-core: minimum interactions per item.",
        ),
        click.option(
            "--implicit-threshold",
            type=float,
            default=None,
            help="Keep ratings >= this as implicit positives.",
        ),
        DATA_DIR,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _mapping(text: str | None, flag: str) -> dict[str, str] | None:
    if text is None:
        return None
    pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
    if any(len(p) != 2 for p in pairs):
        raise click.BadParameter(
            f"expected NAME=COLUMN pairs separated by commas, got {text!r}", param_hint=flag
        )
    return {k.strip(): v.strip() for k, v in pairs}


def _source(
    dataset: str | None,
    config_path: Path | None,
    path: Path | None,
    columns: str | None,
    items: Path | None,
    item_columns: str | None,
    strict: bool | None,
    min_user: int | None,
    min_item: int | None,
    implicit_threshold: float | None,
) -> tuple[DataConfig, SplitConfig]:
    """The data (and split) config the source options describe."""
    base_data, base_split = DataConfig(), SplitConfig()
    if config_path is not None:
        cfg = load_config(config_path)
        base_data, base_split = cfg.data, cfg.split
    changes: dict[str, object] = {}
    if path is not None:
        changes.update(dataset="file", path=str(path))
    elif dataset is not None:
        # a registered dataset reads its own files: a config's file settings do not carry over
        changes.update(DataConfig.FILE_KEYS, dataset=dataset)
    for key, value in (
        ("columns", _mapping(columns, "--columns")),
        ("items", None if items is None else str(items)),
        ("item_columns", _mapping(item_columns, "--item-columns")),
        ("strict", strict),
        ("min_user_interactions", min_user),
        ("min_item_interactions", min_item),
        ("implicit_threshold", implicit_threshold),
    ):
        if value is not None:
            changes[key] = value
    return dataclasses.replace(base_data, **changes), base_split


def _amount(text: str | None) -> int | float | None:
    if text is None:
        return None
    try:
        return int(text) if text.strip().isdigit() else float(text)
    except ValueError:
        raise click.BadParameter(f"expected a fraction or a count, got {text!r}") from None


@data.command("split")
@_source_options
@click.option(
    "--method",
    type=click.Choice(["holdout", "temporal", "leave_last"]),
    default=None,
    help="Split method (default holdout or the config's).",
)
@click.option("--seed", type=int, default=None, help="Split seed (default 42 or the config's).")
@click.option("--test", default=None, help="Test fraction or count per user (default 0.2).")
@click.option("--validation", default=None, help="Validation fraction or count (default 0.2).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def data_split(
    method: str | None,
    seed: int | None,
    test: str | None,
    validation: str | None,
    out: Path,
    data_dir: Path | None,
    **source: object,
) -> None:
    """Write train.csv, validation.csv and test.csv exactly as a run splits them."""
    from paretorec.optimize.rundir import atomic_write, writable_dir

    data_cfg, split_cfg = _source(**source)  # type: ignore[arg-type]
    changes = {
        k: v
        for k, v in (
            ("method", method),
            ("seed", seed),
            ("test", _amount(test)),
            ("validation", _amount(validation)),
        )
        if v is not None
    }
    split_cfg = SplitConfig(**{**dataclasses.asdict(split_cfg), **changes})
    writable_dir(out, "--out")
    ds = load_dataset(data_cfg, data_dir)
    split = make_split(ds.interactions, split_cfg)
    for name in ("train", "validation", "test"):
        part = getattr(split, name)
        atomic_write(out / f"{name}.csv", ds.to_frame(part).to_csv(index=False))
        users = len(np.unique(part.user))
        click.echo(f"wrote {out / (name + '.csv')}: {len(part):,} interactions, {users:,} users")


@data.command("describe")
@_source_options
def data_describe(data_dir: Path | None, **source: object) -> None:
    """Counts, sparsity, distributions and the cleaning report of a dataset."""
    data_cfg, _ = _source(**source)  # type: ignore[arg-type]
    ds = load_dataset(data_cfg, data_dir)
    for line in describe(ds):
        click.echo(line)


# A message longer than this is cut: a value quoted from a file must not flood the terminal.
MAX_MESSAGE = 1200
MAX_LINES = 3


def _message(text: str) -> str:
    """A message as printed: control characters shown as ``?``, at most ``MAX_LINES`` lines
    and ``MAX_MESSAGE`` characters."""
    clean = "".join(ch if ch.isprintable() or ch == "\n" else "?" for ch in text)
    lines = [line for line in clean.splitlines() if line.strip()] or [""]
    if len(lines) > MAX_LINES:
        lines = [*lines[: MAX_LINES - 1], " ".join(lines[MAX_LINES - 1 :])]
    joined = "\n".join(lines)
    return joined if len(joined) <= MAX_MESSAGE else joined[: MAX_MESSAGE - 3] + "..."


def _fail(text: str, code: int = 2) -> None:
    click.echo(f"error: {_message(text)}", err=True)
    sys.exit(code)


def _os_message(exc: OSError) -> str:
    """An operating-system failure in words: the file, what went wrong, what to do."""
    where = f"{exc.filename}: " if exc.filename else ""
    return (
        f"{where}{exc.strerror or type(exc).__name__}; check the path and its permissions "
        "(nothing else was changed)"
    )


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    """Warnings as one line each, like errors (Python's default adds the source line):
    paretorec's own (about the user's input) as ``warning:``, a library's as ``note:`` naming
    the library."""
    text = " ".join(line.strip() for line in _message(str(message)).splitlines())
    if isinstance(category, type) and issubclass(category, ParetoRecWarning):
        click.echo(f"warning: {text}", err=True)
        return
    parts = Path(filename).parts
    where = next(
        (parts[i + 1] for i, p in enumerate(parts[:-1]) if p in ("site-packages", "dist-packages")),
        Path(filename).stem,
    )
    name = getattr(category, "__name__", "Warning")
    click.echo(f"note: {name} from {where.removesuffix('.py')}: {text}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user mistakes into at most three lines and exit
    code 2 (never a traceback); a bug keeps its traceback."""
    shown = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        cli.main(args=argv, prog_name="paretorec", standalone_mode=False)
    except ParetoRecError as exc:
        _fail(str(exc))
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        _fail(f"{exc.format_message()}{hint}")
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except OSError as exc:  # the disk, the network or permissions, not paretorec's logic
        _fail(_os_message(exc))
    except MemoryError:
        _fail(
            "out of memory; use a smaller space (rerank.pool, models with large matrices) or "
            "fewer --workers, or run on a machine with more memory"
        )
    finally:
        warnings.showwarning = shown
