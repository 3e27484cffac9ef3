"""Are two run directories the same run? Trial by trial, timing columns aside.

Used to check that a change of the code changes no result: run the same config before and
after, then

    python experiments/compare_runs.py RUN_BEFORE RUN_AFTER

It prints the result columns that differ (none is the answer wanted), whether the fronts and
the hypervolume histories are identical, and which run.json fields differ (measured
``ms_per_user`` values left out).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd


def _same(x: pd.Series, y: pd.Series) -> bool:
    if x.dtype.kind in "fiu" and y.dtype.kind in "fiu":
        return np.array_equal(x.to_numpy(float), y.to_numpy(float), equal_nan=True)
    return x.fillna("").astype(str).equals(y.fillna("").astype(str))


def main(a: str, b: str) -> None:
    ta, tb = pd.read_csv(f"{a}/trials.csv"), pd.read_csv(f"{b}/trials.csv")
    if list(ta.columns) != list(tb.columns):
        print("different columns:", sorted(set(ta.columns) ^ set(tb.columns)))
        return
    timing = {"seconds", "cached"}
    cols = [c for c in ta.columns if c not in timing and "ms_per_user" not in c]
    bad = [c for c in cols if len(ta) != len(tb) or not _same(ta[c], tb[c])]
    print(f"trials {len(ta)} / {len(tb)}; differing columns: {bad or 'none'}")
    fa, fb = pd.read_csv(f"{a}/front.csv"), pd.read_csv(f"{b}/front.csv")
    print("front identical:", fa["trial"].tolist() == fb["trial"].tolist())
    keys = ["generation", "evaluations", "hypervolume", "front_size"]
    ha, hb = pd.read_csv(f"{a}/history.csv")[keys], pd.read_csv(f"{b}/history.csv")[keys]
    print("history identical:", ha.shape == hb.shape and np.array_equal(ha, hb))
    ma, mb = (json.load(open(f"{d}/run.json")) for d in (a, b))
    for meta in (ma, mb):
        for values in meta.get("baselines", {}).values():
            values.pop("ms_per_user", None)
    for key in (
        "objectives",
        "baselines",
        "constraints",
        "space",
        "parameters",
        "fits",
        "setup_fits",
        "evaluations",
        "hypervolume_final",
    ):
        print(f"run.json {key}:", "same" if ma.get(key) == mb.get(key) else "DIFFERENT")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
