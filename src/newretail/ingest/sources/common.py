"""Shared pieces of the declarations: column shorthands and the builders of order, line and identity files."""

from __future__ import annotations

from dataclasses import dataclass

from newretail.ingest.mapping import BusinessDate, Column, Format, Parse, References, SourceFile

STORE_REF = References(store=("store_id",))
UPDATED = BusinessDate("updated_at", local=False)
_PLACED = BusinessDate("placed_at", local=True, hour="business_hour")
_TIME_PARSE: dict[str, Parse] = {
    "local": "local_time",
    "iso": "utc_time",
    "ms": "utc_time",
    "offset": "utc_time",
}
_MONEY_PARSE: dict[str, Parse] = {"yuan": "money", "fen": "minor"}
_TIMES = ("placed_at", "accepted_at", "made_at", "completed_at", "promised_at")
_MONEY = ("gross_minor", "discount_minor", "delivery_fee_minor", "paid_minor")


def c(
    target: str, source: str, parse: Parse = "text", codes: dict[str, str] | None = None
) -> Column:
    """A canonical column fed by a source field."""
    return Column(target, source=source, parse=parse, codes=codes)


def k(target: str, value: str) -> Column:
    """A canonical column with the same value on every row."""
    return Column(target, const=value)


def time_parse(style: str) -> Parse:
    """How a source's time style ("local", "iso", "ms", "offset") is parsed."""
    return _TIME_PARSE[style]


@dataclass(frozen=True)
class OrderExport:
    """How one source exports orders and their lines (field names are canonical -> source)."""

    source: str
    format: Format
    time: str  # local (naive store time), iso (UTC with Z) or ms (epoch milliseconds)
    money: str  # yuan (major units as text) or fen (minor-unit integers)
    fields: dict[str, str]
    lines: tuple[str, str, str, str, str, str]  # order, line no, product, qty, price, discount
    status: dict[str, str] | None = None  # source code -> canonical; None: canonical already
    encoding: str = "utf-8"
    constants: tuple[tuple[str, str], ...] = ()  # canonical columns the source implies
    codes: tuple[tuple[str, dict[str, str]], ...] = ()  # per field: source code -> canonical

    @property
    def ext(self) -> str:
        return "jsonl" if self.format == "jsonl" else "csv"

    def orders(self) -> SourceFile:
        coded = dict(self.codes)
        cols: list[Column] = []
        for target, name in self.fields.items():
            if target in _TIMES:
                cols.append(c(target, name, _TIME_PARSE[self.time]))
            elif target in _MONEY:
                cols.append(c(target, name, _MONEY_PARSE[self.money]))
            elif target == "status":
                cols.append(c(target, name, codes=self.status))
            else:
                cols.append(c(target, name, codes=coded.get(target)))
        cols.extend(k(target, value) for target, value in self.constants)
        return SourceFile(
            self.source,
            "orders",
            f"{self.source}/orders/*.{self.ext}",
            self.format,
            "orders",
            encoding=self.encoding,
            columns=tuple(cols),
            business_date=_PLACED,
            tz_from="store_id",
            references=STORE_REF,
        )

    def order_lines(self) -> SourceFile:
        order, line, product, qty, price, disc = self.lines
        money = _MONEY_PARSE[self.money]
        cols = (
            c("order_id", order),
            c("line_no", line, "int"),
            c("product_id", product),
            c("quantity", qty, "int"),
            c("currency", "currency"),
            c("unit_price_minor", price, money),
            c("discount_minor", disc, money),
            c("store_id", "store_code" if self.source == "pos" else "store_id"),
            c("business_date", "biz_date", "date"),
        )
        return SourceFile(
            self.source,
            "order_lines",
            f"{self.source}/order_lines/*.{self.ext}",
            self.format,
            "order_lines",
            encoding=self.encoding,
            columns=cols,
            references=References(store=("store_id",), product=("product_id",)),
        )


@dataclass(frozen=True)
class IdentityExport:
    """How one source exports its member or customer records (initial load, then monthly changes)."""

    source: str
    folder: str
    format: Format
    time: str  # iso, ms or offset (ISO with the +08:00 offset)
    fields: dict[str, str]
    gender: dict[str, str] | None = None
    encoding: str = "utf-8"

    def records(self) -> SourceFile:
        cols: list[Column] = []
        for target, name in self.fields.items():
            if target in ("created_at", "updated_at"):
                cols.append(c(target, name, "utc_time"))
            elif target == "phone":
                cols.append(c(target, name, "phone"))
            elif target == "email":
                cols.append(c(target, name, "email"))
            elif target.startswith("consent_"):
                cols.append(c(target, name, "bool"))
            elif target == "birthday":
                cols.append(c(target, name, "date"))
            elif target == "gender":
                cols.append(c(target, name, codes=self.gender))
            else:
                cols.append(c(target, name))
        return SourceFile(
            self.source,
            self.folder,
            f"{self.source}/{self.folder}/*.{self.format}",
            self.format,
            "identity_records",
            encoding=self.encoding,
            columns=tuple(cols),
            business_date=UPDATED,
        )


# Segment's spec names; the app's collector lifts product and store out of properties.
EVENT_FIELDS = {
    "message_id": "messageId",
    "type": "type",
    "event": "event",
    "anonymous_id": "anonymousId",
    "user_id": "userId",
    "product_id": "productId",
    "store_id": "storeId",
    "occurred_at": "timestamp",
    "properties": "properties",
}


def events(source: str) -> SourceFile:
    """Segment-style events of the app or the mini-program (same field names, own folder)."""
    return SourceFile(
        source,
        "events",
        f"{source}/events/*.jsonl",
        "jsonl",
        "app_events",
        columns=tuple(
            c(t, n, "utc_time" if t == "occurred_at" else "json" if t == "properties" else "text")
            for t, n in EVENT_FIELDS.items()
        ),
        business_date=BusinessDate("occurred_at", local=False),
        references=References(store=("store_id",), product=("product_id",)),
    )
