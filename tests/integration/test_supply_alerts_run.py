"""A day's alert run end to end on SQLite (the store's statements are tested on both databases in
``test_supply_alerts_store``): the hand-made lake's alerts are saved and sent to a real receiver on
127.0.0.1 once, and running the same day again updates them in place and sends nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.integration.test_supply_alerts_store import (
    FAST,
    NOW,
    PROTECTOR,
    Receiver,
    count,
    hook,
)
from tests.integration.test_supply_alerts_store import receiver as receiver
from tests.unit.supply_alert_chain import AS_OF, EXPECTED, write_alert_chain

from newretail.lake import Lake
from newretail.oltp import make_engine, upgrade
from newretail.oltp.supply_alert_tables import supply_alerts
from newretail.supply.alerts import run_alerts


@pytest.fixture
def oltp(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'oltp.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def test_running_a_day_twice_saves_and_sends_its_alerts_once(
    oltp: Engine, receiver: Receiver, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    write_alert_chain(lake)
    hook(oltp, receiver.url)
    first = run_alerts(lake, "duckdb", oltp, as_of=AS_OF, now=NOW, protector=PROTECTOR, retry=FAST)
    second = run_alerts(lake, "duckdb", oltp, as_of=AS_OF, now=NOW, protector=PROTECTOR, retry=FAST)
    assert (first.new, first.updated, first.queued) == (5, 0, 5)
    assert first.sent is not None and first.sent.delivered == 5
    assert first.by_kind == {"stockout": 2, "late_delivery": 1, "short_delivery": 1, "expiring": 1}
    assert (second.new, second.updated, second.resolved) == (0, 5, 0)
    assert second.sent is not None and second.sent.delivered == 0
    assert sorted(b["alert"]["key"] for b in receiver.bodies()) == sorted(EXPECTED)
    assert count(oltp, supply_alerts) == 5
