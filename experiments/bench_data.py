"""Loading + cleaning + splitting ML-100k and ml-latest-small: medians of repeated runs.

The baseline, measured in the same process, is a bare ``pandas.read_csv`` of the ratings file
(what any loader must at least do), so the ratio is the price of validation and cleaning.

    python experiments/bench_data.py [--data-dir DIR] [--repeats 15]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from paretorec.config import SplitConfig
from paretorec.data import load_dataset, make_split
from paretorec.data.locate import configured_dir

ROOT = Path(__file__).resolve().parents[1]
RAW = {
    "ml-100k": ("ml-100k/u.data", {"sep": "\t", "header": None}),
    "ml-latest-small": ("ml-latest-small/ratings.csv", {}),
}


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "data.json"))
    args = parser.parse_args()
    root = configured_dir(args.data_dir)
    report: dict[str, dict[str, float]] = {}
    for name, (raw_path, kwargs) in RAW.items():
        row: dict[str, float] = {}
        row["bare_read_csv_s"] = median_seconds(
            lambda p=raw_path, k=kwargs: pd.read_csv(root / p, **k), args.repeats
        )
        for method, cfg in (
            ("holdout", SplitConfig()),
            ("temporal", SplitConfig(method="temporal")),
            ("leave_last", SplitConfig(method="leave_last", test=1, validation=1)),
        ):
            row[f"load_clean_split_{method}_s"] = median_seconds(
                lambda n=name, c=cfg: make_split(load_dataset(n, args.data_dir).interactions, c),
                args.repeats,
            )
        row["ratio_holdout_vs_bare_read"] = (
            row["load_clean_split_holdout_s"] / row["bare_read_csv_s"]
        )
        report[name] = {k: round(v, 4) for k, v in row.items()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for name, row in report.items():
        for key, value in row.items():
            print(f"{name:16s} {key:34s} {value}")


if __name__ == "__main__":
    main()
