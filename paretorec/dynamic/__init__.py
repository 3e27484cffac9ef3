"""Operating points over time: is a chosen point still good on new data?"""

from paretorec.dynamic.check import CheckResult, check_run

__all__ = ["CheckResult", "check_run"]
