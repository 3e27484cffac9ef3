"""Operating points: the exported config, the recommender it reloads into, and its evaluation."""

from paretorec.export.point import OperatingPoint, load_point, save_point
from paretorec.export.recommender import Recommender, point_pipeline, recommender

__all__ = [
    "OperatingPoint",
    "Recommender",
    "load_point",
    "point_pipeline",
    "recommender",
    "save_point",
]
