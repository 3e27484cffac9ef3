"""Does serving by segment reach a trade-off no single configuration reaches?

Reads a run's ``front.csv`` (every front point's test values) and the ``evaluation.json`` of
``paretorec evaluate CHOSEN_PER_SEGMENT --out DIR`` (the per-segment combination's test values
over all users), and counts the single front points that are at least as good on every
objective (dominate it), and those at or below its cost that reach each objective.

    python experiments/segments_vs_front.py results/ml100k/front.csv \
        results/ml100k/segments/evaluation.json --out results/ml100k/segments/vs_front.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("front", type=Path)
    parser.add_argument("evaluation", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    front = pd.read_csv(args.front)
    evaluation = json.loads(args.evaluation.read_text())
    combined = {r["metric"]: r for r in evaluation["rows"] if r["group"] == "all"}

    def reaches(metric: str, rows: pd.DataFrame) -> pd.Series:
        value, col = combined[metric]["per_segment"], rows[f"test_{metric}"]
        return col >= value if combined[metric]["direction"] == "max" else col <= value

    dominating = pd.Series(True, index=front.index)
    for metric in combined:
        dominating &= reaches(metric, front)
    cost = combined.get("cost", {}).get("per_segment")
    cheaper = front if cost is None else front[front["test_cost"] <= cost]
    out = {
        "front_points": len(front),
        "per_segment_test": {m: r["per_segment"] for m, r in combined.items()},
        "single_points_dominating_it": int(dominating.sum()),
        "points_at_or_below_its_cost": len(cheaper),
        "of_those_reaching_it_on": {
            m: int(reaches(m, cheaper).sum()) for m in combined if m != "cost"
        },
    }
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
