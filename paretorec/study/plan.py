"""The data-free part of a study: the config checked against the registries in milliseconds,
before any dataset is read.

The built-in search space is not a table kept here: it is what the registered models and terms
declare (their search ranges), in registration order, so a new plug-in joins it by declaring
a range.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paretorec import names
from paretorec.config import ExperimentConfig
from paretorec.data import DATASETS
from paretorec.errors import ConfigError, ConfigWarning
from paretorec.metrics import METRICS, MetricRef, parse_metric
from paretorec.models import MODELS
from paretorec.objectives import ConstraintSpec, make_objective, natural_bounds, parse_constraint
from paretorec.registry import declared_params
from paretorec.rerank import POOL, TERMS
from paretorec.space import Choice, Grid, Int, Real, SearchSpace, Value, parse_space
from paretorec.study.candidate import Candidate


@dataclass(frozen=True)
class Plan:
    """What is searched and what is measured, checked against the registries.

    Attributes:
        config: The experiment config.
        space: The search space (the built-in one when the config has none).
        metrics: Every metric a trial records: objectives, constraints, ``record``, and the
            measurements recorded always (``ms_per_user``).
        constraints: The constraints, parsed (limits relative to a baseline not resolved yet).
    """

    config: ExperimentConfig
    space: SearchSpace
    metrics: tuple[MetricRef, ...]
    constraints: tuple[ConstraintSpec, ...]

    @property
    def max_pool(self) -> int:
        return int(self.space.upper(names.POOL_NAME))


def default_space() -> dict[str, Any]:
    """The built-in space: every registered model (that opts in) with its declared ranges,
    the pool, and every registered term's declared ranges."""
    models = [m for m in MODELS.in_order() if MODELS.get(m).default_space]
    space: dict[str, Any] = {names.MODEL: models}
    for model in models:
        for p in declared_params(MODELS.get(model)):
            if p.search is not None:
                space[names.model_param(model, p.name)] = p.search
    space[names.POOL_NAME] = POOL.search
    for term in TERMS.in_order():
        for p in declared_params(TERMS.get(term)):
            if p.search is not None:
                space[names.term_param(term, p.name)] = p.search
    return space


def import_plugins(modules: tuple[str, ...]) -> None:
    """Import the config's plug-in modules (they register models, terms, metrics, ...)."""
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # any failure of a user's module is a config problem here
            raise ConfigError(
                f"plugins: cannot import `{module}` ({type(exc).__name__}: {exc}); "
                "is it installed or on PYTHONPATH?"
            ) from None


def plan(config: ExperimentConfig) -> Plan:
    """Check the config's names and bounds against the registries, without loading data (the
    search settings are the search's to check: ``paretorec.tuning.check``)."""
    import_plugins(config.plugins)
    DATASETS.get(config.data.dataset)
    space = parse_space(default_space() if config.space is None else config.space)
    _check_names(space)
    if names.POOL_NAME not in space.names:
        space = SearchSpace(space.params, (*space.fixed, (names.POOL_NAME, POOL.default)))
    _check_corners(space)
    k = config.evaluation.k
    lowest = int(space.lower(names.POOL_NAME))  # type: ignore[arg-type]
    if lowest < k:
        raise ConfigError(
            f"space `rerank.pool`: `pool >= evaluation.k` must hold, got pool={lowest}, k={k}"
        )
    objectives = config.objectives or ()
    if config.search.weights is not None and len(config.search.weights) != len(objectives):
        raise ConfigError(
            f"[search] weights: one per objective must hold, got {len(config.search.weights)} "
            f"for {len(objectives)} objectives"
        )
    constraints = tuple(parse_constraint(text) for text in config.constraints)
    wanted = (
        [o.metric for o in objectives]
        + [c.ref.name for c in constraints]
        + list(config.evaluation.record or ())
    )
    refs: list[MetricRef] = []
    for name in wanted:
        ref = parse_metric(name)
        if ref.k is not None and ref.k > k:
            raise ConfigError(
                f"metric `{name}`: `k <= evaluation.k` must hold (lists have {k} items)"
            )
        if ref.name not in [r.name for r in refs]:
            refs.append(ref)
    _warn_unmoved(space, objectives)
    for o in objectives:  # directions and explicit bounds, before any data is read;
        # data-derived anchors are stood in for by a placeholder next to the known bound
        ref = parse_metric(o.metric)
        direction = o.direction or ref.metric.direction
        if direction not in ("max", "min"):
            raise ConfigError(
                f"objective `{o.metric}`: direction must be max or min, got {direction!r}"
            )
        sign = 1.0 if direction == "min" else -1.0
        natural_best, _ = natural_bounds(ref, direction)
        known = next((v for v in (o.best, natural_best) if v is not None), None)
        if known is None:
            known = o.worst - sign if o.worst is not None else 0.0
        make_objective(o.metric, o.direction, o.best, o.worst, known, known + sign)
    for name in METRICS.in_order():  # measurements are recorded for every trial
        metric = METRICS.get(name)
        if not metric.deterministic and not metric.at_k and name not in [r.name for r in refs]:
            refs.append(parse_metric(name))
    return Plan(config, space, tuple(refs), constraints)


def _warn_unmoved(space: SearchSpace, objectives: Any) -> None:
    """Warn about an objective that nothing in the space can move: a term's own metric while
    that term is off, or any objective when the space is one model without free parameters
    and no active term."""
    active_terms = {
        term
        for term, params in term_domains(space).items()
        if max(float(w) for w in params.get("weight", (0.0,))) > 0
    }
    free = [n for n in space.names if n in dict(space.params) and n != names.POOL_NAME]
    frozen = not free and not active_terms and len(space.models()) == 1
    pool_free = names.POOL_NAME in dict(space.params)
    for o in objectives:
        base = parse_metric(o.metric).metric.name
        if pool_free and not METRICS.get(base).at_k:
            continue  # the pool moves the cost measures
        owners = [t for t in TERMS.in_order() if TERMS.get(t).metric == base]
        if frozen and METRICS.get(base).deterministic:
            warnings.warn(
                f"objective `{o.metric}`: nothing in the space moves it (one model without free "
                "parameters and no active re-rank term); every point will score the same",
                ConfigWarning,
                stacklevel=3,
            )
        elif owners and not active_terms & set(owners) and len(space.models()) == 1 and not free:
            warnings.warn(
                f"objective `{o.metric}`: no active re-rank term targets it "
                f"({', '.join(names.term_param(t) for t in owners)} is off) and the model is fixed",
                ConfigWarning,
                stacklevel=3,
            )


def _check_names(space: SearchSpace) -> None:
    """Every name refers to something registered: the model choice, a model of the space and
    one of its parameters, the pool, or a registered term and one of its parameters."""
    if names.MODEL not in space.names:
        raise ConfigError("space: `model` is required (a model name or a list of them)")
    choice = dict(space.params).get(names.MODEL)
    if isinstance(choice, Real | Int | Grid) or (
        choice is None and not isinstance(dict(space.fixed)[names.MODEL], str)
    ):
        raise ConfigError("space `model`: a model name or a list of names, not a range")
    if isinstance(choice, Choice) and not all(isinstance(v, str) for v in choice.values):
        raise ConfigError(f"space `model`: model names must be strings, got {list(choice.values)}")
    models = space.models()
    for model in models:
        if model not in MODELS:
            raise ConfigError(
                f"space `model`: unknown model `{model}`; available: "
                f"{', '.join(MODELS.available())}"
            )
        MODELS.require(model)  # an optional extra it needs is installed
    for name in space.names:
        parsed = names.parse(name)
        if parsed.is_model_choice:
            continue
        if parsed.is_rerank:
            if parsed.term is None:
                continue  # the pool
            if parsed.term not in TERMS:
                available = ", ".join(names.term_param(t) for t in TERMS.available())
                raise ConfigError(
                    f"space `{name}`: unknown re-rank term `{parsed.term}`; expected "
                    f"`rerank.pool` or one of {available}"
                )
            _check_param(name, TERMS.get(parsed.term), parsed.param, f"term `{parsed.term}`")
        elif parsed.group not in models:
            raise ConfigError(
                f"space `{name}`: `{parsed.group}` is not among the space's models "
                f"({', '.join(models)})"
            )
        else:
            _check_param(name, MODELS.get(parsed.group), parsed.param, f"model `{parsed.group}`")
    for model in models:
        MODELS.get(model).check_space(models, model_domain(space, model))


def model_domain(space: SearchSpace, model: str) -> dict[str, tuple]:
    """The values each of ``model``'s parameters can take in ``space``: a choice's values, a
    range's two bounds, the fixed value, or the declared default."""
    domain: dict[str, tuple] = {}
    for p in declared_params(MODELS.get(model)):
        name = names.model_param(model, p.name)
        if name not in space.names:
            domain[p.name] = (p.default,)
            continue
        free = dict(space.params).get(name)
        values = getattr(free, "values", None)
        if values is not None:
            domain[p.name] = tuple(values)
        elif free is not None:
            domain[p.name] = (space.lower(name), space.upper(name))
        else:
            domain[p.name] = (dict(space.fixed)[name],)
    return domain


def term_domains(space: SearchSpace) -> dict[str, dict[str, tuple]]:
    """Per term of the space, the values each of its parameters can take (as
    ``model_domain``; parameters the space does not name keep their default)."""
    out: dict[str, dict[str, tuple]] = {}
    for name in space.names:
        parsed = names.parse(name)
        if not (parsed.is_rerank and parsed.term is not None):
            continue
        free = dict(space.params).get(name)
        values = getattr(free, "values", None)
        if values is not None:
            domain = tuple(values)
        elif free is not None:
            domain = (space.lower(name), space.upper(name))
        else:
            domain = (dict(space.fixed)[name],)
        out.setdefault(parsed.term, {})[parsed.param] = domain
    for term, params in out.items():
        for p in declared_params(TERMS.get(term)):
            params.setdefault(p.name, (p.default,))
    return out


def _check_param(name: str, cls: type, param: str, owner: str) -> None:
    known = [p.name for p in declared_params(cls)]
    if param not in known:
        raise ConfigError(
            f"space `{name}`: {owner} has no parameter `{param}`; its parameters: "
            f"{', '.join(known) or '(none)'}"
        )


def _check_corners(space: SearchSpace) -> None:
    """Build every model of the space at its parameters' lower and upper bounds, so a bound a
    model or the re-ranker rejects (``ease.l2 = 0``, a fractional ``itemknn.k``) fails now,
    not when the search first proposes it."""
    for model in space.models():
        for bound in (space.lower, space.upper):
            values: dict[str, Value] = {names.MODEL: model}
            for name in space.names:
                if name != names.MODEL and names.condition(name) in (None, model):
                    values[name] = bound(name)
            try:
                Candidate.from_values(values)
            except ConfigError as exc:
                raise ConfigError(f"space: {exc} (at the bounds of `{model}`)") from None


def term_defaults(space: SearchSpace) -> Mapping[str, Value]:
    """Every term parameter of the space at its declared default (a weight's is 0: off)."""
    out: dict[str, Value] = {}
    for name in space.names:
        parsed = names.parse(name)
        if parsed.is_rerank and parsed.term is not None:
            for p in declared_params(TERMS.get(parsed.term)):
                if p.name == parsed.param:
                    out[name] = p.default
    return out
