"""The audience API on a generated, tagged chain, on SQLite and PostgreSQL: counts that equal the
same expression run as SQL on the ADS tag table, errors with position and hints that save nothing,
store selection and the join through stores, overlap and breakdown, saved audiences with their size
history across a tag refresh, snapshots, consent-honouring audited exports, and roles."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.integration.audience_home import NOW, audience_template, copy_home
from tests.integration.databases import database_url, migrated_engine
from tests.integration.test_api_app import Api, api_settings

from newretail.api import create_app
from newretail.audience.refresh import refresh_everything
from newretail.audience.sql import to_sql
from newretail.lake import Lake
from newretail.oltp.tables import audiences, audit_log
from newretail.progress import SilentProgress
from newretail.security.pii import PiiProtector
from newretail.tags.compute import latest_refresh

pytestmark = pytest.mark.slow
__all__ = ["audience_template", "database_url", "migrated_engine"]

PROBLEM = "application/problem+json"
LAPSING_NEAR_PICKUP = (
    "lifecycle_stage IN ('lapsing', 'lapsed') AND NOT sms_opt_out"
    " AND home_store_id IN STORES(format = 'pickup')"
)


@pytest.fixture(scope="module")
def api(
    audience_template: Path,
    migrated_engine: Engine,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    home = copy_home(audience_template, tmp_path_factory.mktemp("audiences") / "home")
    settings = api_settings(home, database_url)
    with TestClient(create_app(settings, flush_in_background=False)) as client:
        harness = Api(client=client, engine=migrated_engine, settings=settings, admin={})
        _, harness.admin = harness.user("admin")
        yield harness


@pytest.fixture(scope="module")
def marketer(api: Api) -> dict[str, str]:
    return api.user("marketer")[1]


def keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": secrets.token_hex(8)}


def sql_count(api: Api, text: str) -> set[str]:
    """The persons the expression selects, computed by DuckDB over the ADS tag tables."""
    lake = Lake(api.settings.lake_dir)
    persons, stores = latest_refresh(lake, "person"), latest_refresh(lake, "store")
    assert persons is not None and stores is not None
    tree = api.client.post(
        "/api/v1/audiences/count", json={"text": text}, headers=api.admin
    ).json()["tree"]
    from newretail.audience.expression import from_json

    where = to_sql(from_json(tree), as_of=persons.as_of)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW person_tags AS SELECT * FROM read_parquet('{persons.path}')")
    con.execute(f"CREATE VIEW store_tags AS SELECT * FROM read_parquet('{stores.path}')")
    rows = con.execute(f"SELECT person_id FROM person_tags WHERE {where}").fetchall()
    return {row[0] for row in rows}


def count(api: Api, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = api.client.post("/api/v1/audiences/count", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    "text",
    [
        LAPSING_NEAR_PICKUP,
        "orders_90d >= 3 AND BOUGHT(category = 'coffee', days = 30)",
        "NOT (repeat_buyer OR consent_sms) OR days_since_last_order BETWEEN 10 AND 40",
        "last_order_date >= DAYS_AGO(14) AND lifecycle_stage NOT IN ('new', 'lapsed')",
    ],
)
def test_count_equals_the_same_expression_in_sql(
    api: Api, marketer: dict[str, str], text: str
) -> None:
    found = count(api, marketer, text=text)
    expected = sql_count(api, text)
    assert found["size"] == len(expected)
    assert found["universe"] > 0 and found["share"] == pytest.approx(
        found["size"] / found["universe"]
    )
    # The tree answers the same as the text it was read from.
    assert count(api, marketer, tree=found["tree"])["size"] == found["size"]


def test_a_typo_gets_the_position_and_the_nearest_names_and_saves_nothing(
    api: Api, marketer: dict[str, str]
) -> None:
    with api.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(audiences)).scalar_one()
    text = "orders_90d >= 3 AND lifecyle_stage = 'lapsing'"
    response = api.client.post(
        "/api/v1/audiences", json={"name": "typo", "text": text}, headers=keyed(marketer)
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "audience.unknown_tag"
    assert problem["offset"] == text.index("lifecyle_stage")
    assert "lifecycle_stage" in problem["hints"]
    wrong_type = api.client.post(
        "/api/v1/audiences/count", json={"text": "orders_90d >= 'many'"}, headers=marketer
    ).json()
    assert wrong_type["code"] == "audience.type_mismatch"
    broken = api.client.post(
        "/api/v1/audiences/count", json={"text": "orders_90d >= AND"}, headers=marketer
    ).json()
    assert broken["code"] == "audience.syntax" and broken["offset"] == len("orders_90d >= ")
    unknown_value = api.client.post(
        "/api/v1/audiences/count", json={"text": "lifecycle_stage = 'sleepy'"}, headers=marketer
    ).json()
    assert unknown_value["code"] == "audience.unknown_value" and "lapsing" in unknown_value["hints"]
    both = api.client.post(
        "/api/v1/audiences/count", json={"text": "consent_sms", "tree": {}}, headers=marketer
    )
    assert both.status_code == 422
    with api.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audiences)).scalar_one() == before


def test_store_selection_and_the_join_through_stores(api: Api, marketer: dict[str, str]) -> None:
    response = api.client.post(
        "/api/v1/audiences/store-selection", json={"text": "format = 'pickup'"}, headers=marketer
    )
    assert response.status_code == 200, response.text
    selection = response.json()
    lake = Lake(api.settings.lake_dir)
    stores = pq.read_table(lake.files("dwd", "stores")[0], columns=["store_id", "format"])
    pickup = {s for s, f in zip(*stores.to_pydict().values(), strict=True) if f == "pickup"}
    assert {s["store_id"] for s in selection["stores"]} == pickup
    assert selection["size"] == len(pickup) > 0
    assert all(s["latitude"] is not None for s in selection["stores"])
    persons = pq.read_table(latest_refresh(lake, "person").path, columns=["home_store_id"])  # type: ignore[union-attr]
    at_pickup = pc.sum(pc.is_in(persons["home_store_id"], pa_array(pickup))).as_py()
    joined = count(api, marketer, text="home_store_id IN STORES(format = 'pickup')")
    assert joined["size"] == at_pickup


def pa_array(values: set[str]) -> Any:
    import pyarrow as pa

    return pa.array(sorted(values))


def test_overlap_and_breakdown_add_up(api: Api, marketer: dict[str, str]) -> None:
    a, b = "orders_90d >= 2", "consent_sms"
    found = api.client.post(
        "/api/v1/audiences/overlap", json={"a": {"text": a}, "b": {"text": b}}, headers=marketer
    ).json()
    assert found["a"] == count(api, marketer, text=a)["size"]
    assert found["both"] == count(api, marketer, text=f"{a} AND {b}")["size"]
    assert found["either"] == count(api, marketer, text=f"{a} OR {b}")["size"]
    assert found["only_a"] + found["both"] == found["a"]
    response = api.client.post(
        "/api/v1/audiences/breakdown",
        json={"text": a, "by": ["lifecycle_stage", "consent_sms"]},
        headers=marketer,
    )
    assert response.status_code == 200, response.text
    result = response.json()
    for part in result["breakdowns"]:
        assert sum(v["count"] for v in part["values"]) == result["size"]
    lifecycle = {v["value"]: v["count"] for v in result["breakdowns"][0]["values"]}
    for stage, n in lifecycle.items():
        if stage is not None:
            assert n == count(api, marketer, text=f"{a} AND lifecycle_stage = '{stage}'")["size"]


def test_saved_audience_history_snapshot_and_refresh(api: Api, marketer: dict[str, str]) -> None:
    headers = keyed(marketer)
    body = {"name": "lapsing near pickup", "text": LAPSING_NEAR_PICKUP}
    created = api.client.post("/api/v1/audiences", json=body, headers=headers)
    assert created.status_code == 201, created.text
    replay = api.client.post("/api/v1/audiences", json=body, headers=headers)
    assert replay.json()["id"] == created.json()["id"]
    audience = created.json()
    assert audience["size"] == len(sql_count(api, LAPSING_NEAR_PICKUP))
    listed = api.client.get("/api/v1/audiences", headers=marketer).json()
    assert [a["id"] for a in listed["data"]].count(audience["id"]) == 1
    frozen = api.client.post(
        f"/api/v1/audiences/{audience['id']}/snapshots",
        json={"label": "spring win-back"},
        headers=keyed(marketer),
    )
    assert frozen.status_code == 201, frozen.text
    assert frozen.json()["size"] == audience["size"]
    # A new tag refresh: a new snapshot version, one more size point, and the API serves it.
    version = count(api, marketer, text="consent_sms")["index_version"]
    database = api.engine
    refresh_everything(api.settings, database, as_of=None, progress=SilentProgress(), now=NOW)
    history = api.client.get(f"/api/v1/audiences/{audience['id']}/sizes", headers=marketer).json()
    assert [p["index_version"] for p in history["data"]] == [version, version + 1]
    assert history["data"][1]["size"] == audience["size"]  # same lake, same as-of: same people
    api.runtime.indexes._checked = 0.0  # a worker looks again at most once a second
    assert count(api, marketer, text="consent_sms")["index_version"] == version + 1
    archived = api.client.post(
        f"/api/v1/audiences/{audience['id']}/archive", headers=keyed(marketer)
    )
    assert archived.json()["archived_at"] is not None


def test_exports_honour_consent_and_are_audited(api: Api, marketer: dict[str, str]) -> None:
    text = "orders_90d >= 1"
    audience = api.client.post(
        "/api/v1/audiences", json={"name": "buyers", "text": text}, headers=keyed(marketer)
    ).json()
    members = sql_count(api, text)
    persons = pq.read_table(
        Lake(api.settings.lake_dir).files("dwd", "persons")[0],
        columns=["person_id", "consent_sms", "phone_cipher"],
    ).to_pylist()
    consenting = {
        p["person_id"]: p for p in persons if p["person_id"] in members and p["consent_sms"]
    }
    made = api.client.post(
        f"/api/v1/audiences/{audience['id']}/exports",
        json={"kind": "csv", "consent": "sms"},
        headers=keyed(marketer),
    )
    assert made.status_code == 201, made.text
    export = made.json()
    assert export["rows"] == len(consenting)
    assert export["excluded_without_consent"] == len(members) - len(consenting)
    file = api.client.get(export["download"], headers=marketer)
    assert file.status_code == 200
    rows = list(csv.DictReader(io.StringIO(file.text)))
    assert {r["person_id"] for r in rows} == set(consenting)
    assert not any(re.search(r"\d{11}", r["phone_masked"]) for r in rows)
    phones = api.client.post(
        f"/api/v1/audiences/{audience['id']}/exports",
        json={"kind": "phone_sha256", "consent": "sms", "snapshot_id": export["snapshot_id"]},
        headers=keyed(marketer),
    ).json()
    protector = PiiProtector.from_settings(api.settings)
    expected = {
        hashlib.sha256(protector.decrypt(p["phone_cipher"]).encode()).hexdigest()
        for p in consenting.values()
        if p["phone_cipher"] is not None
    }
    hashed = api.client.get(phones["download"], headers=marketer).text.split()[1:]
    assert set(hashed) == expected and len(hashed) == phones["rows"]
    with api.engine.connect() as conn:
        actions = [
            (r.action, r.target_id)
            for r in conn.execute(select(audit_log.c.action, audit_log.c.target_id))
        ]
    assert ("export.created", export["id"]) in actions
    assert ("export.downloaded", export["id"]) in actions
    # Someone else's export is not theirs to download.
    other = api.user("marketer")[1]
    assert api.client.get(export["download"], headers=other).status_code == 404


def test_roles(api: Api) -> None:
    planner = api.user("supply_planner")[1]
    analyst = api.user("analyst")[1]
    assert (
        api.client.post(
            "/api/v1/audiences/count", json={"text": "consent_sms"}, headers=planner
        ).status_code
        == 403
    )
    assert count(api, analyst, text="consent_sms")["size"] >= 0
    refused = api.client.post(
        "/api/v1/audiences",
        json={"name": "x", "text": "consent_sms"},
        headers=keyed(analyst),
    )
    assert refused.status_code == 403
    assert (
        api.client.post("/api/v1/audiences/count", json={"text": "consent_sms"}).status_code == 401
    )
    tags = api.client.get("/api/v1/tags?entity=store", headers=analyst).json()
    assert tags["count"] >= 40 and all(t["computed"] for t in tags["data"])


def test_catalogue_reports_coverage_and_distribution(api: Api, marketer: dict[str, str]) -> None:
    listed = api.client.get("/api/v1/tags?limit=500", headers=marketer).json()
    assert listed["count"] >= 300
    assert listed["as_of"] is not None
    lake = Lake(api.settings.lake_dir)
    table = pq.read_table(latest_refresh(lake, "person").path, columns=["consent_sms"])  # type: ignore[union-attr]
    tag = api.client.get("/api/v1/tags/person/consent_sms", headers=marketer).json()
    assert tag["coverage"] == pytest.approx(1 - table["consent_sms"].null_count / table.num_rows)
    true = pc.sum(table["consent_sms"].fill_null(False)).as_py()
    assert tag["distribution"]["counts"]["true"] == true
    date_tag = api.client.get("/api/v1/tags/person/last_order_date", headers=marketer).json()
    assert dt.date.fromisoformat(date_tag["distribution"]["maximum"]) <= dt.date.fromisoformat(
        listed["as_of"]
    )


def test_a_user_tag_is_checked_stored_and_computed_at_the_next_refresh(
    api: Api, marketer: dict[str, str]
) -> None:
    tag = {
        "id": "coffee_regular_user",
        "name_zh": "咖啡常客",
        "name_en": "Coffee regular",
        "category": "behaviour",
        "value_type": "bool",
        "definition": "orders_90d >= 3",
        "description_zh": "近90天下单3次及以上。",
        "description_en": "Three or more orders in the last 90 days.",
    }
    bad = api.client.post(
        "/api/v1/tags",
        json={**tag, "definition": "ordrs_90d >= 3"},
        headers=keyed(marketer),
    )
    assert bad.status_code == 422 and bad.json()["code"] == "tags.invalid_definition"
    assert "ordrs_90d" in bad.json()["detail"]
    made = api.client.post("/api/v1/tags", json=tag, headers=keyed(marketer))
    assert made.status_code == 201, made.text
    assert made.json()["computed"] is False
    again = api.client.post("/api/v1/tags", json=tag, headers=keyed(marketer))
    assert again.status_code == 409
    refresh_everything(api.settings, api.engine, as_of=None, progress=SilentProgress(), now=NOW)
    api.runtime.indexes._checked = 0.0
    listed = api.client.get("/api/v1/tags/person/coffee_regular_user", headers=marketer).json()
    assert listed["computed"] is True
    assert count(api, marketer, text="coffee_regular_user")["size"] == len(
        sql_count(api, "orders_90d >= 3")
    )
