"""One tiny real run for the report and terminal tests (ML-100k, 18 evaluations), made the
way a person makes it: tuned, interrupted with Ctrl-C after two generations, resumed to the
end, resumed once more (a no-op), a point selected, and reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from paretorec.cli import main

# The run's name carries markup: every page and file must show it as text.
NAME = "tiny <script>alert('x')</script> & <b>co</b>"
TINY_RUN = f"""
name = "{NAME}"
[data]
dataset = "ml-100k"
[evaluation]
k = 10
[search]
population = 6
generations = 3
seed = 1
[space]
model = ["popularity", "itemknn", "userknn"]
"itemknn.k" = {{ low = 10, high = 100, log = true, levels = 3 }}
"userknn.k" = {{ low = 10, high = 100, log = true, levels = 3 }}
"rerank.pool" = {{ low = 10, high = 30 }}
"rerank.diversity" = {{ low = 0.0, high = 1.0 }}
"""
INTERRUPT_AT = 2  # generation after which "Ctrl-C" arrives


@dataclass
class Tiny:
    """The run's folder, config and what each step printed."""

    root: Path
    config: Path
    run: Path
    report: Path
    printed: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    stored_at_interrupt: int = 0
    files_before_resume: dict[str, bytes] = field(default_factory=dict)
    files_after_resume: dict[str, bytes] = field(default_factory=dict)


@pytest.fixture(scope="package")
def tiny(tmp_path_factory, data_dir) -> Tiny:
    import paretorec.tuning as tuning

    root = tmp_path_factory.mktemp("tiny")
    config = root / "tiny.toml"
    config.write_text(TINY_RUN)
    made = Tiny(root, config, root / "run", root / "report")
    capsys = _Capture()
    tune = ["tune", config, "--out", made.run, "--data-dir", data_dir]
    # Ctrl-C, deterministically: a KeyboardInterrupt raised from inside the run loop
    original = tuning.FeasibilityWatch.generation

    def interrupt(self, state, records, row):
        original(self, state, records, row)
        if row[0] == INTERRUPT_AT:
            raise KeyboardInterrupt

    tuning.FeasibilityWatch.generation = interrupt
    try:
        made.printed["interrupted"] = capsys.run(tune)
    finally:
        tuning.FeasibilityWatch.generation = original
    from paretorec.optimize.rundir import RunDir

    made.stored_at_interrupt = RunDir(made.run).stored_trials()
    made.printed["resumed"] = capsys.run([*tune, "--resume"])
    made.files_before_resume = _files(made.run)
    made.printed["resumed again"] = capsys.run([*tune, "--resume"])
    made.files_after_resume = _files(made.run)
    made.printed["select"] = capsys.run(["select", made.run])
    made.printed["report"] = capsys.run(
        ["report", made.run, "--out", made.report, "--data-dir", data_dir, "--bootstrap", 100]
    )
    return made


def _files(run: Path) -> dict[str, bytes]:
    """Every file of the run but its lock (which records the last process to hold it) and
    SQLite's own journal files (its business, not the run's content)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(run.iterdir())
        if p.is_file() and p.name != ".lock" and not p.name.endswith(("-wal", "-shm"))
    }


class _Capture:
    """stdout and stderr of in-process CLI calls, outside pytest's per-test capsys."""

    def run(self, args: list) -> tuple[int, str, str]:
        import contextlib
        import io

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return code, out.getvalue(), err.getvalue()
