"""Keyed-hash pseudonyms for the user ids paretorec writes (``recommend --pseudonymize``).

HMAC-SHA256 keyed with a secret salt file: the same id and salt always give the same
pseudonym (lists can be joined across runs that share the salt), and without the salt a
pseudonym cannot be recomputed from a guessed id, as a plain hash of a small id space can.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path

from paretorec.errors import ConfigError

MIN_SALT_BYTES = 16  # 128 bits: below that a salt can be guessed along with the ids


def load_salt(path: str | Path) -> bytes:
    """The salt file's bytes; ConfigError (one line) when missing, unreadable or short."""
    try:
        salt = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"--pseudonymize {path}: cannot read the salt file ({exc.strerror})"
        ) from None
    if len(salt) < MIN_SALT_BYTES:
        raise ConfigError(
            f"--pseudonymize {path}: the salt file holds {len(salt)} bytes, at least "
            f"{MIN_SALT_BYTES} random bytes are needed; make one with "
            "`head -c 32 /dev/urandom > salt.key`"
        )
    return salt


def pseudonymize(ids: Iterable[object], salt: bytes) -> list[str]:
    """``hmac-sha256(salt, str(id))`` in hex for each id, in order."""
    return [hmac.new(salt, str(i).encode(), hashlib.sha256).hexdigest() for i in ids]
