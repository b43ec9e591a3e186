"""DWD tables: the canonical tables cleaned, conformed and deduplicated, one per canonical table.

A DWD table keeps its canonical columns (``source`` becomes an ordinary column). Dated event tables
are partitioned by ``business_date`` only; dimension tables and the current-state people tables
(identity records, memberships) are small enough to be rebuilt whole into one unpartitioned file.
"""

from __future__ import annotations

from newretail.model import CANONICAL
from newretail.model.spec import TableSpec

# People tables keep one row per record: the newest version wins, whatever date it arrived on.
CURRENT_STATE = {
    "identity_records": ("source", "source_record_id"),
    "memberships": ("source", "membership_id"),
}


def _derive(spec: TableSpec) -> TableSpec:
    dated = "business_date" in spec.partition_by and spec.name not in CURRENT_STATE
    return TableSpec(
        name=spec.name,
        subject=spec.subject,
        description=f"DWD (cleaned, deduplicated): {spec.description}",
        schema=spec.schema,
        key=CURRENT_STATE.get(spec.name, spec.key),
        partition_by=("business_date",) if dated else (),
        enums=spec.enums,
    )


TABLES: tuple[TableSpec, ...] = tuple(_derive(spec) for spec in CANONICAL)
_BY_NAME = {spec.name: spec for spec in TABLES}


def table(name: str) -> TableSpec:
    """The DWD table called ``name`` (a canonical table's name)."""
    return _BY_NAME[name]
