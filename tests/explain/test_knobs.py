"""Which knob moves which objective: the surrogate ranking recovers known importances, and
``paretorec explain`` runs end to end on a tiny real run."""

import numpy as np
import pandas as pd
import pytest

import paretorec
from paretorec.cli import main
from paretorec.errors import DataError
from paretorec.explain import knob_importance, partial_dependence_figure
from paretorec.explain.knobs import analyse_table, encode
from tests.optimize.test_run import _config

N = 240


def _synthetic():
    """x1 drives f1 only, x2 drives f2 only, x3 drives nothing; f3 depends only on which
    model is chosen and on model a's own (conditional) knob ``a.k``."""
    rng = np.random.default_rng(7)
    x1, x2, x3 = rng.random(N), rng.random(N), rng.random(N)
    model = rng.choice(["a", "b", "c"], N)
    a_k = np.where(model == "a", rng.integers(1, 50, N), np.nan)
    params = pd.DataFrame(
        {
            "model": pd.Series(model, dtype=object),
            "a.k": pd.Series(a_k, dtype="float64"),
            "x1": x1,
            "x2": x2,
            "x3": x3,
        }
    )
    noise = rng.normal(0, 0.01, (3, N))
    base = {"a": 0.0, "b": 1.0, "c": 0.5}
    f3 = np.array([base[m] for m in model]) + np.where(model == "a", np.nan_to_num(a_k) / 50, 0)
    targets = {
        "f1": np.sin(3 * x1) + noise[0],
        "f2": (x2 - 0.3) ** 2 + noise[1],
        "f3": f3 + noise[2],
    }
    return params, targets, {"model": ("a", "b", "c")}


@pytest.fixture(scope="module")
def synthetic():
    params, targets, choices = _synthetic()
    return analyse_table(params, targets, choices, n_repeats=5, n_estimators=60)


def _ranking(analysis, objective):
    rows = analysis.importances[analysis.importances["objective"] == objective]
    return dict(zip(rows["parameter"], rows["importance"], strict=True)), list(rows["parameter"])


def test_the_ranking_recovers_the_true_drivers(synthetic):
    f1, order1 = _ranking(synthetic, "f1")
    f2, order2 = _ranking(synthetic, "f2")
    f3, order3 = _ranking(synthetic, "f3")
    assert order1[0] == "x1" and order2[0] == "x2"
    assert set(order3[:2]) == {"model", "a.k"}
    # a variable that does not drive an objective scores (near) nothing for it
    for other in ("x2", "x3", "model", "a.k"):
        assert f1[other] < 0.02 * f1["x1"], (other, f1)
    for other in ("x1", "x3", "model", "a.k"):
        assert f2[other] < 0.02 * f2["x2"], (other, f2)
    for other in ("x1", "x2", "x3"):
        assert f3[other] < 0.02 * f3["model"], (other, f3)
    # the surrogate fits what it can: R^2 on held-out trials, reported per objective
    for s in synthetic.surrogates:
        assert s.r2 > 0.9, (s.objective, s.r2)
        assert s.n_train + s.n_test == N


def test_columns_sorted_and_deterministic(synthetic):
    frame = synthetic.importances
    assert list(frame.columns) == ["objective", "parameter", "importance", "std", "r2"]
    assert list(dict.fromkeys(frame["objective"])) == ["f1", "f2", "f3"]
    for _, rows in frame.groupby("objective", sort=False):
        assert rows["importance"].is_monotonic_decreasing
    params, targets, choices = _synthetic()
    again = analyse_table(params, targets, choices, n_repeats=5, n_estimators=60)
    pd.testing.assert_frame_equal(again.importances, frame)


def test_encoding_of_choices_and_inactive_parameters():
    params = pd.DataFrame(
        {
            "model": pd.Series(["b", "a", None, "a"], dtype=object),
            "a.k": pd.Series([np.nan, 10.0, np.nan, 30.0]),
            "fixed": [1.0, 1.0, 1.0, 1.0],
        }
    )
    X, categories, inactive = encode(params, {"model": ("a", "b")})
    assert list(X.columns) == ["model", "a.k"]  # a constant column explains nothing
    assert X["model"].tolist() == [1.0, 0.0, -1.0, 0.0]
    # the sentinel sits one span below the smallest value: 10 - 20 - 1
    assert X["a.k"].tolist() == [-11.0, 10.0, -11.0, 30.0]
    assert categories == {"model": ("a", "b")} and inactive == {"model": -1.0, "a.k": -11.0}


def test_too_few_trials_are_refused():
    params, targets, choices = _synthetic()
    with pytest.raises(DataError, match="9 trials; a surrogate needs at least 10"):
        analyse_table(params.head(9), {k: v[:9] for k, v in targets.items()}, choices)


def test_partial_dependence_figure_labels_models(synthetic):
    fig = partial_dependence_figure(synthetic, top=2)
    try:
        axes = [ax for ax in fig.axes if ax.get_visible()]
        assert len(axes) == 6
        labels = {t.get_text() for ax in axes for t in ax.get_xticklabels()}
        assert {"a", "b", "c"} <= labels  # model bars carry the model names, not codes
        assert "a.k (where active)" in {ax.get_xlabel() for ax in axes}
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("explain") / "run"
    paretorec.tune(_config(), run)  # 24 trials on the synthetic dataset
    return run


def test_explain_on_a_tiny_real_run(tiny_run, tmp_path, capsys):
    frame = knob_importance(tiny_run, ["cost"], n_repeats=2)
    # the model choice decides the cost: popularity, item kNN and EASE differ by orders
    assert frame["parameter"].iloc[0] == "model" and set(frame["objective"]) == {"cost"}
    out = tmp_path / "explain"
    main(["explain", str(tiny_run), "--out", str(out)])
    printed = capsys.readouterr().out
    assert "cost: surrogate R^2" in printed and "held-out trials" in printed
    for name in (
        "importances.csv",
        "explain.md",
        "partial_dependence.png",
        "partial_dependence.svg",
    ):
        assert (out / name).is_file(), name
    csv = pd.read_csv(out / "importances.csv")
    assert list(csv.columns) == ["objective", "parameter", "importance", "std", "r2"]


@pytest.mark.parametrize("case", ["missing", "not a run", "few trials"])
def test_bad_input_is_one_line_exit_2(case, tmp_path, capsys):
    if case == "missing":
        target = tmp_path / "nope"
    elif case == "not a run":
        target = tmp_path
    else:
        target = tmp_path / "short"
        paretorec.tune(_config(generations=1), target)  # 8 trials
        capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["explain", str(target), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    if case == "few trials":
        assert "8 trials; a surrogate needs at least 10" in err
