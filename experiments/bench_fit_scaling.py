"""How each model's fit time and memory grow with users, items and interactions, one at a time.

(``bench_scaling.py`` is the metric-pass scaling benchmark; this is its model-fit counterpart.)

Synthetic sets from the uncalibrated generator (``paretorec.data.synthetic.generate``, 18
genres, no titles or tags, at least 5 events per user) around a base of 6,000 users x 2,000
items x 300,000 events; one factor is doubled three times while the other two are held:

- users: 3k, 6k, 12k, 24k (items and events held, so events per user fall from 100 to 12.5);
- items: 1k, 2k, 4k, 8k;
- interactions: 150k, 300k, 600k, 1.2M (events per user 25 to 200).

Each (model, dataset) is timed as in ``bench_fit.py`` (defaults, single-threaded BLAS, fit on
every interaction + top-100 candidates of every user, a fresh ``FitData``) in a child process
forked from a parent that holds the dataset and its side information (content's TF-IDF fields
and semantic's embeddings are prepared in the parent, timed as ``prep s``, and inherited), so
the child's peak RSS increment (``VmHWM`` reset via ``/proc/self/clear_refs`` minus ``VmRSS``
before the fit) is the fit's own. One run per point (``--repeats`` for more; medians).

Per model and factor: the least-squares slope of log(seconds) and log(peak RSS increment) on
log(size). Slope ~1: linear (verdict: linear for 0.8-1.2, sublinear below, superlinear above,
quadratic from 1.8). EASE is also asked to fit 32,000 items: its memory check
(4 dense n x n float64) refuses past 80% of available memory with a ConfigError, recorded.

    PARETOREC_DATA_DIR=../shared/data python experiments/bench_fit_scaling.py [--quick] \
        [--models ...] [--repeats 1] [--out results/bench/fit_scaling.json]

``--quick``: a base of 1,500 x 1,000 x 50,000 and two sizes per factor.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fit import _load, _one_fit, _rounded, load_spec

ROOT = Path(__file__).resolve().parents[1]
BASE = (6000, 2000, 300_000)
FACTORS = {"users": (0.5, 1, 2, 4), "items": (0.5, 1, 2, 4), "interactions": (0.5, 1, 2, 4)}
QUICK_BASE = (1500, 1000, 50_000)
QUICK_FACTORS = {"users": (1, 2), "items": (1, 2), "interactions": (1, 2)}
EASE_PROBE_ITEMS = 32_000


def _child(conn: Any, name: str, ds: Any, side: Any, repeats: int) -> None:
    from paretorec.errors import ParetoRecError
    from paretorec.models import build_model

    try:
        model = build_model(name, {})
        runs = [_one_fit(model, ds, side) for _ in range(repeats)]
        conn.send({"runs": runs})
    except ParetoRecError as exc:
        conn.send({"error": str(exc)})
    except Exception as exc:
        conn.send({"error": f"{type(exc).__name__}: {exc}"})


def fit_in_child(name: str, ds: Any, side: Any, repeats: int) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, name, ds, side, repeats))
    proc.start()
    child.close()
    try:
        out = parent.recv()
    except EOFError:
        out = {"error": "child died"}
    proc.join()
    if proc.exitcode not in (0, None) and "error" not in out:
        out["error"] = f"exit {proc.exitcode}"
    return out


def measure(spec: str, models: list[str], data_dir: str | None, repeats: int) -> list[dict]:
    from paretorec.errors import ParetoRecError
    from paretorec.models import MODELS, SideInfo

    start = time.perf_counter()
    ds = load_spec(spec, data_dir)
    gen = time.perf_counter() - start
    side = SideInfo.of(ds)
    meta = {
        "users": ds.n_users,
        "items": ds.n_items,
        "interactions": len(ds.interactions.user),
        "generate s": round(gen, 2),
    }
    rows = []
    for name in models:
        row: dict[str, Any] = {"dataset": spec, **meta, "model": name}
        t = time.perf_counter()
        try:
            MODELS.get(name).check_data(side)
            if name == "hybrid":
                for member in ("ease", "content"):
                    MODELS.get(member).check_data(side)
        except ParetoRecError as exc:
            row["error"] = str(exc)
            rows.append(row)
            print(json.dumps(_rounded(row)), flush=True)
            continue
        row["prep s"] = time.perf_counter() - t
        out = fit_in_child(name, ds, side, repeats)
        if "runs" in out:
            for key in ("seconds", "fit s", "score s", "peak rss mb", "resident mb"):
                row[key] = statistics.median(r[key] for r in out["runs"])
        else:
            row["error"] = out["error"]
        rows.append(row)
        print(json.dumps(_rounded(row)), flush=True)
    return rows


def slope(xs: list[float], ys: list[float]) -> float | None:
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    a, b = np.array(pts).T
    return float(np.polyfit(a, b, 1)[0])


def theil_sen(xs: list[float], ys: list[float]) -> float | None:
    """Median of the pairwise log-log slopes: one point measured under a load spike moves it
    far less than the least-squares slope (this machine is shared)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    pairs = [(b2 - b1) / (a2 - a1) for i, (a1, b1) in enumerate(pts) for a2, b2 in pts[i + 1 :]]
    return float(np.median(pairs)) if pairs else None


def verdict(s: float | None) -> str:
    if s is None:
        return "n/a"
    if s < 0.8:
        return "sublinear"
    if s <= 1.2:
        return "linear"
    if s < 1.8:
        return "superlinear"
    return "quadratic or worse"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "fit_scaling.json"))
    parser.add_argument(
        "--render",
        action="store_true",
        help="recompute the slopes and tables of --out from its rows (no fits)",
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        default=None,
        metavar="RUN.json",
        help="write to --out the per-point medians of these runs' rows, with slopes and tables",
    )
    args = parser.parse_args()
    if args.combine:
        combine(args)
        return
    if args.render:
        render(args)
        return
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="paretorec_scaling_cache_"))

    from paretorec.models import MODELS

    models = args.models or list(MODELS.in_order())
    base, factors = (QUICK_BASE, QUICK_FACTORS) if args.quick else (BASE, FACTORS)
    specs: dict[str, list[tuple[float, str]]] = {}
    for axis, mults in factors.items():
        for m in mults:
            size = list(base)
            i = ("users", "items", "interactions").index(axis)
            size[i] = int(size[i] * m)
            specs.setdefault(axis, []).append((size[i], "gen:{}:{}:{}".format(*size)))
    load_before = _load()
    start = time.perf_counter()
    results: dict[str, dict] = {}
    for spec in dict.fromkeys(s for v in specs.values() for _, s in v):
        for row in measure(spec, models, args.data_dir, args.repeats):
            results[f"{spec}|{row['model']}"] = row
    probe = []
    if "ease" in models and not args.quick:
        probe = measure(f"gen:{base[0]}:{EASE_PROBE_ITEMS}:{base[2]}", ["ease"], None, 1)

    slopes = compute_slopes(models, specs, results)
    _report(args, base, specs, results, slopes, probe, load_before, start)


def compute_slopes(models: list[str], specs: dict, results: dict) -> dict:
    slopes: dict[str, dict[str, dict[str, Any]]] = {}
    for name in models:
        for axis, points in specs.items():
            rows = [results[f"{s}|{name}"] for _, s in points]
            ok = [(x, r) for (x, _), r in zip(points, rows, strict=True) if "seconds" in r]
            xs = [x for x, _ in ok]
            entry = {
                "sizes": [x for x, _ in points],
                "seconds": [r.get("seconds") for r in rows],
                "peak rss mb": [r.get("peak rss mb") for r in rows],
                "resident mb": [r.get("resident mb") for r in rows],
                "time slope": slope(xs, [r["seconds"] for _, r in ok]),
                "peak rss slope": slope(xs, [max(r["peak rss mb"], 1e-3) for _, r in ok]),
                "resident slope": slope(xs, [max(r["resident mb"], 1e-6) for _, r in ok]),
                "time slope theil-sen": theil_sen(xs, [r["seconds"] for _, r in ok]),
                "peak rss slope theil-sen": theil_sen(
                    xs, [max(r["peak rss mb"], 1e-3) for _, r in ok]
                ),
            }
            entry["time verdict"] = verdict(entry["time slope theil-sen"])
            entry["memory verdict"] = verdict(entry["peak rss slope theil-sen"])
            slopes.setdefault(name, {})[axis] = entry
    return slopes


def _report(
    args: Any,
    base: tuple,
    specs: dict,
    results: dict,
    slopes: dict,
    probe: list,
    load_before: str,
    start: float,
    previous: dict | None = None,
) -> None:

    report = {
        "what": "fit + top-100 scoring of every user at default hyperparameters, single-threaded "
        "BLAS, one forked child per (model, dataset); one factor varied, the others held",
        "base users x items x interactions": list(base),
        "memory": "peak rss mb: VmHWM during fit+scoring minus VmRSS before (forked child)",
        "verdicts": "from the Theil-Sen log-log slope (median of pairwise slopes; the "
        "least-squares slope is reported beside it): <0.8 sublinear, 0.8-1.2 linear, 1.2-1.8 "
        "superlinear, >=1.8 quadratic or worse",
        "command": previous["command"]
        if previous
        else "python experiments/bench_fit_scaling.py" + (" --quick" if args.quick else ""),
        "machine": {"cpus": os.cpu_count(), "load before": load_before, "load after": _load()}
        if previous is None
        else previous["machine"],
        "total seconds": round(time.perf_counter() - start, 1)
        if previous is None
        else previous["total seconds"],
        **(
            {"combined from": previous["combined from"]}
            if previous and "combined from" in previous
            else {}
        ),
        "slopes": slopes,
        "ease memory probe": [_rounded(r) for r in probe],
        "rows": [_rounded(r) for r in results.values()],
        "specs": specs,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    out.with_suffix(".md").write_text(markdown(report))
    print(f"wrote {out} and {out.with_suffix('.md')}")


def combine(args: Any) -> None:
    """Per-point medians over several runs (a shared machine: one run per point is noisy)."""
    runs = [json.loads(Path(f).read_text()) for f in args.combine]
    grouped: dict[str, list[dict]] = {}
    for run in runs:
        for r in run["rows"]:
            grouped.setdefault(f"{r['dataset']}|{r['model']}", []).append(r)
    rows = []
    for group in grouped.values():
        row = dict(group[0])
        ok = [r for r in group if "seconds" in r]
        if ok:
            row.pop("error", None)
            for key in ("seconds", "fit s", "score s", "peak rss mb", "resident mb"):
                row[key] = statistics.median(r[key] for r in ok)
            row["seconds all"] = [r["seconds"] for r in ok]
        rows.append(row)
    first = runs[0]
    merged = {
        **first,
        "rows": rows,
        "machine": {"cpus": os.cpu_count(), "runs": [r["machine"] for r in runs]},
        "total seconds": sum(r["total seconds"] for r in runs),
        "ease memory probe": runs[-1]["ease memory probe"],
        "combined from": [str(f) for f in args.combine],
        "command": first["command"] + f" (x{len(runs)}), then --combine",
    }
    Path(args.out).write_text(json.dumps(merged, indent=2, default=float) + "\n")
    render(args)


def render(args: Any) -> None:
    """Slopes and tables again from a saved report's rows (e.g. after changing the fit)."""
    prev = json.loads(Path(args.out).read_text())
    results = {f"{r['dataset']}|{r['model']}": r for r in prev["rows"]}
    base = tuple(prev["base users x items x interactions"])
    specs = prev.get("specs") or {
        axis: [(e["sizes"][i], None) for i in range(len(e["sizes"]))]
        for axis, e in next(iter(prev["slopes"].values())).items()
    }
    if any(s is None for pts in specs.values() for _, s in pts):  # older reports: rebuild
        specs = {}
        for axis, i in (("users", 0), ("items", 1), ("interactions", 2)):
            pts = []
            for x in next(iter(prev["slopes"].values()))[axis]["sizes"]:
                size = list(base)
                size[i] = x
                pts.append((x, "gen:{}:{}:{}".format(*size)))
            specs[axis] = pts
    models = list(prev["slopes"])
    slopes = compute_slopes(models, specs, results)
    _report(args, base, specs, results, slopes, prev["ease memory probe"], "", 0.0, prev)
    print(f"re-rendered {args.out}")


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _runs(report: dict) -> str:
    combined = report.get("combined from")
    return f"median of {len(combined)} runs per point" if combined else "one run per point"


def markdown(report: dict) -> str:
    base = report["base users x items x interactions"]
    lines = [
        "# Model fit scaling: users, items, interactions one at a time",
        "",
        f"Base {base[0]:,} users x {base[1]:,} items x {base[2]:,} interactions (synthetic, "
        "uncalibrated generator); fit + top-100 scoring of every user, defaults, one BLAS "
        f"thread, {_runs(report)}. Slopes of log(seconds) and log(peak RSS increment) on "
        "log(size): Theil-Sen (median of pairwise slopes), least squares in brackets; verdicts "
        "from Theil-Sen (<0.8 sublinear, 0.8-1.2 linear, 1.2-1.8 superlinear, >=1.8 quadratic).",
        "",
        "| model | factor | sizes | seconds | peak RSS MB | time slope TS (LS) "
        "| memory slope TS (LS) "
        "| time | memory |",
        "|---|---|---|---|---|---:|---:|---|---|",
    ]
    for name, axes in report["slopes"].items():
        for axis, e in axes.items():
            secs = " / ".join("-" if s is None else f"{s:.2f}" for s in e["seconds"])
            mem = " / ".join("-" if s is None else f"{s:.0f}" for s in e["peak rss mb"])
            sizes = " / ".join(f"{x / 1000:g}k" for x in e["sizes"])
            lines.append(
                f"| {name} | {axis} | {sizes} | {secs} | {mem} "
                f"| {_fmt(e.get('time slope theil-sen'))} ({_fmt(e['time slope'])}) "
                f"| {_fmt(e.get('peak rss slope theil-sen'))} ({_fmt(e['peak rss slope'])}) "
                f"| {e['time verdict']} | {e['memory verdict']} |"
            )
    for r in report["ease memory probe"]:
        lines += ["", f"EASE at {r['items']:,} items: " + r.get("error", "fitted")]
    machine = report["machine"]
    runs = machine.get("runs", [machine])
    loads = "; ".join(f"{m['load before']} -> {m['load after']}" for m in runs)
    lines += [
        "",
        f"Seconds and peak RSS: median over {len(runs)} run(s) per point. Load average "
        f"(1/5/15 min) before -> after each run: {loads} (2 shared cores); total "
        f"{report['total seconds']:.0f} s. Produced by `{report['command']}`.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
