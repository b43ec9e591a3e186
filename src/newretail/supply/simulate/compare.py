"""Several named policies replayed on one scenario, their headline figures side by side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from newretail.errors import InvalidInput
from newretail.supply.simulate.engine import Scenario, simulate
from newretail.supply.simulate.policies import Policy
from newretail.supply.simulate.result import SimResult


@dataclass(frozen=True)
class ComparisonRow:
    """One policy's figures (see :class:`SimSummary`); ``waste_vs_first`` is its waste cost relative
    to the first policy's (-0.3 is 30% less waste), None for the first row or when that had none."""

    policy: str
    in_stock_rate_core: float
    lost_units: int
    lost_sales_minor: int
    waste_cost_minor: int
    waste_rate: float
    waste_vs_first: float | None
    avg_inventory_value_minor: int
    holding_cost_minor: int
    orders_placed: int


def compare(scenario: Scenario, policies: Mapping[str, Policy]) -> list[ComparisonRow]:
    """A row per policy, in the mapping's order; the first policy is the baseline."""
    return compare_results(scenario, policies)[0]


def compare_results(
    scenario: Scenario, policies: Mapping[str, Policy]
) -> tuple[list[ComparisonRow], dict[str, SimResult]]:
    """The comparison rows and each policy's full result (daily arrays, per material)."""
    if not policies:
        raise InvalidInput("supply.no_policies", "name at least one policy", field="policies")
    rows: list[ComparisonRow] = []
    results: dict[str, SimResult] = {}
    for name, policy in policies.items():
        results[name] = simulate(scenario, policy)
        s = results[name].summary
        base = rows[0].waste_cost_minor if rows else 0
        rows.append(
            ComparisonRow(
                policy=name,
                in_stock_rate_core=s.in_stock_rate_core,
                lost_units=s.lost_units,
                lost_sales_minor=s.lost_sales_minor,
                waste_cost_minor=s.waste_cost_minor,
                waste_rate=s.waste_rate,
                waste_vs_first=s.waste_cost_minor / base - 1.0 if base else None,
                avg_inventory_value_minor=s.avg_inventory_value_minor,
                holding_cost_minor=s.holding_cost_minor,
                orders_placed=s.orders_placed,
            )
        )
    return rows, results
