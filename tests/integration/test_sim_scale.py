"""The demo-size chain (20k members, 40 stores, 180 days) is byte-deterministic and plausibly sized."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from newretail.progress import SilentProgress
from newretail.sim import SimConfig, generate

DEMO = SimConfig(members=20_000, stores=40, days=180, seed=7)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_demo_chain_is_deterministic_and_its_row_counts_are_plausible(tmp_path: Path) -> None:
    first = generate(DEMO, out=tmp_path / "a", progress=SilentProgress())
    generate(DEMO, out=tmp_path / "b", progress=SilentProgress())
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")

    rows = first.rows
    member_days = DEMO.members * DEMO.days
    store_days = DEMO.stores * DEMO.days
    # About 13 orders a member-year before churn, plus walk-ins at the tills.
    orders = sum(rows[f"{s}.orders"] for s in ("pos", "app", "mini_program", "meituan", "eleme"))
    assert 0.01 < orders / member_days < 0.05
    online = rows["app.orders"] + rows["mini_program.orders"]
    assert 2 < (rows["app.events"] + rows["mini_program.events"]) / online < 6
    # Door counts: each trading store-hour of 14 opening hours (stores open over the horizon).
    assert 0.5 * store_days * 14 < rows["footfall.counts"] <= store_days * 24
    # Two to five cold and espresso devices: 24 cold readings a day each, 28 espresso ones.
    assert 0.5 * store_days * 2 * 24 < rows["iot.readings"] < store_days * (3 * 24 + 2 * 28)
    months = DEMO.days / 30
    assert DEMO.stores * months < rows["qc.inspections"] < DEMO.stores * months * 5
    assert 0 < first.truth_rows["paid_memberships"] < 0.2 * rows["app.users"]
    memberships = rows["app.memberships"] + rows["wechat.member_cards"] + rows["pos.member_cards"]
    assert 0.5 * DEMO.members < memberships < 6 * DEMO.members
    assert first.truth_rows["iot_excursions"] > 0
    assert rows["erp.inventory_snapshots"] > store_days
