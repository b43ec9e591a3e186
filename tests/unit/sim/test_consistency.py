from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson
import pyarrow.parquet as pq


def _csv(chain: Path, pattern: str, encoding: str = "utf-8") -> pa.Table:
    opts = pcsv.ReadOptions(encoding=encoding)
    conv = pcsv.ConvertOptions(strings_can_be_null=True, column_types={})
    tables = [
        pcsv.read_csv(p, read_options=opts, convert_options=conv)
        for p in sorted((chain / "sources").glob(pattern))
    ]
    return pa.concat_tables(tables, promote_options="permissive")


def test_pos_lines_sum_to_order_gross_and_discount_and_paid_adds_up(chain: Path) -> None:
    orders = _csv(chain, "pos/orders/*.csv", "gbk").to_pylist()
    lines = _csv(chain, "pos/order_lines/*.csv", "gbk").to_pylist()
    gross: dict[str, int] = {}
    disc: dict[str, int] = {}
    for line in lines:
        key = line["order_no"]
        gross[key] = gross.get(key, 0) + round(float(line["price"]) * 100) * int(line["qty"])
        disc[key] = disc.get(key, 0) + round(float(line["disc_amt"]) * 100)
    assert orders
    for o in orders:
        amt, d, fee, paid = (
            round(float(o[k]) * 100) for k in ("amt", "disc_amt", "deliv_fee", "pay_amt")
        )
        assert gross[o["order_no"]] == amt
        assert disc[o["order_no"]] == d
        assert paid == amt - d + fee


def test_app_lines_sum_to_order_gross(chain: Path) -> None:
    orders = pa.concat_tables(
        [pjson.read_json(p) for p in sorted((chain / "sources/app/orders").glob("*.jsonl"))]
    )
    lines = pa.concat_tables(
        [pjson.read_json(p) for p in sorted((chain / "sources/app/order_lines").glob("*.jsonl"))]
    )
    assert pc.count_distinct(lines["order_id"]).as_py() == orders.num_rows
    line_gross: dict[str, int] = {}
    for row in lines.to_pylist():
        line_gross[row["order_id"]] = (
            line_gross.get(row["order_id"], 0) + row["unit_price_fen"] * row["quantity"]
        )
    for row in orders.to_pylist():
        assert line_gross[row["order_id"]] == row["gross_fen"]
        assert row["paid_fen"] == row["gross_fen"] - row["discount_fen"] + row["delivery_fee_fen"]


def test_inventory_movements_balance_to_snapshots(chain: Path) -> None:
    snaps = pa.concat_tables(
        [
            pq.read_table(p)
            for p in sorted((chain / "sources/erp/inventory_snapshots").glob("*.parquet"))
        ]
    )
    moves = pa.concat_tables(
        [
            pq.read_table(p)
            for p in sorted((chain / "sources/erp/inventory_movements").glob("*.parquet"))
        ]
    )

    def day(ms: int) -> int:
        return (ms // 1000 + 8 * 3600) // 86400  # stores here are all at UTC+8

    moved: dict[tuple[str, str, int], int] = {}
    for m in moves.to_pylist():
        key = (m["loc_code"], m["material_code"], day(m["posting_ts"]))
        moved[key] = moved.get(key, 0) + m["qty"]
    last: dict[tuple[str, str], tuple[int, int]] = {}
    for s in sorted(snaps.to_pylist(), key=lambda r: r["count_ts"]):
        cell, d = (s["loc_code"], s["material_code"]), day(s["count_ts"])
        before = last.get(cell, (d - 1, 0))[1]
        assert s["on_hand_qty"] == before + moved.get((*cell, d), 0), (cell, d)
        assert s["on_hand_qty"] >= 0
        last[cell] = (d, s["on_hand_qty"])


def test_identity_truth_covers_every_record_and_noise_is_present(chain: Path) -> None:
    truth = pq.read_table(chain / "truth/identity_map.parquet").to_pylist()
    persons = set(pq.read_table(chain / "truth/persons.parquet")["person_id"].to_pylist())
    assert {t["person_id"] for t in truth} <= persons
    owner = {(t["source"], t["source_record_id"]): t["person_id"] for t in truth}
    pos = _csv(chain, "pos/members/*.csv", "gbk").to_pylist()
    for row in pos:
        assert ("pos", str(row["card_no"])) in owner
    by_phone: dict[str, set[str]] = {}
    for row in pos:
        by_phone.setdefault(str(row["mobile"]), set()).add(owner[("pos", str(row["card_no"]))])
    mini = pa.concat_tables(
        [pjson.read_json(p) for p in sorted((chain / "sources/mini_program/users").glob("*.jsonl"))]
    ).to_pylist()
    unionids: dict[str, set[str]] = {}
    for row in mini:
        unionids.setdefault(owner[("mini_program", row["openid"])], set()).add(row["unionid"])
    assert any(len(u) == 2 for u in unionids.values()), "no person with two WeChat accounts"
    app = pa.concat_tables(
        [pjson.read_json(p) for p in sorted((chain / "sources/app/users").glob("*.jsonl"))]
    ).to_pylist()
    phones: dict[str, set[str]] = {}
    for row in app:
        if row["mobile"]:
            phones.setdefault(str(row["mobile"]), set()).add(owner[("app", row["uid"])])
    for row in mini:
        if row["purePhoneNumber"]:
            phones.setdefault(str(row["purePhoneNumber"]), set()).add(
                owner[("mini_program", row["openid"])]
            )
    for phone, owners in by_phone.items():
        phones.setdefault(phone, set()).update(owners)
    shared = [p for p in phones.values() if len(p) > 1]
    assert shared, "no family sharing a phone"
    assert all(len(s) == len(set(s)) for s in shared)


def test_pos_copies_reference_existing_platform_orders(chain: Path) -> None:
    pos = _csv(chain, "pos/orders/*.csv", "gbk")
    refs = [r for r in pos["platform_order_no"].to_pylist() if r]
    platform = set(_csv(chain, "meituan/orders/*.csv")["订单号"].cast(pa.string()).to_pylist())
    platform |= set(
        _csv(chain, "eleme/orders/*.csv")["eleme_order_id"].cast(pa.string()).to_pylist()
    )
    assert refs
    assert set(refs) == platform


def test_no_sale_outside_a_products_life_and_dates_are_store_local(chain: Path) -> None:
    products = {r["sku"]: r for r in _csv(chain, "erp/products.csv").to_pylist()}
    lines = _csv(chain, "pos/order_lines/*.csv", "gbk").to_pylist()
    for line in lines:
        p = products[line["sku"]]
        day = (
            line["biz_date"]
            if isinstance(line["biz_date"], dt.date)
            else dt.date.fromisoformat(line["biz_date"])
        )
        assert p["launch_date"] <= day
        assert p["retire_date"] is None or day <= p["retire_date"]
    orders = {o["order_no"]: o for o in _csv(chain, "pos/orders/*.csv", "gbk").to_pylist()}
    for line in lines:
        local = orders[line["order_no"]]["order_time"]
        assert str(local)[:10] == str(line["biz_date"])
