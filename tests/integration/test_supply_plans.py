"""Replenishment plans in the OLTP on SQLite and PostgreSQL: a plan saved and read back with its
explanations, saved again (replaced while undecided, kept once decided), approvals that turn lines
into purchase orders exactly once (retried or raced), the edit and reject rules, the store scope,
and bad input refused with nothing written."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import Connection, Engine, func, select
from tests.integration.databases import database_url as database_url
from tests.integration.databases import migrated_engine as migrated_engine
from tests.integration.supply_plan_setup import (
    ANALYST,
    MANAGER,
    NAMES,
    NOW,
    PLANNER,
    small_draft,
)
from tests.integration.test_loyalty_coupon_races import race

from newretail.errors import Conflict, Forbidden, InvalidInput, NewRetailError, NotFound
from newretail.oltp.supply_tables import (
    supply_plans,
    supply_purchase_order_lines,
    supply_purchase_orders,
)
from newretail.oltp.tables import audit_log
from newretail.security import Permission, Role
from newretail.security import principal as principal_module
from newretail.security.roles import PERMISSIONS
from newretail.supply.replenish.decisions import Location, approve, edit, reject
from newretail.supply.replenish.plan import PlanDraft
from newretail.supply.replenish.plan_records import LineFilter, PlannedLine
from newretail.supply.replenish.plans import (
    latest_plan,
    list_lines,
    plan_locations,
    plan_totals,
    save_plan,
)
from newretail.supply.replenish.purchase_orders import purchase_orders

_days = itertools.count()


def new_origin() -> dt.date:
    """A fresh origin day per plan: the module's database is shared by its tests."""
    return dt.date(2026, 1, 1) + dt.timedelta(days=next(_days))


def saved(engine: Engine, origin: dt.date | None = None) -> int:
    with engine.begin() as conn:
        return save_plan(
            conn, small_draft(origin or new_origin()), now=NOW, material_names=NAMES
        ).id


def lines_of(engine: Engine, plan_id: int, **chosen: str) -> dict[tuple[str, str], PlannedLine]:
    with engine.connect() as conn:
        found, _ = list_lines(
            conn, plan_id, PLANNER, chosen=LineFilter(**chosen), limit=100, offset=0
        )
    return {(line.location_id, line.material_id): line for line in found}


def order_lines(conn: Connection, plan_id: int) -> list[tuple[int, int, int, int]]:
    """(plan line, packs, quantity, cost) of every purchase order line of the plan."""
    o, ol = supply_purchase_orders, supply_purchase_order_lines
    rows = conn.execute(
        select(ol.c.plan_line_id, ol.c.packs, ol.c.quantity, ol.c.cost_minor)
        .join(o, o.c.id == ol.c.order_id)
        .where(o.c.plan_id == plan_id)
        .order_by(ol.c.plan_line_id)
    )
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in rows]


def audit_entries(engine: Engine, action: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(audit_log.c.action == action)
        return int(conn.execute(query).scalar_one())


def test_a_saved_plan_reads_back_with_its_explanations(migrated_engine: Engine) -> None:
    origin = new_origin()
    plan_id = saved(migrated_engine, origin)
    with migrated_engine.connect() as conn:
        plan = latest_plan(conn, ANALYST)
        found, count = list_lines(conn, plan_id, ANALYST, chosen=LineFilter(), limit=100, offset=0)
    assert plan is not None and plan.id == plan_id and plan.origin == origin
    assert (plan.service_level_bp, plan.lines, plan.order_lines) == (9800, 5, 4)
    assert count == 5
    # Stores first (by id), then the DC; materials in order within a location.
    assert [(x.location_id, x.material_id) for x in found] == [
        ("S1", "M001"),
        ("S1", "M016"),
        ("S2", "M001"),
        ("S2", "M016"),
        ("W1", "M001"),
    ]
    beans = found[0]
    assert beans.material_name == "咖啡豆 Espresso beans"
    assert (beans.from_type, beans.from_id, beans.arrival_date) == (
        "warehouse",
        "W1",
        origin + dt.timedelta(days=1),
    )
    # Fractional figures are kept to the thousandth of a base unit, exactly.
    assert beans.forecast == Decimal("1234.568")
    assert beans.safety_stock == Decimal("150.250")
    assert beans.order_up_to == Decimal("1384.818")
    assert (beans.on_hand, beans.in_transit, beans.position, beans.raw_need) == (300, 200, 500, 885)
    assert (beans.proposed_packs, beans.packs, beans.quantity, beans.cost_minor) == (
        2,
        2,
        2000,
        18_000,
    )
    assert beans.status == "proposed" and beans.final_packs is None
    assert found[3].reason == "capped_by_shelf_life" and found[3].packs == 0
    assert found[4].from_type == "supplier" and found[4].arrival_date == origin + dt.timedelta(
        days=3
    )


def test_saving_again_replaces_an_undecided_plan_and_keeps_a_decided_one(
    migrated_engine: Engine,
) -> None:
    origin = new_origin()
    with migrated_engine.begin() as conn:
        first = save_plan(conn, small_draft(origin), now=NOW)
        again = save_plan(conn, small_draft(origin, scale=2), now=NOW)
        other_level = save_plan(conn, small_draft(origin, service_level=0.95), now=NOW)
    assert (first.outcome, again.outcome, other_level.outcome) == ("created", "replaced", "created")
    assert again.id == first.id != other_level.id
    assert lines_of(migrated_engine, first.id)[("S1", "M001")].proposed_packs == 4
    # No names given: a line is named by its material id.
    assert lines_of(migrated_engine, first.id)[("S1", "M001")].material_name == "M001"

    beans = lines_of(migrated_engine, first.id)[("S1", "M001")]
    with migrated_engine.begin() as conn:
        reject(conn, first.id, beans.id, actor=PLANNER, now=NOW)
        kept = save_plan(conn, small_draft(origin, scale=3), now=NOW)
    assert (kept.id, kept.outcome) == (first.id, "kept")
    after = lines_of(migrated_engine, first.id)
    assert after[("S1", "M001")].status == "rejected"
    assert after[("S1", "M016")].proposed_packs == 6  # still the second save's


def test_approving_lines_orders_them_once_however_often_it_is_retried(
    migrated_engine: Engine,
) -> None:
    plan_id = saved(migrated_engine)
    lines = lines_of(migrated_engine, plan_id)
    s1 = [lines[("S1", "M001")].id, lines[("S1", "M016")].id]
    before = audit_entries(migrated_engine, "supply.lines_approved")
    with migrated_engine.begin() as conn:
        done = approve(conn, plan_id, line_ids=s1, actor=PLANNER, now=NOW)
        assert done.approved == sorted(s1) and len(done.purchase_orders) == 1
        again = approve(conn, plan_id, line_ids=s1, actor=PLANNER, now=NOW)
        assert again.approved == [] and again.purchase_orders == []
        ordered = order_lines(conn, plan_id)
    # 2 packs of 1,000 g at ¥90; 3 packs of 24 croissants at ¥96.
    assert ordered == [(s1[0], 2, 2_000, 18_000), (s1[1], 3, 72, 28_800)]
    assert audit_entries(migrated_engine, "supply.lines_approved") == before + 1
    after = lines_of(migrated_engine, plan_id)
    assert after[("S1", "M001")].status == "approved"
    assert after[("S1", "M001")].decided_by == "user:1"
    assert after[("S2", "M001")].status == "proposed"


def test_approving_a_location_takes_its_pending_lines_with_their_edits(
    migrated_engine: Engine,
) -> None:
    plan_id = saved(migrated_engine)
    lines = lines_of(migrated_engine, plan_id)
    with migrated_engine.begin() as conn:
        edit(
            conn,
            plan_id,
            lines[("S2", "M016")].id,
            packs=2,
            reason="weekend",
            actor=PLANNER,
            now=NOW,
        )
        reject(conn, plan_id, lines[("S2", "M001")].id, reason="closed", actor=PLANNER, now=NOW)
        done = approve(conn, plan_id, location=Location("store", "S2"), actor=PLANNER, now=NOW)
        ordered = order_lines(conn, plan_id)
        totals = plan_totals(conn, plan_id, PLANNER, chosen=LineFilter(location_id="S2"))
    croissants = lines[("S2", "M016")].id
    assert done.approved == [croissants]
    assert ordered == [(croissants, 2, 48, 19_200)]  # the edited packs, not the proposal's 0
    after = lines_of(migrated_engine, plan_id, location_id="S2")
    assert after[("S2", "M001")].status == "rejected"
    assert after[("S2", "M001")].reject_reason == "closed"
    assert after[("S2", "M016")].edit_reason == "weekend"
    assert (totals.lines, totals.order_lines, totals.packs) == (2, 1, 2)
    assert (totals.cost_minor, totals.pending, totals.approved) == ({"CNY": 19_200}, 0, 1)


def test_a_line_with_no_packs_is_approved_without_an_order(migrated_engine: Engine) -> None:
    plan_id = saved(migrated_engine)
    nothing = lines_of(migrated_engine, plan_id)[("S2", "M016")].id
    with migrated_engine.begin() as conn:
        done = approve(conn, plan_id, line_ids=[nothing], actor=PLANNER, now=NOW)
        assert (done.approved, done.purchase_orders) == ([nothing], [])
        assert order_lines(conn, plan_id) == []


def test_racing_approvals_order_each_line_exactly_once(migrated_engine: Engine) -> None:
    plan_id = saved(migrated_engine)
    ids = sorted(line.id for line in lines_of(migrated_engine, plan_id).values())

    def by_lines(conn: Connection) -> list[int]:
        return approve(conn, plan_id, line_ids=ids, actor=PLANNER, now=NOW).approved

    def by_store(conn: Connection) -> list[int]:
        return approve(
            conn, plan_id, location=Location("store", "S1"), actor=PLANNER, now=NOW
        ).approved

    outcomes = race(migrated_engine, [by_lines, by_store, by_lines, by_store, by_lines], slots=5)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    approved = [line for o in outcomes if isinstance(o, list) for line in o]
    assert sorted(approved) == ids  # each line approved by exactly one racer
    with migrated_engine.connect() as conn:
        ordered = [row[0] for row in order_lines(conn, plan_id)]
        orders = conn.execute(
            select(func.count()).where(supply_purchase_orders.c.plan_id == plan_id)
        ).scalar_one()
    no_packs = lines_of(migrated_engine, plan_id)[("S2", "M016")].id
    assert ordered == [i for i in ids if i != no_packs]
    assert orders == 3  # S1 from W1, S2 from W1, W1 from V01


def test_edit_and_reject_rules(migrated_engine: Engine) -> None:
    plan_id = saved(migrated_engine)
    lines = lines_of(migrated_engine, plan_id)
    beans, croissants = lines[("S1", "M001")].id, lines[("S1", "M016")].id
    with migrated_engine.begin() as conn:
        rejected = reject(conn, plan_id, croissants, actor=PLANNER, now=NOW)
        assert rejected.status == "rejected" and rejected.packs == 3
        assert reject(conn, plan_id, croissants, actor=PLANNER, now=NOW) == rejected
        # A rejected line can be brought back by an edit.
        edited = edit(
            conn, plan_id, croissants, packs=1, reason=" slow week ", actor=PLANNER, now=NOW
        )
        assert (edited.status, edited.packs, edited.edit_reason) == ("edited", 1, "slow week")
        assert edited.reject_reason is None and edited.edited_by == "user:1"
        approve(conn, plan_id, line_ids=[beans], actor=PLANNER, now=NOW)

    refusals: list[tuple[type[NewRetailError], str, int, int, str]] = [
        (Conflict, "supply.line_ordered", beans, 1, "why"),
        (InvalidInput, "supply.bad_packs", croissants, -1, "why"),
        (InvalidInput, "supply.reason_required", croissants, 1, "  "),
        (NotFound, "supply.line_unknown", 10**9, 1, "why"),
    ]
    for kind, code, line_id, packs, reason in refusals:
        with pytest.raises(kind) as caught, migrated_engine.begin() as conn:
            edit(conn, plan_id, line_id, packs=packs, reason=reason, actor=PLANNER, now=NOW)
        assert caught.value.code == code
    with pytest.raises(Conflict) as caught, migrated_engine.begin() as conn:
        reject(conn, plan_id, beans, actor=PLANNER, now=NOW)
    assert caught.value.code == "supply.line_ordered"
    with pytest.raises(NotFound) as caught, migrated_engine.begin() as conn:
        approve(conn, 10**9, line_ids=[beans], actor=PLANNER, now=NOW)
    assert caught.value.code == "supply.plan_unknown"
    after = lines_of(migrated_engine, plan_id)
    assert (after[("S1", "M016")].status, after[("S1", "M016")].packs) == ("edited", 1)
    assert after[("S1", "M001")].status == "approved"


def test_a_line_of_another_plan_is_unknown(migrated_engine: Engine) -> None:
    plan_id, other = saved(migrated_engine), saved(migrated_engine)
    theirs = lines_of(migrated_engine, other)[("S1", "M001")].id
    with pytest.raises(NotFound) as caught, migrated_engine.begin() as conn:
        approve(conn, plan_id, line_ids=[theirs], actor=PLANNER, now=NOW)
    assert caught.value.code == "supply.line_unknown"


def test_a_refused_approval_writes_nothing(migrated_engine: Engine) -> None:
    plan_id = saved(migrated_engine)
    beans = lines_of(migrated_engine, plan_id)[("S1", "M001")].id
    calls = [
        {"line_ids": [beans, 10**9]},
        {"line_ids": []},
        {},
        {"line_ids": [beans], "location": Location("store", "S1")},
        {"location": Location("store", "S9")},
        {"location": Location("shop", "S1")},
    ]
    codes = []
    for call in calls:
        with pytest.raises(NewRetailError) as caught, migrated_engine.begin() as conn:
            approve(conn, plan_id, actor=PLANNER, now=NOW, **call)  # type: ignore[arg-type]
        codes.append(caught.value.code)
    assert codes == [
        "supply.line_unknown",
        "supply.bad_approval",
        "supply.bad_approval",
        "supply.bad_approval",
        "supply.location_unknown",
        "supply.bad_location_type",
    ]
    assert {line.status for line in lines_of(migrated_engine, plan_id).values()} == {"proposed"}
    with migrated_engine.connect() as conn:
        assert order_lines(conn, plan_id) == []


def test_a_bad_draft_is_refused_naming_the_line_and_nothing_is_saved(
    migrated_engine: Engine,
) -> None:
    origin = new_origin()
    good = small_draft(origin)
    bad_line = good.lines[1]
    broken = [
        [*good.lines[:1], replace(bad_line, packs=-1, quantity=-bad_line.pack_size)],
        good.lines + good.lines[:1],
    ]
    for lines in broken:
        with pytest.raises(InvalidInput) as caught, migrated_engine.begin() as conn:
            save_plan(conn, PlanDraft(origin, 0.98, "x", lines), now=NOW)
        assert caught.value.code == "supply.bad_plan"
        assert "S1" in str(caught.value)
    with pytest.raises(InvalidInput) as caught, migrated_engine.begin() as conn:
        save_plan(conn, PlanDraft(origin, 1.0, "x", good.lines), now=NOW)
    assert caught.value.field == "service_level"
    with migrated_engine.connect() as conn:
        query = select(func.count()).where(supply_plans.c.origin == origin)
        assert conn.execute(query).scalar_one() == 0


def test_store_managers_read_only_their_stores_lines(migrated_engine: Engine) -> None:
    plan_id = saved(migrated_engine)
    with migrated_engine.connect() as conn:
        mine, count = list_lines(conn, plan_id, MANAGER, chosen=LineFilter(), limit=100, offset=0)
        places = plan_locations(conn, plan_id, MANAGER, chosen=LineFilter())
        totals = plan_totals(conn, plan_id, MANAGER, chosen=LineFilter())
        for chosen in (LineFilter(location_id="S2"), LineFilter(location_type="warehouse")):
            with pytest.raises(Forbidden) as caught:
                list_lines(conn, plan_id, MANAGER, chosen=chosen, limit=100, offset=0)
            assert caught.value.code == "auth.store_denied"
    assert count == 2 and {line.location_id for line in mine} == {"S1"}
    assert [(p.location_id, p.lines, p.pending) for p in places] == [("S1", 2, 2)]
    assert (totals.lines, totals.packs, totals.cost_minor) == (2, 5, {"CNY": 18_000 + 28_800})
    with pytest.raises(Forbidden) as caught, migrated_engine.begin() as conn:
        approve(conn, plan_id, location=Location("store", "S1"), actor=MANAGER, now=NOW)
    assert caught.value.code == "auth.permission_denied"


def test_a_scoped_decider_decides_only_its_stores(
    migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No shipped role both writes and is store-scoped; if one ever is, its scope still holds.
    widened = {
        **PERMISSIONS,
        Role.STORE_MANAGER: PERMISSIONS[Role.STORE_MANAGER] | {Permission.SUPPLY_WRITE},
    }
    monkeypatch.setattr(principal_module, "PERMISSIONS", widened)
    plan_id = saved(migrated_engine)
    lines = lines_of(migrated_engine, plan_id)
    for line_ids in (
        [lines[("S1", "M001")].id, lines[("S2", "M001")].id],
        [lines[("W1", "M001")].id],
    ):
        with pytest.raises(Forbidden) as caught, migrated_engine.begin() as conn:
            approve(conn, plan_id, line_ids=line_ids, actor=MANAGER, now=NOW)
        assert caught.value.code == "auth.store_denied"
    with pytest.raises(Forbidden), migrated_engine.begin() as conn:
        edit(conn, plan_id, lines[("S2", "M001")].id, packs=1, reason="x", actor=MANAGER, now=NOW)
    assert {line.status for line in lines_of(migrated_engine, plan_id).values()} == {"proposed"}
    with migrated_engine.begin() as conn:
        done = approve(conn, plan_id, location=Location("store", "S1"), actor=MANAGER, now=NOW)
    assert len(done.approved) == 2


def test_purchase_orders_list_with_lines_within_the_scope(migrated_engine: Engine) -> None:
    plan_id = saved(migrated_engine)
    lines = lines_of(migrated_engine, plan_id)
    with migrated_engine.begin() as conn:
        approve(conn, plan_id, line_ids=[x.id for x in lines.values()], actor=PLANNER, now=NOW)
        every, count = purchase_orders(conn, ANALYST, plan_id=plan_id, limit=10, offset=0)
        mine, mine_count = purchase_orders(conn, MANAGER, plan_id=plan_id, limit=10, offset=0)
        with pytest.raises(Forbidden):
            purchase_orders(conn, MANAGER, location_id="S2", limit=10, offset=0)
    assert count == 3 and {o.location_id for o in every} == {"S1", "S2", "W1"}
    assert mine_count == 1 and mine[0].location_id == "S1"
    s1 = mine[0]
    assert [(x.material_id, x.packs, x.quantity) for x in s1.lines] == [
        ("M001", 2, 2000),
        ("M016", 3, 72),
    ]
    assert s1.cost_minor == {"CNY": 46_800}
    assert (s1.from_type, s1.from_id, s1.created_by) == ("warehouse", "W1", "user:1")
    assert s1.lines[0].expected_on == s1.order_date + dt.timedelta(days=1)
