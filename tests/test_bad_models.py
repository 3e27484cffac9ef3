"""Model mistakes in a config: one line, exit 2, before any model is fitted."""

from __future__ import annotations

import importlib.util

import pytest

import paretorec.study.pipeline as pipeline_module
from tests.test_cli import run_cli

HEAD = """
[data]
{data}
[search]
algorithm = "random"
population = 4
generations = 1
seed = 0
[space]
{space}
"""

ML100K = 'dataset = "ml-100k"'
CSV = "user,item,rating,timestamp\n" + "".join(
    f"{u},{i},{1 + (u * i) % 5},{u * 100 + i}\n" for u in range(1, 30) for i in range(1, 40, 3)
)

CASES = {
    "unknown model": (ML100K, 'model = ["ease", "svd"]', ["unknown model `svd`", "available"]),
    "unknown hyperparameter": (
        ML100K,
        'model = "als"\n"als.momentum" = 0.5',
        ["model `als` has no parameter `momentum`", "factors"],
    ),
    "factors <= 0": (ML100K, 'model = "als"\n"als.factors" = 0', ["als.factors > 0"]),
    "factors range below 1": (
        ML100K,
        'model = "bpr"\n"bpr.factors" = { low = 0, high = 16 }',
        ["bpr.factors > 0"],
    ),
    "negative regularisation": (
        ML100K,
        'model = "als"\n"als.regularization" = -1.0',
        ["als.regularization > 0"],
    ),
    "hybrid member outside the space": (
        ML100K,
        'model = ["hybrid", "itemknn", "content"]\n"hybrid.first" = ["itemknn", "als"]',
        ["hybrid.first", "member `als`", "another model of the space"],
    ),
    "hybrid as its own member": (
        ML100K,
        'model = ["hybrid", "content"]\n"hybrid.first" = "hybrid"',
        ["hybrid.first", "member `hybrid`"],
    ),
    "hybrid weight above 1": (
        ML100K,
        'model = ["hybrid", "ease", "content"]\n"hybrid.weight" = 1.5',
        ["hybrid.weight", "<= 1"],
    ),
    "content on data without text": (
        "CSV",
        'model = ["content", "popularity"]',
        ["content", "no item text", "items file"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_model_mistakes_are_one_line_before_any_fit(case, tmp_path, data_dir, capsys, monkeypatch):
    data, space, needles = CASES[case]
    if data == "CSV":
        path = tmp_path / "logs.csv"
        path.write_text(CSV)
        data = f'dataset = "file"\npath = "{path}"'
    config = tmp_path / "exp.toml"
    config.write_text(HEAD.format(data=data, space=space))

    def no_fit(*args, **kwargs):
        raise AssertionError("a model was fitted before the mistake was reported")

    monkeypatch.setattr(pipeline_module, "generate_candidates", no_fit)
    code, out, err = run_cli(
        ["tune", config, "--out", tmp_path / "run", "--data-dir", data_dir, "--quiet"], capsys
    )
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_the_missing_semantic_extra_is_one_line(tmp_path, data_dir, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sentence_transformers" else real(name, *a),
    )
    config = tmp_path / "exp.toml"
    config.write_text(HEAD.format(data=ML100K, space='model = ["semantic", "ease"]'))
    code, _, err = run_cli(["tune", config, "--out", tmp_path / "run", "--quiet"], capsys)
    assert code == 2
    assert err.strip() == (
        "error: model `semantic` needs sentence_transformers: pip install 'paretorec[semantic]'"
    )
