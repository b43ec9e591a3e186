"""The tag and audience resources' models: the catalogue with coverage and distributions, counts,
overlaps, breakdowns, store selections, saved audiences with their size history, snapshots and
exports. An expression comes as readable text or as its JSON tree, never both."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from newretail.api.models import Create, Public

EntityName = Literal["person", "store"]
ExpressionText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=8000,
        examples=["lifecycle_stage = 'lapsing' AND orders_90d >= 3 AND NOT sms_opt_out"],
    ),
]


class ExpressionIn(Create):
    """An audience expression: ``text`` in the readable language or ``tree`` as JSON."""

    text: ExpressionText | None = None
    tree: dict[str, Any] | None = Field(None, description="The expression's JSON tree.")

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        if (self.text is None) == (self.tree is None):
            raise ValueError("give the expression as text or as tree, exactly one of them")
        return self


class CountRequest(ExpressionIn):
    entity: EntityName = "person"


class CountPublic(Public):
    """How many persons (or stores) an expression selects, on one tag snapshot."""

    entity: EntityName
    size: int
    universe: int = Field(description="Persons (or stores) in the snapshot.")
    share: float = Field(description="size / universe, 0..1.")
    as_of: dt.date = Field(description="The business date the tags describe.")
    index_version: int
    text: str = Field(description="The expression's canonical text.")
    tree: dict[str, Any]


class OverlapRequest(Create):
    a: ExpressionIn
    b: ExpressionIn


class OverlapPublic(Public):
    """Two person audiences compared: sizes of each, of both and of either."""

    a: int
    b: int
    both: int
    either: int
    only_a: int
    only_b: int
    jaccard: float = Field(description="both / either, 0..1 (0 when either is empty).")
    as_of: dt.date
    index_version: int


class BreakdownRequest(ExpressionIn):
    by: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=lambda: ["home_city", "favourite_channel", "lifecycle_stage"],
        max_length=8,
        description="Enum or bool person tags to break the audience down by.",
    )


class ValueCount(Public):
    value: str | None = Field(description="The tag's value; null counts persons without one.")
    count: int


class TagBreakdown(Public):
    tag: str
    name_zh: str
    name_en: str
    values: list[ValueCount]


class BreakdownPublic(Public):
    size: int
    as_of: dt.date
    index_version: int
    breakdowns: list[TagBreakdown]


class StorePublic(Public):
    store_id: str
    name: str | None = None
    city: str | None = None
    format: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class StoreSelectionPublic(Public):
    size: int
    universe: int
    as_of: dt.date
    index_version: int
    text: str
    tree: dict[str, Any]
    stores: list[StorePublic]


class AudienceCreate(ExpressionIn):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""
    entity: EntityName = "person"


class AudiencePublic(Public):
    id: str
    name: str
    description: str
    entity: EntityName
    text: str = Field(validation_alias="expression_text")
    tree: dict[str, Any] = Field(validation_alias="expression")
    size: int | None = Field(description="Size at the latest refresh; null before the first.")
    as_of: dt.date | None
    index_version: int | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None


class AudiencesPublic(Public):
    data: list[AudiencePublic]
    count: int


class SizePointPublic(Public):
    index_version: int
    as_of: dt.date
    size: int
    computed_at: dt.datetime


class SizesPublic(Public):
    data: list[SizePointPublic]
    count: int


class SnapshotCreate(Create):
    label: Annotated[str, Field(min_length=1, max_length=200, examples=["spring-winback-2026"])]


class SnapshotPublic(Public):
    id: str
    audience_id: str
    label: str
    index_version: int
    as_of: dt.date
    size: int
    created_by: str
    created_at: dt.datetime


class SnapshotsPublic(Public):
    data: list[SnapshotPublic]
    count: int


ExportKind = Literal["csv", "phone_sha256", "device_sha256"]
ConsentChannel = Literal["sms", "email", "wechat", "push"]


class ExportCreate(Create):
    """``csv``: person ids with masked phone and e-mail; ``phone_sha256``: SHA-256 of E.164 phones
    for an ad platform's upload; ``device_sha256``: SHA-256 of the app device ids."""

    kind: ExportKind = "csv"
    consent: ConsentChannel = Field(
        description="Only persons whose latest choice on this channel is yes are exported."
    )
    snapshot_id: Annotated[str, Field(max_length=40)] | None = Field(
        None, description="Export this frozen snapshot; by default a new one is taken."
    )


class ExportPublic(Public):
    id: str
    audience_id: str
    snapshot_id: str
    kind: ExportKind
    consent: ConsentChannel
    rows: int
    excluded_without_consent: int
    created_at: dt.datetime
    download: str = Field(description="Where to fetch the file (GET, same credentials).")


class BucketPublic(Public):
    low: int | dt.date
    high: int | dt.date
    count: int


class DistributionPublic(Public):
    """A tag's values on the current snapshot: counts per value (bool, enum), or the range,
    quantiles (p10…p90) and a histogram (number, date)."""

    count: int = Field(description="Persons (or stores) with a value.")
    counts: dict[str, int] = Field(default_factory=dict)
    minimum: int | dt.date | None = None
    maximum: int | dt.date | None = None
    quantiles: dict[str, int | dt.date] = Field(default_factory=dict)
    histogram: list[BucketPublic] = Field(default_factory=list)


TagId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class TagCreate(Create):
    """A user-defined tag: an expression over the entity's feature table, or an uploaded list."""

    id: TagId
    name_zh: Annotated[str, Field(min_length=1, max_length=100)]
    name_en: Annotated[str, Field(min_length=1, max_length=100)]
    category: Literal[
        "attribute", "behaviour", "preference", "lifecycle", "value", "prediction", "store"
    ]
    entity: EntityName = "person"
    value_type: Literal["bool", "enum", "number", "date"]
    values: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=200
    )
    unit: Annotated[str, Field(max_length=32)] | None = None
    definition: Annotated[str, Field(min_length=1, max_length=4000)]
    description_zh: Annotated[str, Field(min_length=1, max_length=2000)]
    description_en: Annotated[str, Field(min_length=1, max_length=2000)]


class TagPublic(Public):
    id: str
    name_zh: str
    name_en: str
    category: str
    entity: EntityName
    value_type: str
    values: list[str]
    unit: str | None
    refresh: str
    source: str
    owner: str
    definition: str
    description_zh: str
    description_en: str
    computed: bool = Field(description="Whether the current snapshot holds the tag.")
    coverage: float | None = Field(description="Share of persons (stores) with a value, 0..1.")
    distribution: DistributionPublic | None = None


class TagsPublic(Public):
    data: list[TagPublic]
    count: int
    as_of: dt.date | None = Field(description="The business date of the current snapshot.")
    index_version: int | None
