"""Explanations: which knob moves which objective (surrogate importances and partial
dependence), and why a recommender picked its items (``paretorec.explain.items``)."""

from paretorec.explain.knobs import (
    KnobAnalysis,
    analyse_knobs,
    knob_importance,
    partial_dependence_figure,
)

__all__ = ["KnobAnalysis", "analyse_knobs", "knob_importance", "partial_dependence_figure"]
