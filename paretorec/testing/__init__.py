"""What plug-in authors test with: the contract checks every registered plug-in passes."""

from paretorec.testing.contracts import (
    check_algorithm,
    check_metric,
    check_model,
    check_selector,
    check_term,
    fixture_dataset,
)

__all__ = [
    "check_algorithm",
    "check_metric",
    "check_model",
    "check_selector",
    "check_term",
    "fixture_dataset",
]
