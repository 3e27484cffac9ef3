"""Command line: ``paretorec tune | select | plot | report | recommend | data``.

User mistakes (a ParetoRecError or a usage error) print one line and exit with code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd

from paretorec import __version__
from paretorec.config import SplitConfig, load_config
from paretorec.data import ENV_VAR, holdout_split, load_dataset
from paretorec.errors import ParetoRecError

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
    required=True,
    help="Run directory (trials, front, history, metadata).",
)
@DATA_DIR
@click.option("--resume", is_flag=True, help="Continue the run in --out without repeating work.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def tune(config: Path, out: Path, data_dir: Path | None, resume: bool, quiet: bool) -> None:
    """Search model hyperparameters and re-rank weights (NSGA-II by default) for CONFIG."""
    from paretorec.optimize import run_search
    from paretorec.study import Study

    cfg = load_config(config)
    study = Study.prepare(cfg, data_dir)
    frame = run_search(study, out, resume=resume, progress=not quiet)
    front = pd.read_csv(out / "front.csv")
    click.echo(
        f"{len(frame)} evaluations, {len(front)} on the front, {study.pipeline.fits} model fits; "
        f"wrote {out}/trials.csv, front.csv, history.csv"
    )


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--method",
    type=click.Choice(["knee", "utopia", "weights", "constraint"]),
    default="knee",
    show_default=True,
    help="How to choose from the front.",
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
    default="knee",
    show_default=True,
    help="After constraints: knee, utopia, 'max NAME' or 'min NAME'.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the chosen point. Default: RUN/chosen.json.",
)
def select(
    run: Path,
    method: str,
    weights: str | None,
    minimums: tuple[str, ...],
    maximums: tuple[str, ...],
    then: str,
    out: Path | None,
) -> None:
    """Choose an operating point from RUN's front, say why, and export it."""
    from paretorec.report.selection import choose

    if method == "constraint" or minimums or maximums:
        method = "constraint"
    w = _parse_weights(weights)
    result = choose(run, method, w, minimums, maximums, then, out)
    click.echo(result.summary())


def _parse_weights(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"expected numbers separated by commas, got {text!r}", param_hint="--weights"
        ) from None


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the PNG files. Default: RUN/plots.",
)
def plot(run: Path, out: Path | None) -> None:
    """Draw RUN's Pareto plots (PNG) with the chosen point marked."""
    from paretorec.report import RunView
    from paretorec.report.plots import plot_front

    for path in plot_front(RunView.load(run), out):
        click.echo(f"wrote {path}")


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for results.md, front.csv, history.csv, chosen.json and plots.",
)
def report(run: Path, out: Path) -> None:
    """Write RUN's stakeholder report (Markdown, tables, plots) to --out."""
    from paretorec.report.markdown import write_report

    click.echo(f"wrote {write_report(run, out)}")


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
@DATA_DIR
def recommend(chosen: Path, k: int | None, out: Path, fit_on: str, data_dir: Path | None) -> None:
    """Reload an exported point, refit it and write top-k lists."""
    from paretorec.export import load_point, serve
    from paretorec.report.selection import reproduce

    point = load_point(chosen)
    served = serve(point, data_dir, fit_on)
    lists = served.recommend(k)
    frame = served.to_frame(lists)
    frame.to_csv(out, index=False)
    click.echo(f"wrote {len(frame)} rows for {len(lists.users)} users to {out}")
    if fit_on == "run" and (k is None or k == point.k):
        ok, lines = reproduce(served, lists)
        for line in lines:
            click.echo(line)
        if not ok:
            sys.exit(1)


@cli.group()
def data() -> None:
    """Inspect datasets and write the exact splits runs use."""


@data.command("split")
@click.option("--dataset", default="ml-100k", show_default=True, help="Registered dataset name.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Take dataset and split settings from an experiment config.",
)
@click.option("--seed", type=int, default=None, help="Split seed (default 42 or the config's).")
@click.option("--test", type=float, default=None, help="Test fraction per user (default 0.2).")
@click.option(
    "--validation",
    type=float,
    default=None,
    help="Validation fraction of the rest per user (default 0.2).",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@DATA_DIR
def data_split(
    dataset: str,
    config_path: Path | None,
    seed: int | None,
    test: float | None,
    validation: float | None,
    out: Path,
    data_dir: Path | None,
) -> None:
    """Write train.csv, validation.csv and test.csv exactly as a run splits them."""
    base = SplitConfig()
    if config_path is not None:
        cfg = load_config(config_path)
        dataset, base = cfg.data.dataset, cfg.split
    split_cfg = SplitConfig(
        method=base.method,
        test=base.test if test is None else test,
        validation=base.validation if validation is None else validation,
        seed=base.seed if seed is None else seed,
    )
    ds = load_dataset(dataset, data_dir)
    split = holdout_split(ds.interactions, split_cfg.test, split_cfg.validation, split_cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("train", "validation", "test"):
        part = getattr(split, name)
        ds.to_frame(part).to_csv(out / f"{name}.csv", index=False)
        click.echo(f"wrote {out / (name + '.csv')}: {len(part)} interactions")


@data.command("describe")
@click.option("--dataset", default="ml-100k", show_default=True, help="Registered dataset name.")
@DATA_DIR
def data_describe(dataset: str, data_dir: Path | None) -> None:
    """Counts, sparsity and distributions of a dataset."""
    ds = load_dataset(dataset, data_dir)
    inter = ds.interactions
    users, items = inter.user_counts(), inter.item_counts()
    click.echo(f"dataset       {ds.name} ({ds.checksum})")
    click.echo(f"interactions  {len(inter):,}")
    click.echo(
        f"users         {ds.n_users:,} (events per user: min {users.min()}, "
        f"median {int(np.median(users))}, max {users.max()})"
    )
    click.echo(
        f"items         {ds.n_items:,} (events per item: min {items.min()}, "
        f"median {int(np.median(items))}, max {items.max()})"
    )
    click.echo(f"density       {len(inter) / (ds.n_users * ds.n_items):.4%}")
    if inter.rating is not None:
        values, counts = np.unique(inter.rating, return_counts=True)
        dist = ", ".join(
            f"{v:g}: {c / len(inter):.1%}" for v, c in zip(values, counts, strict=True)
        )
        click.echo(f"ratings       {dist}")
    if ds.item_features is not None:
        names = ds.item_features.names
        click.echo(f"item features {len(names)} ({', '.join(names[:6])}, ...)")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user mistakes into one line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="paretorec", standalone_mode=False)
    except ParetoRecError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
