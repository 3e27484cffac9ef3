"""paretorec's searches beside Optuna's on the ML-100k tuning problem.

Every optimiser drives the same evaluation function: ``Study.evaluate(values, ("validation",))``
of ``--config`` (default ``experiments/ml100k.toml``: its objectives, no extra recorded metrics),
on a fresh study each run so model fits count. paretorec's algorithms see the unit-cube encoding;
Optuna's samplers get the space natively, define-by-run (a categorical model, its parameters
only when it is chosen, grids as categoricals): each library as its users would use it.
``paretorec tpe`` is Optuna's TPE inside paretorec's engine, given the space the same way
(``paretorec.optimize.tpe.suggest``, which the Optuna runs here use too), with the engine's
settings: multivariate and grouped, 20 trials per generation, from the baselines.

Reported per budget (evaluations) and method: the median over seeds of the hypervolume of every
evaluated point (the study's normalisation, reference at the popularity baseline and the
costliest configuration) and of the search wall time. paretorec's wall time excludes the test
scoring of the final front, which Optuna does not do.

paretorec's searches start from the baselines (every model at its defaults, no re-ranking; the
study measures them anyway to anchor the hypervolume), three of their budget's evaluations.
``optuna tpe+baselines`` is the control: TPE with the same three points enqueued as its first
trials; ``optuna tpe mv+baselines`` also uses paretorec's TPE settings (multivariate, grouped),
one trial at a time. ``best_paretorec_vs_best_optuna_hv`` compares with the best of all Optuna
methods, the controls included; ``..._as_shipped_hv`` only with Optuna's samplers as they come.

Each method runs once per seed, at the largest budget; a smaller budget is read as the first
evaluations of that run (hypervolume of the first B points, wall time when the B-th finished).
No method here looks at its budget before it ends, so that is exactly a run of budget B (checked
against separate runs for every method of paretorec and both of Optuna's samplers). Wall time
at B counts from the first evaluation (paretorec's history clock; Optuna's ``optimize`` call):
setup before the search (data, baselines) is left out for both.

    python experiments/bench_search.py [--budgets 100,300,1000] [--seeds 0,1,2] [--data-dir DIR]
                                       [--config TOML] [--population 20]
                                       [--methods "paretorec cmopso,optuna tpe"] [--out FILE]
                                       [--merge]  # add methods to FILE, keep its other runs
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
from bench_evaluation import run_in_dir

from paretorec.config import EvaluationConfig, load_config
from paretorec.objectives import column, hypervolume, normalise, to_min
from paretorec.optimize.tpe import suggest
from paretorec.study import Study

ROOT = Path(__file__).resolve().parents[1]
POPULATION = 20
CONFIG = ROOT / "experiments" / "ml100k.toml"


def base_config(budget: int, seed: int, algorithm: str, population: int | None = None):
    config = load_config(CONFIG)
    population = population or POPULATION
    search = dataclasses.replace(
        config.search,
        algorithm=algorithm,
        population=population,
        generations=int(np.ceil(budget / population)),
        max_evaluations=budget,
        seed=seed,
    )
    evaluation = EvaluationConfig(k=config.evaluation.k, record=(), test_scoring="front")
    return dataclasses.replace(config, search=search, evaluation=evaluation)


def objective_columns(study: Study) -> list[str]:
    """The objectives' validation result columns: what the search sees."""
    return [column("validation", o.name) for o in study.objectives]


def hv_of(study: Study, values: np.ndarray) -> float:
    return hypervolume(normalise(study.objectives, to_min(study.objectives, values)))


def prefixes(study: Study, values: np.ndarray, done: np.ndarray, budgets: list[int]) -> list:
    """(hypervolume, wall seconds) of the first B evaluations, for each budget B."""
    return [(hv_of(study, values[:b]), float(done[min(b, len(done)) - 1])) for b in budgets]


def run_paretorec(
    algorithm: str,
    budgets: list[int],
    seed: int,
    data_dir: str | None,
    population: int | None = None,
) -> tuple:
    study = Study.prepare(base_config(max(budgets), seed, algorithm, population), data_dir)
    _ = study.objectives  # baselines and anchors: setup, not search
    with tempfile.TemporaryDirectory() as out:
        outcome = run_in_dir(study, study.config.search, study.config.to_dict(), out)
    columns = objective_columns(study)
    records = sorted(outcome.records, key=lambda r: r.trial)
    values = np.array(
        [[r.results.get(c, np.nan) for c in columns] for r in records], dtype=np.float64
    )
    # the generation's end is when its last evaluation was committed
    evaluations = np.array([row[1] for row in outcome.history])
    elapsed = np.array([row[4] for row in outcome.history], dtype=np.float64)
    ends = np.repeat(elapsed, np.diff(evaluations, prepend=0))
    return prefixes(study, values, ends, budgets), study.fits


def optuna_run(
    sampler_name: str, budget: int, seed: int, data_dir: str | None, baselines: bool = False
) -> tuple[Study, list[dict], np.ndarray]:
    """One Optuna search: the study, a row per trial (its point and objective columns) and
    each trial's end in seconds from the start. With ``baselines``, the points paretorec's
    searches start from (every model at its defaults, no re-ranking) are enqueued as the first
    trials, so both libraries start from the same information."""
    study = Study.prepare(base_config(budget, seed, "nsga2"), data_dir)
    _ = study.objectives
    columns = objective_columns(study)
    rows: list[dict] = []

    def objective(trial: optuna.Trial) -> list[float]:
        values = suggest(trial, study.space)
        results, _ = study.evaluate(values, ("validation",))
        rows.append({**values, **{c: results[c] for c in columns}})
        return [results[c] for c in columns]

    if sampler_name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(population_size=POPULATION, seed=seed)
    elif sampler_name == "nsga3":
        sampler = optuna.samplers.NSGAIIISampler(population_size=POPULATION, seed=seed)
    elif sampler_name == "tpe-mv":  # the settings paretorec's tpe uses, one trial at a time
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    directions = ["maximize" if o.direction == "max" else "minimize" for o in study.objectives]
    optuna_study = optuna.create_study(directions=directions, sampler=sampler)
    if baselines:
        for x in study.baseline_points():
            optuna_study.enqueue_trial(study.space.decode(x))  # active parameters only
    start = time.time()
    optuna_study.optimize(objective, n_trials=budget)
    ends = np.array([t.datetime_complete.timestamp() - start for t in optuna_study.trials])
    return study, rows, ends


def run_optuna(
    sampler_name: str, budgets: list[int], seed: int, data_dir: str | None, baselines: bool = False
) -> tuple:
    study, rows, ends = optuna_run(sampler_name, max(budgets), seed, data_dir, baselines)
    columns = objective_columns(study)
    values = np.array([[row[c] for c in columns] for row in rows], dtype=np.float64)
    return prefixes(study, values, ends, budgets), study.fits


METHODS = {
    "paretorec nsga2": lambda b, s, d: run_paretorec("nsga2", b, s, d),
    "paretorec nsga3": lambda b, s, d: run_paretorec("nsga3", b, s, d),
    "paretorec smsemoa": lambda b, s, d: run_paretorec("smsemoa", b, s, d),
    "paretorec mopso": lambda b, s, d: run_paretorec("mopso", b, s, d),
    "paretorec cmopso": lambda b, s, d: run_paretorec("cmopso", b, s, d),
    "paretorec tpe": lambda b, s, d: run_paretorec("tpe", b, s, d),
    # what the main experiments run: Optuna's TPE as shipped, one trial at a time
    "paretorec tpe-independent": lambda b, s, d: run_paretorec("tpe-independent", b, s, d, 1),
    "paretorec random": lambda b, s, d: run_paretorec("random", b, s, d),
    "optuna nsga2": lambda b, s, d: run_optuna("nsga2", b, s, d),
    "optuna nsga3": lambda b, s, d: run_optuna("nsga3", b, s, d),
    "optuna tpe": lambda b, s, d: run_optuna("tpe", b, s, d),
    # controls: Optuna given paretorec's start, then also paretorec's TPE settings
    "optuna tpe+baselines": lambda b, s, d: run_optuna("tpe", b, s, d, baselines=True),
    "optuna tpe mv+baselines": lambda b, s, d: run_optuna("tpe-mv", b, s, d, baselines=True),
}


def main() -> None:
    global CONFIG, POPULATION
    parser = argparse.ArgumentParser()
    parser.add_argument("--budgets", default="100,300,1000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--config", default=str(CONFIG), help="the study (objectives, space)")
    parser.add_argument("--population", type=int, default=POPULATION)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "search.json"))
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other methods' runs already in --out (hypervolumes are deterministic)",
    )
    parser.add_argument(
        "--merge-from",
        nargs="*",
        default=[],
        metavar="FILE",
        help="also keep the runs of these output files (runs made in parallel processes)",
    )
    args = parser.parse_args()
    CONFIG, POPULATION = Path(args.config), args.population
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budgets = [int(b) for b in args.budgets.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    names = [m for m in args.methods.split(",") if m]
    runs: list[dict] = []
    if args.merge and Path(args.out).exists():
        kept = json.loads(Path(args.out).read_text())["runs"]
        runs = [r for r in kept if r["method"] not in names]
    for path in args.merge_from:
        runs += [r for r in json.loads(Path(path).read_text())["runs"] if r["method"] not in names]
    for name in names:
        for seed in seeds:
            at_budget, fits = METHODS[name](budgets, seed, args.data_dir)
            for budget, (hv, wall) in zip(budgets, at_budget, strict=True):
                runs.append(
                    {
                        "budget": budget,
                        "method": name,
                        "seed": seed,
                        "hypervolume": hv,
                        "wall_seconds": wall,
                        "fits_whole_run": fits,
                    }
                )
                print(
                    f"{budget:>5} {name:<17} seed {seed}: HV {hv:.5f}  wall {wall:6.1f}s",
                    flush=True,
                )
    present = [m for m in METHODS if any(r["method"] == m for r in runs)]
    summary = {}
    for budget in budgets:
        rows = {}
        for name in present:
            mine = [r for r in runs if r["budget"] == budget and r["method"] == name]
            rows[name] = {
                "hypervolume_median": float(np.median([r["hypervolume"] for r in mine])),
                "wall_seconds_median": float(np.median([r["wall_seconds"] for r in mine])),
            }
        summary[str(budget)] = rows
    for rows in summary.values():
        ours = max(
            (v["hypervolume_median"] for k, v in rows.items() if k.startswith("paretorec")),
            default=float("nan"),
        )
        theirs = max(
            (v["hypervolume_median"] for k, v in rows.items() if k.startswith("optuna")),
            default=float("nan"),
        )
        shipped = max(
            (
                v["hypervolume_median"]
                for k, v in rows.items()
                if k.startswith("optuna") and "+baselines" not in k
            ),
            default=float("nan"),
        )
        rows["best_paretorec_vs_best_optuna_hv"] = ours / theirs
        rows["best_paretorec_vs_best_optuna_as_shipped_hv"] = ours / shipped
        if "paretorec nsga2" in rows and "optuna nsga2" in rows:
            rows["wall_ratio_paretorec_nsga2_vs_optuna_nsga2"] = (
                rows["paretorec nsga2"]["wall_seconds_median"]
                / rows["optuna nsga2"]["wall_seconds_median"]
            )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    meta = {"config": str(Path(args.config).resolve().relative_to(ROOT)), "population": POPULATION}
    Path(args.out).write_text(
        json.dumps({**meta, "summary": summary, "runs": runs}, indent=2) + "\n"
    )
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
