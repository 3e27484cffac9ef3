"""paretorec: multi-objective tuning of recommenders, from interactions to an exported point."""

__version__ = "0.1.0"
