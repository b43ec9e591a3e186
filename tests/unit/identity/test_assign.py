"""Stable person ids: kept across runs, the larger side of a merge keeps its id, a split-off part gets
a new one, and new ids are derived from the founding record (the same on every re-run)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.identity.assign import assign_persons, derived_person_id


def _records(n: int) -> pa.Table:
    return pa.table(
        {
            "record_key": pa.array(range(n), pa.int64()),
            "source": pa.array(["app"] * n),
            "source_record_id": pa.array([f"r{i}" for i in range(n)]),
        }
    )


def _previous(pairs: dict[int, str]) -> pa.Table:
    return pa.table(
        {
            "source": pa.array(["app"] * len(pairs)),
            "source_record_id": pa.array([f"r{k}" for k in pairs]),
            "person_id": pa.array(list(pairs.values())),
        }
    )


def test_a_first_run_derives_ids_from_founding_records() -> None:
    result = assign_persons(_records(3), np.array([0, 0, 2]), _previous({}), set())
    first, third = derived_person_id("app", "r0"), derived_person_id("app", "r2")
    assert result.person_id.to_pylist() == [first, first, third]
    assert sorted(result.new_persons) == sorted([first, third])
    assert result.moves == [] and result.retired == {}


def test_ids_survive_and_new_records_join_existing_persons() -> None:
    previous = _previous({0: "PA", 1: "PA", 2: "PB"})
    result = assign_persons(_records(4), np.array([0, 0, 2, 2]), previous, {"PA", "PB"})
    assert result.person_id.to_pylist() == ["PA", "PA", "PB", "PB"]
    assert result.new_persons == [] and result.moves == []


def test_a_merge_keeps_the_larger_persons_id_and_retires_the_other() -> None:
    previous = _previous({0: "PA", 1: "PA", 2: "PB"})
    result = assign_persons(_records(3), np.array([0, 0, 0]), previous, {"PA", "PB"})
    assert result.person_id.to_pylist() == ["PA", "PA", "PA"]
    assert result.retired == {"PB": "PA"}
    assert [(m.kind, m.person_id, m.other_person_id, m.records) for m in result.moves] == [
        ("merge", "PA", "PB", [("app", "r2")])
    ]


def test_a_split_keeps_the_id_on_the_larger_part() -> None:
    previous = _previous({0: "PA", 1: "PA", 2: "PA"})
    result = assign_persons(_records(3), np.array([0, 0, 2]), previous, {"PA"})
    new = derived_person_id("app", "r2")
    assert result.person_id.to_pylist() == ["PA", "PA", new]
    assert result.new_persons == [new]
    assert [(m.kind, m.other_person_id) for m in result.moves] == [("split", "PA")]


def test_a_derived_id_already_issued_is_never_reused() -> None:
    taken = {derived_person_id("app", "r0")}
    result = assign_persons(_records(1), np.array([0]), _previous({}), taken)
    assert result.person_id.to_pylist() == [derived_person_id("app", "r0", 1)]
