"""Why is ``paretorec tune experiments/ml100k.toml --workers 2`` slower than serial on 2 cores?

Each run is a fresh process (``python experiments/bench_workers.py one ...``) that calls
``paretorec.tune`` with the default config, probes installed in the parent and (through a
wrapped recipe) in every worker: see ``bench_workers_probe.py``. The driver interleaves modes
and repetitions and reports medians per phase:

- parent: interpreter + imports, Study.prepare (load + split), baselines, executor start-up
  (warm-up JIT, spawn, wait for "ready"), search, tail (metadata/files);
- workers: spawn latency, imports (unpickling the recipe imports paretorec), plan/load/split,
  JIT (numba cache load), time to first evaluation, busy (evaluations), fits per process,
  idle during the search (waiting for the other worker / the parent);
- CPU seconds of all processes.

Modes: the shipped ones (``serial``, ``w2``) and prototypes of fixes, all monkeypatched here:

- ``w2_fork``: fork instead of spawn, workers inherit the parent's study (imports, data, split,
  compiled kernels and the baselines' fitted models);
- ``w2_hybrid``: the parent is worker 0 (it holds the data and the baselines' fits) plus 1
  spawned worker; baseline models are routed to the parent;
- ``w2_hybrid_early``: as ``w2_hybrid``, the worker is spawned right after Study.prepare so its
  start-up overlaps the parent's baselines;
- ``w2_hybrid_fork``: parent + 1 forked worker;
- ``w2_blas1``: ``w2`` with OPENBLAS_NUM_THREADS=1 in every process;
- ``w2_setsid`` / ``w2_fork_setsid``: workers call ``os.setsid()`` first, so each is its own
  autogroup: with ``kernel.sched_autogroup_enabled = 1`` the scheduler shares CPU fairly
  between *sessions*, and a parent with its workers in one session get one share together;
- ``w2_forkserver``: 2 workers forked from a server that imported paretorec once (the data is
  still loaded and split in each worker).

    python experiments/bench_workers.py run --reps 5 --generations 10 \
        --modes serial,w2,w2_fork,w2_hybrid,w2_hybrid_early,w2_hybrid_fork
    python experiments/bench_workers.py cli --reps 5          # end-to-end `paretorec tune` wall
    python experiments/bench_workers.py simulate --logs "results/bench/workers_logs/serial_*.jsonl"
        # routing policies replayed on serial runs' measured evaluations (idle workers)

The package was being edited while this was measured, so runs used a frozen copy of HEAD:
``git archive HEAD paretorec | tar -x -C /tmp/bw_snap`` and ``PYTHONPATH=/tmp/bw_snap``
(the editable install's finder comes after PYTHONPATH).
"""

from __future__ import annotations

import time

T_MAIN = time.perf_counter()  # read by the probe in worker processes (spawn imports this file)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
# the README's default config, frozen (experiments/ml100k.toml was being edited meanwhile)
CONFIG = os.environ.get("BENCH_WORKERS_CONFIG", str(ROOT / "experiments" / "ml100k.toml"))
DEFAULT_OUT = ROOT / "results" / "bench" / "workers_investigation.json"

T_MAIN_END = time.perf_counter()


# --------------------------------------------------------------------------------------------
# prototype executor (the fixes): optional local worker, fork or spawn, early start
# --------------------------------------------------------------------------------------------


class ProtoExecutor:
    """``n_workers`` evaluation slots; slot 0 is this process when ``local``. Children are
    started at construction and not waited for: jobs are queued in their pipes and "ready"
    is read with the first results."""

    def __init__(self, problem: Any, n_workers: int, *, local: bool, context: str) -> None:
        import multiprocessing as mp

        import bench_workers_probe as probe

        from paretorec.optimize import executors as ex

        self.ex = ex
        self.problem = problem
        self.local = local
        self.n_workers = n_workers
        self.router = ex.Router(n_workers, problem.affinity)
        self.counter = ex._FitCounter()
        self.setup_fits = problem.fits
        if local:  # the baselines are (or will be) fitted here: route their models here
            for x in problem.baseline_points():
                key = problem.affinity(problem.space.decode(x))
                self.router.assigned[key] = 0
                self.router.load[0] += 1
        ctx = mp.get_context(context)
        if context == "forkserver":  # the server imports once; children fork from it
            ctx.set_forkserver_preload(
                ["bench_workers_probe", "paretorec.study.study", "paretorec.optimize.executors"]
            )
        problem.warm_up()
        recipe = problem.recipe()
        if context == "fork":
            probe.FORKED_STUDY = problem
        self.connections, self.processes, self.slots = [], [], []
        first = 1 if local else 0
        for slot in range(first, n_workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=ex._worker_main, args=(child, recipe, slot), daemon=True)
            proc.start()
            self.connections.append(parent)
            self.processes.append(proc)
            self.slots.append(slot)
        pids = {p.pid: s for p, s in zip(self.processes, self.slots, strict=True)}
        probe.emit("workers", pids=pids)
        self.ready: set[int] = set()

    def map(self, jobs):  # type: ignore[no-untyped-def]
        from multiprocessing.connection import wait

        ex = self.ex
        batches: list[list] = [[] for _ in range(self.n_workers)]
        for index, job in enumerate(jobs):
            batches[self.router.worker(job.values)].append((index, job))
        busy = []
        for conn, slot in zip(self.connections, self.slots, strict=True):
            if batches[slot]:
                conn.send(batches[slot])
                busy.append(conn)
        if self.local:
            for index, job in batches[0]:
                outcome = ex._run(self.problem, job, 0)
                yield index, outcome
        while busy:
            for conn in wait(busy):
                tag, payload = conn.recv()
                if tag == "ready":
                    self.ready.add(id(conn))
                elif tag == "done":
                    busy.remove(conn)
                elif tag == "error":
                    self.close()
                    ex._reraise(*payload)
                else:
                    yield tag, self.counter.saw(payload)

    @property
    def fits(self) -> int:
        local = self.problem.fits - self.setup_fits if self.local else 0
        return local + self.counter.fits

    def close(self) -> None:
        for conn in self.connections:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for proc in self.processes:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        self.connections = []


MODES = {
    # mode: (workers, executor kind, start early, env)
    "serial": (1, None, False, {}),
    "w2": (2, "shipped", False, {}),
    "w2_blas1": (2, "shipped", False, {"OPENBLAS_NUM_THREADS": "1"}),
    "serial_blas1": (1, None, False, {"OPENBLAS_NUM_THREADS": "1"}),
    "w2_fork": (2, ("fork", False), False, {}),
    "w2_hybrid": (2, ("spawn", True), False, {}),
    "w2_hybrid_early": (2, ("spawn", True), True, {}),
    "w2_hybrid_fork": (2, ("fork", True), False, {}),
    "w3_hybrid_fork": (3, ("fork", True), False, {}),
    "w2_forkserver": (2, ("forkserver", False), False, {}),
    "w2_setsid": (2, "shipped", False, {}),
    "w2_fork_setsid": (2, ("fork", False), False, {}),
}


# --------------------------------------------------------------------------------------------
# one run (a fresh process)
# --------------------------------------------------------------------------------------------


def one(mode: str, generations: int, population: int, log: str, config_path: str) -> None:
    import bench_workers_probe as probe

    t_import0 = time.perf_counter()
    import dataclasses

    import paretorec.tuning as tuning
    from paretorec.config import load_config
    from paretorec.optimize import engine
    from paretorec.optimize import executors as ex
    from paretorec.study import study as st

    t_imported = time.perf_counter()
    probe.install(log, "parent")
    workers, kind, early, _env = MODES[mode]

    # parent-side probes -------------------------------------------------------------------
    prepare = st.Study.prepare.__func__
    started: dict[str, Any] = {}

    def _prepare(cls, config, data_dir):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        study = prepare(cls, config, data_dir)
        probe.emit("prepare", t0=t0, t1=time.perf_counter())
        if early:
            t0 = time.perf_counter()
            started["executor"] = make(study)
            probe.emit("executor_init", t0=t0, t1=time.perf_counter(), early=True)
        return study

    st.Study.prepare = classmethod(_prepare)

    def make(study):  # type: ignore[no-untyped-def]
        context, local = kind
        return ProtoExecutor(study, workers, local=local, context=context)

    if kind == "shipped":
        shipped_init = ex.ProcessExecutor.__init__

        def _init(self, problem, n_workers):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            shipped_init(self, problem, n_workers)
            probe.emit("workers", pids={p.pid: i for i, p in enumerate(self.processes)})
            probe.emit("executor_init", t0=t0, t1=time.perf_counter(), early=False)

        ex.ProcessExecutor.__init__ = _init
    elif kind is not None:

        def _factory(problem, n_workers):  # type: ignore[no-untyped-def]
            if "executor" in started:
                return started["executor"]
            t0 = time.perf_counter()
            out = make(problem)
            probe.emit("executor_init", t0=t0, t1=time.perf_counter(), early=False)
            return out

        tuning.ProcessExecutor = _factory

    # the recipe workers rebuild from: wrapped to time their start-up
    recipe = st.Study.recipe

    def _recipe(self):  # type: ignore[no-untyped-def]
        return probe.ProbeRecipe(recipe(self), log, setsid=mode.endswith("_setsid"))

    st.Study.recipe = _recipe

    batch = engine._Search._batch

    def _batch(self, X):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = batch(self, X)
        probe.emit("generation", t0=t0, t1=time.perf_counter(), n=len(X), gen=self.generation)
        return out

    engine._Search._batch = _batch
    go = engine._Search.go

    def _go(self):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = go(self)
        probe.emit("search", t0=t0, t1=time.perf_counter(), stats=out.stats)
        return out

    engine._Search.go = _go

    config = load_config(config_path)
    config = dataclasses.replace(
        config,
        search=dataclasses.replace(config.search, generations=generations, population=population),
    )
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        tuning.tune(config, Path(out) / "run", workers=workers)
        t1 = time.perf_counter()
        front = (Path(out) / "run" / "front.csv").read_text()
    probe.emit(
        "parent_done",
        proc_start=probe.proc_start(),
        T_MAIN=T_MAIN,
        t_import0=t_import0,
        t_imported=t_imported,
        tune0=t0,
        tune1=t1,
        front_lines=len(front.splitlines()),
        front_hash=hash(front),
        children_cpu=os.times().children_user + os.times().children_system,
        paretorec_file=sys.modules["paretorec"].__file__,
        numba=probe.numba_stats(),
    )


# --------------------------------------------------------------------------------------------
# analysis of one log
# --------------------------------------------------------------------------------------------


def analyse(log: str) -> dict[str, Any]:
    events = [json.loads(line) for line in Path(log).read_text().splitlines()]
    parent = [e for e in events if e["role"] == "parent"]
    P = {e["ev"]: e for e in parent}
    done = P["parent_done"]
    t_start = done["proc_start"]
    end = done["tune1"]
    search = P["search"]
    prep = P["prepare"]
    gens = [e for e in parent if e["ev"] == "generation"]
    ex_init = P.get("executor_init")
    baseline_end = ex_init["t0"] if ex_init and not ex_init["early"] else search["t0"]
    out: dict[str, Any] = {
        "wall_total": end - t_start,
        "parent": {
            "interpreter_and_imports": done["t_imported"] - t_start,
            "prepare_load_split": prep["t1"] - prep["t0"],
            "baselines": baseline_end
            - prep["t1"]
            - (ex_init["t1"] - ex_init["t0"] if ex_init and ex_init["early"] else 0.0),
            "executor_init_blocking": (ex_init["t1"] - ex_init["t0"]) if ex_init else 0.0,
            "search": search["t1"] - search["t0"],
            "tail": end - search["t1"],
            "first_generation": gens[0]["t1"] - gens[0]["t0"] if gens else None,
            "later_generations": sum(g["t1"] - g["t0"] for g in gens[1:]),
            "cpu": parent[-1]["cpu"],
            "fits_setup": sum(1 for e in parent if e["ev"] == "fit" and e["t0"] < search["t0"]),
            "fits_search": sum(1 for e in parent if e["ev"] == "fit" and e["t0"] >= search["t0"]),
            "evals": sum(1 for e in parent if e["ev"] == "eval"),
            "seconds_per_fit_search": statistics.mean(
                [e["t1"] - e["t0"] for e in parent if e["ev"] == "fit" and e["t0"] >= search["t0"]]
                or [0.0]
            ),
            "busy_search": sum(
                e["t1"] - e["t0"] for e in parent if e["ev"] == "eval" and e["t0"] >= search["t0"]
            ),
        },
        "children_cpu": done["children_cpu"],
        "stats": search["stats"],
        "front_lines": done["front_lines"],
        "parent_numba": done["numba"],
        "workers": [],
    }
    if ex_init:
        warm = [e["t1"] - e["t0"] for e in parent if e["ev"] == "warm_up"]
        out["parent"]["warm_up_jit"] = sum(warm)
    out["cpu_total"] = out["parent"]["cpu"] + done["children_cpu"]
    pids = [int(p) for p in P["workers"]["pids"]] if "workers" in P else []
    spawn_t = ex_init["t0"] if ex_init else None
    for pid in pids:
        W = [e for e in events if e["pid"] == pid]
        ready = next(e for e in W if e["ev"] == "worker_ready")
        ph = ready["phases"]
        evals = [e for e in W if e["ev"] == "eval"]
        fits = [e for e in W if e["ev"] == "fit"]
        stages = [e for e in W if e["ev"] == "stage"]
        busy = sum(e["t1"] - e["t0"] for e in evals)
        first = evals[0]["t0"] if evals else None
        w: dict[str, Any] = {
            "spawn_to_process_start": ph["proc_start"] - spawn_t,
            "spawn_to_ready": ph["ready"] - spawn_t,
            "spawn_to_first_eval": (first - spawn_t) if first else None,
            "ready_to_first_eval": (first - ph["ready"]) if first else None,
            "first_eval_seconds": (evals[0]["t1"] - evals[0]["t0"]) if evals else None,
            "evals": len(evals),
            "fits": len(fits),
            "fit_seconds": sum(e["t1"] - e["t0"] for e in fits),
            "seconds_per_fit": sum(e["t1"] - e["t0"] for e in fits) / max(len(fits), 1),
            "stage_build_seconds": sum(e["t1"] - e["t0"] for e in stages),
            "busy": busy,
            "idle_in_search": (search["t1"] - max(search["t0"], ph["ready"])) - busy,
            "cpu": W[-1]["cpu"],
            "numba": ready["numba"],
        }
        if "inherited" not in ph:
            w.update(
                interpreter_start=ph.get("T_MAIN", ph["build0"]) - ph["proc_start"],
                import_paretorec=ph["build0"] - ph.get("T_MAIN_END", ph["proc_start"]),
                plan=ph["plan"] - ph["build0"],
                load=ph["load"] - ph["plan"],
                split=ph["split"] - ph["load"],
                study=ph["study"] - ph["split"],
                jit_cache_load=ph.get("jit", ph["study"]) - ph["study"],
            )
        out["workers"].append(w)
    # per generation: how long the slowest slot kept the others waiting
    slot_busy = []
    for g in gens:
        per = {}
        for e in events:
            if e["ev"] == "eval" and g["t0"] <= e["t0"] < g["t1"]:
                per[e["pid"]] = per.get(e["pid"], 0.0) + e["t1"] - e["t0"]
        slot_busy.append({"gen": g["gen"], "wall": g["t1"] - g["t0"], "busy": sorted(per.values())})
    out["generations"] = slot_busy
    if pids or out["parent"]["evals"]:
        total_busy = out["parent"]["busy_search"] + sum(w["busy"] for w in out["workers"])
        out["eval_busy_total"] = total_busy
    return out


def median_tree(runs: list[dict[str, Any]]) -> Any:
    """Median of every numeric leaf over runs (lists of workers: per worker index)."""
    first = runs[0]
    if isinstance(first, bool):
        return first
    if isinstance(first, int | float):
        vals = [r for r in runs if isinstance(r, int | float)]
        return round(statistics.median(vals), 4) if vals else None
    if isinstance(first, dict):
        return {k: median_tree([r[k] for r in runs if k in r]) for k in first}
    if isinstance(first, list) and first and isinstance(first[0], dict):
        n = min(len(r) for r in runs)
        return [median_tree([r[i] for r in runs]) for i in range(n)]
    return None


# --------------------------------------------------------------------------------------------
# driver
# --------------------------------------------------------------------------------------------


def load_now() -> float:
    return os.getloadavg()[0]


def cpu_ticks() -> list[int]:
    """/proc/stat "cpu" line: user nice system idle iowait irq softirq steal."""
    with open("/proc/stat") as f:
        return [int(x) for x in f.readline().split()[1:9]]


def run_all(args: argparse.Namespace) -> None:
    modes = args.modes.split(",")
    results: dict[str, list] = {m: [] for m in modes}
    logdir = Path(tempfile.mkdtemp(prefix="bench_workers_"))
    for rep in range(args.reps):
        order = modes if rep % 2 == 0 else modes[::-1]  # interleaved, alternating order
        for mode in order:
            log = logdir / f"{mode}_{rep}.jsonl"
            env = {**os.environ, **MODES[mode][3]}
            load = load_now()
            ticks0 = cpu_ticks()
            t0 = time.perf_counter()
            cmd = [
                sys.executable,
                str(Path(__file__)),
                "one",
                mode,
                "--generations",
                str(args.generations),
                "--population",
                str(args.population),
                "--log",
                str(log),
                "--config",
                args.config,
            ]
            subprocess.run(cmd, check=True, env=env, cwd=ROOT)
            outer = time.perf_counter() - t0
            ticks = [b - a for a, b in zip(ticks0, cpu_ticks(), strict=True)]
            a = analyse(str(log))
            # machine-wide CPU during the run (all processes, not only ours): busy cores and
            # the hypervisor's steal, in cores (2 = the whole machine)
            hz = os.sysconf("SC_CLK_TCK")
            a["machine_busy_cores"] = (sum(ticks) - ticks[3] - ticks[4]) / hz / outer
            a["machine_steal_cores"] = ticks[7] / hz / outer
            a["outer_wall"] = outer
            a["log"] = str(log)
            a["load_before"] = load
            results[mode].append(a)
            print(
                f"rep {rep} {mode:16s} wall {outer:6.2f}s search {a['parent']['search']:6.2f}s "
                f"cpu {a['cpu_total']:6.2f}s fits {a['stats']['fits']} load {load:.2f} "
                f"machine busy {a['machine_busy_cores']:.2f} steal {a['machine_steal_cores']:.2f}",
                flush=True,
            )
            save_runs(args, results)
    summary = save_runs(args, results)
    for m, s in summary.items():
        med = s["median"]
        print(m, json.dumps({k: med[k] for k in ("outer_wall", "wall_total", "cpu_total")}))
        print("   parent", json.dumps(med["parent"]))
        for i, w in enumerate(med["workers"] or []):
            print(f"   worker{i}", json.dumps({k: v for k, v in w.items() if k != "numba"}))


def save_runs(args: argparse.Namespace, results: dict[str, list]) -> dict[str, Any]:
    summary = {
        m: {"median": median_tree(r), "outer_wall_all": [round(x["outer_wall"], 2) for x in r]}
        for m, r in results.items()
        if r
    }
    key = f"budget_{args.population}x{args.generations}" + (f"_{args.tag}" if args.tag else "")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data.setdefault("runs", {})[key] = {
        "command": " ".join(sys.argv),
        "config": args.config,
        "reps": args.reps,
        "summary": summary,
        "raw": results,
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    return summary


# --------------------------------------------------------------------------------------------
# routing: replay a serial run's evaluations (their measured seconds, their model keys) on N
# idle workers under several routing policies; a generation ends when its slowest worker does
# --------------------------------------------------------------------------------------------


def _generations(log: str) -> list[list[tuple[str, float, bool]]]:
    events = [json.loads(line) for line in Path(log).read_text().splitlines()]
    gens = [e for e in events if e["ev"] == "generation"]
    evals = [e for e in events if e["ev"] == "eval"]
    out = []
    for g in gens:
        jobs = [
            (e["key"], e["t1"] - e["t0"], e["new_fits"] > 0)
            for e in evals
            if g["t0"] <= e["t0"] < g["t1"]
        ]
        out.append(jobs)
    return out


def simulate(log: str, n: int, policy: str, max_gen: int | None = None) -> float:
    """Search seconds on ``n`` idle workers (no contention, no start-up)."""
    assigned: dict[str, int] = {}
    models = [0] * n
    total = 0.0
    fit_cost, hit_cost = 0.5, 0.01  # what a router can know a priori: new model or not
    for jobs in _generations(log)[:max_gen]:
        busy = [0.0] * n
        if policy == "ideal":  # perfect split, affinity ignored
            total += max(sum(d for _, d, _ in jobs) / n, max((d for _, d, _ in jobs), default=0))
            continue
        if policy == "shipped":  # Router: sticky, a new key to the worker holding fewest keys
            for key, d, _ in jobs:
                if key not in assigned:
                    w = min(range(n), key=lambda w: (models[w], w))
                    assigned[key] = w
                    models[w] += 1
                busy[assigned[key]] += d
        elif policy == "cost":  # sticky; new keys to the worker with least estimated work
            est = [0.0] * n
            for key, _, _ in jobs:
                if key in assigned:
                    est[assigned[key]] += hit_cost
            seen: set[str] = set()
            for key, _, _ in jobs:
                if key not in assigned:
                    w = min(range(n), key=lambda w: (est[w], w))
                    assigned[key] = w
                    est[w] += fit_cost
                    seen.add(key)
                elif key in seen:
                    est[assigned[key]] += hit_cost
            for key, d, _ in jobs:
                busy[assigned[key]] += d
        total += max(busy)
    return total


def run_simulation(args: argparse.Namespace) -> None:
    import glob

    logs = sorted(glob.glob(args.logs))
    report: dict[str, Any] = {}
    for max_gen in (10, None):
        label = f"generations_{max_gen or 'all'}"
        rows = {}
        for log in logs:
            serial = sum(d for jobs in _generations(log)[:max_gen] for _, d, _ in jobs)
            rows[log] = {"serial": serial}
            for n in (2, 3):
                for policy in ("shipped", "cost", "ideal"):
                    rows[log][f"w{n}_{policy}"] = simulate(log, n, policy, max_gen)
        keys = next(iter(rows.values())).keys()
        report[label] = {k: round(statistics.median(r[k] for r in rows.values()), 3) for k in keys}
    path = Path(args.out)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["routing_simulation"] = {
        "what": "search seconds replayed from serial runs' measured evaluations on N idle "
        "workers (no start-up, no contention); median over logs",
        "logs": logs,
        **report,
    }
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(data["routing_simulation"], indent=1))


def run_cli(args: argparse.Namespace) -> None:
    """End-to-end wall of the README command, serial and --workers 2, interleaved."""
    exe = str(Path(sys.executable).parent / "paretorec")
    walls: dict[str, list[float]] = {"1": [], "2": []}
    for rep in range(args.reps):
        for w in ("1", "2") if rep % 2 == 0 else ("2", "1"):
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                subprocess.run(
                    [exe, "tune", args.config, "--out", f"{out}/run", "--workers", w, "--quiet"],
                    check=True,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                )
                walls[w].append(time.perf_counter() - t0)
            print(f"rep {rep} workers {w}: {walls[w][-1]:.2f}s", flush=True)
    path = Path(args.out)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["cli"] = {
        "command": f"paretorec tune {args.config} --out RUN --workers N --quiet",
        "walls": {f"workers_{k}": [round(x, 2) for x in v] for k, v in walls.items()},
        "median": {f"workers_{k}": round(statistics.median(v), 2) for k, v in walls.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(data["cli"], indent=1))


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p1 = sub.add_parser("one")
    p1.add_argument("mode", choices=sorted(MODES))
    p1.add_argument("--generations", type=int, default=10)
    p1.add_argument("--population", type=int, default=20)
    p1.add_argument("--log", required=True)
    p1.add_argument("--config", default=CONFIG)
    p2 = sub.add_parser("run")
    p2.add_argument("--modes", default="serial,w2,w2_fork,w2_hybrid,w2_hybrid_early,w2_hybrid_fork")
    p2.add_argument("--reps", type=int, default=3)
    p2.add_argument("--generations", type=int, default=10)
    p2.add_argument("--population", type=int, default=20)
    p2.add_argument("--config", default=CONFIG)
    p2.add_argument("--out", default=str(DEFAULT_OUT))
    p2.add_argument("--tag", default="", help="suffix of the result key (keeps other sets)")
    p3 = sub.add_parser("cli")
    p3.add_argument("--reps", type=int, default=5)
    p3.add_argument("--config", default=CONFIG)
    p3.add_argument("--out", default=str(DEFAULT_OUT))
    p4 = sub.add_parser("simulate")
    p4.add_argument("--logs", required=True, help="glob of serial runs' event logs")
    p4.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if args.cmd == "one":
        one(args.mode, args.generations, args.population, args.log, args.config)
    elif args.cmd == "run":
        run_all(args)
    elif args.cmd == "simulate":
        run_simulation(args)
    else:
        run_cli(args)


if __name__ == "__main__":
    main()
