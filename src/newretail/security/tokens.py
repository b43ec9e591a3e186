"""High-entropy secrets for keys and sessions, and the SHA-256 digests that are all the database keeps."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32


def new_secret() -> str:
    """A url-safe random secret (256 bits): guessing it is hopeless, so a fast hash is enough."""
    return secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    """SHA-256 hex of ``secret``: what is stored and looked up instead of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented secret with a stored digest."""
    return hmac.compare_digest(digest(secret), stored_digest)
