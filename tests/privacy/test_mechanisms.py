"""The noise is what the mechanism says it is; ε = ∞ adds none; pseudonyms are HMAC-SHA256.

OpenDP cannot be seeded (README, "Privacy"), so the noise tests are statistical: the
tolerances are 6 standard errors of the estimate at the sample size used, a false alarm
about once in 10^8 runs. A mechanism off by a factor of sqrt(2) (a Laplace calibrated to the
wrong sensitivity) moves the variance by 100 %, the tolerance is 3 %.
"""

import hashlib
import hmac
import math

import numpy as np
import pytest

from paretorec.errors import ConfigError
from paretorec.privacy import (
    MIN_SALT_BYTES,
    discrete_laplace_variance,
    laplace_scale,
    load_salt,
    noisy_counts,
    pseudonymize,
)

N = 100_000  # draws per setting (0.7 s of OpenDP sampling each)


@pytest.mark.parametrize(("sensitivity", "epsilon"), [(3, 0.5), (3, 1.0), (10, 4.0)])
def test_noise_variance_is_the_calibrated_laplaces(sensitivity, epsilon):
    scale = laplace_scale(sensitivity, epsilon)
    assert scale == pytest.approx(sensitivity / epsilon, rel=1e-9)  # b = Δ/ε
    counts = np.full(N, 7, dtype=np.int64)
    noise = (noisy_counts(counts, sensitivity, epsilon) - counts).astype(np.float64)
    variance = discrete_laplace_variance(scale)
    # sample variance: standard error sigma^2 sqrt((kurtosis - 1) / n), kurtosis 6 (Laplace)
    assert abs(noise.var() / variance - 1) < 6 * math.sqrt(5 / N)
    assert abs(noise.mean()) < 6 * math.sqrt(variance / N)
    assert np.array_equal(noise, np.round(noise))  # integer noise: no floating-point leak


def test_variance_formula_against_the_pmf():
    # the oracle of the test above, checked against a direct sum of the pmf
    b = 2.5
    x = np.arange(-400, 401)
    pmf = np.exp(-np.abs(x) / b)
    pmf /= pmf.sum()
    assert discrete_laplace_variance(b) == pytest.approx(float((pmf * x**2).sum()), rel=1e-12)


def test_infinite_epsilon_adds_no_noise_and_a_release_is_kept():
    counts = np.arange(1000, dtype=np.int64)
    assert np.array_equal(noisy_counts(counts, 5, math.inf), counts)
    first = noisy_counts(counts, 5, 0.3)
    assert not np.array_equal(first, counts)
    # the same query again in this process is the same release (no second draw to compose)
    assert np.array_equal(noisy_counts(counts, 5, 0.3), first)


def test_pseudonyms_are_hmac_sha256():
    # RFC 4231, test case 2
    assert pseudonymize(["what do ya want for nothing?"], b"Jefe") == [
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    ]
    salt = bytes(range(32))
    got = pseudonymize([1, "user-7"], salt)
    assert got == [hmac.new(salt, s, hashlib.sha256).hexdigest() for s in (b"1", b"user-7")]
    assert pseudonymize([1], salt) != pseudonymize([1], salt[::-1])


def test_a_short_or_missing_salt_is_refused(tmp_path):
    short = tmp_path / "salt"
    short.write_bytes(b"x" * (MIN_SALT_BYTES - 1))
    with pytest.raises(ConfigError, match="holds 15 bytes, at least 16"):
        load_salt(short)
    with pytest.raises(ConfigError, match="cannot read the salt file"):
        load_salt(tmp_path / "none")
    short.write_bytes(b"y" * MIN_SALT_BYTES)
    assert load_salt(short) == b"y" * MIN_SALT_BYTES


def test_noise_beyond_32_bit_integers_is_refused_in_one_line():
    with pytest.raises(ConfigError, match="do not fit OpenDP's 32-bit integers") as info:
        noisy_counts(np.zeros(3, dtype=np.int64), 2_000_000, 0.01)
    assert "\n" not in str(info.value) and "max_items" in str(info.value)
