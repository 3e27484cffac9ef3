"""The README's Python examples run as they are written."""

import re

import pytest

from paretorec.models import MODELS
from paretorec.rerank import TERMS
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def python_blocks(heading: str) -> list[str]:
    """The ```python blocks of one ``## heading`` section."""
    section = README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_python_api_section_runs(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("PARETOREC_DATA_DIR", str(data_dir))
    monkeypatch.chdir(REPO)  # the example loads experiments/ml100k.toml
    (block,) = python_blocks("Python API")
    block = block.replace('"chosen.json"', repr(str(tmp_path / "chosen.json")))
    namespace: dict = {}
    exec(compile(block, "README.md (Python API)", "exec"), namespace)
    assert set(namespace["lists"].columns) == {"user", "item", "rank", "score"}
    assert set(namespace["lists"]["user"]) == {1, 2}
    assert str(namespace["result"].trials["rerank.pool"].dtype) == "Int64"


@pytest.fixture
def extension():
    """The README's toy model and term, registered for one test and removed after."""
    blocks = python_blocks("Extending paretorec")
    namespace: dict = {}
    try:
        for block in blocks[:2]:  # the model file and the term file
            exec(compile(block, "README.md (Extending paretorec)", "exec"), namespace)
        yield blocks[2:]
    finally:
        MODELS.remove("cocount")
        TERMS.remove("tailbonus")


def test_the_extension_example_passes_the_contracts_and_a_short_tune(extension, data_dir):
    assert "cocount" in MODELS and "tailbonus" in TERMS
    namespace: dict = {}
    for block in extension:  # the contract checks and the tune, as the README shows them
        exec(compile(block, "README.md (Extending paretorec)", "exec"), namespace)
    trials = namespace["result"].trials
    assert "cocount" in set(trials["model"])  # it joined the built-in space
    assert (trials["rerank.tailbonus"] > 0).any()


def test_the_refusals_section_states_the_catalogue_as_it_is():
    import tests.data.test_bad_data_catalogue as data_cases
    import tests.test_bad_input as earlier
    import tests.test_bad_runs_catalogue as run_cases

    text = (REPO / "README.md").read_text()
    section = text[text.index("## What paretorec refuses and why") :]
    section = section[: section.index("\n## ", 10)]
    counts = {
        "tests/data/test_bad_data_catalogue.py": len(data_cases.CASES),
        "tests/test_bad_runs_catalogue.py": len(run_cases.CASES),
        "tests/test_bad_input.py": len(earlier.CASES),
    }
    flat = " ".join(section.split())
    assert f"The tests hold {sum(counts.values())} refused inputs" in flat
    for path, n in counts.items():
        assert re.search(rf"\b{n} [^()]*\(`{re.escape(path)}`\)", flat), (path, n)
    assert sum(counts.values()) >= 150
