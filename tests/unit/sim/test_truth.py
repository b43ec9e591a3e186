from __future__ import annotations

import math
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from tests.unit.sim.files import csv_rows, truth


def test_no_singapore_member_on_meituan_or_eleme(chain: Path) -> None:
    sg = {p["person_id"] for p in truth(chain, "persons") if p["country"] == "SG"}
    assert sg, "the small chain has a Singapore store and members"
    platform = {
        t["person_id"] for t in truth(chain, "identity_map") if t["source"] in ("meituan", "eleme")
    }
    assert not sg & platform
    sg_stores = {s["store_code"] for s in csv_rows(chain, "erp/stores.csv") if s["country"] == "SG"}
    for pattern, key in (("meituan/orders/*.csv", "门店编码"), ("eleme/orders/*.csv", "shop_code")):
        assert not {o[key] for o in csv_rows(chain, pattern)} & sg_stores


def test_expected_demand_matches_realised_demand_in_aggregate(chain: Path) -> None:
    demand = pq.read_table(chain / "truth" / "demand.parquet")
    expected = pc.sum(demand["expected_units"]).as_py()
    realised = pc.sum(demand["demand_units"]).as_py()
    # Realised units are a compound Poisson sum around the expectation: its variance is about
    # E[units^2]/E[units] <= 2 times the mean. Four standard deviations, plus 3% for what the
    # expectation approximates (channel odds taken at mid-month), bound an honest model.
    assert abs(realised - expected) <= 4 * math.sqrt(2 * expected) + 0.03 * expected
    sold = pc.greater(demand["sold_units"], 0)
    assert pc.all(pc.greater(pc.filter(demand["expected_units"], sold), 0)).as_py()
