"""The terminal, for a person: progress lines in a log, Ctrl-C, resuming a finished run,
4 significant digits, which point is better, warnings as one-line notes."""

from __future__ import annotations

import io
import re
import shlex
import warnings
from types import SimpleNamespace

import numpy as np

from paretorec.cli import _show_warning, main
from paretorec.errors import ConfigWarning
from paretorec.export.evaluate import _winner
from paretorec.metrics.stats import Comparison
from paretorec.optimize.progress import ProgressBar, elapsed_text
from tests.report.conftest import INTERRUPT_AT


def test_ctrl_c_says_what_is_saved_and_the_exact_resume_command(tiny, data_dir):
    code, out, err = tiny.printed["interrupted"]
    assert code == 130
    # two generations of 6 finished before the interrupt, each committed as it finished
    assert tiny.stored_at_interrupt == 6 * INTERRUPT_AT
    command = shlex.join(
        [
            "paretorec",
            "tune",
            str(tiny.config),
            "--out",
            str(tiny.run),
            "--resume",
            "--data-dir",
            str(data_dir),
        ]
    )
    assert err.splitlines() == [
        f"interrupted: {6 * INTERRUPT_AT} evaluations are saved in {tiny.run}; continue with:",
        f"  {command}",
    ]
    assert "Traceback" not in out + err


def test_a_log_gets_a_progress_line_per_generation_and_the_next_command(tiny):
    code, out, err = tiny.printed["resumed"]
    assert code == 0, err
    lines = out.splitlines()
    pattern = re.compile(
        r"tune: generation (\d)/3, (\d+)/18 evaluations( \((\d+) replayed from the store\))?, "
        r"[\d.]+s, hypervolume ([\d.e+-]+), front (\d+) points?$"
    )
    progress = [pattern.match(line) for line in lines[:3]]
    assert all(progress), lines
    assert [(m[1], m[2], m[4]) for m in progress] == [
        ("1", "6", "6"),
        ("2", "12", "12"),
        ("3", "18", "12"),
    ]
    history = (tiny.run / "history.csv").read_text().splitlines()[1:]
    for m, row in zip(progress, history, strict=True):
        hv = float(row.split(",")[2])
        assert m[5] == f"{hv:.4g}"  # 4 significant digits, the history's own value
        assert m[6] == row.split(",")[3]
    assert lines[-1] == (
        f"next: paretorec select {tiny.run}   (then: paretorec report {tiny.run} --out REPORT_DIR)"
    )


def test_resuming_a_finished_run_changes_nothing(tiny):
    code, out, err = tiny.printed["resumed again"]
    assert code == 0, err
    assert f"{tiny.run} is already finished (18 evaluations); nothing changed" in out
    assert "tune: generation" not in out  # nothing replayed, nothing written
    after = tiny.files_after_resume
    assert "run.json" in after and after.keys() == tiny.files_before_resume.keys()
    for name, content in tiny.files_before_resume.items():
        assert after[name] == content, name


def test_progress_prints_every_nth_generation_of_a_long_run_and_the_last():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    state = SimpleNamespace(search=SimpleNamespace(generations=100, budget=100), previous=0)
    bar.started(state)
    for g in range(1, 98):  # stopped early, at generation 97
        bar.generation(state, [], (g, g, 0.5, 3, float(g)))
    bar.finished(state, None)
    shown = [int(line.split()[2].split("/")[0]) for line in stream.getvalue().splitlines()]
    assert shown == [1, *range(3, 97, 3), 97]  # ceil(100 / 40) = 3
    assert "hypervolume 0.5, front 3 points" in stream.getvalue()


def test_elapsed_text():
    assert [elapsed_text(s) for s in (3.04, 59.96, 187, 3720)] == [
        "3.0s",
        "60.0s",
        "3m 07s",
        "1h 02m",
    ]


def test_selection_prints_4_significant_digits(tiny):
    code, out, err = tiny.printed["select"]
    assert code == 0, err
    numbers = re.findall(r"(?<![\w.@])\d[\d.]*(?:e[+-]\d+)?", out.split("why:")[0])
    for text in numbers:
        digits = text.split("e")[0].replace(".", "").lstrip("0")
        assert len(digits) <= 4 or "." not in text, text  # integers (counts, cost) may be longer


def _comparison(diff: float, low: float, high: float) -> Comparison:
    return Comparison(
        0.3, 0.3 + diff, diff, low, high, 0.01, "ttest_rel", 943, 0.95, low > 0 or high < 0
    )


def test_evaluate_compare_says_which_point_is_better():
    # difference = other - this
    assert _winner(_comparison(0.02, 0.01, 0.03), "max") == "other is better"
    assert _winner(_comparison(0.02, 0.01, 0.03), "min") == "this is better"
    assert _winner(_comparison(-0.02, -0.03, -0.01), "max") == "this is better"
    assert _winner(_comparison(-5.0, -7.0, -3.0), "min") == "other is better"
    assert _winner(_comparison(0.02, -0.01, 0.05), "max") == "neither is clearly better"


def test_warnings_are_one_line_notes(capsys, monkeypatch):
    _show_warning(
        RuntimeWarning("overflow\n  in exp"),
        RuntimeWarning,
        "/x/lib/python3.11/site-packages/numpy/core/_methods.py",
        40,
    )
    _show_warning(ConfigWarning("[space] unused key"), ConfigWarning, "/x/paretorec/c.py", 1)
    assert capsys.readouterr().err.splitlines() == [
        "note: RuntimeWarning from numpy: overflow in exp",
        "warning: [space] unused key",
    ]
    # through the CLI: a library's warning raised inside a command
    import paretorec.report.text as text

    def noisy(entry):
        warnings.warn("divide by zero\nencountered", RuntimeWarning, stacklevel=1)
        return ["ok"]

    monkeypatch.setattr(text, "entry_lines", noisy)
    main(["list", "selectors"])
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "note: RuntimeWarning from test_terminal: divide by zero encountered"
    ]
    assert np.all([line == "ok" for line in captured.out.splitlines()])
