"""Choosing an operating point from a front, and saying why."""

from paretorec.select.selectors import (
    SELECTORS,
    FrontView,
    Pick,
    Selector,
    build_selector,
    register_selector,
)

__all__ = ["SELECTORS", "FrontView", "Pick", "Selector", "build_selector", "register_selector"]
