"""The error taxonomy: every failure a user can cause is a ParetoRecError with a one-line message.

The CLI prints ``str(error)`` and exits 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class ParetoRecError(Exception):
    """Base of every error caused by input, configuration or data rather than by a bug."""


class ConfigError(ParetoRecError, ValueError):
    """An experiment config, a CLI option or a parameter value breaks a stated invariant."""


class MissingExtraError(ConfigError):
    """An optional dependency is not installed: about this machine, not about a config file."""


class DataError(ParetoRecError):
    """A dataset is missing, unreadable, or does not have the shape the loader needs."""


class UnknownNameError(ParetoRecError, KeyError):
    """A registry lookup used a name that is not registered."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class DataWarning(UserWarning):
    """Something in the data was excluded or could not be scored; the numbers say how much."""


class ConfigWarning(UserWarning):
    """A config that runs but probably does not do what was meant (the line says what)."""
