"""The deterministic ID graph on hand-made records: shared identifiers link, hubs and family phones
are demoted, a family's phone still links each member's own records, un-merged sets stay apart."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from newretail.identity.graph import build_graph, components
from newretail.identity.records import RecordSet
from newretail.identity.rules import IdentifierRule, IdentityRules

D = dt.date


def _records(rows: list[dict[str, object]]) -> RecordSet:
    base = {"name": None, "gender": None, "birthday": None, "city": None}
    full = [{**base, **row, "record_key": i} for i, row in enumerate(rows)]
    records = pa.Table.from_pylist(
        full,
        schema=pa.schema(
            [
                ("record_key", pa.int64()),
                ("name", pa.string()),
                ("gender", pa.string()),
                ("birthday", pa.date32()),
                ("city", pa.string()),
            ]
        ),
    )
    ids = [
        {"record_key": i, "kind": kind, "value": value}
        for i, row in enumerate(rows)
        for kind, value in row.get("ids", {}).items()  # type: ignore[attr-defined]
    ]
    identifiers = pa.Table.from_pylist(
        ids,
        schema=pa.schema(
            [("record_key", pa.int64()), ("kind", pa.string()), ("value", pa.string())]
        ),
    )
    return RecordSet(records, identifiers)


def test_shared_identifiers_link_records_and_say_which() -> None:
    records = _records(
        [
            {"name": "王芳", "birthday": D(1990, 1, 2), "ids": {"phone": "p1"}},
            {"name": "王芳", "ids": {"phone": "p1", "unionid": "u1"}},
            {"name": "王芳", "ids": {"unionid": "u1"}},
            {"name": "李雷", "ids": {"phone": "p2"}},
        ]
    )
    graph = build_graph(records, IdentityRules())
    assert graph.cluster.tolist() == [0, 0, 0, 3]
    assert graph.linked_by.to_pylist() == ["phone", "phone+unionid", "unionid", ""]
    assert graph.has_contact.tolist() == [True, True, True, True]
    assert graph.demoted.num_rows == 0


def test_a_hub_number_is_demoted_and_links_nobody() -> None:
    rules = IdentityRules(identifiers=(IdentifierRule("phone", "phone_hash", 3, False),))
    records = _records([{"name": f"顾客{i}", "ids": {"phone": "hub"}} for i in range(4)])
    graph = build_graph(records, rules)
    assert graph.demoted.to_pylist() == [
        {"kind": "phone", "value": "hub", "reason": "fanout", "records": 4}
    ]
    assert len(set(graph.cluster.tolist())) == 4
    assert not graph.has_contact.any()


def test_a_family_phone_is_demoted_but_links_each_members_own_records() -> None:
    records = _records(
        [
            {"name": "张伟", "birthday": D(1980, 5, 1), "gender": "M", "ids": {"phone": "f"}},
            {"name": "张伟", "gender": "M", "ids": {"phone": "f"}},
            {"name": "刘敏", "birthday": D(1982, 7, 9), "gender": "F", "ids": {"phone": "f"}},
            {"name": "刘敏", "birthday": D(1982, 7, 9), "ids": {"phone": "f"}},
        ]
    )
    graph = build_graph(records, IdentityRules())
    assert graph.demoted["reason"].to_pylist() == ["conflict"]
    assert graph.cluster.tolist() == [0, 0, 2, 2]


def test_a_set_kept_apart_is_cut_from_the_rest_of_its_component() -> None:
    a = np.array([0, 1, 2])
    b = np.array([1, 2, 3])
    assert components(4, [(a, b)]).tolist() == [0, 0, 0, 0]
    assert components(4, [(a, b)], apart=[np.array([2, 3])]).tolist() == [0, 0, 2, 2]


def test_a_father_and_son_on_one_phone_stay_apart_when_one_record_lacks_a_birthday() -> None:
    records = _records(
        [
            {"name": "王建国", "birthday": D(1965, 3, 1), "gender": "M", "ids": {"phone": "f"}},
            {"name": "王小明", "gender": "M", "ids": {"phone": "f"}},
            {"name": "刘芳", "birthday": D(1967, 4, 2), "gender": "F", "ids": {"phone": "f"}},
        ]
    )
    graph = build_graph(records, IdentityRules())
    assert graph.demoted["reason"].to_pylist() == ["conflict"]
    assert graph.cluster.tolist() == [0, 1, 2]


def test_sisters_with_one_character_names_on_one_phone_stay_apart_by_city() -> None:
    # As on the 1M chain: 孟艳's POS card and her sister 孟子's mini-program account carry the
    # family's phone. One-character given names leave only the surname as a stem, the genders
    # agree and one record has no birthday: only the cities show two people.
    records = _records(
        [
            {
                "name": "孟艳",
                "birthday": D(1984, 12, 16),
                "gender": "F",
                "city": "上海",
                "ids": {"phone": "f"},
            },
            {"name": "孟子", "gender": "F", "city": "深圳", "ids": {"phone": "f"}},
            {"name": "孟子", "gender": "F", "city": "深圳", "ids": {"phone": "f", "unionid": "u"}},
        ]
    )
    graph = build_graph(records, IdentityRules())
    assert graph.demoted["reason"].to_pylist() == ["conflict"]
    # The sister's own two records still share the phone and agree on everything.
    assert graph.cluster.tolist() == [0, 1, 1]
    assert graph.has_contact.tolist() == [False, True, True]


def test_one_persons_records_in_one_city_keep_their_phone() -> None:
    records = _records(
        [
            {"name": "孟艳", "birthday": D(1984, 12, 16), "city": "上海", "ids": {"phone": "p"}},
            {"name": "孟子", "gender": "F", "city": "上海", "ids": {"phone": "p"}},
        ]
    )
    graph = build_graph(records, IdentityRules())
    # A one-character typo (艳 -> 子) in one city is still one person.
    assert graph.demoted.num_rows == 0
    assert graph.cluster.tolist() == [0, 0]
