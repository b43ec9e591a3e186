from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from tests.unit.sim.files import jsonl_rows


def _stamp(value: Any) -> float:
    if isinstance(value, int):
        return value / 1000
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def test_message_ids_are_unique_and_users_are_records_of_their_source(chain: Path) -> None:
    for source, users, key in (("app", "users", "uid"), ("mini_program", "users", "openid")):
        events = jsonl_rows(chain, f"{source}/events/*.jsonl")
        assert events
        ids = [e["messageId"] for e in events]
        assert len(ids) == len(set(ids))
        records = {r[key] for r in jsonl_rows(chain, f"{source}/{users}/*.jsonl")}
        assert {e["userId"] for e in events if e["userId"]} <= records
        assert {e["type"] for e in events} <= {"track", "page", "screen", "identify"}


def test_events_precede_the_order_they_lead_to_and_not_every_visit_buys(chain: Path) -> None:
    for source, order_key, time_key in (
        ("app", "order_id", "placed_at"),
        ("mini_program", "out_trade_no", "create_ts"),
    ):
        placed = {
            o[order_key]: _stamp(o[time_key]) for o in jsonl_rows(chain, f"{source}/orders/*.jsonl")
        }
        events = jsonl_rows(chain, f"{source}/events/*.jsonl")
        sessions: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            sessions.setdefault(e["properties"]["session_id"], []).append(e)
        bought = 0
        for visit in sessions.values():
            done = [e for e in visit if e["event"] == "Order Completed"]
            if not done:
                continue
            bought += 1
            at = placed[done[0]["properties"]["order_id"]]
            assert _stamp(done[0]["timestamp"]) == at
            assert all(_stamp(e["timestamp"]) < at for e in visit if e is not done[0])
        assert bought == len(placed)
        visits = sum(1 for v in sessions.values() if v[0]["type"] != "identify")
        assert 0.6 < bought / visits < 0.95
        per_order = Counter(e["properties"]["session_id"] for e in events)
        funnel = [per_order[s] for s, v in sessions.items() if v[-1]["event"] == "Order Completed"]
        assert 2 <= sum(funnel) / len(funnel) <= 4
