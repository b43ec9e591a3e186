"""``newretail flashsale …``: reconcile a sale (sold = orders in OLTP = stock taken) and set up a demo
sale to hammer with the bundled load script. Thin: each command calls ``newretail.flashsale``."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newretail.cli.admin import migrated
from newretail.cli.errors import reports_errors
from newretail.config import get_settings
from newretail.errors import Conflict

flashsale_app = typer.Typer(help="Flash sales: reconcile, demo sale.", no_args_is_help=True)
console = Console(highlight=False)


@flashsale_app.command("reconcile")
@reports_errors
def reconcile_command(
    sale_id: Annotated[str, typer.Argument(help="The sale's id.")],
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds to keep checking while differences remain (the order writer catching up).",
        ),
    ] = 10.0,
) -> None:
    """Per item: units sold by the engine, units of orders in OLTP, stock taken, and every
    difference; exits non-zero when there is any."""
    from newretail.flashsale import open_engine, reconcile, restore_engine

    settings = get_settings()
    engine = open_engine(settings)
    try:
        with migrated() as database:
            restore_engine(database, engine)  # the in-process engine rebuilds from its log
            deadline = time.monotonic() + wait
            while True:
                with database.connect() as conn:
                    result = reconcile(conn, engine, sale_id)
                if result.ok or time.monotonic() >= deadline:
                    break
                time.sleep(0.5)
    finally:
        engine.close()
    table = Table(title=f"flash sale {sale_id}")
    for column in ("sku", "stock", "sold", "orders in OLTP", "stock taken", "paid", "expired"):
        table.add_column(column, justify="left" if column == "sku" else "right")
    for item in result.items:
        table.add_row(
            item.sku,
            f"{item.stock:,}",
            f"{item.sold:,}",
            f"{item.orders_reserved + item.orders_paid:,}",
            f"{item.taken:,}",
            f"{item.orders_paid:,}",
            f"{item.orders_expired:,}",
        )
    console.print(table)
    console.print(
        f"{result.reservations:,} reservations, {result.orders:,} orders in OLTP; "
        f"{result.persons_over_limit:,} persons over the limit; "
        f"{result.ineligible_orders:,} orders of ineligible persons"
    )
    for name, value in result.differences.items():
        console.print(f"difference: {name} = {value:+,}")
    if not result.ok:
        raise Conflict(
            "flashsale.unreconciled",
            f"{len(result.differences)} differences after waiting {wait:g} s",
        )
    console.print("reconciled: no differences")


@flashsale_app.command("demo")
@reports_errors
def demo_command(
    persons: Annotated[int, typer.Option(min=1, help="Synthetic shoppers who may buy.")] = 100_000,
    stock: Annotated[int, typer.Option(min=1, help="Units on sale.")] = 20_000,
    minutes: Annotated[int, typer.Option(min=1, help="How long the sale stays open.")] = 30,
    url: Annotated[str, typer.Option(help="Where `newretail serve` listens.")] = (
        "http://127.0.0.1:8000"
    ),
) -> None:
    """Create and arm a sale open now for synthetic shoppers, with a channel key, and print how to
    hammer it with the bundled load script and where to watch it."""
    from newretail.flashsale import open_engine
    from newretail.flashsale.demo import prepare_demo_sale

    engine = open_engine(get_settings())
    try:
        with migrated() as database:
            demo = prepare_demo_sale(
                database,
                engine,
                persons=persons,
                stock=stock,
                minutes=minutes,
                now=dt.datetime.now(dt.UTC),
            )
    finally:
        engine.close()
    sale = demo.sale
    console.print(
        f"sale {sale.id}: {stock:,} units of {sale.items[0].sku}, {sale.per_person_limit} per "
        f"person, {persons:,} shoppers P00000000…, open until {sale.ends_at:%H:%M} UTC"
    )
    console.print(f"channel API key (shown once): {demo.channel_key}")
    console.print(f"watch it: {url}/console/flashsales/{sale.id}")
    console.print("hammer it (wrk, 2 threads, 1,000 shoppers clicking about once a second, 30 s):")
    console.print(
        f"  wrk -t2 -c1000 -d30s -s bench/wrk/flashsale.lua {url} -- "
        f"'Bearer {demo.channel_key}' {sale.id} 1 0 {persons} 1000 2",
        soft_wrap=True,
    )
    console.print(f"then: newretail flashsale reconcile {sale.id}")
