"""The obvious way to take a checkout, for bench/checkout.py to measure beside ``POST /api/v1/orders``:
one plain SQL transaction per order through psycopg, a connection per thread, no HTTP.

It writes the same rows as the platform (order, lines, pricing steps, the coupon's redemption and its
event, two wallet entries, a points entry and lot, the outbox row, an idempotency record), so the
ledgers still reconcile, but prices the one basket the benchmark orders (a CNY 10 off 30 coupon, the
green tier's no discount) and checks nothing the seed makes true (an open store, an active scheme, a
template in scope). Run by bench/checkout.py as ``python bench/checkout_obvious.py '<json args>'``;
writes one JSON document to the file ``out`` names.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import random
import secrets
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

SCHEME = "coffee_club"
STORES = 20


def main(args: dict[str, Any]) -> None:
    """``threads`` threads place orders for ``seconds`` from the plan's slots, from ``first`` on."""
    members = [line.split() for line in Path(args["plan"]).read_text().splitlines()]
    conninfo = args["url"].replace("postgresql+psycopg://", "postgresql://", 1)
    tag, first, deadline = args["tag"], args["first"], time.monotonic() + args["seconds"]
    counter = iter(range(first, first + 10_000_000))
    lock = threading.Lock()
    latencies: list[float] = []
    codes: Counter[str] = Counter()
    errors: list[str] = []
    placed: list[str] = []

    def worker() -> None:
        with psycopg.connect(conninfo) as conn:
            products = _products(conn)
            while time.monotonic() < deadline:
                with lock:
                    slot = next(counter)
                started = time.perf_counter()
                try:
                    order = place(conn, products, members, tag, slot)
                except Exception as error:  # counted and shown, as a 5xx would be
                    conn.rollback()
                    with lock:
                        codes[type(error).__name__] += 1
                        if len(errors) < 3:
                            errors.append(str(error)[:200])
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    placed.append(order)

    began = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(args["threads"])]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    # A file, not stdout: the list of orders overflows a pipe the caller does not read meanwhile.
    Path(args["out"]).write_text(
        json.dumps(
            {
                "ok": len(placed),
                "done": len(placed) + sum(codes.values()),
                "seconds": seconds,
                "p50_ms": cuts[49] * 1000,
                "p99_ms": cuts[98] * 1000,
                "codes": dict(codes),
                "errors": errors,
                "handed": next(counter) - first,
                "placed": placed,
            }
        )
    )


def _one(cursor: psycopg.Cursor[Any]) -> Any:
    """The one row a statement returns (a missing row is a broken seed: fail loudly)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("expected a row")
    return row


def _products(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, int, dict[str, int]]]:
    rows = conn.execute(
        "SELECT p.product_id, p.category, c.price_minor, p.sizes FROM catalogue_products p "
        "JOIN catalogue_prices c ON c.product_id = p.product_id WHERE c.currency = 'CNY'"
    ).fetchall()
    conn.commit()
    return {pid: (category, price, sizes.get("CNY", {})) for pid, category, price, sizes in rows}


def place(
    conn: psycopg.Connection[Any],
    products: dict[str, tuple[str, int, dict[str, int]]],
    members: list[list[str]],
    tag: int,
    slot: int,
) -> str:
    """Place the order of plan slot ``slot`` in one transaction: 20 statements, no layers."""
    rng = random.Random(slot)
    member = members[slot % len(members)]
    uid, code = member[0], member[1 + slot // len(members)]
    client_order_id = f"o{tag}-{slot}"
    store = f"S{rng.randint(1, STORES):04d}"
    coffee = rng.choice([p for p in products if p.startswith("C")])
    size = rng.choice(["M", "L"])
    food = rng.choice([p for p in products if p.startswith("F")])
    now = dt.datetime.now(dt.UTC)
    order_id = f"ord_{secrets.token_hex(8)}"
    with conn.transaction():
        claimed = conn.execute(
            "INSERT INTO idempotency_keys (owner, key, fingerprint, created_at) "
            "VALUES ('bench-obvious', %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
            (f"k{tag}-{slot}", secrets.token_hex(32), now),
        ).fetchone()
        if claimed is None:
            raise RuntimeError("idempotency key reused")
        person = _one(
            conn.execute(
                "SELECT person_id FROM identity_links WHERE source = 'app' "
                "AND source_record_id = %s",
                (uid,),
            )
        )[0]
        membership = _one(
            conn.execute(
                "SELECT id FROM memberships WHERE scheme_id = %s AND person_id = %s",
                (SCHEME, person),
            )
        )[0]
        coupon = conn.execute(
            "SELECT t.amount_off_minor, t.threshold_minor FROM coupons c JOIN coupon_templates t "
            "ON t.id = c.template_id WHERE c.id = %s AND c.person_id = %s AND c.status = 'issued' "
            "AND c.expires_at > %s",
            (code, person, now),
        ).fetchone()
        if coupon is None:
            raise RuntimeError("coupon not usable")
        lines: list[list[Any]] = []
        for line_no, (pid, line_size) in enumerate([(coffee, size), (food, None)], start=1):
            category, price, sizes = products[pid]
            unit = price + (sizes.get(line_size, 0) if line_size else 0)
            lines.append([line_no, pid, category, line_size, unit])
        gross = sum(line[4] for line in lines)
        off = coupon[0] if gross >= coupon[1] else 0
        shares = [off * line[4] // gross for line in lines]
        shares[0] += off - sum(shares)
        total = gross - off
        points = [(line[4] - share) // 100 for line, share in zip(lines, shares, strict=True)]
        business_date = (now + dt.timedelta(hours=8)).date()
        conn.execute(
            "INSERT INTO orders (id, channel, client_order_id, store_id, person_id, "
            "identity_source, identity_record_id, membership_id, status, fulfilment, currency, "
            "gross_minor, discount_minor, paid_minor, wallet_minor, payment_method, points_earned, "
            "refunded_minor, placed_at, business_date) VALUES (%s, 'app', %s, %s, %s, 'app', %s, "
            "%s, 'placed', 'pickup', 'CNY', %s, %s, %s, %s, 'stored_value', %s, 0, %s, %s)",
            (order_id, client_order_id, store, person, uid, membership, gross, off, total, total,
             sum(points), now, business_date),
        )  # fmt: skip
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO order_lines (order_id, line_no, product_id, category, size, quantity, "
                "unit_price_minor, gross_minor, discount_minor, net_minor, points_earned, "
                "refunded_quantity) VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s, %s, %s, 0)",
                [
                    (order_id, n, pid, cat, sz, unit, unit, share, unit - share, pts)
                    for (n, pid, cat, sz, unit), share, pts in zip(
                        lines, shares, points, strict=True
                    )
                ],
            )
            cur.executemany(
                "INSERT INTO order_discounts (order_id, step, line_no, source, coupon_id, "
                "amount_minor) VALUES (%s, 1, %s, 'coupon', %s, %s)",
                [
                    (order_id, line[0], code, share)
                    for line, share in zip(lines, shares, strict=True)
                ],
            )
        redeemed = conn.execute(
            "UPDATE coupons SET status = 'redeemed', order_id = %s, redeemed_at = %s, "
            "discount_minor = %s WHERE id = %s AND status = 'issued'",
            (order_id, now, off, code),
        ).rowcount
        if redeemed != 1:
            raise RuntimeError("coupon used")
        conn.execute(
            "INSERT INTO coupon_events (coupon_id, kind, natural_key, order_id, discount_minor, "
            "actor, at) VALUES (%s, 'redeemed', %s, %s, %s, 'bench-obvious', %s)",
            (code, f"redeemed:{order_id}", order_id, off, now),
        )
        (principal_id, principal), (bonus_id, bonus) = conn.execute(
            "SELECT id, balance FROM loyalty_accounts WHERE membership_id = %s "
            "AND kind IN ('wallet', 'wallet_bonus') ORDER BY kind FOR UPDATE",
            (membership,),
        ).fetchall()
        if principal + bonus < total:
            raise RuntimeError("wallet insufficient")
        from_bonus = total * bonus // (principal + bonus)
        pay_key = f"order:{order_id}:pay"
        for account, balance, amount in (
            (principal_id, principal, total - from_bonus),
            (bonus_id, bonus, from_bonus),
        ):
            _entry(conn, account, "pay", -amount, balance - amount, pay_key, order_id, now)
        earned = sum(points)
        if earned:
            conn.execute(
                "INSERT INTO loyalty_accounts (membership_id, kind, currency, balance, updated_at) "
                "VALUES (%s, 'points', NULL, 0, %s) ON CONFLICT DO NOTHING",
                (membership, now),
            )
            account, balance = _one(
                conn.execute(
                    "SELECT id, balance FROM loyalty_accounts WHERE membership_id = %s "
                    "AND kind = 'points' FOR UPDATE",
                    (membership,),
                )
            )
            year, month = business_date.year + 1, business_date.month
            expires = dt.date(year, month, calendar.monthrange(year, month)[1])
            entry = _entry(
                conn, account, "earn", earned, balance + earned, f"order:{order_id}:earn",
                order_id, now, {"expires_on": expires.isoformat()},
            )  # fmt: skip
            conn.execute(
                "INSERT INTO points_lots (account_id, entry_id, amount, remaining, expires_on) "
                "VALUES (%s, %s, %s, %s, %s)",
                (account, entry, earned, earned, expires),
            )
        payload = {
            "version": 1,
            "tables": _lake_rows(
                order_id, store, uid, gross, off, total, code, lines, shares, now, business_date
            ),
        }
        conn.execute(
            "INSERT INTO trade_outbox (topic, payload, created_at) VALUES ('order', %s, %s)",
            (json.dumps(payload), now),
        )
        conn.execute(
            "UPDATE idempotency_keys SET completed_at = %s, status_code = 201, response_body = %s "
            "WHERE id = %s",
            (now, json.dumps({"id": order_id, "client_order_id": client_order_id}).encode(),
             claimed[0]),
        )  # fmt: skip
    return client_order_id


def _entry(
    conn: psycopg.Connection[Any],
    account: int,
    kind: str,
    amount: int,
    balance_after: int,
    natural_key: str,
    order_id: str,
    now: dt.datetime,
    detail: dict[str, str] | None = None,
) -> int:
    entry: int = _one(
        conn.execute(
            "INSERT INTO loyalty_entries (account_id, kind, amount, balance_after, natural_key, "
            "order_id, detail, actor, at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'bench-obvious', %s) "
            "RETURNING id",
            (
                account,
                kind,
                amount,
                balance_after,
                natural_key,
                order_id,
                json.dumps(detail or {}),
                now,
            ),
        )
    )[0]
    conn.execute(
        "UPDATE loyalty_accounts SET balance = %s, updated_at = %s WHERE id = %s",
        (balance_after, now, account),
    )
    return entry


def _lake_rows(
    order_id: str,
    store: str,
    uid: str,
    gross: int,
    off: int,
    total: int,
    code: str,
    lines: list[list[Any]],
    shares: list[int],
    now: dt.datetime,
    business_date: dt.date,
) -> dict[str, list[dict[str, Any]]]:
    """The lake rows of the order in the outbox's shape, from the values in hand."""
    placed, day = now.isoformat(), business_date.isoformat()
    common = {"source": "oms", "order_id": order_id, "store_id": store, "currency": "CNY"}
    return {
        "orders": [
            common
            | {
                "channel": "app",
                "identity_source": "app",
                "identity_record_id": uid,
                "fulfilment": "pickup",
                "status": "completed",
                "placed_at": placed,
                "accepted_at": None,
                "made_at": None,
                "completed_at": None,
                "promised_at": None,
                "gross_minor": gross,
                "discount_minor": off,
                "delivery_fee_minor": 0,
                "paid_minor": total,
                "coupon_id": code,
                "payment_method": "stored_value",
                "platform_order_ref": None,
                "business_hour": (now.hour + 8) % 24,
                "business_date": day,
            }
        ],
        "order_lines": [
            common
            | {
                "line_no": line[0],
                "product_id": line[1],
                "quantity": 1,
                "unit_price_minor": line[4],
                "discount_minor": share,
                "business_date": day,
            }
            for line, share in zip(lines, shares, strict=True)
        ],
        "coupon_redemptions": [
            common
            | {
                "coupon_id": code,
                "order_source": "oms",
                "discount_minor": off,
                "redeemed_at": placed,
                "business_date": day,
            }
        ],
    }


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
