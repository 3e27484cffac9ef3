"""What a committed front says, in numbers: is it one-dimensional, which re-rank terms earn a
place on it, and what the chosen point gives up and gains.

Reads a run directory (``paretorec tune``) and the chosen point (``paretorec select``), writes
``analysis.md`` and ``analysis.json`` beside ``--out``:

- the Spearman rank correlation of every pair of objectives over the front's points
  (validation values; scipy), each objective oriented so that larger is better: +1 means two
  objectives improve together (one of them is redundant), -1 that one is bought with the other;
- the share of front points on which each re-rank term is active (weight > 0.05), and by model;
- the chosen point, the accuracy-best front point and the popularity baseline in each
  objective's own units (validation; test where the run scored it).

    python experiments/front_analysis.py runs/ml100k --chosen results/ml100k/chosen.json \
        --out results/ml100k
"""

from __future__ import annotations

import argparse
import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from paretorec.result import Result

ACTIVE = 0.05
# each term's own metric (the one its weight should move) and that metric's better direction
OWN_METRIC = {
    "calibration": ("miscalibration@10", -1.0),
    "longtail": ("aplt@10", 1.0),
    "intent": ("srecall@10", 1.0),
    "diversity": ("ild@10", 1.0),
    "novelty": ("novelty@10", 1.0),
    "coverage": ("coverage@10", 1.0),
}


def analyse(run_dir: Path, chosen: dict) -> dict:
    result = Result.load(run_dir)
    front = result.front
    names = [o.name for o in result.objectives]
    sign = {o.name: 1.0 if o.direction == "max" else -1.0 for o in result.objectives}
    val = {n: sign[n] * front[f"val_{n}"].to_numpy(np.float64) for n in names}
    pairs = []
    for a, b in combinations(names, 2):
        rho = spearmanr(val[a], val[b]).statistic
        pairs.append({"a": a, "b": b, "spearman": float(rho)})
    terms = sorted(c for c in front.columns if c.startswith("rerank.") and c != "rerank.pool")
    weights = front[terms].fillna(0.0).astype(np.float64)
    active = {t.removeprefix("rerank."): float((weights[t] > ACTIVE).mean()) for t in terms}
    own = {}
    for t in terms:
        name = t.removeprefix("rerank.")
        metric, better = OWN_METRIC.get(name, (None, 1.0))
        if metric and f"val_{metric}" in front:
            rho = spearmanr(weights[t], better * front[f"val_{metric}"].astype(float)).statistic
            own[name] = {"metric": metric, "spearman": float(rho)}
    by_model = {
        model: {t.removeprefix("rerank."): int((rows[t] > ACTIVE).sum()) for t in terms}
        | {"points": len(rows)}
        for model, rows in weights.assign(model=front["model"]).groupby("model")
    }
    best = front.iloc[int(np.argmax(val[names[0]]))]  # the first objective is accuracy
    baseline = result.meta["baselines"]["popularity"]
    rows = {
        "chosen": {
            "point": f"trial {chosen['run']['trial']} ({chosen['model']['name']})",
            **{
                s: {n: chosen["values"].get(s, {}).get(n) for n in names}
                for s in ("validation", "test")
            },
        },
        "accuracy-best": {
            "point": f"trial {int(best['trial'])} ({best['model']})",
            **{
                s: {n: _num(best.get(f"{p}_{n}")) for n in names}
                for s, p in (("validation", "val"), ("test", "test"))
            },
        },
        "popularity baseline": {
            "point": "popularity, no re-ranking",
            "validation": {n: baseline.get(n) for n in names},
            "test": {n: None for n in names},
        },
    }
    return {
        "run": str(run_dir),
        "front_points": len(front),
        "evaluations": len(result.trials),
        "objectives": [{"name": o.name, "direction": o.direction} for o in result.objectives],
        "models_on_front": front["model"].value_counts().to_dict(),
        "spearman": pairs,
        "term_active_share": active,
        "term_active_by_model": by_model,
        "term_weight_vs_own_metric": own,
        "active_threshold": ACTIVE,
        "comparison": rows,
        "selection": chosen.get("selection"),
    }


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4f}"


def markdown(report: dict) -> str:
    names = [o["name"] for o in report["objectives"]]
    lines = [
        f"# What the front says ({report['run']})",
        "",
        f"{report['front_points']} front points of {report['evaluations']} evaluations; "
        f"models on the front: "
        + ", ".join(f"{m} {n}" for m, n in report["models_on_front"].items())
        + ". Made by `python experiments/front_analysis.py`.",
        "",
        "## Spearman rank correlation of each pair of objectives over the front (validation)",
        "",
        "Each objective oriented so that larger is better: + means the two improve together, "
        "- that one is bought with the other.",
        "",
        "| | " + " | ".join(names[1:]) + " |",
        "|---|" + "---:|" * (len(names) - 1),
    ]
    rho = {(p["a"], p["b"]): p["spearman"] for p in report["spearman"]}
    for i, a in enumerate(names[:-1]):
        cells = ["" if j <= i else f"{rho[(a, b)]:+.2f}" for j, b in enumerate(names) if j > 0]
        lines.append(f"| {a} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"## Share of front points on which each re-rank term is active (weight > "
        f"{report['active_threshold']})",
        "",
        "The last column: Spearman correlation over the front of the term's weight with its own "
        "metric (oriented so that + means the weight improves it).",
        "",
        "| term | share | "
        + " | ".join(report["term_active_by_model"])
        + " | weight vs own metric |",
        "|---|---:|" + "---:|" * (len(report["term_active_by_model"]) + 1),
    ]
    own = report["term_weight_vs_own_metric"]
    for term, share in report["term_active_share"].items():
        counts = [f"{v[term]}/{v['points']}" for v in report["term_active_by_model"].values()]
        mine = own.get(term)
        tail = f"{mine['spearman']:+.2f} ({mine['metric']})" if mine else "-"
        lines.append(f"| {term} | {share:.0%} | " + " | ".join(counts) + f" | {tail} |")
    lines += [
        "",
        "## The chosen point against the accuracy-best point and the popularity baseline",
        "",
        "| point | stage | " + " | ".join(names) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for label, row in report["comparison"].items():
        for stage in ("validation", "test"):
            if all(v is None for v in row[stage].values()):
                continue
            cells = " | ".join(_fmt(row[stage][n]) for n in names)
            lines.append(f"| {label}: {row['point']} | {stage} | {cells} |")
    if report.get("selection"):
        lines += [
            "",
            f"Selection: {report['selection']['method']}: {report['selection']['reason']}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--chosen", type=Path, required=True, help="paretorec select's output")
    parser.add_argument("--out", type=Path, required=True, help="directory for analysis.*")
    args = parser.parse_args()
    report = analyse(args.run_dir, json.loads(args.chosen.read_text()))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "analysis.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (args.out / "analysis.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
