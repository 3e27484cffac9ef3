"""Every registered plug-in passes its kind's contract: the lists come from the registries, so
a plug-in is tested the moment it is registered (``paretorec.testing`` holds the checks)."""

import pytest

from paretorec.metrics import METRICS
from paretorec.models import MODELS
from paretorec.optimize import ALGORITHMS
from paretorec.rerank import TERMS
from paretorec.select import SELECTORS
from paretorec.testing import (
    check_algorithm,
    check_metric,
    check_model,
    check_selector,
    check_term,
)


@pytest.mark.parametrize("name", MODELS.available())
def test_model_contract(name):
    check_model(name)


@pytest.mark.parametrize("name", TERMS.available())
def test_term_contract(name):
    check_term(name)


@pytest.mark.parametrize("name", METRICS.available())
def test_metric_contract(name):
    check_metric(name)


@pytest.mark.parametrize("name", SELECTORS.available())
def test_selector_contract(name):
    check_selector(name)


@pytest.mark.parametrize("name", ALGORITHMS.available())
def test_algorithm_contract(name):
    check_algorithm(name)
