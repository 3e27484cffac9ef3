"""A selector's reason in plain words: what the chosen point trades, against which neighbour,
with numbers in each objective's own units and no jargon.

``move_words(front, i, j)`` says what moving from front point ``i`` to ``j`` would gain and
cost; the selectors put it first in their reason and their precise measure on a second line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

# Objectives measured in resources: a change is said as "N x as much", not "+N %".
RESOURCE = ("cost", "memory_mb", "ms_per_user")
SHOWN = 2  # gains and losses named per move (the largest, on the front's 0-1 scale)


def _g(value: float) -> str:
    return f"{value:.4g}"


def point_label(params: Mapping[str, Any], trial: int | None = None) -> str:
    """``ease (l2=398.1), trial 12``: a front point by its model and the model's own knobs."""
    model = str(params.get("model", "?"))
    own = [
        f"{k.split('.', 1)[1]}={_g(v) if isinstance(v, float) else v}"
        for k, v in params.items()
        if k.startswith(f"{model}.")
        and v is not None
        and not (isinstance(v, float) and np.isnan(v))
    ]
    text = model + (f" ({', '.join(own)})" if own else "")
    return text + (f", trial {trial}" if trial is not None else "")


def change_words(name: str, before: float, after: float) -> str:
    """``raise ndcg@10 by 0.004 (+1.1 %)``, ``cost 6.2x as much``: one objective's change."""
    if not (np.isfinite(before) and np.isfinite(after)):
        return f"change {name} from {_g(before)} to {_g(after)}"
    resource = name in RESOURCE or name.startswith(RESOURCE)
    if resource and before > 0 and after > 0:
        ratio = after / before
        if name == "cost":
            return f"cost {_g(ratio)}x as much" if ratio >= 1 else f"cost {_g(1 / ratio)}x less"
        return (
            f"need {_g(ratio)}x as much {name}"
            if ratio >= 1
            else f"need {_g(1 / ratio)}x less {name}"
        )
    verb = "raise" if after > before else "lower"
    delta = abs(after - before)
    pct = (after - before) / abs(before) * 100 if before != 0 else np.nan
    rel = f" ({pct:+.0f} %)" if abs(pct) >= 10 else f" ({pct:+.2g} %)" if np.isfinite(pct) else ""
    return f"{verb} {name} by {_g(delta)}{rel}"


def move_words(front: Any, i: int, j: int) -> str:
    """What moving from front point ``i`` to point ``j`` would gain, then what it would cost:
    ``would raise ndcg@10 by 0.004 (+1.1 %) but cost 6.2x as much`` (the ``SHOWN`` largest
    changes each way, judged on the front's 0-1 scale)."""
    F, natural = front.F, front.natural
    lo, hi = F.min(axis=0), F.max(axis=0)
    scaled = (F[j] - F[i]) / np.where(hi > lo, hi - lo, 1.0)  # < 0: j is better (minimised)
    names = front.names
    gains = [m for m in np.argsort(scaled, kind="stable") if scaled[m] < 0][:SHOWN]
    losses = [m for m in np.argsort(-scaled, kind="stable") if scaled[m] > 0][:SHOWN]

    def said(ms: list) -> str:
        return " and ".join(change_words(names[m], natural[i, m], natural[j, m]) for m in ms)

    if gains and losses:
        return f"would {said(gains)} but {said(losses)}"
    if gains:
        return f"would {said(gains)} at no loss"
    if losses:
        return f"would {said(losses)} for no gain"
    return "would change nothing measured"
