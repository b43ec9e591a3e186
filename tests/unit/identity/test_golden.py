"""Golden-profile survivorship: most trusted source, most recent, most frequent, per field; courtesy
names never win over a real name; consent is the latest stated choice."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pyarrow as pa

from newretail.identity.golden import golden_profiles
from newretail.identity.records import RECORD_SCHEMA
from newretail.identity.rules import IdentityRules

T = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _rows(*rows: dict[str, object]) -> pa.Table:
    full = []
    for i, row in enumerate(rows):
        base: dict[str, object] = {
            "source_record_id": f"r{i}",
            "created_at": T,
            "updated_at": T + dt.timedelta(days=i),
            "business_date": T.date(),
        }
        full.append({**base, **row})
    table = pa.Table.from_pylist(full, schema=RECORD_SCHEMA)
    return table.append_column("person_id", pa.array(["P1"] * len(rows)))


def test_each_field_follows_its_rule() -> None:
    linked = _rows(
        {"source": "app", "name": "陈静", "gender": "F", "city": "上海", "consent_sms": True},
        {"source": "meituan", "name": "陈女士", "city": None, "address": "上海和平路1号"},
        {"source": "pos", "name": "陈晶", "gender": "F", "city": "杭州", "consent_sms": False},
        {"source": "mini_program", "name": "陈静", "gender": "M"},
    )
    golden = golden_profiles(linked, IdentityRules()).to_pylist()[0]
    assert (
        golden["name"] == "陈静"
    )  # most trusted: the app, over the POS typo and the courtesy name
    assert golden["gender"] == "F"  # most frequent
    assert golden["city"] == "杭州"  # most recent non-null
    assert golden["consent_sms"] is False  # the later opt-out wins
    assert golden["records"] == 4
    assert golden["sources"] == ["app", "meituan", "mini_program", "pos"]


def test_rules_are_configurable_per_field() -> None:
    linked = _rows(
        {"source": "app", "name": "陈静"},
        {"source": "pos", "name": "陈晶"},
    )
    rules = replace(IdentityRules(), survivorship={"name": "most_recent"})
    assert golden_profiles(linked, rules).to_pylist()[0]["name"] == "陈晶"
