"""The one codec for parameter names.

A search point is a flat mapping of names to values:

- ``model``: which candidate generator;
- ``<model>.<param>``: a hyperparameter of that model, active only when it is chosen;
- ``rerank.pool``: the re-ranker's candidates per user;
- ``rerank.<term>``: a re-rank term's weight (0 switches the term off);
- ``rerank.<term>.<param>``: another parameter of that term.

Everything that splits, joins or groups these names calls this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MODEL = "model"
RERANK = "rerank"
POOL = "pool"


@dataclass(frozen=True)
class ParamName:
    """A parsed parameter name.

    Attributes:
        group: ``model`` for the model choice, ``rerank`` for re-rank parameters, else the
            model the parameter belongs to.
        term: The re-rank term (``rerank.<term>[.<param>]``), None otherwise.
        param: The parameter within its group or term (``k``; ``weight`` for a term's own
            weight; ``pool`` for the pool; empty for the model choice).
    """

    group: str
    term: str | None
    param: str

    @property
    def is_model_choice(self) -> bool:
        return self.group == MODEL

    @property
    def is_rerank(self) -> bool:
        return self.group == RERANK

    @property
    def owner(self) -> str | None:
        """The model a parameter is conditional on, None when it is always active."""
        return None if self.group in (MODEL, RERANK) else self.group


def parse(name: str) -> ParamName:
    """``itemknn.k`` -> (itemknn, None, k); ``rerank.diversity`` -> (rerank, diversity,
    weight); ``rerank.pool`` -> (rerank, None, pool)."""
    if name == MODEL:
        return ParamName(MODEL, None, "")
    head, _, tail = name.partition(".")
    if head != RERANK:
        return ParamName(head, None, tail)
    if tail == POOL:
        return ParamName(RERANK, None, POOL)
    term, _, param = tail.partition(".")
    return ParamName(RERANK, term, param or "weight")


def model_param(model: str, param: str) -> str:
    return f"{model}.{param}"


def term_param(term: str, param: str = "weight") -> str:
    return f"{RERANK}.{term}" if param == "weight" else f"{RERANK}.{term}.{param}"


POOL_NAME = f"{RERANK}.{POOL}"


def condition(name: str) -> str | None:
    """The model a parameter belongs to (``itemknn.k`` -> ``itemknn``), None if always active."""
    return parse(name).owner


def model_params(values: Mapping[str, Any], model: str) -> dict[str, Any]:
    """``{param: value}`` of ``model``'s own hyperparameters in a flat point."""
    prefix = model + "."
    return {key[len(prefix) :]: v for key, v in values.items() if key.startswith(prefix)}


def term_params(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{term: {param: value}}`` of the re-rank terms in a flat point (``weight`` for
    ``rerank.<term>``); the pool is not a term."""
    out: dict[str, dict[str, Any]] = {}
    for key, v in values.items():
        parsed = parse(key)
        if parsed.is_rerank and parsed.term is not None:
            out.setdefault(parsed.term, {})[parsed.param] = v
    return out


def members(values: Mapping[str, Any], model: str) -> tuple[str, ...]:
    """Models a model's string-valued parameters name (a hybrid's members): a parameter whose
    value is the name of a model with parameters in the point links that model in."""
    own = model_params(values, model)
    groups = {parse(key).owner for key in values}
    return tuple(
        dict.fromkeys(v for v in own.values() if isinstance(v, str) and v != model and v in groups)
    )


def active_models(values: Mapping[str, Any]) -> set[str | None]:
    """The groups whose parameters are active in a point: always-active ones (None), the
    chosen model, and the models it links (``members``)."""
    model = values.get(MODEL)
    if model is None:
        return {None}
    return {None, str(model), *members(values, str(model))}


def model_key(values: Mapping[str, Any]) -> tuple:
    """What decides a model fit: the model name and its own parameters, and those of the
    models it links (not re-rank ones)."""
    model = values.get(MODEL)
    if model is None:
        return ()
    key: tuple = (model, *sorted(model_params(values, str(model)).items()))
    for member in members(values, str(model)):
        key += ((member, *sorted(model_params(values, member).items())),)
    return key
