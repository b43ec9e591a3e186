"""The vocabulary in which a source system declares how its files map onto the canonical model.

Every source file kind is one :class:`SourceFile`: where its files are, their format, the canonical
table they fill and, per canonical column, which source field feeds it and how its text is parsed.
Declarations live in ``newretail.ingest.sources``; the engine in ``newretail.ingest`` reads nothing
else about a source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Format = Literal["csv", "jsonl", "parquet"]

Parse = Literal[
    "text",  # trimmed string; empty means null
    "int",  # integer
    "float",  # decimal number as a float (areas, coordinates, sensor values; never money)
    "bool",  # 1/0, true/false, Y/N (case-insensitive)
    "date",  # YYYY-MM-DD or YYYYMMDD
    "money",  # decimal in major units ("12.50") -> integer minor units; >2 decimals is rejected
    "minor",  # integer already in minor units
    "utc_time",  # ISO 8601 with Z or an offset, or integer epoch milliseconds -> UTC timestamp
    "local_time",  # naive "YYYY-MM-DD HH:MM:SS" in the time zone of the row's location (see tz_from)
    "phone",  # a phone number, full or masked -> <target>_hash, <target>_masked, <target>_cipher
    "email",  # an e-mail address -> <target>_hash, <target>_masked, <target>_cipher
    "json",  # a JSON object, kept as compact text
]


@dataclass(frozen=True)
class Column:
    """One canonical column and where its value comes from.

    Exactly one of ``source`` (a field of the source row) or ``const`` (the same value on every
    row) is given. ``codes`` translates a source's own codes into canonical ones before enum
    validation (e.g. ``{"1": "M", "2": "F"}``); a value missing from ``codes`` is rejected.
    For ``parse="phone"``/``"email"`` the target is the prefix of the three protected columns.
    """

    target: str
    source: str | None = None
    parse: Parse = "text"
    const: str | None = None
    codes: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if (self.source is None) == (self.const is None):
            raise ValueError(f"{self.target}: give exactly one of source and const")


@dataclass(frozen=True)
class BusinessDate:
    """How a row's partition date (and, when ``hour`` is set, its local hour) is derived.

    ``from_column`` is a canonical timestamp column of the row. With ``local=True`` the date is the
    local date in the time zone of the row's location (``tz_from``), else the UTC date.
    ``hour`` names the canonical column that receives the local hour (0-23), if the table has one.
    """

    from_column: str
    local: bool = True
    hour: str | None = None


@dataclass(frozen=True)
class References:
    """Cheap reference checks: a canonical column must name a known store, product or material."""

    store: tuple[str, ...] = ()
    product: tuple[str, ...] = ()
    material: tuple[str, ...] = ()
    location: tuple[
        str, ...
    ] = ()  # location_id checked against stores or warehouses by location_type


@dataclass(frozen=True)
class SourceFile:
    """A kind of file one source system delivers.

    ``pattern`` is a glob relative to the ingest directory (e.g. ``"pos/orders/*.csv"``).
    ``tz_from`` is the canonical column naming the row's store (``store_id``) or location
    (``location_id``, with ``location_type``) whose time zone reads ``local_time`` values and local
    business dates. Columns of the canonical table not listed are null; the canonical ``source``
    column is always ``SourceFile.source``.
    """

    source: str
    kind: str
    pattern: str
    format: Format
    table: str
    encoding: str = "utf-8"  # e.g. "gbk" for tills that export in the legacy Chinese code page
    columns: tuple[Column, ...] = ()
    business_date: BusinessDate | None = None
    tz_from: str | None = None
    references: References = field(default_factory=References)

    @property
    def name(self) -> str:
        return f"{self.source}.{self.kind}"
