"""Choosing an operating point from a front, and saying why."""
