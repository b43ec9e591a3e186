"""Idempotency keys: a retry replays, a reused key with another request conflicts, and of concurrent
duplicates exactly one proceeds."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine

from newretail.errors import Conflict, InvalidInput
from newretail.oltp import idempotency
from newretail.oltp.idempotency import Proceed, Replay, request_fingerprint
from newretail.oltp.tables import idempotency_keys

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
CREATE = request_fingerprint(method="POST", path="/v1/audiences", body=b'{"name": "vip"}')
OTHER = request_fingerprint(method="POST", path="/v1/audiences", body=b'{"name": "lapsed"}')


@dataclass(frozen=True)
class Caller:
    actor: str


def fresh_key() -> str:
    return str(uuid.uuid4())


def test_first_call_proceeds_and_a_retry_replays_the_response(migrated_engine: Engine) -> None:
    key, caller = fresh_key(), Caller("user:1")
    with migrated_engine.begin() as conn:
        claim = idempotency.begin(conn, key=key, principal=caller, fingerprint=CREATE, now=NOW)
        assert isinstance(claim, Proceed)
        idempotency.complete(conn, claim=claim, status_code=201, body=b'{"id": 7}', now=NOW)
    with migrated_engine.begin() as conn:
        again = idempotency.begin(conn, key=key, principal=caller, fingerprint=CREATE, now=NOW)
    assert again == Replay(status_code=201, body=b'{"id": 7}')


def test_the_same_key_with_another_request_is_a_conflict(migrated_engine: Engine) -> None:
    key, caller = fresh_key(), Caller("user:1")
    with migrated_engine.begin() as conn:
        claim = idempotency.begin(conn, key=key, principal=caller, fingerprint=CREATE, now=NOW)
        assert isinstance(claim, Proceed)
        idempotency.complete(conn, claim=claim, status_code=201, body=b"{}", now=NOW)
    with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
        idempotency.begin(conn, key=key, principal=caller, fingerprint=OTHER, now=NOW)
    assert caught.value.code == "idempotency.key_reused"


def test_keys_belong_to_their_principal(migrated_engine: Engine) -> None:
    key = fresh_key()
    with migrated_engine.begin() as conn:
        first = idempotency.begin(
            conn, key=key, principal=Caller("user:1"), fingerprint=CREATE, now=NOW
        )
        second = idempotency.begin(
            conn, key=key, principal=Caller("user:2"), fingerprint=OTHER, now=NOW
        )
    assert isinstance(first, Proceed) and isinstance(second, Proceed)


def test_a_claim_committed_without_a_response_is_in_progress(migrated_engine: Engine) -> None:
    key, caller = fresh_key(), Caller("user:3")
    with migrated_engine.begin() as conn:
        idempotency.begin(conn, key=key, principal=caller, fingerprint=CREATE, now=NOW)
    with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
        idempotency.begin(conn, key=key, principal=caller, fingerprint=CREATE, now=NOW)
    assert caught.value.code == "idempotency.in_progress"


def test_a_rolled_back_claim_lets_the_retry_proceed(migrated_engine: Engine) -> None:
    key, caller = fresh_key(), Caller("user:4")
    with pytest.raises(RuntimeError), migrated_engine.begin() as conn:
        idempotency.begin(conn, key=key, principal=caller, fingerprint=CREATE, now=NOW)
        raise RuntimeError("the work failed")
    with migrated_engine.begin() as conn:
        retry = idempotency.begin(conn, key=key, principal=caller, fingerprint=CREATE, now=NOW)
    assert isinstance(retry, Proceed)


@pytest.mark.parametrize("key", ["", "x" * 256, "line\nbreak"])
def test_malformed_keys_are_refused(migrated_engine: Engine, key: str) -> None:
    with pytest.raises(InvalidInput) as caught, migrated_engine.begin() as conn:
        idempotency.begin(conn, key=key, principal=Caller("user:1"), fingerprint=CREATE, now=NOW)
    assert caught.value.code == "idempotency.bad_key"


def test_concurrent_duplicates_exactly_one_proceeds(migrated_engine: Engine) -> None:
    """Several threads, each on its own connection, send the same key at once; each holds its
    transaction open a moment after claiming, so the others really do meet an uncommitted claim."""
    key, caller, workers = fresh_key(), Caller("user:5"), 4
    start = threading.Barrier(workers)
    outcomes: list[Proceed | Replay | BaseException] = []
    lock = threading.Lock()

    def request() -> None:
        start.wait()
        try:
            with migrated_engine.begin() as conn:
                outcome = idempotency.begin(
                    conn, key=key, principal=caller, fingerprint=CREATE, now=NOW
                )
                if isinstance(outcome, Proceed):
                    threading.Event().wait(0.3)
                    idempotency.complete(
                        conn, claim=outcome, status_code=201, body=b"done", now=NOW
                    )
        except BaseException as error:
            outcome = error  # type: ignore[assignment]
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=request) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == workers
    assert sum(isinstance(o, Proceed) for o in outcomes) == 1, outcomes
    assert [o for o in outcomes if not isinstance(o, Proceed)] == [Replay(201, b"done")] * (
        workers - 1
    )
    with migrated_engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(idempotency_keys).where(idempotency_keys.c.key == key)
        ).scalar_one()
    assert count == 1


def test_purge_forgets_old_keys(migrated_engine: Engine) -> None:
    key, caller = fresh_key(), Caller("user:6")
    old = NOW - dt.timedelta(days=30)
    with migrated_engine.begin() as conn:
        idempotency.begin(conn, key=key, principal=caller, fingerprint=CREATE, now=old)
        assert idempotency.purge(conn, before=NOW - dt.timedelta(days=1)) >= 1
        again = idempotency.begin(conn, key=key, principal=caller, fingerprint=OTHER, now=NOW)
    assert isinstance(again, Proceed)
