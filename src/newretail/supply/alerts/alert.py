"""What an alert is: its kind, how urgent, where, which material, as of which day, the figures behind
it, and the natural key that makes re-running a day update it rather than add another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["stockout", "late_delivery", "short_delivery", "expiring"]
KINDS: tuple[Kind, ...] = ("stockout", "late_delivery", "short_delivery", "expiring")
Severity = Literal["critical", "high", "medium"]
# Most urgent first: the console groups and the API sorts in this order.
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium")
LocationType = Literal["store", "warehouse"]
Number = int | float | str | bool | list[str]


@dataclass(frozen=True)
class Alert:
    """One condition at one location for one material at the close of ``business_date``.

    ``numbers`` are the figures that explain it (JSON: ints in base units or minor units, dates as
    ISO text); each kind's module documents its own.
    """

    kind: Kind
    severity: Severity
    location_type: LocationType
    location_id: str
    material_id: str
    business_date: dt.date
    numbers: Mapping[str, Number]

    @property
    def key(self) -> str:
        """The natural key: one alert per kind, location, material and day.

        >>> Alert("stockout", "high", "store", "S1", "M2", dt.date(2026, 3, 1), {}).key
        'stockout/store/S1/M2/2026-03-01'
        """
        return natural_key(
            self.kind, self.location_type, self.location_id, self.material_id, self.business_date
        )


def natural_key(
    kind: str, location_type: str, location_id: str, material_id: str, business_date: dt.date
) -> str:
    """The text form of an alert's natural key (see :attr:`Alert.key`)."""
    return "/".join((kind, location_type, location_id, material_id, business_date.isoformat()))


@dataclass(frozen=True)
class Skipped:
    """A kind that could not be computed for the day, and why (``code`` is stable)."""

    kind: Kind
    code: str
    reason: str


@dataclass(frozen=True)
class Computed:
    """The alerts of one day, the kinds they cover, and the kinds skipped with their reasons."""

    as_of: dt.date
    alerts: list[Alert]
    skipped: list[Skipped]

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The kinds that were computed: only their older alerts may be closed as no longer true."""
        gone = {s.kind for s in self.skipped}
        return tuple(k for k in KINDS if k not in gone)
