"""Simulation: replay the twin's true demand through ordering policies and compare what they cost."""

from newretail.supply.simulate.compare import ComparisonRow, compare
from newretail.supply.simulate.engine import Scenario, simulate
from newretail.supply.simulate.policies import (
    ForecastDriven,
    ForecastProvider,
    OrderUpToLastWeek,
    Policy,
    StoreState,
)
from newretail.supply.simulate.result import Daily, MaterialSummary, SimResult, SimSummary

__all__ = [
    "ComparisonRow",
    "Daily",
    "ForecastDriven",
    "ForecastProvider",
    "MaterialSummary",
    "OrderUpToLastWeek",
    "Policy",
    "Scenario",
    "SimResult",
    "SimSummary",
    "StoreState",
    "compare",
    "simulate",
]
