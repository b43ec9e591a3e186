"""Replenishment: tomorrow's order proposal per location × material, with the reasons for each."""

from newretail.supply.replenish.inputs import DemandForecast, OrderTerms, StockPosition
from newretail.supply.replenish.policy import REASONS, Explanation, Proposal, propose

__all__ = [
    "REASONS",
    "DemandForecast",
    "Explanation",
    "OrderTerms",
    "Proposal",
    "StockPosition",
    "propose",
]
