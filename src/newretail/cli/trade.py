"""``newretail trade …``: sync the checkout catalogue from the lake and relay orders to the lake.
Thin: each command calls ``newretail.trade``."""

from __future__ import annotations

import typer
from rich.console import Console

trade_app = typer.Typer(
    help="Order middle platform: checkout catalogue, relay of orders to the lake.",
    no_args_is_help=True,
)
console = Console(highlight=False)
