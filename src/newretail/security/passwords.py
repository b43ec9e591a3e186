"""Console passwords: scrypt with a per-user salt, a constant-time check, and generated passwords."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets

from newretail.errors import InvalidInput

# scrypt cost: 16 MiB and roughly 50 ms per check; the parameters travel with each hash so they can
# be raised later without invalidating stored ones.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32
_MAXMEM = 64 * 1024 * 1024
MIN_LENGTH = 12
# A bound keeps a megabyte "password" from costing a megabyte of scrypt input per attempt.
MAX_LENGTH = 1024


def check_policy(password: str) -> None:
    """Raise :class:`InvalidInput` ``users.weak_password`` for a password too short (or too long)."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            "users.weak_password",
            f"a password needs {MIN_LENGTH} to {MAX_LENGTH} characters",
            field="password",
        )


def generate_password() -> str:
    """A random password (about 140 bits) for a new user, shown once."""
    return secrets.token_urlsafe(18)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$key`` with a fresh random salt."""
    salt = os.urandom(_SALT_BYTES)
    key = _scrypt(password, salt, _N, _R, _P)
    return "$".join(("scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` produced ``stored``; the comparison takes the same time either way."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(key)
        actual = _scrypt(password, base64.urlsafe_b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_hash() -> str:
    """A hash to check against when the user is unknown, so that a miss costs as long as a hit."""
    return hash_password(secrets.token_urlsafe(18))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=_MAXMEM
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()
