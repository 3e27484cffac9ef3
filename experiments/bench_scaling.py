"""How the metrics pass scales with the number of users (issue 3).

For synthetic sets calibrated to ML-100k (``generate_like(shape_of(ml-100k), n)``) of 100 k,
1 M and 10 M events: a holdout split (``SplitConfig()``), most-popular top-10 lists for every
test user (``Pipeline(k=10, max_pool=10)``, pool 10, so list building is cheap), then timed
passes of every registered metric at @10 on the test stage. Each pass builds a fresh
``ListContext`` (as every trial of a search does: the judged hits are recomputed) over the same
stage; the first pass also fills the stage's shared caches (co-occurrence bitsets, genre
profiles, the popularity baseline) and is reported apart, with each metric's peak traced
memory. Reported: median of the warm passes,
per metric and in total, and the cost per evaluated user; a flat per-user cost means linear
growth. Memory: peak resident set of this process (sizes run small to large, so each row's peak
is its own).

    PARETOREC_DATA_DIR=../shared/data python experiments/bench_scaling.py \
        [--sizes 100000 1000000 10000000] [--repeats 5] [--out results/synthetic/scaling.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from paretorec.config import SplitConfig
from paretorec.data import load_dataset, make_split
from paretorec.data.synthetic import generate_like, shape_of
from paretorec.errors import DataWarning
from paretorec.metrics import METRICS, MetricRef, parse_metric
from paretorec.metrics.truth import DENSE_LOOKUP_CELLS
from paretorec.study import Candidate, Pipeline

ROOT = Path(__file__).resolve().parents[1]


def _refs() -> list[MetricRef]:
    """Every registered metric, at @10 where it takes a cut-off."""
    return [
        parse_metric(f"{name}@10" if METRICS.get(name).at_k else name)
        for name in METRICS.available()
    ]


def _metric_pass(
    pipeline: Pipeline, lists: object, refs: list[MetricRef], memory: dict[str, float] | None = None
) -> dict[str, float]:
    """Seconds per metric for one pass over a fresh context, and the total.

    With ``memory``, also each metric's peak traced allocation (GiB) into it (tracemalloc sees
    numpy's buffers; it slows the pass a little, so only the cold pass is traced).
    """
    start = time.perf_counter()
    ctx = pipeline.context("test", lists)  # type: ignore[arg-type]
    out = {"(context)": time.perf_counter() - start}
    for ref in refs:
        if memory is not None:
            tracemalloc.start()
        t = time.perf_counter()
        ref.compute(ctx)
        out[ref.name] = time.perf_counter() - t
        if memory is not None:
            memory[ref.name] = tracemalloc.get_traced_memory()[1] / 2**30
            tracemalloc.stop()
    out["total"] = time.perf_counter() - start
    return out


def bench(n: int, shape: object, repeats: int, seed: int) -> dict[str, object]:
    """Generate, split, recommend and time metric passes for one size."""
    row: dict[str, object] = {"interactions": n}
    t = time.perf_counter()
    ds = generate_like(shape, n, seed)  # type: ignore[arg-type]
    row["generate s"] = time.perf_counter() - t
    row["users"], row["items"] = ds.n_users, ds.n_items

    t = time.perf_counter()
    split = make_split(ds.interactions, SplitConfig())
    row["split s"] = time.perf_counter() - t

    pipeline = Pipeline(ds, split, k=10, max_pool=10)
    candidate = Candidate.from_values({"model": "popularity", "rerank.pool": 10})
    t = time.perf_counter()
    lists = pipeline.recommend("test", candidate)
    row["recommend s"] = time.perf_counter() - t  # stage build + candidates + re-rank
    evaluated = len(lists.users)
    row["evaluated users"] = evaluated
    row["truth lookup"] = "dense" if evaluated * ds.n_items <= DENSE_LOOKUP_CELLS else "sorted keys"

    refs = _refs()
    memory: dict[str, float] = {}
    cold = _metric_pass(pipeline, lists, refs, memory)
    warm = [_metric_pass(pipeline, lists, refs) for _ in range(repeats)]
    row["cold pass s"] = cold["total"]
    row["pass s"] = statistics.median(w["total"] for w in warm)
    row["pass s (min, max)"] = (min(w["total"] for w in warm), max(w["total"] for w in warm))
    row["us per user"] = 1e6 * float(row["pass s"]) / evaluated  # type: ignore[arg-type]
    # ild_cooc's bitsets are n_train_users / 64 words wide, so its per-user cost grows with the
    # number of users; the rest of the pass is reported without it as well
    row["pass s excl. ild_cooc"] = statistics.median(
        w["total"] - w.get("ild_cooc@10", 0.0) for w in warm
    )
    row["per metric s"] = {key: statistics.median(w[key] for w in warm) for key in warm[0]}
    row["per metric cold s"] = cold
    row["per metric peak GiB"] = memory
    row["peak RSS GiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return row


def _per_user(row: dict[str, object], key: str) -> float:
    """Microseconds per evaluated user of the seconds under ``key``."""
    return 1e6 * float(row[key]) / int(row["evaluated users"])  # type: ignore[arg-type]


def _summary(rows: list[dict[str, object]]) -> list[str]:
    """What the table says, computed from it."""
    first, last = rows[0], rows[-1]
    rest = [_per_user(r, "pass s excl. ild_cooc") for r in rows]
    cooc = [
        1e6 * r["per metric s"]["ild_cooc@10"] / int(r["evaluated users"])  # type: ignore[index]
        for r in rows
    ]
    users = int(last["evaluated users"]) / int(first["evaluated users"])  # type: ignore[arg-type]
    cooc_last = float(last["per metric s"]["ild_cooc@10"])  # type: ignore[index]
    share = cooc_last / float(last["pass s"])  # type: ignore[arg-type]
    peak = float(last["per metric peak GiB"]["ild_cooc@10"])  # type: ignore[index]
    lookups = ", ".join(f"{r['interactions']:,}: {r['truth lookup']}" for r in rows)
    return [
        "**Reading.** Without `ild_cooc` a pass costs "
        + ", ".join(f"{v:.1f}" for v in rest)
        + f" us per user: {rest[-1] / rest[0]:.2f}x at the largest size for {users:.0f}x the "
        "users, i.e. linear growth (the smallest point carries fixed per-call overheads). "
        "`ild_cooc` is the exception: "
        + " -> ".join(f"{v:.0f}" for v in cooc)
        + " us per user, growing with the number of users because its co-occurrence bitsets "
        "are n_train_users / 64 words wide, so the pass is quadratic in users; at the largest "
        f"size it is {share:.0%} of the pass and its working memory peaks at {peak:.1f} GiB "
        f"(process peak RSS {float(last['peak RSS GiB']):.1f} GiB).",  # type: ignore[arg-type]
        "",
        f"Truth lookup per size: {lookups} (a dense table below 32 M users x items cells, "
        "sorted keys above: `paretorec/metrics/truth.py`).",
    ]


def _markdown(rows: list[dict[str, object]], args: argparse.Namespace) -> str:
    lines = [
        "# Metric pass vs number of users",
        "",
        "Synthetic sets calibrated to ML-100k (`generate_like(shape_of(ml-100k), n, seed="
        f"{args.seed})`), holdout split `SplitConfig()`, most-popular top-10 lists for every "
        "test user, one pass of every registered metric at @10 (`"
        + "`, `".join(r.name for r in _refs())
        + f"`). Median of {args.repeats} warm passes (fresh `ListContext` each, stage caches "
        f"warm); the cold first pass fills the stage caches. Machine: {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}.",
        "",
        "Command: `PARETOREC_DATA_DIR=../shared/data python experiments/bench_scaling.py "
        + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in _cli(args).items())
        + "`",
        "",
        "| events | users | items | evaluated users | truth lookup | generate s | recommend s "
        "| cold pass s | pass s (median) | min-max | us / user | per-user vs first "
        "| excl. ild_cooc: us / user | vs first | peak RSS GiB |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = float(rows[0]["us per user"])  # type: ignore[arg-type]
    base_rest = _per_user(rows[0], "pass s excl. ild_cooc")
    for r in rows:
        lo, hi = r["pass s (min, max)"]  # type: ignore[misc]
        rest = _per_user(r, "pass s excl. ild_cooc")
        lines.append(
            f"| {r['interactions']:,} | {r['users']:,} | {r['items']:,} | "
            f"{r['evaluated users']:,} | {r['truth lookup']} | {r['generate s']:.1f} | "
            f"{r['recommend s']:.2f} | {r['cold pass s']:.3f} | {r['pass s']:.3f} | "
            f"{lo:.3f}-{hi:.3f} | {r['us per user']:.1f} | "
            f"{float(r['us per user']) / base:.2f}x | {rest:.1f} | {rest / base_rest:.2f}x | "
            f"{r['peak RSS GiB']:.2f} |"
        )
    lines += ["", *_summary(rows)]
    names = list(rows[0]["per metric s"])  # type: ignore[arg-type]
    lines += [
        "",
        "Per metric: microseconds per evaluated user (median warm pass); the last column is the "
        "per-user cost at the largest size over that at the smallest (1.0 = linear growth).",
        "",
        "| metric | "
        + " | ".join(f"{r['interactions']:,}" for r in rows)
        + " | largest / smallest |",
        "|---|" + "---:|" * (len(rows) + 1),
    ]
    for name in names:
        per_user = [
            1e6 * r["per metric s"][name] / int(r["evaluated users"])  # type: ignore[index]
            for r in rows
        ]
        ratio = per_user[-1] / per_user[0] if per_user[0] > 0 else float("nan")
        lines.append(
            f"| {name} | " + " | ".join(f"{v:.2f}" for v in per_user) + f" | {ratio:.2f} |"
        )
    lines += [
        "",
        "Per metric: peak traced allocation in GiB during the cold pass (tracemalloc; the "
        "metric's own working memory, not what the stage already holds).",
        "",
        "| metric | " + " | ".join(f"{r['interactions']:,}" for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for name in rows[0]["per metric peak GiB"]:  # type: ignore[attr-defined]
        cells = [f"{r['per metric peak GiB'][name]:.3f}" for r in rows]  # type: ignore[index]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cli(args: argparse.Namespace) -> dict[str, object]:
    return {
        "sizes": " ".join(str(s) for s in args.sizes),
        "repeats": args.repeats,
        "seed": args.seed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "results" / "synthetic" / "scaling.md"))
    args = parser.parse_args()

    # Users without held-out or training events are reported by the pipeline as DataWarnings;
    # the benchmark counts evaluated users instead of printing them.
    warnings.simplefilter("ignore", DataWarning)
    shape = shape_of(load_dataset("ml-100k", args.data_dir))
    rows = []
    for n in sorted(args.sizes):
        print(f"{n:,} events ...", flush=True)
        rows.append(bench(n, shape, args.repeats, args.seed))
    text = _markdown(rows, args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(text)
    print(f"wrote {out} and {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
