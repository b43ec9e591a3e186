"""The twin's true demand: what customers wanted per store, product and day, before stock-outs cut it
(``truth/demand.parquet`` written by the chain generator beside its source files).

Only a synthetic chain has it; a real chain's simulation would replay unconstrained sales instead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds

from newretail.errors import InvalidInput, NoData


def true_demand(
    truth_dir: Path,
    *,
    store_ids: np.ndarray,
    product_ids: np.ndarray,
    first: dt.date,
    days: int,
    column: str = "demand_units",
) -> np.ndarray:
    """(D, S, P) units from ``truth_dir/demand.parquet`` for ``days`` days from ``first``."""
    path = truth_dir / "demand.parquet"
    if not path.exists():
        raise NoData(
            "supply.no_truth",
            f"no true demand at {path}: simulation replays a generated chain's ground truth",
        )
    if column not in ("demand_units", "expected_units"):
        raise InvalidInput(
            "supply.bad_truth_column", f"unknown truth column {column}", field=column
        )
    last = first + dt.timedelta(days=days - 1)
    table = ds.dataset(path).to_table(
        columns=["store_id", "product_id", "business_date", column],
        filter=(pc.field("business_date") >= first) & (pc.field("business_date") <= last),
    )
    covered = table.column("business_date")
    if days and (len(covered) == 0 or pc.max(covered).as_py() < last):
        raise InvalidInput(
            "supply.simulation_beyond_truth",
            f"the ground truth does not reach {last}: simulate inside the generated days",
            field="weeks",
        )
    s_index = {str(s): i for i, s in enumerate(store_ids)}
    p_index = {str(p): i for i, p in enumerate(product_ids)}
    store = np.array([s_index.get(str(s), -1) for s in table.column("store_id").to_pylist()])
    product = np.array([p_index.get(str(p), -1) for p in table.column("product_id").to_pylist()])
    dates = table.column("business_date").to_numpy().astype("datetime64[D]")
    day = (dates - np.datetime64(first, "D")).astype(np.int64)
    keep = (store >= 0) & (product >= 0)
    values = table.column(column).to_numpy()
    demand = np.zeros((days, len(store_ids), len(product_ids)), dtype=values.dtype)
    demand[day[keep], store[keep], product[keep]] = values[keep]
    return demand
