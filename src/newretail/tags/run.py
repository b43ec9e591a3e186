"""One computation of an entity's tags: read the lake as of a date, build the entity's features,
project every definition.

Persons are computed in chunks of person ids (ranges of the sorted ids, so every engine writes the
same rows in the same order): each chunk runs one features query and one projection of all tags,
so memory stays bounded however many persons there are.
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from newretail.errors import NewRetailError, NoData
from newretail.lake.engines import Engine
from newretail.lake.storage import Lake, Layer
from newretail.model.spec import TableSpec
from newretail.tags import projection
from newretail.tags.catalogue import Catalogue
from newretail.tags.lists import TagLists
from newretail.tags.spec import ENTITY_KEYS, Entity, TagSpec

Inputs = Mapping[str, tuple[Layer, TableSpec]]
# Each entity's features module: its inputs, its builder, and the models it computes (if any).
_MODULES: dict[Entity, tuple[str, str, str]] = {
    "person": ("newretail.tags.person_features", "PERSON_INPUTS", "person_features"),
    "store": ("newretail.tags.store_features", "STORE_INPUTS", "store_features"),
}
# The input tables a chunk of keys restricts (the rest reach the entity through them).
_CHUNKED: dict[Entity, tuple[str, ...]] = {"person": ("persons", "person_links")}
# Data-bound enum domains: (DWD table, column) whose distinct values an enum may take.
DOMAINS: dict[str, tuple[str, str]] = {
    "store_ids": ("stores", "store_id"),
    "store_cities": ("stores", "city"),
    "person_cities": ("persons", "city"),
}
CHUNK_ROWS = 500_000


class TagValueError(NewRetailError):
    """A definition produced a value outside its enum's domain."""

    http_status = 500


@dataclass(frozen=True)
class Features:
    inputs: Inputs
    build: Callable[..., ir.Table]
    models: tuple[str, ...]


def features_of(entity: Entity) -> Features:
    """The entity's features module (the store one is imported only when asked for)."""
    module_name, inputs, build = _MODULES[entity]
    module = importlib.import_module(module_name)
    return Features(getattr(module, inputs), getattr(module, build), getattr(module, "MODELS", ()))


class TagRun:
    """One computation of an entity's tags; :meth:`chunks` yields them a chunk of keys at a time."""

    def __init__(
        self,
        lake: Lake,
        engine: Engine,
        catalogue: Catalogue,
        *,
        entity: Entity,
        as_of: dt.date,
        lists: TagLists | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.lake, self.engine, self.entity, self.as_of = lake, engine, entity, as_of
        self.key = ENTITY_KEYS[entity]
        self.features = features_of(entity)
        # The lake is <home>/lake (Settings.lake_dir); lists live beside it by default.
        self.lists = lists or TagLists.of_home(lake.root.parent)
        self.chunk_rows = chunk_rows
        self.domains = self._domains(catalogue)
        self.catalogue = catalogue.bind(self.domains)
        self.specs = self.catalogue.for_entity(entity)
        self.schema = pa.schema(
            [pa.field(self.key, pa.string(), nullable=False)]
            + [pa.field(s.id, s.arrow_type) for s in self.specs]
        )

    def bound(self) -> Catalogue:
        """The catalogue with data-bound domains as the computed values need them."""
        return self.catalogue.bind(self.domains)

    def chunks(self) -> Iterator[pa.Table]:
        try:
            tables = {
                name: self._read(layer, spec)
                for name, (layer, spec) in self.features.inputs.items()
            }
            checked = False
            for low, high in self._bounds():
                features = self._features(tables, low, high)
                if not checked:
                    projection.check(
                        self.specs,
                        features=features.schema().to_pyarrow(),
                        models=self.features.models,
                    )
                    checked = True
                sql = projection.select_sql(
                    self.specs, key=self.key, dialect=self.engine.backend.dialect
                )
                view = ops.SQLStringView(
                    parent=features.alias(projection.FEATURES).op(),
                    query=sql,
                    schema=ibis.schema(self.schema),
                ).to_expr()
                view = view.order_by(self.key)
                label = f"ads/{self.entity}_tags {low or '…'}..{high or '…'}"
                result = self.engine.execute(view, schema=self.schema, label=label)
                self._check_domains(result)
                yield result
        finally:
            self.engine.release()

    # -- inputs ---------------------------------------------------------------------------------
    def _read(self, layer: Layer, spec: TableSpec) -> ir.Table:
        files = self.lake.files(layer, spec.name)
        parts = self.lake.partitions(layer, spec.name)
        day = self.as_of.isoformat()
        kept = [f for f, p in zip(files, parts, strict=True) if p.get("business_date", day) <= day]
        if spec.name == "persons" and not kept:
            raise NoData(
                "tags.no_persons",
                "the lake holds no persons: run `newretail identity resolve` first",
            )
        return self.engine.read(
            kept, base=self.lake.table_dir(layer, spec.name), schema=spec.schema
        )

    def _bounds(self) -> list[tuple[str | None, str | None]]:
        """Ranges [low, high) of keys, each about ``chunk_rows`` keys; one open range if small."""
        restricted = _CHUNKED.get(self.entity)
        if not restricted:
            return [(None, None)]
        layer, spec = self.features.inputs[restricted[0]]
        files = self.lake.files(layer, spec.name)
        keys = pq.ParquetDataset(files).read(columns=[self.key]).column(self.key) if files else None
        if keys is None or len(keys) <= self.chunk_rows:
            return [(None, None)]
        ordered = pc.sort_indices(keys)
        cuts = [
            keys[ordered[i].as_py()].as_py()
            for i in range(self.chunk_rows, len(keys), self.chunk_rows)
        ]
        edges: list[str | None] = [None, *cuts, None]
        return list(itertools.pairwise(edges))

    def _features(
        self, tables: Mapping[str, ir.Table], low: str | None, high: str | None
    ) -> ir.Table:
        chunk = dict(tables)
        for name in _CHUNKED.get(self.entity, ()):
            table = chunk[name]
            if low is not None:
                table = table.filter(table[self.key] >= low)
            if high is not None:
                table = table.filter(table[self.key] < high)
            chunk[name] = table
        features = self.features.build(chunk, as_of=self.as_of)
        for spec in self.specs:
            if spec.source == "list":
                features = self._with_list(features, spec)
        return features

    def _with_list(self, features: ir.Table, spec: TagSpec) -> ir.Table:
        path = self.lists.path(spec.definition, self.entity)
        schema = self.lists.schema(self.entity)
        listed = self.engine.read([path] if path.exists() else [], base=path.parent, schema=schema)
        listed = listed.select(list_key=listed[self.key], flag=ibis.literal(True)).distinct()
        joined = features.left_join(listed, features[self.key] == listed.list_key)
        column = projection.list_column(spec.definition)
        return joined.select(features, **{column: joined.flag.fill_null(False)})

    # -- domains --------------------------------------------------------------------------------
    def _domains(self, catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
        wanted = {catalogue.values_from(s.id) for s in catalogue.for_entity(self.entity)} - {None}
        out: dict[str, tuple[str, ...]] = {}
        for name in sorted(n for n in wanted if n is not None):
            if name not in DOMAINS:
                raise NoData("tags.unknown_domain", f"no data domain named {name!r}")
            table, column = DOMAINS[name]
            files = self.lake.files("dwd", table)
            found: set[str] = set()
            if files:
                values = pq.ParquetDataset(files).read(columns=[column]).column(column)
                found = {v for v in pc.unique(values).to_pylist() if v}
            out[name] = tuple(sorted(found))
        return out

    def _check_domains(self, result: pa.Table) -> None:
        """Enum values must lie in their domain; a data-bound domain grows by what the data holds
        (an order's store missing from the stores table still names the home store)."""
        for spec in self.specs:
            if spec.value_type != "enum":
                continue
            seen = {v for v in pc.unique(result.column(spec.id)).to_pylist() if v is not None}
            outside = seen - set(spec.values)
            domain = self.catalogue.values_from(spec.id)
            if outside and domain is not None:
                self.domains[domain] = tuple(sorted({*self.domains[domain], *outside}))
            elif outside:
                raise TagValueError(
                    "tags.invalid_value",
                    f"tag {spec.id} took values outside its domain: {sorted(outside)[:5]}",
                    field=spec.id,
                )
