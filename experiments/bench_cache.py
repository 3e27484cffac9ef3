"""The candidate cache's eviction policy under memory pressure, on one search replayed under
each policy in the same process.

The search is the 5 M cache configuration's design on ML-100k (popularity, ItemKNN, EASE,
NSGA-II 20 x 10 = 200 evaluations, every point also scored on test), with the cache budget set
to a fraction of what the run's distinct candidate sets need, so that something must be
evicted. The search is seeded and the cache changes only what is refitted, not what is
evaluated (checked: identical trial values), so the two policies see the same access sequence.
LRU is GreedyDual-Size with every set's refit cost equal: each touch gets the same credit over
the inflation clock, so the least recently touched goes first.

Three policies: LRU keeping memos (the cache before this benchmark), LRU shedding the memos
derived from candidates before evicting a set, and GreedyDual-Size (cheapest to refit per byte
first) shedding memos first. Reported per policy: fits, repeat fits (a (stage, model) fitted
again after an eviction), and their seconds.

    python experiments/bench_cache.py [--budget-share 0.33] [--data-dir DIR]
        -> results/bench/cache_policy.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from bench_evaluation import run_in_dir

from paretorec.config import EvaluationConfig, load_config
from paretorec.study import Pipeline, Study

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ("lru, keep memos", "lru, shed memos first", "greedy-dual-size, shed memos first")


def config(data_dir: str | None):
    base = load_config(ROOT / "experiments" / "configs" / "synthetic_5m_cache.toml")
    data = dataclasses.replace(base.data, dataset="ml-100k", synthetic=None)
    search = dataclasses.replace(base.search, generations=10)
    evaluation = EvaluationConfig(k=10, record=())
    return dataclasses.replace(base, data=data, search=search, evaluation=evaluation)


def _lru_keeping_memos(self: Pipeline, keep: tuple) -> None:
    held = self.cache_bytes
    while held > self.cache_limit and len(self._candidates) > 1:
        victim = next(k for k in self._candidates if k != keep)
        held -= self._candidates.pop(victim).nbytes


def _greedy_dual_size(candidates):
    """GreedyDual-Size (Cao & Irani 1997) after shedding memos: each set's credit is the clock
    plus its refit seconds per byte, refreshed when it is inserted or hit; the lowest credit is
    evicted and becomes the clock. Returns the patched ``candidates`` and ``_make_room``."""
    credit: dict = {}
    clock = [0.0]

    def touch(entry, key) -> None:
        credit[key] = clock[0] + entry.fit_seconds / max(entry.nbytes, 1)

    def hit(self: Pipeline, stage: str, model):
        entry = candidates(self, stage, model)
        touch(entry, (stage, model))
        return entry

    def make_room(self: Pipeline, keep: tuple) -> None:
        touch(self._candidates[keep], keep)
        held = self.cache_bytes
        for key, entry in self._candidates.items():
            if held <= self.cache_limit:
                return
            if key != keep:
                held -= entry.shed_memos()
        while held > self.cache_limit and len(self._candidates) > 1:
            victim = min((k for k in self._candidates if k != keep), key=lambda k: credit[k])
            clock[0] = credit.pop(victim)
            held -= self._candidates.pop(victim).nbytes

    return hit, make_room


def run(policy: str, budget: int | None, data_dir: str | None) -> tuple[dict, list]:
    study = Study.prepare(config(data_dir), data_dir)
    _ = study.objectives  # baselines: setup, fitted before the budget applies
    pipe = study.pipeline
    if budget is not None:
        pipe.cache_limit = budget
    make_room, candidates = Pipeline._make_room, Pipeline.candidates
    if policy == "lru, keep memos":  # the cache before memos were shed first
        Pipeline._make_room = _lru_keeping_memos
    elif policy.startswith("greedy-dual-size"):
        Pipeline.candidates, Pipeline._make_room = _greedy_dual_size(candidates)
    try:
        with tempfile.TemporaryDirectory() as out:
            outcome = run_in_dir(study, study.config.search, study.config.to_dict(), out)
            log = json.loads((Path(out) / "run.json").read_text())["fit_log"]
    finally:
        Pipeline._make_room, Pipeline.candidates = make_room, candidates
    search_fits = log  # setup fits included: the same in both runs
    keys = Counter(json.dumps([f["stage"], f["model"]], sort_keys=True) for f in search_fits)
    # the objectives only: recorded timings (ms_per_user) differ from run to run
    names = [f"{s}_{o.name}" for s in ("val", "test") for o in study.objectives]
    values = [
        [r.results.get(n) for n in names] for r in sorted(outcome.records, key=lambda r: r.trial)
    ]
    summary = {
        "fits": len(search_fits),
        "distinct": len(keys),
        "repeat_fits": sum(1 for f in search_fits if f["repeat"]),
        "fit_seconds": sum(f["seconds"] for f in search_fits),
        "repeat_seconds": sum(f["seconds"] for f in search_fits if f["repeat"]),
        "cache_limit_mb": pipe.cache_limit / 2**20,
    }
    return summary, values


def needed_bytes(data_dir: str | None) -> int:
    """What the run's distinct candidate sets hold when nothing is evicted."""
    study = Study.prepare(config(data_dir), data_dir)
    _ = study.objectives
    study.pipeline.cache_limit = 1 << 40
    with tempfile.TemporaryDirectory() as out:
        run_in_dir(study, study.config.search, study.config.to_dict(), out)
    return study.pipeline.cache_bytes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-share", type=float, default=0.33)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    need = needed_bytes(args.data_dir)
    budget = int(need * args.budget_share)
    out: dict = {
        "search": "ML-100k, popularity / ItemKNN / EASE, NSGA-II 20 x 10, "
        "test scored for every point",
        "needed_mb": need / 2**20,
        "budget_share": args.budget_share,
    }
    values = {}
    for policy in POLICIES:
        out[policy], values[policy] = run(policy, budget, args.data_dir)
        print(policy, out[policy], flush=True)
    out["identical_trials"] = all(v == values[POLICIES[0]] for v in values.values())
    out["load average"] = os.getloadavg()
    path = ROOT / "results" / "bench" / "cache_policy.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
