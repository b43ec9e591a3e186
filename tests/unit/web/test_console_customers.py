"""The customers and review pages as a browser receives them, over member records imported through
the API (no lake needed): search (a CSRF-checked POST), the member 360 with masked phones, Un-merge
and Re-merge buttons for the data team only, and the review queue's verdicts."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.unit.web.chain import Order, write_chain
from tests.unit.web.conftest import NOW, add_user, form_token, sign_in

from newretail.config import Settings
from newretail.identity import actions
from newretail.identity.manual import person_of
from newretail.identity.realtime import import_members
from newretail.identity.review import queue_for_review
from newretail.lake import Lake
from newretail.security import Principal
from newretail.security.pii import PiiProtector

EN = {"accept-language": "en"}
PHONES = {"E1": "13800138000", "E2": "13900139000", "E3": "13700137000"}


@pytest.fixture
def members(oltp: Engine, lake: Lake, settings: Settings) -> dict[str, str]:
    """Three ERP members, each its own (provisional) person; the person id of each record. The lake
    holds one anonymous order: the 360 needs the orders table to exist."""
    write_chain(lake, [Order("SH01", NOW.date(), "pos", 1_000)])
    with oltp.begin() as conn:
        import_members(
            conn,
            "erp",
            [
                {"source_record_id": record, "phone": phone, "name": f"Member {record}"}
                for record, phone in PHONES.items()
            ],
            protector=PiiProtector.from_settings(settings),
            now=NOW,
        )
        found = {record: person_of(conn, "erp", record) for record in PHONES}
    assert len(set(found.values())) == len(PHONES)
    return {record: str(person) for record, person in found.items()}


def merged(oltp: Engine, keep: str, absorb: str) -> int:
    with oltp.begin() as conn:
        event = actions.merge(
            conn, principal=Principal.cli(), keep=keep, absorb=absorb, reason="test", now=NOW
        )
    return int(event["id"])


def identity_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="identity" data-record="([^"]+)"', html)


def test_the_nav_and_pages_follow_the_role(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "mia@example.com", "marketer")
    add_user(oltp, "sue@example.com", "supply_planner")
    sign_in(client, "mia@example.com")
    html = client.get("/console/", headers=EN).text
    assert 'href="/console/customers"' in html and 'data-nav="review"' not in html
    assert client.get("/console/review").status_code == 403
    client.cookies.clear()
    sign_in(client, "sue@example.com")
    assert client.get("/console/customers").status_code == 403


def test_search_is_a_csrf_checked_post_that_finds_by_phone(
    client: TestClient, oltp: Engine, members: dict[str, str]
) -> None:
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "ana@example.com")
    page = client.get("/console/customers", headers=EN)
    assert page.status_code == 200 and 'method="post"' in page.text
    refused = client.post("/console/customers", data={"q": "138 0013 8000", "csrf_token": "x"})
    assert refused.status_code == 403
    found = client.post(
        "/console/customers",
        data={"q": "138 0013 8000", "csrf_token": form_token(page.text)},
        headers={**EN, "hx-request": "true"},
    )
    assert found.text.lstrip().startswith('<section class="card" id="customer-results"')
    assert f'data-person="{members["E1"]}"' in found.text
    assert "138****8000" in found.text and "13800138000" not in found.text
    assert "Phone" in found.text  # found by


def test_the_360_shows_merges_and_undoes_them_from_the_page(
    client: TestClient, oltp: Engine, members: dict[str, str]
) -> None:
    keep, absorb = members["E1"], members["E2"]
    event = merged(oltp, keep, absorb)
    add_user(oltp, "ana@example.com", "analyst")
    token = sign_in(client, "ana@example.com")
    html = client.get(f"/console/customers/{keep}", headers=EN).text
    assert sorted(identity_rows(html)) == ["erp:E1", "erp:E2"]
    assert "13800138000" not in html and "13900139000" not in html
    assert 'data-action="unmerge"' in html
    assert 'id="def-reason"' in html and "Shared identifier" in html
    retired = client.get(f"/console/customers/{absorb}", headers=EN).text
    assert 'id="merged-notice"' in retired

    undone = client.post(
        f"/console/customers/{keep}/unmerge", data={"event_id": event, "csrf_token": token}
    )
    assert (undone.status_code, undone.headers["location"]) == (
        303,
        f"/console/customers/{keep}?done=unmerged",
    )
    html = client.get(undone.headers["location"], headers=EN).text
    assert identity_rows(html) == ["erp:E1"]
    assert 'data-outcome="unmerged"' in html and 'data-action="remerge"' in html
    unmerge_id = re.search(r'action="/console/customers/events/(\d+)/remerge"', html)
    assert unmerge_id

    stale = client.post(
        f"/console/customers/{keep}/unmerge", data={"event_id": event, "csrf_token": token}
    )
    assert stale.headers["location"].endswith("?error=identity.not_merged")
    shown = client.get(stale.headers["location"], headers=EN).text
    assert "There is no merge to undo here" in shown

    again = client.post(
        f"/console/customers/events/{unmerge_id.group(1)}/remerge",
        data={"person": keep, "csrf_token": token},
    )
    assert again.headers["location"] == f"/console/customers/{keep}?done=remerged"
    assert sorted(identity_rows(client.get(again.headers["location"]).text)) == [
        "erp:E1",
        "erp:E2",
    ]


def test_roles_without_merge_see_no_buttons_and_are_refused(
    client: TestClient, oltp: Engine, members: dict[str, str]
) -> None:
    keep = members["E1"]
    event = merged(oltp, keep, members["E3"])
    add_user(oltp, "mia@example.com", "marketer")
    token = sign_in(client, "mia@example.com")
    html = client.get(f"/console/customers/{keep}", headers=EN).text
    assert len(identity_rows(html)) == 2 and 'data-action="unmerge"' not in html
    refused = client.post(
        f"/console/customers/{keep}/unmerge", data={"event_id": event, "csrf_token": token}
    )
    assert refused.status_code == 403
    assert len(identity_rows(client.get(f"/console/customers/{keep}").text)) == 2


def test_an_unknown_person_is_a_404_page(client: TestClient, oltp: Engine) -> None:
    add_user(oltp, "ana@example.com", "analyst")
    sign_in(client, "ana@example.com")
    answer = client.get("/console/customers/PNOSUCHPERSON", headers=EN)
    assert answer.status_code == 404 and "Customer not found" in answer.text


def test_the_review_queue_shows_pairs_and_takes_verdicts(
    client: TestClient, oltp: Engine, members: dict[str, str]
) -> None:
    with oltp.begin() as conn:
        queue_for_review(
            conn,
            pa.table(
                {
                    "left_source": ["erp", "erp"],
                    "left_record_id": ["E1", "E2"],
                    "right_source": ["erp", "erp"],
                    "right_record_id": ["E2", "E3"],
                    "match_probability": [0.93, 0.85],
                    "match_weight": [3.8, 2.5],
                }
            ),
            run_id=1,
            now=NOW,
        )
    add_user(oltp, "ana@example.com", "analyst")
    token = sign_in(client, "ana@example.com")
    html = client.get("/console/review", headers=EN).text
    items = re.findall(r'data-review="(\d+)"', html)
    assert len(items) == 2
    assert "93.0%" in html and "138****8000" in html and "13800138000" not in html
    approved = client.post(f"/console/review/{items[0]}/approve", data={"csrf_token": token})
    assert approved.headers["location"] == "/console/review?done=approved"
    html = client.get(approved.headers["location"], headers=EN).text
    assert re.findall(r'data-review="(\d+)"', html) == [items[1]]
    assert "the two persons were merged" in html
    twice = client.post(f"/console/review/{items[0]}/reject", data={"csrf_token": token})
    assert twice.headers["location"] == "/console/review?error=identity.review_decided"
    merged_page = client.get(f"/console/customers/{members['E1']}").text
    assert sorted(identity_rows(merged_page)) == ["erp:E1", "erp:E2"]
