"""``newretail trade …``: sync the checkout catalogue from the lake and relay orders to the lake.
Thin: each command calls ``newretail.trade``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from newretail.cli.admin import migrated
from newretail.cli.errors import reports_errors
from newretail.config import get_settings

trade_app = typer.Typer(
    help="Order middle platform: checkout catalogue, relay of orders to the lake.",
    no_args_is_help=True,
)
console = Console(highlight=False)


@trade_app.command("relay")
@reports_errors
def relay_command(
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Relay what the outbox holds now, then exit (default: keep relaying until Ctrl-C).",
        ),
    ] = False,
) -> None:
    """Relay placed orders and refunds from the OLTP outbox to the lake's ODS. A running server
    relays on its own; without --once this command relays only while no server does."""
    import datetime as dt
    import time

    from newretail.api.trade_relay import OutboxRelay
    from newretail.lake import Lake
    from newretail.trade.relay import backlog, relay

    settings = get_settings()
    lake = Lake(settings.lake_dir)
    with migrated() as database:
        if once:
            result = relay(database, lake, now=dt.datetime.now(dt.UTC))
            counts = ", ".join(f"{n:,} {name}" for name, n in sorted(result.rows.items()))
            console.print(
                f"relayed {result.outbox_rows:,} outbox rows ({counts or 'nothing'}); "
                f"{result.added:,} rows new in ODS; {backlog(database):,} waiting"
            )
            return
        worker = OutboxRelay(
            database=database, lake=lake, lock_path=settings.home / "trade" / "relay.lock"
        )
        worker.start()
        console.print("relaying the trade outbox to the lake; Ctrl-C to stop")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            worker.stop()


@trade_app.command("sync-catalogue")
@reports_errors
def sync_catalogue_command(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Day whose menu, prices and stores to take (default: today)."),
    ] = None,
) -> None:
    """Copy products, list prices and stores from the lake into the checkout catalogue; running it
    again with the same lake changes nothing."""
    import datetime as dt

    from newretail.errors import InvalidInput
    from newretail.lake import Lake
    from newretail.trade.catalogue import sync_catalogue

    try:
        day = dt.date.fromisoformat(as_of) if as_of is not None else None
    except ValueError:
        raise InvalidInput(
            "trade.bad_date", f"--as-of must be a date like 2026-06-30, not {as_of!r}"
        ) from None
    lake = Lake(get_settings().lake_dir)
    with migrated() as database, database.begin() as conn:
        result = sync_catalogue(conn, lake, now=dt.datetime.now(dt.UTC), as_of=day)
    console.print(
        f"catalogue as of {result.as_of}: {result.products:,} products ({result.on_sale:,} on sale), "
        f"{result.prices:,} prices, {result.stores:,} stores ({result.open_stores:,} open); "
        f"{result.changed:,} rows written"
    )


@trade_app.command("journey")
@reports_errors
def journey_command(
    key: Annotated[str, typer.Option("--key", help="A channel API key (`make demo` prints one).")],
    url: Annotated[str, typer.Option("--url", help="The running server.")] = (
        "http://127.0.0.1:8000"
    ),
    store: Annotated[
        str | None, typer.Option("--store", help="Store to order in (default: the first CNY one).")
    ] = None,
) -> None:
    """A new customer's first week through the API: sign up, join, buy the paid membership, top
    up, check out in the app and at the till with vouchers, refund the till order; then reconcile
    the ledgers (exits 1 when the refund did not restore every balance or any difference is found)."""
    from newretail.cli.journey import Client, run_journey
    from newretail.loyalty.reconcile import reconcile

    done = run_journey(Client(url, key), console, store_id=store)
    with migrated() as engine, engine.connect() as conn:
        report = reconcile(conn)
    console.print(f"Reconcile: {len(report.differences)} differences")
    if not done["restored"] or report.differences:
        raise typer.Exit(1)
