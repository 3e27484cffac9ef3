"""The numbers a report states: formatting, relative changes, the comparison table (against
run.json's baseline and front.csv, recomputed here), the hypervolume in words."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from paretorec.objectives import Objective
from paretorec.report.compare import change, comparison, hypervolume_lines, number
from paretorec.result import Result

NDCG = Objective("ndcg@10", "max", 1.0, 0.15)
COST = Objective("cost", "min", 0.0, 4e5)


@pytest.mark.parametrize(
    "value,text",
    [
        (30354.8, "30,350"),
        (0.25998, "0.2600"),
        (3.16227, "3.162"),
        (0.0050901, "0.005090"),
        (9.99996, "10.00"),
        (450812.0, "450,800"),
        (2.5e6, "2.500e+06"),
        (-0.012345, "-0.01235"),
        (1.23e-7, "1.230e-07"),
        (0.0, "0"),
        (12, "12"),
        (float("nan"), ""),
    ],
)
def test_numbers_have_4_significant_digits(value, text):
    assert number(value) == text


def test_changes_in_words():
    assert change(0.2600, 0.1532, NDCG) == "+70 %"  # 0.2600 / 0.1532 - 1 = 0.697
    assert change(0.2600, 0.2639, NDCG) == "−1.5 %"  # 0.2600 / 0.2639 - 1 = -0.0148
    assert change(30354.8, 131.09, COST) == "232×"  # 231.56
    assert change(30354.8, 119800.0, COST) == "1/3.9"  # 3.947
    assert change(0.2, 0.2, NDCG) == "same"
    assert change(0.005, 0.0, NDCG) == "0.005000 against 0"
    assert change(0.0, 0.004, NDCG) == "0 against 0.004000"
    assert change(0.9, 0.1, NDCG) == "9×"  # a share that moved 9-fold: a multiple


def test_the_comparison_matches_the_run_files(tiny):
    view = Result.load(tiny.run)
    selection = view.chosen()
    found = comparison(view, selection)
    meta = json.loads((tiny.run / "run.json").read_text())
    chosen = json.loads((tiny.run / "chosen.json").read_text())["values"]["validation"]
    front = pd.read_csv(tiny.run / "front.csv")
    best = front.loc[front["val_ndcg@10"].idxmax()]
    table = found.table().set_index("objective")
    assert list(table.index) == ["ndcg@10", "satisfaction@10", "cost (operations per request)"]
    label = f"most accurate (trial {int(best['trial'])})"
    assert list(table.columns) == [
        "better",
        "chosen",
        "popularity",
        "chosen vs popularity",
        label,
        "chosen vs most accurate",
    ]
    for row, name in zip(table.index, ["ndcg@10", "satisfaction@10", "cost"], strict=True):
        assert table.loc[row, "chosen"] == number(chosen[name])
        assert table.loc[row, "popularity"] == number(meta["baselines"]["popularity"][name])
        assert table.loc[row, label] == number(best[f"val_{name}"])
    pct = 100 * (chosen["ndcg@10"] / meta["baselines"]["popularity"]["ndcg@10"] - 1)
    assert table.loc["ndcg@10", "chosen vs popularity"].startswith(f"+{pct:.0f} %")
    assert found.sentences[0].startswith(f"+{pct:.0f} % ndcg@10 against the popularity baseline")
    ratio = chosen["cost"] / meta["baselines"]["popularity"]["cost"]
    assert f"at {ratio:.2g}× the cost" in found.sentences[0]


def test_hypervolume_in_words(tiny):
    view = Result.load(tiny.run)
    history = pd.read_csv(tiny.run / "history.csv")
    lines = hypervolume_lines(view)
    final = history["hypervolume"].iloc[-1]
    assert lines[0] == f"Final hypervolume: {number(final)} after 18 evaluations."
    hv = history["hypervolume"].to_numpy()
    settled = history["evaluations"].iloc[int(np.argmax(hv >= 0.99 * final))]
    assert f"after {settled:,} of 18" in lines[1] or "still growing" in lines[1]
    assert "ndcg@10 from 1.000 (best)" in lines[2] and "3-dimensional box" in lines[2]
