"""Instrumentation for ``bench_workers.py`` (imported by the bench's one-run process and, through
the pickled ``ProbeRecipe``, by every worker process). Nothing in paretorec is edited: methods are
wrapped at class level inside the process being measured.

Every process appends JSON event lines to one log file. Timestamps are ``time.perf_counter()``
(CLOCK_MONOTONIC on Linux: one clock for all processes of the machine).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

T_PROBE_IMPORT = time.perf_counter()

_LOG: str | None = None
_ROLE = "parent"


def proc_start() -> float:
    """This process's start time on the perf_counter clock (from /proc, 10 ms resolution)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start_since_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    offset = time.clock_gettime(time.CLOCK_BOOTTIME) - time.perf_counter()
    return start_since_boot - offset


def emit(ev: str, **data: Any) -> None:
    if _LOG is None:
        return
    data.update(ev=ev, pid=os.getpid(), role=_ROLE, cpu=time.process_time())
    with open(_LOG, "a") as f:
        f.write(json.dumps(data, default=str) + "\n")


def install(log: str, role: str) -> None:
    """Wrap the study's and pipeline's expensive steps in this process."""
    global _LOG, _ROLE
    _LOG, _ROLE = log, role
    from paretorec.study import pipeline as pl
    from paretorec.study import study as st

    if getattr(pl.Pipeline, "_probed", False):
        return
    pl.Pipeline._probed = True

    build_stage = pl.Pipeline._build_stage

    def _build_stage(self, name):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = build_stage(self, name)
        emit("stage", name=name, t0=t0, t1=time.perf_counter())
        return out

    pl.Pipeline._build_stage = _build_stage

    candidates = pl.Pipeline.candidates

    def _candidates(self, stage, model):  # type: ignore[no-untyped-def]
        hit = (stage, model) in self._candidates
        t0 = time.perf_counter()
        out = candidates(self, stage, model)
        if not hit:
            emit("fit", stage=stage, model=repr(model), t0=t0, t1=time.perf_counter())
        return out

    pl.Pipeline.candidates = _candidates

    evaluate = st.Study.evaluate

    def _evaluate(self, values, stages=None):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        fits0 = self.pipeline.fits
        out, cached = evaluate(self, values, stages)
        emit(
            "eval",
            t0=t0,
            t1=time.perf_counter(),
            model=str(values.get("model")),
            key=repr(self.affinity(values)),
            stages=list(stages or self.stages),
            cached=cached,
            new_fits=self.pipeline.fits - fits0,
            fits=self.pipeline.fits,
        )
        return out, cached

    st.Study.evaluate = _evaluate

    warm_up = st.Study.warm_up

    def _warm_up(self):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        warm_up(self)
        emit("warm_up", t0=t0, t1=time.perf_counter())

    st.Study.warm_up = _warm_up


def numba_stats() -> dict[str, Any]:
    from paretorec.rerank import greedy

    out = {}
    for name in ("plain", "mmr", "pick_best", "record", "values"):
        d = getattr(greedy, name)
        out[name] = {
            "signatures": len(d.signatures),
            "cache_hits": sum(d.stats.cache_hits.values()),
            "cache_misses": sum(d.stats.cache_misses.values()),
        }
    return out


# The study a forked worker inherits (prototype of the ``fork`` fix); None under spawn.
FORKED_STUDY: Any = None


class ProbeRecipe:
    """Wraps a StudyRecipe: times the worker's start-up phases and installs the probes.

    ``jit_in_build``: load the re-rank kernels (numba cache) during start-up and time it, instead
    of inside the first evaluation (same total). ``setsid``: the worker starts its own session
    (prototype of the autogroup fix).
    """

    def __init__(
        self, inner: Any, log: str, jit_in_build: bool = True, setsid: bool = False
    ) -> None:
        self.inner = inner
        self.log = log
        self.jit_in_build = jit_in_build
        self.setsid = setsid

    def build(self) -> Any:
        t_build0 = time.perf_counter()
        if self.setsid:  # own session, so its own autogroup (CFS fair share per session)
            os.setsid()
        install(self.log, "worker")
        main = sys.modules.get("__mp_main__") or sys.modules.get("__main__")
        phases: dict[str, float] = {"proc_start": proc_start(), "build0": t_build0}
        for attr in ("T_MAIN", "T_MAIN_END"):
            if hasattr(main, attr):
                phases[attr] = getattr(main, attr)
        phases["probe_import"] = T_PROBE_IMPORT
        if FORKED_STUDY is not None:  # fork prototype: everything is inherited
            study = FORKED_STUDY
            phases["inherited"] = 1.0
            phases["ready"] = time.perf_counter()
            emit("worker_ready", phases=phases, numba=numba_stats())
            return study
        from paretorec.config import ExperimentConfig, from_dict
        from paretorec.data import load_dataset, make_split
        from paretorec.study.plan import plan
        from paretorec.study.study import Study

        config = from_dict(ExperimentConfig, self.inner.config)
        p = plan(config)
        phases["plan"] = time.perf_counter()
        dataset = load_dataset(config.data, self.inner.data_dir)
        phases["load"] = time.perf_counter()
        split = make_split(dataset.interactions, config.split)
        phases["split"] = time.perf_counter()
        study = Study(p, dataset, split)
        study.data_dir = self.inner.data_dir
        phases["study"] = time.perf_counter()
        if self.jit_in_build:
            from paretorec.rerank import greedy

            greedy.compile_now()
            phases["jit"] = time.perf_counter()
        phases["ready"] = time.perf_counter()
        emit("worker_ready", phases=phases, numba=numba_stats())
        return study
