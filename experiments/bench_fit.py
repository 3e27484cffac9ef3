"""Fit time and memory of every registered model at its declared defaults.

For each (model, dataset): one fresh subprocess loads the dataset, builds the side information
and runs the model's ``check_data`` (what the study does before the first fit: content's
TF-IDF fields, semantic's embeddings read from their on-disk cache), then times, with
single-threaded BLAS as the pipeline fits (``threadpool_limits(1, "blas")``), a fit on every
interaction plus the top-100 candidates of every user (``generate_candidates``), on a fresh
``FitData`` each repeat (so no neighbour list or gram is reused between repeats).

Memory, per repeat: **peak RSS increment** = the process's resident high-water mark during
fit + scoring (``VmHWM``, reset through ``/proc/self/clear_refs`` just before the fit) minus
its resident size just before; it sees everything, including implicit's C++ buffers and LAPACK
workspaces. Also the fitted model's **resident size** (``paretorec.models.base.resident_bytes``)
and, when a fit takes under ``--trace-below`` seconds, one extra traced run for the
**tracemalloc peak** (what ``run.json``'s ``peak_mb`` reports; blind to non-Python allocators).

Repeats: ``--repeats`` (3) when the first fit takes under a minute, else one; medians reported.
Semantic: the embeddings are computed once per dataset into a fresh cache folder (reported as
``first compute``, torch import and model load included); the timed fits then read that cache.
A model that refuses a dataset (a ConfigError, e.g. EASE past the memory limit or content
without item text) is recorded with its message.

Datasets: ML-100k, ml-latest-small, and synthetic sets shaped like ml-latest-small with the
same catalogue (``generate_like(shape_of(ml-latest-small), n, item_exponent=0)``: items held,
users scaled at the real mean activity) at 1 M and 10 M interactions.

    PARETOREC_DATA_DIR=../shared/data python experiments/bench_fit.py [--quick] \
        [--datasets ml-100k ml-latest-small mls:1000000 mls:10000000] [--models ...] \
        [--out results/bench/fit_models.json]

``--quick``: ML-100k and ml-latest-small, one repeat (a smoke run, seconds per model).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(tempfile.gettempdir()) / "paretorec_bench_fit"
DEFAULT_DATASETS = ["ml-100k", "ml-latest-small", "mls:1000000", "mls:10000000"]
POOL = 100
LONG = 60.0  # a fit slower than this is run once


# ---------------------------------------------------------------------------------------------
# datasets


def load_spec(spec: str, data_dir: str | None) -> Any:
    """A dataset by spec: a registered name, ``mls:N`` (synthetic, shaped like ml-latest-small
    with its catalogue, N events) or ``gen:USERS:ITEMS:EVENTS`` (the uncalibrated generator)."""
    from paretorec.data import load_dataset
    from paretorec.data.synthetic import generate, generate_like, shape_of

    if spec.startswith("mls:"):
        real = load_dataset("ml-latest-small", data_dir)
        return generate_like(shape_of(real), int(spec[4:]), seed=0, item_exponent=0.0)
    if spec.startswith("gen:"):
        users, items, events = (int(x) for x in spec[4:].split(":"))
        per_user = max(1, min(5, events // users))
        return generate(users, items, events, n_genres=18, min_per_user=per_user, seed=0)
    return load_dataset(spec, data_dir)


def cached_dataset(spec: str, data_dir: str | None) -> tuple[Path, dict[str, Any]]:
    """The dataset pickled once under WORK (so each subprocess loads, not regenerates, it)."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / (spec.replace(":", "_") + ".pkl")
    meta_path = path.with_suffix(".json")
    if not path.exists():
        start = time.perf_counter()
        ds = load_spec(spec, data_dir)
        seconds = time.perf_counter() - start
        meta = {
            "dataset": spec,
            "users": int(ds.n_users),
            "items": int(ds.n_items),
            "interactions": len(ds.interactions.user),
            "load or generate s": round(seconds, 2),
        }
        with open(path, "wb") as fh:
            pickle.dump(ds, fh, protocol=pickle.HIGHEST_PROTOCOL)
        meta_path.write_text(json.dumps(meta))
    return path, json.loads(meta_path.read_text())


# ---------------------------------------------------------------------------------------------
# the subprocess


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def _one_fit(model: Any, ds: Any, side: Any, trace: bool = False) -> dict[str, float]:
    import numpy as np
    from threadpoolctl import threadpool_limits

    from paretorec.models import FitData
    from paretorec.models.base import generate_candidates, resident_bytes

    data = FitData.of(ds.interactions, side)
    users = np.arange(data.n_users, dtype=np.int32)
    _reset_peak()
    before = _status()["VmRSS"]
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    with threadpool_limits(1, "blas"):
        scorer = model.fit(data)
        fitted = time.perf_counter()
        cands = generate_candidates(scorer, data.X, users, POOL)
    seconds = time.perf_counter() - start
    out = {
        "seconds": seconds,
        "fit s": fitted - start,
        "score s": cands.seconds,
        "peak rss mb": (_status()["VmHWM"] - before) / 2**20,
        "resident mb": resident_bytes(scorer) / 2**20,
    }
    if trace:
        out["tracemalloc peak mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def worker(pickle_path: str, name: str, repeats: int, trace_below: float) -> dict[str, Any]:
    """Prepare, then fit ``name`` at its defaults ``repeats`` times (once if slow)."""
    from paretorec.errors import ParetoRecError
    from paretorec.models import MODELS, SideInfo, build_model

    with open(pickle_path, "rb") as fh:
        ds = pickle.load(fh)
    row: dict[str, Any] = {"model": name}
    try:
        model = build_model(name, {})
        side = SideInfo.of(ds)
        start = time.perf_counter()
        MODELS.get(name).check_data(side)
        if name == "hybrid":
            for member in model.members:  # type: ignore[attr-defined]
                MODELS.get(member.name).check_data(side)
        row["prep s"] = time.perf_counter() - start  # content fields, cached embeddings
        runs = [_one_fit(model, ds, side)]
        if runs[0]["seconds"] < LONG:
            runs += [_one_fit(model, ds, side) for _ in range(repeats - 1)]
        traced = None
        if runs[0]["seconds"] < trace_below:
            traced = _one_fit(model, ds, side, trace=True)["tracemalloc peak mb"]
    except ParetoRecError as exc:
        row["error"] = str(exc)
        return row
    row["repeats"] = len(runs)
    for key in ("seconds", "fit s", "score s", "peak rss mb", "resident mb"):
        row[key] = statistics.median(r[key] for r in runs)
    row["seconds all"] = [round(r["seconds"], 3) for r in runs]
    row["tracemalloc peak mb"] = traced
    return row


def semantic_first(pickle_path: str) -> dict[str, Any]:
    """Embeddings computed with an empty cache (torch import and model load included)."""
    from paretorec.errors import ParetoRecError
    from paretorec.models import MODELS, SideInfo

    with open(pickle_path, "rb") as fh:
        ds = pickle.load(fh)
    _reset_peak()
    before = _status()["VmRSS"]
    start = time.perf_counter()
    try:
        MODELS.get("semantic").check_data(SideInfo.of(ds))
    except ParetoRecError as exc:
        return {"error": str(exc)}
    return {
        "first compute s": time.perf_counter() - start,
        "first compute peak rss mb": (_status()["VmHWM"] - before) / 2**20,
    }


def run_subprocess(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run this file's worker in a fresh interpreter; its last stdout line is the JSON row."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(
    spec: str,
    models: list[str],
    data_dir: str | None,
    repeats: int,
    trace_below: float,
    cache_home: Path,
    done: dict[tuple[str, str], dict[str, Any]] | None = None,
    on_row: Any = None,
) -> list[dict[str, Any]]:
    """Every model on one dataset, each in its own subprocess (rows in ``done`` reused)."""
    path, meta = cached_dataset(spec, data_dir)
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home))  # the embeddings' cache
    rows = []
    for name in models:
        if done and (spec, name) in done:
            rows.append(done[(spec, name)])
            if on_row is not None:
                on_row(rows[-1])
            continue
        extra: dict[str, Any] = {}
        if name in ("semantic",):
            extra = run_subprocess(["--semantic-first", str(path)], env)
        row = run_subprocess(["--worker", str(path), name, str(repeats), str(trace_below)], env)
        row = {**meta, **row, **extra, "model": name}
        rows.append(row)
        print(json.dumps(_rounded(row)), flush=True)
        if on_row is not None:
            on_row(row)
    return rows


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}


def _load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def markdown(rows: list[dict[str, Any]], title: str) -> str:
    lines = [
        f"# {title}",
        "",
        "| dataset | users x items (events) | model | fit+score s (median) | score s | peak RSS MB "
        "| tracemalloc MB | resident MB | repeats | note |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        shape = f"{r['users']:,} x {r['items']:,} ({r['interactions']:,})"
        if "error" in r and "seconds" not in r:
            lines.append(
                f"| {r['dataset']} | {shape} | {r['model']} | - | - | - | - | - | - "
                f"| refused: {r['error'][:140]} |"
            )
            continue
        note = ""
        if "first compute s" in r:
            note = (
                f"embeddings first computed in {r['first compute s']:.1f} s "
                f"(+{r['first compute peak rss mb']:.0f} MB); prep {r['prep s']:.2f} s"
            )
        elif r.get("prep s", 0) > 0.05:
            note = f"prep {r['prep s']:.2f} s"
        tm = r.get("tracemalloc peak mb")
        lines.append(
            f"| {r['dataset']} | {shape} | {r['model']} | {r['seconds']:.2f} | {r['score s']:.2f} "
            f"| {r['peak rss mb']:.0f} | {'-' if tm is None else f'{tm:.0f}'} "
            f"| {r['resident mb']:.1f} | {r['repeats']} | {note} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="ML-100k and ml-latest-small, 1 repeat"
    )
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--trace-below",
        type=float,
        default=20.0,
        help="one extra tracemalloc run when a fit takes less (s)",
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "fit_models.json"))
    parser.add_argument(
        "--resume",
        default=None,
        metavar="LOG",
        help="rows printed by an earlier (interrupted) run: reused, not re-measured",
    )
    args = parser.parse_args()

    from paretorec.models import MODELS

    models = args.models or list(MODELS.in_order())
    datasets = args.datasets or (DEFAULT_DATASETS[:2] if args.quick else DEFAULT_DATASETS)
    repeats = 1 if args.quick else args.repeats
    cache_home = Path(tempfile.mkdtemp(prefix="paretorec_bench_cache_"))
    load_before = _load()
    start = time.perf_counter()
    done: dict[tuple[str, str], dict[str, Any]] = {}
    if args.resume:
        for line in Path(args.resume).read_text().splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                done[(row["dataset"], row["model"])] = row
    rows: list[dict[str, Any]] = []
    planned = [(spec, name) for spec in datasets for name in models]

    def write(row: dict[str, Any] | None = None) -> None:
        if row is not None:
            rows.append(row)
        measured = {(r["dataset"], r["model"]) for r in rows}
        missing = [f"{d}/{m}" for d, m in planned if (d, m) not in measured]
        _write(args, rows, repeats, load_before, start, missing)

    for spec in datasets:
        measure(spec, models, args.data_dir, repeats, args.trace_below, cache_home, done, write)
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.md')}")


def _write(
    args: Any,
    rows: list[dict[str, Any]],
    repeats: int,
    load_before: str,
    start: float,
    missing: list[str],
) -> None:
    """The report so far (rewritten after every row, so an interrupted run keeps its rows)."""
    report = {
        "what": "fit + top-100 scoring of every user, each model at its declared defaults, "
        "single-threaded BLAS, one fresh subprocess per (model, dataset)",
        "memory": "peak rss mb: VmHWM during fit+scoring (reset via /proc/self/clear_refs) minus "
        "VmRSS just before; tracemalloc peak mb: one extra traced run (fits under "
        f"{args.trace_below:g} s); resident mb: resident_bytes(scorer)",
        "repeats": f"{repeats} when the first fit is under {LONG:g} s, else 1; medians",
        "command": " ".join(["python experiments/bench_fit.py", *sys.argv[1:]]),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load before": load_before,
            "load after": _load(),
        },
        "total seconds": round(time.perf_counter() - start, 1),
        "not measured": missing,
        "rows": [_rounded(r) for r in rows],
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    note = f"\nNot measured (yet): {', '.join(missing)}.\n" if missing else ""
    out.with_suffix(".md").write_text(
        markdown(rows, "Model fit time and memory at default hyperparameters")
        + f"\nLoad average (1/5/15 min) before {load_before}, now {_load()}; 2 shared cores. "
        f"Produced by `{report['command']}`.\n" + note
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        p, name, reps, below = sys.argv[2:6]
        print(json.dumps(worker(p, name, int(reps), float(below))))
    elif len(sys.argv) > 1 and sys.argv[1] == "--semantic-first":
        print(json.dumps(semantic_first(sys.argv[2])))
    else:
        main()
