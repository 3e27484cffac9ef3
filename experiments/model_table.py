"""One results table per dataset: every registered model tuned alone on validation NDCG@10,
reported on test at its best-validation point beside an independent implementation (ranx).

For each (dataset, model) this writes experiments/configs/model_table/<dataset>-<model>.toml
(the model's declared ranges, no re-ranking: pool = k = 10, objectives ndcg@10 and cost),
runs ``paretorec tune CONFIG --out runs/model_table/<dataset>-<model>``, picks the trial with
the best ``val_ndcg@10`` (ties: the earlier trial), rebuilds paretorec's test lists for it and
the oracle's lists (experiments/model_table_oracle.py), scores both with ranx, and writes
results/models/table.md and table.json.

The hybrid is tuned last: its members are fixed at their own tuned hyperparameters and the
search covers the hybrid's declared parameters (first, second, weight, switch). paretorec needs
the members in the space's model list, so that search also proposes members alone; only the
hybrid's own trials are read.

Run (about 45-60 minutes on 2 shared cores, most of it EASE on ml-latest-small):
    cd /work/main && . .venv/bin/activate && export PARETOREC_DATA_DIR=/work/shared/data
    python experiments/model_table.py                 # both datasets, full budgets
    python experiments/model_table.py --quick         # ML-100k, tiny budgets, results/models/quick/
    python experiments/model_table.py --datasets ml-100k --models ease,als
    python experiments/model_table.py --no-tune       # re-read existing runs, redo the oracle
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model_table_oracle as oracle

import paretorec
from paretorec.data import load_dataset, make_split
from paretorec.metrics import parse_metric
from paretorec.models import MODELS
from paretorec.registry import declared_params
from paretorec.study.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "experiments" / "configs" / "model_table"
DATASETS = ["ml-100k", "ml-latest-small"]
ORDER = ["popularity", "itemknn", "userknn", "ease", "als", "bpr", "content", "semantic", "hybrid"]
K = 10
METRICS = ["ndcg@10", "recall@10", "satisfaction@10", "ild@10", "cost"]

# (algorithm, population, generations, start_from_baselines): full and --quick budgets.
BUDGET = {
    "popularity": ("random", 1, 1, False),
    "semantic": ("random", 1, 1, False),
    # 16 LHS points on a 16-level grid: one per level, i.e. the exhaustive grid
    "ease": ("lhs", 16, 1, False),
    "itemknn": ("tpe", 4, 10, True),
    "userknn": ("tpe", 4, 10, True),
    "als": ("tpe", 4, 12, True),
    "bpr": ("tpe", 4, 12, True),
    "content": ("tpe", 4, 8, True),
    # paretorec needs the members in the model choice, so a search also proposes members
    # alone (cached, but counted): with 8 models, TPE at 48 trials gave the hybrid 4. A Latin
    # hypercube of 400 stratifies the model coordinate: 50 hybrid trials, the rest cached.
    "hybrid": ("lhs", 400, 1, False),
}
QUICK = {
    "ease": ("lhs", 3, 1, False),
    "itemknn": ("tpe", 2, 2, True),
    "userknn": ("tpe", 2, 2, True),
    "als": ("tpe", 2, 2, True),
    "bpr": ("tpe", 2, 2, True),
    "content": ("tpe", 2, 2, True),
    "hybrid": ("lhs", 24, 1, False),
}
CF = ["itemknn", "userknn", "ease", "als", "bpr"]


def toml_value(v: object) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, float):
        return repr(float(v))
    return str(v)


def declared_space(model: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for p in declared_params(MODELS.get(model)):
        if p.search is not None:
            out[f"{model}.{p.name}"] = p.search
    return out


def space_for(model: str, tuned: dict[str, dict]) -> dict[str, object]:
    if model != "hybrid":
        return {"model": model, **declared_space(model), "rerank.pool": K}
    members = [*CF, "content", "popularity"]
    space: dict[str, object] = {"model": ["hybrid", *members], **declared_space("hybrid")}
    for member in members:  # members fixed at their own best-validation hyperparameters
        for name, value in tuned.get(member, {}).items():
            space[name] = value
    space["rerank.pool"] = K
    return space


def write_config(dataset: str, model: str, tuned: dict[str, dict], quick: bool) -> Path:
    algorithm, population, generations, baselines = (QUICK if quick else BUDGET).get(
        model, BUDGET[model]
    )
    space = space_for(model, tuned)
    test_scoring = "every" if dataset == "ml-100k" else "front"
    lines = [
        f"# model table: {model} alone on {dataset}, tuned on validation NDCG@10, no re-ranking",
        "# (pool = k = 10); written by experiments/model_table.py",
        f'name = "model-table-{dataset}-{model}"',
        "",
        "[data]",
        f'dataset = "{dataset}"',
        "",
        "[split]               # the main experiment's split",
        'method = "holdout"',
        "test = 0.2",
        "validation = 0.2",
        "seed = 42",
        "",
        "[evaluation]",
        f"k = {K}",
        'record = ["recall@10", "satisfaction@10", "ild@10"]',
        f'test_scoring = "{test_scoring}"',
        "",
        "[[objectives]]        # paretorec needs two; the table reads the best ndcg@10",
        'metric = "ndcg@10"',
        'direction = "max"',
        "",
        "[[objectives]]",
        'metric = "cost"',
        'direction = "min"',
        "",
        "[search]",
        f'algorithm = "{algorithm}"',
        f"population = {population}",
        f"generations = {generations}",
        "seed = 42",
        f"start_from_baselines = {toml_value(baselines)}",
        "",
        "[space]",
    ]
    for name, value in space.items():
        key = name if name == "model" else json.dumps(name)
        lines.append(f"{key} = {toml_value(value)}")
    CONFIGS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if quick else ""
    path = CONFIGS / f"{dataset}-{model}{suffix}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_tune(config: Path, out: Path) -> float:
    cmd = [sys.executable, "-m", "paretorec", "tune", str(config), "--out", str(out)]
    if (out / "trials.sqlite").exists():
        cmd.append("--resume")
    start = time.perf_counter()
    print("$", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - start


def best_trial(run: Path, model: str) -> pd.Series:
    trials = pd.read_csv(run / "trials.csv")
    own = trials[trials["model"] == model]
    best = own["val_ndcg@10"].max()
    return own[own["val_ndcg@10"] == best].sort_values("trial").iloc[0]


def row_params(row: pd.Series, model: str) -> dict[str, object]:
    """The model's own hyperparameters (and a hybrid's members') in the trial row."""
    models = [model]
    if model == "hybrid":
        models += [row["hybrid.first"], row["hybrid.second"]]
    out: dict[str, object] = {}
    for name, value in row.items():
        group = str(name).split(".")[0]
        if group in models and "." in str(name) and not pd.isna(value):
            out[str(name)] = value.item() if hasattr(value, "item") else value
    return out


def own_params(params: dict, model: str) -> dict[str, object]:
    return {k: v for k, v in params.items() if k.startswith(model + ".")}


def evaluate_model(
    dataset: str, model: str, run: Path, st: oracle.Stage, pipeline: Pipeline
) -> dict[str, object]:
    row = best_trial(run, model)
    params = row_params(row, model)
    start = time.perf_counter()
    lists = oracle.oracle_lists(st, model, params)
    oracle_seconds = time.perf_counter() - start
    ours = oracle.ranx_scores(st, lists)

    # paretorec's own test lists for the same trial, to locate any difference
    candidate = paretorec.Result.load(run).candidate(int(row["trial"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = pipeline.recommend("test", candidate)
    assert np.array_equal(ranked.users, st.users), "evaluated users differ"
    # test values of the trial: from trials.csv when the run scored it on test (every trial,
    # or the front), else from the same pipeline (the run's own definition); when both exist
    # they must agree
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recomputed = pipeline.evaluate("test", candidate, [parse_metric(m) for m in METRICS])
    test = {}
    check = 0.0
    for m in METRICS:
        stored = row.get(f"test_{m}")
        if stored is None or pd.isna(stored):
            test[m] = float(recomputed[m])
        else:
            test[m] = float(stored)
            check = max(check, abs(test[m] - float(recomputed[m])))
    theirs = oracle.ranx_scores(st, ranked.items)
    same_list = (ranked.items == lists).all(axis=1)
    same_set = np.array(
        [set(a) == set(b) for a, b in zip(ranked.items.tolist(), lists.tolist(), strict=True)]
    )
    # a KNN gap at shrinkage 0: does the vanishing-shrinkage tie order (ties to the larger
    # support) reproduce paretorec's lists? (paretorec adds 1e-12 to the cosine denominator)
    support_ties = None
    knn = {"itemknn", "userknn"} & ({model} | {params.get("hybrid.first")})
    if knn and abs(test["ndcg@10"] - ours["ndcg@10"]) > 1e-9:
        oracle.SUPPORT_TIES = True
        try:
            variant = oracle.oracle_lists(st, model, params)
        finally:
            oracle.SUPPORT_TIES = False
        support_ties = oracle.ranx_scores(st, variant)["ndcg@10"]
    trials = pd.read_csv(run / "trials.csv")
    return {
        "dataset": dataset,
        "model": model,
        "trial": int(row["trial"]),
        "trials_of_model": int((trials["model"] == model).sum()),
        "trials_total": len(trials),
        "params": params,
        "val_ndcg@10": float(row["val_ndcg@10"]),
        "test_ndcg@10": test["ndcg@10"],
        "test_recall@10": test["recall@10"],
        "test_satisfaction@10": test["satisfaction@10"],
        "test_ild@10": test["ild@10"],
        "test_cost": test["cost"],
        "test_from_run": not pd.isna(row.get("test_ndcg@10")),
        "run_vs_pipeline_max_abs_diff": check,
        "oracle_test_ndcg@10": ours["ndcg@10"],
        "oracle_test_recall@10": ours["recall@10"],
        "ranx_on_paretorec_lists_ndcg@10": theirs["ndcg@10"],
        "ranx_on_paretorec_lists_recall@10": theirs["recall@10"],
        "abs_diff_ndcg": abs(test["ndcg@10"] - ours["ndcg@10"]),
        "abs_diff_recall": abs(test["recall@10"] - ours["recall@10"]),
        "oracle_support_ties_ndcg@10": support_ties,
        "users": len(st.users),
        "users_same_list": int(same_list.sum()),
        "users_same_set": int(same_set.sum()),
        "oracle_seconds": oracle_seconds,
    }


def fmt_params(params: dict) -> str:
    def short(v: object) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    return ", ".join(f"{k}={short(v)}" for k, v in params.items())


def markdown(results: list[dict], timings: dict, quick: bool) -> str:
    out = [
        "# Models alone: tuned on validation NDCG@10, reported on test",
        "",
        "Made by `python experiments/model_table.py" + (" --quick" if quick else "") + "`. "
        "Split: holdout 0.2 / 0.2 per user, seed 42 (the main experiment's); the test stage fits "
        "on train + validation and scores every user with test events; training items are never "
        "listed; k = pool = 10, no re-ranking. Relevance is binary (every held-out test item). "
        "Oracle: the independent implementation (experiments/model_table_oracle.py; `implicit` "
        "directly for ALS / BPR) scored with ranx. Hybrid members are fixed at their own tuned "
        "values.",
        "",
    ]
    for dataset in DATASETS:
        rows = [r for r in results if r["dataset"] == dataset]
        if not rows:
            continue
        t = timings.get(dataset, {})
        out += [
            f"## {dataset}",
            "",
            f"Time: {t.get('total', float('nan')):.0f} s = search "
            f"{t.get('tune', float('nan')):.0f} s (history.csv of each run) + oracle and "
            f"paretorec test lists {t.get('evaluate', float('nan')):.0f} s, on 2 shared cores "
            "(other jobs running); start-up and data loading of each run not included.",
            "",
            "| model | best val NDCG | test NDCG | recall | satisfaction | ILD | cost | oracle "
            "test NDCG | oracle recall | abs diff NDCG | same lists | trials | hyperparameters |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in sorted(rows, key=lambda r: ORDER.index(r["model"])):
            out.append(
                f"| {r['model']} | {r['val_ndcg@10']:.4f} | {r['test_ndcg@10']:.4f} | "
                f"{r['test_recall@10']:.4f} | {r['test_satisfaction@10']:.4f} | "
                f"{r['test_ild@10']:.4f} | {r['test_cost']:.4g} | "
                f"{r['oracle_test_ndcg@10']:.4f} | {r['oracle_test_recall@10']:.4f} | "
                f"{r['abs_diff_ndcg']:.1e} | {r['users_same_list']}/{r['users']} | "
                f"{r['trials_of_model']} | {fmt_params(r['params'])} |"
            )
        out.append("")
        gaps = [r for r in rows if r["abs_diff_ndcg"] > 1e-6]
        for r in sorted(gaps, key=lambda r: ORDER.index(r["model"])):
            line = (
                f"- {r['model']}: |paretorec - oracle| NDCG = {r['abs_diff_ndcg']:.2e} "
                f"({r['users'] - r['users_same_list']} users' lists differ)."
            )
            if r.get("oracle_support_ties_ndcg@10") is not None:
                alt = r["oracle_support_ties_ndcg@10"]
                line += (
                    " The oracle breaks exact similarity ties by the lower index, as "
                    "`FitData.neighbours` documents; paretorec's `c / (sqrt sqrt + shrinkage + "
                    "1e-12)` breaks them, at shrinkage 0, by the larger support. The oracle with "
                    f"that tie order gives {alt:.6f} (|diff| {abs(alt - r['test_ndcg@10']):.1e})."
                )
            out.append(line)
        if gaps:
            out.append("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--datasets", default=None, help="comma list (default: both; --quick: ml-100k)")
    ap.add_argument("--models", default=",".join(ORDER))
    ap.add_argument("--quick", action="store_true", help="tiny budgets, results/models/quick/")
    ap.add_argument("--no-tune", action="store_true", help="read existing runs only")
    args = ap.parse_args()
    datasets = (
        args.datasets.split(",") if args.datasets else (["ml-100k"] if args.quick else DATASETS)
    )
    models = [m for m in ORDER if m in args.models.split(",")]
    runs_root = ROOT / "runs" / "model_table" / ("quick" if args.quick else "")
    out_dir = ROOT / "results" / "models" / ("quick" if args.quick else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "table.json"
    previous = json.loads(json_path.read_text()) if json_path.exists() else {}
    results = [
        r
        for r in previous.get("results", [])
        if not (r["dataset"] in datasets and r["model"] in models)
    ]
    timings = previous.get("timings", {})
    data_dir = os.environ.get("PARETOREC_DATA_DIR")

    for dataset in datasets:
        ds = st = pipeline = None
        tuned: dict[str, dict] = {
            r["model"]: own_params(r["params"], r["model"])
            for r in results
            if r["dataset"] == dataset
        }
        for model in models:
            run = runs_root / f"{dataset}-{model}"
            config = write_config(dataset, model, tuned, args.quick)
            if not args.no_tune:
                run_tune(config, run)
            if ds is None:
                cfg = paretorec.load_config(config)
                ds = load_dataset(cfg.data, data_dir)
                split = make_split(ds.interactions, cfg.split)
                st = oracle.test_stage(ds, split)
                pipeline = Pipeline(ds, split, K, K)
            start = time.perf_counter()
            record = evaluate_model(dataset, model, run, st, pipeline)
            pipeline.clear()
            # the search's own clock (history.csv), so a resumed or re-read run reports the
            # search that made it; process start-up and data loading (seconds) are not in it
            history = pd.read_csv(run / "history.csv")
            record["tune_seconds"] = float(history["elapsed_seconds"].iloc[-1])
            record["evaluate_seconds"] = time.perf_counter() - start
            tuned[model] = own_params(record["params"], model)
            results = [
                r for r in results if not (r["dataset"] == dataset and r["model"] == model)
            ] + [record]
            print(
                f"{dataset} {model}: val {record['val_ndcg@10']:.4f} test "
                f"{record['test_ndcg@10']:.6f} oracle {record['oracle_test_ndcg@10']:.6f} "
                f"(diff {record['abs_diff_ndcg']:.1e}; same lists "
                f"{record['users_same_list']}/{record['users']}) {fmt_params(record['params'])}",
                flush=True,
            )
            json_path.write_text(
                json.dumps({"results": results, "timings": timings}, indent=1, default=str)
            )
        rows = [r for r in results if r["dataset"] == dataset]
        timings[dataset] = {
            "tune": sum(r.get("tune_seconds") or 0.0 for r in rows),
            "evaluate": sum(r.get("evaluate_seconds") or 0.0 for r in rows),
        }
        timings[dataset]["total"] = timings[dataset]["tune"] + timings[dataset]["evaluate"]
        json_path.write_text(
            json.dumps({"results": results, "timings": timings}, indent=1, default=str)
        )
    (out_dir / "table.md").write_text(markdown(results, timings, args.quick))
    print(f"wrote {out_dir / 'table.md'} and {json_path}")


if __name__ == "__main__":
    main()
