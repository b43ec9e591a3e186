"""One person's tag values from the latest refresh: typed as the tags are, in catalogue order, only
tags the refresh computed and the catalogue defines, nothing before the first refresh."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from newretail.lake import Lake
from newretail.tags.catalogue import Catalogue
from newretail.tags.values import person_tags

AS_OF = dt.date(2026, 4, 30)


def publish(lake: Lake, table: pa.Table, *, as_of: dt.date = AS_OF) -> None:
    """A person-tag refresh as ``refresh_tags`` publishes it: the Parquet file, then the manifest."""
    path = lake.partition_file("ads", "person_tags", {"as_of": as_of})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=2)
    manifest = {
        "entity": "person",
        "as_of": as_of.isoformat(),
        "path": str(path.relative_to(lake.root)),
        "rows": table.num_rows,
        "tag_ids": [name for name in table.column_names if name != "person_id"],
        "domains": {},
        "refreshed_at": "2026-05-01T03:00:00+00:00",
        "seconds": 1.0,
    }
    target = lake.table_dir("ads", "person_tags") / "manifest.json"
    target.write_text(json.dumps(manifest), encoding="utf-8")


TABLE = pa.table(
    {
        "person_id": ["P1", "P2", "P3", "P4", "P5"],
        # Out of catalogue order on purpose: the answer follows the catalogue.
        "orders_total": pa.array([3, 0, None, 7, 1], pa.int64()),
        "gender": ["F", None, "M", "U", "F"],
        "consent_sms": [True, False, None, True, False],
        "last_order_date": pa.array(
            [dt.date(2026, 4, 1), None, None, dt.date(2026, 3, 3), None], pa.date32()
        ),
        "not_a_known_tag": [1, 2, 3, 4, 5],
    }
)


def test_nothing_before_the_first_refresh(tmp_path: Path) -> None:
    assert person_tags(Lake(tmp_path / "lake"), "P1") is None


def test_one_persons_values_typed_in_catalogue_order(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    publish(lake, TABLE)
    found = person_tags(lake, "P4")
    assert found is not None
    as_of, values = found
    assert as_of == AS_OF
    order = list(Catalogue.shipped().tag_ids())
    ids = [spec.id for spec, _ in values]
    assert ids == sorted(ids, key=order.index)
    assert {spec.id: value for spec, value in values} == {
        "orders_total": 7,
        "gender": "U",
        "consent_sms": True,
        "last_order_date": dt.date(2026, 3, 3),
    }


def test_missing_values_are_none_and_an_unknown_person_is_empty(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    publish(lake, TABLE)
    found = person_tags(lake, "P3")
    assert found is not None
    assert {spec.id: value for spec, value in found[1]}["orders_total"] is None
    assert person_tags(lake, "P9") == (AS_OF, [])


def test_a_users_tag_is_read_when_the_catalogue_has_it(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    base = Catalogue.shipped().tag("orders_total")
    assert base is not None
    spec = replace(base, id="not_a_known_tag", owner="user:1")
    publish(lake, TABLE)
    found = person_tags(lake, "P2", catalogue=Catalogue.shipped().with_tags([spec]))
    assert found is not None
    assert {s.id: v for s, v in found[1]}["not_a_known_tag"] == 2
