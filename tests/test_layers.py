"""The layout shows the flow, and imports only run down it.

data -> space -> models -> rerank -> metrics -> objectives -> study -> optimize -> select ->
export -> result -> dynamic / report -> the API and the CLI. Every import in the package,
function-level ones included, goes to the same layer or one below, and no two modules import
each other (directly or through others).
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "paretorec"

# lowest first; a module belongs to the first prefix that matches it
LAYERS = [
    ["paretorec._version", "paretorec.errors", "paretorec.registry", "paretorec.names"],
    ["paretorec.config"],
    ["paretorec.data", "paretorec.privacy"],  # privacy: bounding, DP noise, pseudonyms
    ["paretorec.space"],
    ["paretorec.models"],
    ["paretorec.rerank"],
    ["paretorec.metrics"],
    ["paretorec.objectives"],
    ["paretorec.study"],
    ["paretorec.optimize"],
    ["paretorec.select"],
    ["paretorec.export"],
    ["paretorec.result"],
    ["paretorec.dynamic", "paretorec.report", "paretorec.explain"],
    ["paretorec.tuning", "paretorec.plugins", "paretorec.testing"],
    ["paretorec.cli", "paretorec.__main__", "paretorec"],
]


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    assert best is not None, f"{module} is in no layer"
    return best[0]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("paretorec")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("paretorec"):
                # ``from paretorec import names`` imports the submodule, not the package
                subs = {f"{node.module}.{a.name}" for a in node.names}
                real = {s for s in subs if _exists(s)}
                out |= real if real else {node.module}
    return out


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() or (
        PACKAGE.parent / rel / "__init__.py"
    ).is_file()


GRAPH = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_run_down_the_layers(module):
    mine = _layer(module)
    upward = [m for m in GRAPH[module] if _layer(m) > mine]
    assert not upward, f"{module} (layer {mine}) imports from above: {upward}"


def test_no_import_cycle_between_packages_or_modules():
    # a cycle through a package's __init__ re-exports is still a cycle
    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in GRAPH.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    cycles = [(m, t) for m in GRAPH for t in GRAPH[m] if m in reach(t)]
    assert not cycles, f"import cycles: {cycles}"
