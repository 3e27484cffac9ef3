"""Privacy: per-user contribution bounding and differentially private counts (OpenDP's
mechanisms), and keyed-hash pseudonyms for the ids paretorec writes out.

The privacy unit is a user: neighbouring datasets differ by one user's whole history. What is
protected and what is not is in the README's "Privacy" section.
"""

from paretorec.privacy.bounding import bound_contributions
from paretorec.privacy.mechanisms import (
    EPSILON_CAP,
    discrete_laplace_variance,
    laplace_scale,
    noisy_counts,
)
from paretorec.privacy.pseudonymize import MIN_SALT_BYTES, load_salt, pseudonymize

__all__ = [
    "EPSILON_CAP",
    "MIN_SALT_BYTES",
    "bound_contributions",
    "discrete_laplace_variance",
    "laplace_scale",
    "load_salt",
    "noisy_counts",
    "pseudonymize",
]
