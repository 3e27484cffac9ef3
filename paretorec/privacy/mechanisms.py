"""Differentially private counts: OpenDP's discrete Laplace mechanism over a vector of counts.

Why OpenDP (measured on this project's machine, README "Privacy"): its mechanisms sample
exactly (no floating-point Laplace, whose low bits leak the true value, Mironov 2012) and its
privacy maps do the calibration; diffprivlib 0.6.6, the other maintained choice, does not
import with scikit-learn 1.9 and noises one scalar per Python call. OpenDP draws from the
operating system's randomness and cannot be seeded, by design: a seed recorded in run.json
would let anyone subtract the noise. So that a model fits the same way twice in a process (the
model contract, the pipeline's cache), each release is kept per (counts, sensitivity, ε):
handing out the same noisy counts again costs no privacy, drawing new ones would.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from functools import cache
from typing import Any

import numpy as np

from paretorec.errors import ConfigError

# privacy_epsilon reports min(ε, EPSILON_CAP): a non-private model is "ε = ∞", recorded as the
# cap so results stay finite numbers (JSON, hypervolume). At ε = 100 the bound e^ε on how much
# one user can change any outcome's probability says nothing, so nothing is lost by the cap.
EPSILON_CAP = 100.0

_I32 = 2**31 - 1
_RELEASES: OrderedDict[tuple, np.ndarray] = OrderedDict()
_RELEASES_KEPT = 8  # ML-100k's pair counts are 11 MB a release
_LOCK = threading.Lock()


@cache
def _opendp() -> Any:
    import opendp.prelude as dp  # imported on first use: 0.3 s, and only DP models need it

    dp.enable_features("contrib")  # OpenDP's gate for mechanisms outside its vetted core
    return dp


def _space(dp: Any) -> tuple[Any, Any]:
    return dp.vector_domain(dp.atom_domain(T="i32")), dp.l1_distance(T="i32")


@cache
def laplace_scale(sensitivity: int, epsilon: float) -> float:
    """The smallest discrete-Laplace scale OpenDP certifies ε-DP for an L1 sensitivity:
    ``sensitivity / epsilon`` up to the rounding OpenDP's privacy map accounts for."""
    dp = _opendp()
    space = _space(dp)
    return float(
        dp.binary_search_param(
            lambda s: space >> dp.m.then_laplace(scale=s), d_in=int(sensitivity), d_out=epsilon
        )
    )


def discrete_laplace_variance(scale: float) -> float:
    """Variance of the discrete Laplace with ``P(x) ∝ exp(-|x| / scale)`` (the oracle of the
    noise tests): ``2 e^{-1/b} / (1 - e^{-1/b})^2``, about ``2 b^2`` for large b."""
    q = math.exp(-1.0 / scale)
    return 2.0 * q / (1.0 - q) ** 2


def noisy_counts(counts: np.ndarray, sensitivity: int, epsilon: float) -> np.ndarray:
    """``counts`` plus discrete Laplace noise: an ε-DP release of the vector whenever adding or
    removing one user changes it by at most ``sensitivity`` in L1.

    Args:
        counts: ``(n,)`` non-negative integer counts.
        sensitivity: L1 sensitivity of ``counts`` to one user (the caller derives it).
        epsilon: The privacy loss ε (> 0); ``math.inf`` returns the counts unchanged.

    Returns:
        ``(n,)`` int64 noisy counts (may be negative: clip as post-processing if needed).
        Equal arguments in one process return the same release.
    """
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if math.isinf(epsilon):
        return counts.copy()
    scale = laplace_scale(int(sensitivity), float(epsilon))
    if counts.size and int(np.abs(counts).max()) + 50 * scale > _I32:
        raise ConfigError(
            f"counts up to {int(np.abs(counts).max())} with noise of scale {scale:g} "
            f"(sensitivity {int(sensitivity)}, epsilon={epsilon:g}) do not fit OpenDP's 32-bit "
            "integers; lower the model's max_items or raise its epsilon"
        )
    digest = hashlib.blake2b(counts.tobytes(), digest_size=16).hexdigest()
    key = (digest, counts.size, int(sensitivity), float(epsilon))
    with _LOCK:
        if key in _RELEASES:
            _RELEASES.move_to_end(key)
            return _RELEASES[key].copy()
    dp = _opendp()
    measurement = _space(dp) >> dp.m.then_laplace(scale=scale)
    released = np.asarray(measurement(counts.astype(np.int32)), dtype=np.int64)
    with _LOCK:
        released = _RELEASES.setdefault(key, released)
        _RELEASES.move_to_end(key)
        while len(_RELEASES) > _RELEASES_KEPT:
            _RELEASES.popitem(last=False)
    return released.copy()
