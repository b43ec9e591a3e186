"""A user's new tag checked before it is stored: its definition must compute over the entity's
feature table (known columns, one scalar expression, the right type), so a bad tag never reaches
(and never breaks) the nightly refresh."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa

from newretail.tags import projection
from newretail.tags.run import features_of
from newretail.tags.spec import TagSpec


def feature_schema(spec: TagSpec) -> pa.Schema:
    """The columns a definition of ``spec``'s entity may read (built over empty inputs)."""
    features = features_of(spec.entity)
    tables = {
        name: ibis.memtable(pa.schema([f.with_nullable(True) for f in table.schema]).empty_table())
        for name, (_, table) in features.inputs.items()
    }
    expr = features.build(tables, as_of=dt.date(2000, 1, 1))
    schema: pa.Schema = expr.schema().to_pyarrow()
    return schema


def check_user_tag(spec: TagSpec) -> None:
    """Raise ``tags.invalid_definition`` (400) unless the tag computes on its entity's features."""
    features = features_of(spec.entity)
    projection.check([spec], features=feature_schema(spec), models=features.models)
