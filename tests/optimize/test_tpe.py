"""``tpe``: Optuna's sampler behind the engine. The oracle is Optuna itself, driven directly."""

import json
import sys

import numpy as np
import optuna
import pytest

import paretorec
from paretorec.config import ExperimentConfig, SearchConfig, from_dict
from paretorec.errors import ConfigError
from paretorec.objectives import column
from paretorec.optimize.testproblems import TestProblem
from paretorec.optimize.tpe import TPE, suggest
from paretorec.space import Choice
from paretorec.study import Study
from tests.optimize.helpers import frame as outcome_frame
from tests.optimize.helpers import run_problem
from tests.optimize.test_engine import _config as engine_config
from tests.optimize.test_run import CONFIG, _config


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.parametrize(
    "algorithm,batch", [("tpe", 1), ("tpe", 10), ("tpe-independent", 1), ("tpe-independent", 10)]
)
def test_the_engine_asks_for_exactly_the_points_optuna_asks_for(tmp_path, algorithm, batch):
    search = SearchConfig(algorithm=algorithm, population=batch, generations=40 // batch, seed=4)
    target = TestProblem("zdt1", n_var=4)
    frame = outcome_frame(target, run_problem(target, search))
    names = [f"x{i}" for i in range(4)]
    ours = frame.sort_values("trial")[names].to_numpy()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    joint = algorithm == "tpe"
    sampler = optuna.samplers.TPESampler(
        seed=4, multivariate=joint, group=joint, constant_liar=True
    )
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    theirs = []
    while len(theirs) < 40:
        trials = [study.ask() for _ in range(batch)]
        X = np.array([[t.suggest_float(n, 0.0, 1.0) for n in names] for t in trials])
        F = target.problem.evaluate(X, return_values_of=["F"])
        for t, f in zip(trials, F, strict=True):
            study.tell(t, list(f))
        theirs.extend(X)
    assert np.allclose(ours, np.array(theirs), rtol=0.0, atol=1e-12)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_on_a_conditional_space_the_engine_asks_what_optuna_asks(tmp_path):
    # the recommender's own space (a model choice, each model's parameters, a log real, grids),
    # the baselines enqueued, two constraints, evaluated by two worker processes
    raw = json.loads(json.dumps(CONFIG))
    raw["space"]["itemknn.shrinkage"] = {"low": 1.0, "high": 100.0, "log": True}
    raw["search"] = {**raw["search"], "algorithm": "tpe", "generations": 5}
    raw["constraints"] = ["ndcg@5 >= 0.9*best_baseline", "cost <= 150"]
    config = from_dict(ExperimentConfig, raw)
    frame = paretorec.tune(config, workers=2).trials.sort_values("trial")

    study = Study.prepare(config, None)
    space = study.space
    columns = [column("validation", o.name) for o in study.objectives]
    sampler = optuna.samplers.TPESampler(seed=11, multivariate=True, group=True, constant_liar=True)
    direct = optuna.create_study(directions=["minimize"] * len(columns), sampler=sampler)
    for x in study.baseline_points():
        direct.enqueue_trial(space.decode(x))
    asked = []
    signs = [o.sign for o in study.objectives]
    for _ in range(5):  # a generation: 8 trials asked before any is told
        trials = [direct.ask() for _ in range(8)]
        points = [space.decode(space.encode(suggest(t, space))) for t in trials]  # as run
        for trial, values in zip(trials, points, strict=True):
            results, _ = study.evaluate(values, ("validation",))
            for j, constraint in enumerate(study.constraints):
                value = results[column("validation", constraint.name)]
                trial.set_constraint(f"g{j}", float(constraint.violation(value)))
            direct.tell(trial, [s * results[c] for s, c in zip(signs, columns, strict=True)])
        asked.extend(points)
    assert len(frame) == len(asked) == 40
    for row, values in zip(frame.to_dict("records"), asked, strict=True):
        for name, value in values.items():
            assert row[name] == (value if isinstance(value, str) else pytest.approx(value)), name


def test_suggest_asks_only_the_chosen_models_parameters_on_their_domains():
    raw = json.loads(json.dumps(CONFIG))
    raw["space"]["itemknn.shrinkage"] = {"low": 1.0, "high": 100.0, "log": True}
    raw["space"]["rerank.pool"] = {"low": 5, "high": 30, "log": True}
    space = Study.prepare(from_dict(ExperimentConfig, raw), None).space
    domains = dict(space.params)
    study = optuna.create_study(directions=["minimize"], sampler=optuna.samplers.RandomSampler(0))
    for _ in range(30):
        trial = study.ask()
        values = suggest(trial, space)
        assert set(trial.params) == {n for n in values if n in domains}
        for name, dist in trial.distributions.items():
            dom = domains[name]
            if isinstance(dom, Choice):  # grids too
                assert list(dist.choices) == list(dom.values)
            else:
                assert (dist.low, dist.high, dist.log) == (dom.low, dom.high, dom.log)
        x = space.encode(values)
        assert space.decode(x) == pytest.approx(values)  # what the engine evaluates
        study.tell(trial, 0.0)


def test_tpe_starts_from_the_baselines(tmp_path):
    # resuming is tested with the other algorithms (test_run.py)
    study = Study.prepare(_config(algorithm="tpe", generations=1), None)
    frame = paretorec.tune(study.config).trials
    first = frame.sort_values("trial").head(len(study.baseline_points()))
    assert set(first["model"]) == set(study.space.models())  # each model at its defaults
    assert (first["rerank.diversity"] == 0).all() and (first["rerank.novelty"] == 0).all()


def test_constraints_reach_optunas_sampler(tmp_path, monkeypatch):
    made = []
    setup = TPE.setup
    monkeypatch.setattr(
        TPE, "setup", lambda self, *a, **k: made.append(self) or setup(self, *a, **k)
    )
    config = engine_config(
        constraints=["cost <= 3000"], search={**CONFIG["search"], "algorithm": "tpe"}
    )
    frame = paretorec.tune(config).trials
    (algorithm,) = made
    told = [t.constraints["g0"] for t in algorithm.study.trials]
    assert len(told) == len(frame) == 24
    assert np.allclose(told, frame.sort_values("trial")["val_cost"].to_numpy() - 3000)


def test_without_optuna_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` now fails
    with pytest.raises(ConfigError, match=r"pip install 'paretorec\[tpe\]'"):
        paretorec.tune(_config(algorithm="tpe"), tmp_path / "run")
    assert not list(tmp_path.iterdir())  # checked before the run directory is touched
    search = SearchConfig(algorithm="tpe", population=4, generations=1, seed=0)
    with pytest.raises(ConfigError, match=r"pip install 'paretorec\[tpe\]'"):
        run_problem(TestProblem("zdt1"), search)  # the engine alone says the same
