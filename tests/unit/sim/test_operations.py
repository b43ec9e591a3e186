from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from tests.unit.sim.files import csv_rows, jsonl_rows, truth

_UTC8 = dt.timezone(dt.timedelta(hours=8))  # every city of the small chain keeps +08:00


def test_footfall_counts_at_least_the_till_buyers_of_each_store_hour(chain: Path) -> None:
    buyers = Counter(
        (o["store_code"], o["order_time"][:13])
        for o in csv_rows(chain, "pos/orders/*.csv", "gbk")
        if o["channel_code"] == "POS" and o["order_type"] in ("堂食", "外带")
    )
    counts = {
        (r["store_code"], r["hour_start"][:13]): int(r["visitors"])
        for r in csv_rows(chain, "footfall/counts/*.csv")
    }
    assert buyers
    for cell, n in buyers.items():
        assert counts[cell] >= n, cell
    formats = {s["store_code"]: s["format"] for s in csv_rows(chain, "erp/stores.csv")}
    walk_ins = Counter()
    for (store, _), visitors in counts.items():
        walk_ins[formats[store]] += visitors
    assert walk_ins["delivery_kitchen"] == 0


def test_iot_excursions_in_truth_show_in_the_readings_and_nowhere_else(chain: Path) -> None:
    readings = jsonl_rows(chain, "iot/readings/*.jsonl")
    excursions = truth(chain, "iot_excursions")
    assert excursions, "no excursion in the small chain"
    inside: set[tuple[str, int]] = set()
    for e in excursions:
        first = int(e["first_reading_at"].timestamp() * 1000)
        last = int(e["last_reading_at"].timestamp() * 1000)
        hits = [r for r in readings if r["device"] == e["device_id"] and first <= r["ts"] <= last]
        assert len(hits) == (last - first) // 3_600_000 + 1
        assert all(r["value"] > e["limit_c"] for r in hits)
        inside |= {(r["device"], r["ts"]) for r in hits}
    limits = {"fridge": 8.0, "freezer": -12.0}
    for r in readings:
        if r["type"] in limits and (r["device"], r["ts"]) not in inside:
            assert r["value"] <= limits[r["type"]], r
    espresso = [r["value"] for r in readings if r["type"] == "espresso_machine"]
    assert espresso and 8 < sum(espresso) / len(espresso) < 10


def test_inspections_score_pass_and_name_known_findings(chain: Path) -> None:
    known = {
        "expired_material",
        "dirty_counter",
        "temperature_log_missing",
        "fridge_over_temperature",
        "pest_sign",
        "uniform_violation",
        "label_missing",
    }
    rows = csv_rows(chain, "qc/inspections/*.csv")
    assert rows
    for r in rows:
        score = int(r["score"])
        assert 0 <= score <= 100
        assert (r["result"] == "PASS") == (score >= 80)
        assert set((r["findings"] or "").split(";")) - {""} <= known
        local = dt.datetime.fromisoformat(r["inspect_time"]).replace(tzinfo=_UTC8)
        assert 9 <= local.hour < 18
