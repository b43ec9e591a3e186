"""Password hashing and the session-bound CSRF token: pure functions."""

from __future__ import annotations

import pytest

from newretail.errors import InvalidInput
from newretail.security import passwords
from newretail.security.sessions import csrf_token
from newretail.security.tokens import digest, matches, new_secret


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    stored = passwords.hash_password("correct horse battery staple")
    assert passwords.verify_password("correct horse battery staple", stored)
    assert not passwords.verify_password("correct horse battery stapl", stored)
    assert not passwords.verify_password("", stored)


def test_salts_differ_per_hash() -> None:
    first, second = (passwords.hash_password("same password here") for _ in range(2))
    assert first != second
    assert first.split("$")[:4] == ["scrypt", "16384", "8", "1"]


@pytest.mark.parametrize("stored", ["", "bcrypt$x", "scrypt$1$2$3$!!$!!", "scrypt$16384$8$1$abc"])
def test_malformed_hashes_never_verify(stored: str) -> None:
    assert not passwords.verify_password("anything at all", stored)


@pytest.mark.parametrize("password", ["short", "x" * (passwords.MAX_LENGTH + 1)])
def test_the_policy_refuses_bad_lengths(password: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        passwords.check_policy(password)
    assert caught.value.code == "users.weak_password"


def test_generated_passwords_pass_the_policy_and_differ() -> None:
    generated = {passwords.generate_password() for _ in range(20)}
    assert len(generated) == 20
    for password in generated:
        passwords.check_policy(password)


def test_secrets_and_digests() -> None:
    secret = new_secret()
    assert len(secret) >= 43 and matches(secret, digest(secret))
    assert not matches(secret + "x", digest(secret))


def test_csrf_tokens_are_stable_per_session_and_differ_between_sessions() -> None:
    first, second = new_secret(), new_secret()
    assert csrf_token(first) == csrf_token(first)
    assert csrf_token(first) != csrf_token(second)
    assert first not in csrf_token(first)
