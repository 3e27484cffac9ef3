"""Does Optuna's TPE lose hypervolume because paretorec's baselines take three of its ten
random start-up trials?

``optuna tpe+baselines`` (``bench_search.py``) fell below Optuna's TPE as shipped, so starting
from the baselines costs hypervolume. One explanation: Optuna counts enqueued trials among its
``n_startup_trials = 10`` random ones. This runs paretorec's ``tpe-independent`` exactly as
``bench_search.py`` does, with the start-up raised to 10 + the baselines, so ten random
trials follow them; compare with ``paretorec tpe-independent`` in
``results/bench/search_five_objectives_tpe_independent.json`` (same seeds, same function).

Run:  python experiments/tpe_startup.py  -> results/bench/search_five_objectives_tpe_startup.json
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import bench_search
import numpy as np

import paretorec.optimize.tpe as tpe

BUDGETS = [100, 300]
SEEDS = [0, 1, 2]


def main() -> None:
    real_setup = tpe.TPE.setup

    def setup(self, problem, seed=None, **kwargs):  # type: ignore[no-untyped-def]
        out = real_setup(self, problem, seed, **kwargs)
        self.study.sampler._n_startup_trials = 10 + len(self.initial)
        return out

    tpe.TPE.setup = setup
    runs = []
    for seed in SEEDS:
        at_budget, _ = bench_search.run_paretorec(
            "tpe-independent", BUDGETS, seed, os.environ.get("PARETOREC_DATA_DIR"), 1
        )
        for budget, (hv, wall) in zip(BUDGETS, at_budget, strict=True):
            runs.append({"budget": budget, "seed": seed, "hypervolume": hv, "wall_seconds": wall})
            print(f"{budget:5d} seed {seed}: HV {hv:.5f}", flush=True)
    summary = {
        str(b): float(np.median([r["hypervolume"] for r in runs if r["budget"] == b]))
        for b in BUDGETS
    }
    out = (
        Path(__file__).resolve().parents[1]
        / "results/bench/search_five_objectives_tpe_startup.json"
    )
    out.write_text(
        json.dumps(
            {
                "method": "paretorec tpe-independent, start-up = 10 + baselines",
                "config": "experiments/ml100k.toml",
                "hypervolume_median": summary,
                "runs": runs,
            },
            indent=1,
        )
        + "\n"
    )
    print(summary)


if __name__ == "__main__":
    main()
