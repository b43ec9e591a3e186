"""Metric definitions and the queries behind the console's figures; api/, web/ and the CLI import
from here."""

from __future__ import annotations

from newretail.metrics.chain_summary import Block, ChainSummary, chain_summary
from newretail.metrics.overview import (
    ChannelSales,
    DaySales,
    Overview,
    Period,
    Sales,
    chain_overview,
    latest_business_date,
)

__all__ = [
    "Block",
    "ChainSummary",
    "ChannelSales",
    "DaySales",
    "Overview",
    "Period",
    "Sales",
    "chain_overview",
    "chain_summary",
    "latest_business_date",
]
