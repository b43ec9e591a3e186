"""Late and short deliveries: purchase-order lines to stores (from their DC) and to DCs (from
suppliers) that did not arrive, or arrived with fewer packs than ordered.

- ``late_delivery``: a line whose expected day has come (``expected_on <= as_of``) with nothing
  delivered by the close of ``as_of``. Severity by how late: due today medium, a day late high,
  more critical. Figures: ``po_ids``, ``from_type``, ``from_id``, ``expected_on`` (the earliest),
  ``days_late``, ``ordered_packs``, ``pack_size``, ``ordered_quantity``, ``unit``.
- ``short_delivery``: a line delivered in part (``0 < delivered < ordered`` packs). Severity high
  when less than half came, else medium. Figures: ``po_ids``, ``from_type``, ``from_id``,
  ``expected_on``, ``ordered_packs``, ``delivered_packs``, ``short_packs``, ``pack_size``,
  ``short_quantity``, ``unit``.

Several lines of one location and material (two days' orders, say) make one alert with their sums.
Which lines are looked at is the caller's choice (see :mod:`lake_inputs`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from newretail.supply.alerts.alert import Alert, Kind, LocationType, Number, Severity


@dataclass(frozen=True)
class OrderLine:
    """A purchase-order line, its rows summed: what was ordered and delivered by the close."""

    location_type: LocationType
    location_id: str
    material_id: str
    po_id: str
    from_type: str  # warehouse or supplier
    from_id: str
    expected_on: dt.date
    ordered_packs: int
    delivered_packs: int


def delivery_alerts(
    lines: Iterable[OrderLine],
    *,
    as_of: dt.date,
    pack_size: Mapping[str, int],
    units: Mapping[str, str],
) -> list[Alert]:
    """The late and short alerts among ``lines``, ordered by kind, location and material."""
    groups: dict[tuple[Kind, LocationType, str, str], list[OrderLine]] = defaultdict(list)
    for line in lines:
        kind = _kind(line, as_of)
        if kind is not None:
            groups[(kind, line.location_type, line.location_id, line.material_id)].append(line)
    return [
        _alert(kind, group, as_of, pack_size[material], units[material])
        for (kind, _, _, material), group in sorted(groups.items())
    ]


def _kind(line: OrderLine, as_of: dt.date) -> Kind | None:
    if line.delivered_packs == 0 and line.expected_on <= as_of:
        return "late_delivery"
    if 0 < line.delivered_packs < line.ordered_packs:
        return "short_delivery"
    return None


def _alert(kind: Kind, lines: list[OrderLine], as_of: dt.date, pack: int, unit: str) -> Alert:
    first = min(lines, key=lambda line: (line.expected_on, line.po_id))
    ordered = sum(line.ordered_packs for line in lines)
    delivered = sum(line.delivered_packs for line in lines)
    common: dict[str, Number] = {
        "po_ids": sorted(line.po_id for line in lines),
        "from_type": first.from_type,
        "from_id": first.from_id,
        "expected_on": first.expected_on.isoformat(),
        "ordered_packs": ordered,
        "pack_size": pack,
        "unit": unit,
    }
    severity: Severity
    if kind == "late_delivery":
        late = (as_of - first.expected_on).days
        severity = "medium" if late == 0 else "high" if late == 1 else "critical"
        numbers: dict[str, Number] = {
            **common,
            "days_late": late,
            "ordered_quantity": ordered * pack,
        }
    else:
        severity = "high" if 2 * delivered < ordered else "medium"
        numbers = {
            **common,
            "delivered_packs": delivered,
            "short_packs": ordered - delivered,
            "short_quantity": (ordered - delivered) * pack,
        }
    return Alert(
        kind=kind,
        severity=severity,
        location_type=first.location_type,
        location_id=first.location_id,
        material_id=first.material_id,
        business_date=as_of,
        numbers=numbers,
    )
