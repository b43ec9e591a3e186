"""Person tags on a generated chain: every shipped definition runs with plausible values, agrees with
the generator's latent truth, ignores facts after as_of, is published atomically, and gives the same
values on Spark as on DuckDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from tests.integration.spark_session import spark
from tests.integration.tag_chain import TagChain, build_tag_chain, with_truth

from newretail.lake import connect_engine
from newretail.tags.catalogue import Catalogue
from newretail.tags.compute import compute_tags, default_as_of, latest_refresh, refresh_tags
from newretail.tags.lists import TagLists
from newretail.tags.spec import TagSpec

__all__ = ["spark"]  # a fixture

pytestmark = pytest.mark.slow

CATALOGUE = Catalogue.shipped()
SPECS = CATALOGUE.for_entity("person")
# Tags the generator legitimately never or barely produces: it emits only quality refunds, a
# handful of complaints and no low ratings, and few paid memberships reach an end in 200 days.
RARE = {
    "refunds_late_365d",
    "refunds_wrong_item_365d",
    "refunds_cancelled_by_store_365d",
    "refunds_other_365d",
    "low_ratings_365d",
    "has_open_complaint",
    "paid_member_expiring_30d",
    *(
        f"complaints_{c}_365d"
        for c in ("late", "wrong_item", "quality", "service", "hygiene", "other")
    ),
}


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> TagChain:
    return build_tag_chain(tmp_path_factory.mktemp("tags"))


@pytest.fixture(scope="module")
def as_of(chain: TagChain) -> dt.date:
    return default_as_of(chain.lake)


@pytest.fixture(scope="module")
def tags(chain: TagChain, as_of: dt.date) -> pa.Table:
    with connect_engine("duckdb") as engine:
        return compute_tags(chain.lake, engine, CATALOGUE, entity="person", as_of=as_of)


@pytest.fixture(scope="module")
def truth(chain: TagChain, tags: pa.Table) -> Iterator[duckdb.DuckDBPyConnection]:
    con = with_truth(chain, tags)
    yield con
    con.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    rows = con.sql(sql).fetchall()
    assert len(rows) == 1
    return rows[0][0]


def test_one_typed_column_per_tag_and_one_row_per_person(chain: TagChain, tags: pa.Table) -> None:
    persons = pq.ParquetDataset(chain.lake.files("dwd", "persons")).read(columns=["person_id"])
    assert tags.column_names == ["person_id", *(s.id for s in SPECS)]
    for spec in SPECS:
        assert tags.schema.field(spec.id).type == spec.arrow_type, spec.id
    assert tags.num_rows == persons.num_rows
    ids = tags.column("person_id").to_pylist()
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_every_tag_has_values(tags: pa.Table) -> None:
    empty = []
    for spec in SPECS:
        column = tags.column(spec.id)
        if spec.value_type == "number":
            present = pc.sum(pc.not_equal(column, 0)).as_py() or 0
        elif spec.value_type == "bool":
            present = pc.sum(pc.cast(pc.fill_null(column, False), pa.int64())).as_py() or 0
        else:
            present = len(column) - column.null_count
        if present == 0 and spec.id not in RARE:
            empty.append(spec.id)
    assert not empty, f"tags with no value on the chain: {empty}"


def test_values_lie_in_their_ranges(tags: pa.Table) -> None:
    def bounds(tag: str) -> tuple[Any, Any]:
        column = tags.column(tag)
        return pc.min(column).as_py(), pc.max(column).as_py()

    for score in ("recency_score", "frequency_score", "monetary_score"):
        low, high = bounds(score)
        assert (low, high) == (1, 5), score
    for spec in SPECS:
        if spec.value_type == "enum":
            seen = set(pc.unique(tags.column(spec.id)).to_pylist()) - {None}
            # Data-bound domains (store ids, cities) are filled in from the lake at refresh.
            if CATALOGUE.values_from(spec.id) is None:
                assert seen <= set(spec.values), spec.id
        elif spec.unit == "percent" and spec.id != "spend_change_90d":
            low, high = bounds(spec.id)
            assert 0 <= low <= high <= 100, spec.id
        elif spec.unit in ("orders", "minor", "items", "coupons", "events", "stores", "days"):
            low, _ = bounds(spec.id)
            assert low is None or low >= 0 or spec.id == "tenure_days", spec.id
    assert bounds("birthday_month")[0] >= 1 and bounds("birthday_month")[1] <= 12
    assert set(pc.unique(tags.column("currency")).to_pylist()) == {"CNY", "SGD", None}


def test_every_lifecycle_stage_the_chain_can_produce_has_members(tags: pa.Table) -> None:
    counts = {
        row["values"]: row["counts"] for row in pc.value_counts(tags["lifecycle_stage"]).to_pylist()
    }
    spec = CATALOGUE.tag("lifecycle_stage")
    assert spec is not None
    # The generator emits no referral events or referral coupons: nobody can be a referrer.
    assert "referrer" not in counts
    for stage in spec.values:
        if stage != "referrer":
            assert counts.get(stage, 0) > 0, stage
    assert None not in counts  # a stage for every person


def test_favourite_daypart_matches_the_latent_habit(truth: duckdb.DuckDBPyConnection) -> None:
    # Measured: 86% of 403 persons with 5+ orders; always guessing "morning" would score 53%.
    rate = _one(
        truth, "SELECT avg((favourite_daypart = true_daypart)::int) FROM m WHERE orders_365d >= 5"
    )
    assert rate >= 0.75


def test_favourite_category_matches_the_latent_favourite(truth: duckdb.DuckDBPyConnection) -> None:
    # Measured: 96%; always guessing coffee would score about 70%.
    rate = _one(
        truth, "SELECT avg((favourite_category = true_category)::int) FROM m WHERE orders_365d >= 5"
    )
    assert rate >= 0.88


def test_home_store_matches_the_true_home_store(truth: duckdb.DuckDBPyConnection) -> None:
    # Measured: 96% of buyers.
    rate = _one(
        truth, "SELECT avg((home_store_id = true_home_store)::int) FROM m WHERE orders_total > 0"
    )
    assert rate >= 0.88


def test_lifecycle_stage_tracks_the_latent_state(truth: duckdb.DuckDBPyConnection) -> None:
    def churned_rate(where: str) -> float:
        sql = f"SELECT avg((true_lifecycle = 'churned')::int) FROM m WHERE orders_total > 0 AND {where}"
        return float(_one(truth, sql))

    # Measured: 47% of our lapsed buyers churned in truth, 11% of the other buyers.
    lapsed, others = (
        churned_rate("lifecycle_stage = 'lapsed'"),
        churned_rate("lifecycle_stage <> 'lapsed'"),
    )
    assert lapsed >= 0.3 and lapsed >= 2.5 * others
    # Measured: 20% of our new customers joined in the final month, 3% of the other buyers.
    new = _one(
        truth, "SELECT avg((true_lifecycle = 'new')::int) FROM m WHERE lifecycle_stage = 'new'"
    )
    rest = _one(
        truth,
        "SELECT avg((true_lifecycle = 'new')::int) FROM m WHERE orders_total > 0 AND lifecycle_stage <> 'new'",
    )
    assert new >= 3 * rest
    risk = {
        row[0]: row[1]
        for row in truth.sql(
            "SELECT true_lifecycle IN ('churned', 'lapsing'), avg(churn_risk) FROM m"
            " WHERE churn_risk IS NOT NULL GROUP BY 1"
        ).fetchall()
    }
    assert risk[True] >= risk[False] + 10


def test_facts_after_as_of_are_ignored(chain: TagChain, as_of: dt.date, tags: pa.Table) -> None:
    earlier = as_of - dt.timedelta(days=60)
    with connect_engine("duckdb") as engine:
        past = compute_tags(chain.lake, engine, CATALOGUE, entity="person", as_of=earlier)
    assert past.num_rows == tags.num_rows
    for column in ("last_order_date", "last_app_event_date", "last_bought_category_coffee"):
        assert pc.max(past[column]).as_py() <= earlier, column
    assert pc.sum(past["orders_total"]).as_py() < pc.sum(tags["orders_total"]).as_py()
    assert pc.all(pc.less_equal(past["orders_total"], tags["orders_total"])).as_py()


def test_refresh_publishes_atomically_and_keeps_one_previous(
    chain: TagChain, as_of: dt.date
) -> None:
    with connect_engine("duckdb") as engine:
        first = refresh_tags(
            chain.lake,
            engine,
            CATALOGUE,
            entity="person",
            as_of=as_of - dt.timedelta(days=2),
            chunk_rows=700,
        )
        second = refresh_tags(
            chain.lake, engine, CATALOGUE, entity="person", as_of=as_of - dt.timedelta(days=1)
        )
        third = refresh_tags(chain.lake, engine, CATALOGUE, entity="person", as_of=as_of)
        expected = compute_tags(chain.lake, engine, CATALOGUE, entity="person", as_of=first.as_of)
    latest = latest_refresh(chain.lake, "person")
    assert latest is not None and latest.as_of == third.as_of and latest.rows == third.rows
    assert not first.path.exists() and second.path.exists() and third.path.exists()
    assert chain.lake.leftover_temporaries(("ads", "person_tags")) == []
    assert third.domains["store_ids"] and third.domains["person_cities"]
    bound = latest.catalogue(CATALOGUE).tag("home_store_id")
    assert bound is not None and set(bound.values) >= {"S0001"}
    # Written in chunks of 700 persons, the first refresh held exactly what one query computes.
    assert first.rows == expected.num_rows


def test_list_tag_marks_the_uploaded_keys(
    chain: TagChain, as_of: dt.date, tags: pa.Table, tmp_path: Path
) -> None:
    chosen = tags.column("person_id").to_pylist()[:3]
    lists = TagLists(tmp_path / "lists")
    assert lists.upload("vip_event", "person", [*chosen, chosen[0], " "]) == 3
    spec = TagSpec(
        id="vip_event_guest",
        name_zh="VIP 活动嘉宾",
        name_en="VIP event guest",
        category="attribute",
        entity="person",
        value_type="bool",
        definition="vip_event",
        description_zh="上传名单 vip_event 中的人。",
        description_en="Persons on the uploaded list vip_event.",
        source="list",
    )
    catalogue = CATALOGUE.with_tags([spec])
    with connect_engine("duckdb") as engine:
        table = compute_tags(
            chain.lake, engine, catalogue, entity="person", as_of=as_of, lists=lists
        )
    flags = dict(
        zip(table["person_id"].to_pylist(), table["vip_event_guest"].to_pylist(), strict=True)
    )
    assert {p for p, f in flags.items() if f} == set(chosen)
    assert None not in flags.values()


@pytest.mark.spark
def test_spark_computes_the_same_tags(
    chain: TagChain, as_of: dt.date, tags: pa.Table, spark: Any
) -> None:
    engine = connect_engine("spark", session=spark)
    on_spark = compute_tags(chain.lake, engine, CATALOGUE, entity="person", as_of=as_of)
    assert on_spark.schema == tags.schema
    differing = [c for c in tags.column_names if not on_spark[c].equals(tags[c])]
    assert not differing, differing
