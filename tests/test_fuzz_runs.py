"""Mutated exported points (chosen.json) and experiment configs (TOML and JSON): byte flips,
truncation, type swaps, extreme numbers and unicode. Every input is either read as a valid
point or config, or refused with exit code 2 and a short ``error:`` message; never a
traceback. Derandomized, so a failure reproduces."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paretorec.export import OperatingPoint, load_point
from tests.test_bad_runs_catalogue import TINY_RUN
from tests.test_cli import run_cli

CONFIG = TINY_RUN.strip() + "\n"  # the catalogue's tiny run, as the mutations' seed

POINT: dict[str, Any] = {
    "schema": "paretorec/operating-point",
    "schema_version": 1,
    "paretorec_version": "0.1.0",
    "created": "2026-01-01T00:00:00+00:00",
    "model": {"name": "itemknn", "params": {"k": 32, "shrinkage": 10.0}, "members": {}},
    "similarity": "genres",
    "rerank": {"pool": 10, "diversity": 0.1, "diversity.similarity": "evaluation"},
    "k": 10,
    "dataset": {
        "name": "ml-100k",
        "checksum": "sha256:" + "ab" * 32,
        "config": {"dataset": "ml-100k", "min_user_interactions": 1},
    },
    "split": {"method": "holdout", "test": 0.2, "validation": 0.2, "seed": 42},
    "seed": 3,
    "values": {"validation": {"ndcg@10": 0.2}, "test": {"ndcg@10": 0.3}},
    "selection": {"method": "knee", "reason": "knee of the front"},
    "run": {"trial": 6, "dir": "."},
}

EXTREME = [0, -1, 1, 2**63, -(2**63), 10**400, 1e308, -1e308, 1e-320, math.nan, math.inf]
ODD_TEXT = ["", " ", "\x00", "\u202e", "ÿ", "😀" * 50, "a\nb", "x" * 5000, "../../etc/passwd"]
FUZZ = settings(
    derandomize=True,
    deadline=2000,
    max_examples=120,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    """Every position in a JSON tree (tables and lists included) as key paths, the whole
    tree last (hypothesis favours the first entries)."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _leaves(value, (*path, i))
    return [*out, path]


def _replace(node: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)
    return copy


replacements = st.one_of(
    st.sampled_from(EXTREME),
    st.sampled_from(ODD_TEXT),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.just([]),
    st.just({}),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def mutated_json(draw: st.DrawFn, base: Any) -> bytes:
    """``base`` with a few fields swapped for other types, extreme numbers or odd text, then
    possibly a byte flip or a truncation of the encoded file."""
    tree = base
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_leaves(tree)))
        tree = _replace(tree, path, draw(replacements))
    data = json.dumps(tree, ensure_ascii=draw(st.booleans())).encode()
    return _damage(draw, data)


def _damage(draw: st.DrawFn, data: bytes) -> bytes:
    # half the inputs keep their bytes, so type and value mutations reach the field checks
    how = draw(st.sampled_from(["none", "none", "none", "flip", "truncate", "insert"]))
    if how == "none" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "flip":
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
    if how == "truncate":
        return data[:at]
    odd = draw(st.sampled_from(ODD_TEXT)).encode("utf-8", "surrogatepass")
    return data[:at] + odd + data[at:]


@st.composite
def mutated_toml(draw: st.DrawFn) -> bytes:
    """The config's text with one value swapped for another type, an extreme number or odd
    text, then possibly a byte flip, a truncation or an insertion."""
    lines = CONFIG.splitlines()
    row = draw(st.sampled_from([i for i, line in enumerate(lines) if " = " in line]))
    key = lines[row].split(" = ", 1)[0]
    value = draw(
        st.sampled_from(
            [
                "-1",
                "0",
                "1e308",
                "-1e308",
                "nan",
                "inf",
                "9223372036854775807",
                "true",
                '"text"',
                '"\\u202e\\u0000"',
                "[1, 'a']",
                "{ low = 1, high = 1e400 }",
                "{ low = 10, high = 100000000 }",
                "[]",
                "{}",
                "1979-05-27",
                '"😀"',
            ]
        )
    )
    lines[row] = f"{key} = {value}"
    return _damage(draw, "\n".join(lines).encode())


def _refused_or_accepted(code: int, err: str) -> str:
    """Check the outcome's shape; return the error line (or '')."""
    assert "Traceback" not in err, err
    assert code in (0, 2), (code, err)
    if code == 0:
        return ""
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors, err
    start = lines.index(errors[0])
    assert len(lines) - start <= 3, err  # the message; warnings may come before it
    assert len(err) < 4000, err
    return errors[0]


@FUZZ
@given(data=mutated_json(POINT))
def test_mutated_points_are_read_or_refused_in_a_few_lines(tmp_path: Path, capsys, data: bytes):
    path = tmp_path / "chosen.json"
    path.write_bytes(data)
    # `evaluate` reads the point (and --compare's) before anything else; an unknown metric
    # then stops a valid point cheaply, before any data is loaded
    code, _, err = run_cli(["evaluate", path, "--metrics", "nosuch@1"], capsys)
    line = _refused_or_accepted(code, err)
    assert code == 2
    if "unknown metric `nosuch`" in line:  # the point was read: it must round-trip
        point = load_point(path)
        assert OperatingPoint.from_dict(point.to_dict()).candidate == point.candidate
    else:
        assert "chosen.json" in line, line
        with pytest.raises(Exception) as refused:
            load_point(path)
        assert type(refused.value).__name__ in ("ConfigError", "UnknownNameError")


@FUZZ
@given(data=mutated_toml())
def test_mutated_toml_configs_are_checked_or_refused(tmp_path: Path, capsys, data: bytes):
    path = tmp_path / "c.toml"
    path.write_bytes(data)
    code, _, err = run_cli(["tune", path, "--check"], capsys)
    line = _refused_or_accepted(code, err)
    if code == 2:
        assert "c.toml" in line or "--" in line, line


@FUZZ
@given(data=st.data())
def test_mutated_json_configs_are_checked_or_refused(tmp_path: Path, capsys, data):
    import tomllib

    raw = tomllib.loads(CONFIG)
    path = tmp_path / "c.json"
    path.write_bytes(data.draw(mutated_json(raw)))
    code, _, err = run_cli(["tune", path, "--check"], capsys)
    line = _refused_or_accepted(code, err)
    if code == 2:
        assert "c.json" in line or "--" in line, line
