"""``newretail loyalty …``: the daily membership jobs (tiers, points expiry, paid-member vouchers,
coupon expiry) and the ledger reconciliation. Thin: each command calls ``newretail.loyalty``."""

from __future__ import annotations

import typer
from rich.console import Console

loyalty_app = typer.Typer(
    help="Membership and benefits: reconcile ledgers, run the daily jobs.", no_args_is_help=True
)
console = Console(highlight=False)
