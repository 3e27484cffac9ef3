"""Reading runs back: the run view, and stakeholder plots."""

from paretorec.report.runview import CHOSEN, PLOTS, RunView

__all__ = ["CHOSEN", "PLOTS", "RunView"]
