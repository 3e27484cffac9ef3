"""Reading runs for people: figures and the stakeholder report. Nothing here computes a
result; it renders a ``Result``."""

from paretorec.report.plots import figures, hypervolume_figure, pareto_figure, save

__all__ = ["figures", "hypervolume_figure", "pareto_figure", "save"]
