"""Plain-text renderings for the terminal."""

from __future__ import annotations

from paretorec.objectives import column
from paretorec.registry import Entry
from paretorec.report.compare import number
from paretorec.result import Result, Selection


def selection_lines(result: Result, selection: Selection) -> list[str]:
    """What ``paretorec select`` prints: the point, its values, and why it won."""
    record = result.record(selection.trial)
    lines = [
        f"chosen: trial {selection.trial} of {len(result.records)} "
        f"({len(result.front_records)} on the front), method {selection.method}"
    ]
    values = selection.point.candidate.values()
    labels = {o.name: f"{o.name} ({o.direction})" for o in result.objectives}
    width = max(len(text) for text in [*values, *labels.values()])  # one aligned column
    for name, value in values.items():
        shown = number(value) if isinstance(value, float) else value  # 4 significant digits
        lines.append(f"  {name:<{width}} {shown}")
    lines.append(f"  {'':<{width}} {'validation':>12} {'test':>12}")
    for o in result.objectives:
        val = record.results.get(column("validation", o.name), float("nan"))
        test = record.results.get(column("test", o.name), float("nan"))
        lines.append(f"  {labels[o.name]:<{width}} {number(val):>12} {number(test):>12}")
    lines.append(f"why: {selection.reason}")
    return lines


def entry_lines(entry: Entry) -> list[str]:
    """One registered plug-in: its name and description, then each parameter."""
    obj = entry.obj
    tags = []
    if hasattr(obj, "direction"):  # a metric
        tags.append(obj.direction)
        tags.append("@k" if obj.at_k else "no cut-off")
    head = f"{entry.name}" + (f" [{', '.join(tags)}]" if tags else "")
    lines = [f"{head}: {entry.description}"]
    for p in entry.params:
        search = f"; searched over {p.search_text()}" if p.search is not None else ""
        lines.append(f"    {p.name} ({p.domain()}, default {p.default!r}): {p.help}{search}")
    return lines
