from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.unit.sim.files import csv_rows, jsonl_rows, truth


def test_memberships_belong_to_identity_records_of_their_own_source(chain: Path) -> None:
    uids = {r["uid"] for r in jsonl_rows(chain, "app/users/*.jsonl")}
    app = jsonl_rows(chain, "app/memberships/*.jsonl")
    assert app and {r["uid"] for r in app} <= uids
    followers = {r["openid"] for r in jsonl_rows(chain, "wechat/followers/*.jsonl")}
    cards = jsonl_rows(chain, "wechat/member_cards/*.jsonl")
    assert cards and {r["openid"] for r in cards} <= followers
    pos_cards = {r["card_no"] for r in csv_rows(chain, "pos/members/*.csv", "gbk")}
    pos = csv_rows(chain, "pos/member_cards/*.csv", "gbk")
    assert pos and {r["card_no"] for r in pos} <= pos_cards


def test_paid_members_have_an_expiry_a_year_on_and_free_ones_none(chain: Path) -> None:
    app = jsonl_rows(chain, "app/memberships/*.jsonl")
    plus = [r for r in app if r["plan"] == "PLUS"]
    assert plus, "no paid annual membership"
    for r in app:
        assert (r["expire_date"] is not None) == (r["plan"] == "PLUS")
        assert (r["points"] is None) == (r["plan"] == "PLUS")
    for r in plus:
        bought = dt.datetime.fromisoformat(r["updated_at"]).date()
        expires = dt.date.fromisoformat(r["expire_date"])
        assert dt.timedelta(days=364) <= expires - bought <= dt.timedelta(days=365)
    fees = {(t["currency"], t["fee_minor"]) for t in truth(chain, "paid_memberships")}
    assert fees <= {("CNY", 19_900), ("SGD", 5_990)}


def test_versions_keep_points_non_negative_and_levels_never_fall(chain: Path) -> None:
    order = ("BRONZE", "SILVER", "GOLD")
    seen: dict[str, int] = {}
    rows = [r for r in jsonl_rows(chain, "app/memberships/*.jsonl") if r["plan"] == "MEMBER"]
    assert len({r["member_no"] for r in rows}) < len(rows), "no membership changed"
    for r in sorted(rows, key=lambda r: r["updated_at"]):
        assert r["points"] >= 0
        level = order.index(r["grade"])
        assert level >= seen.get(r["member_no"], 0)
        seen[r["member_no"]] = level
