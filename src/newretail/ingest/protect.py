"""Replace clear phone and e-mail columns with hash, mask and ciphertext; mask them in raw rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc

from newretail.ingest.mapping import Parse
from newretail.ingest.plan import PII_PARSES, Plan
from newretail.security.pii import PiiProtector, mask_email, mask_phone


def canonical(plan: Plan, good: pa.Table, protector: PiiProtector) -> pa.Table:
    """``good`` (validated, PII clear) as a table of exactly the canonical schema."""
    columns: dict[str, pa.Array[Any] | pa.ChunkedArray[Any]] = {}
    for column in plan.decl.columns:
        if column.parse not in PII_PARSES:
            continue
        hashed, masked, cipher = _protect(good[column.target], column.parse, protector)
        columns[f"{column.target}_hash"] = hashed
        columns[f"{column.target}_masked"] = masked
        columns[f"{column.target}_cipher"] = cipher
    arrays = []
    for field in plan.spec.schema:
        if field.name in columns:
            arrays.append(columns[field.name])
        elif field.name in good.column_names:
            arrays.append(good[field.name].cast(field.type))
        else:
            arrays.append(pa.nulls(good.num_rows, field.type))
    return pa.Table.from_arrays(arrays, schema=plan.spec.schema)


def _protect(
    values: pa.ChunkedArray[Any], parse: Parse, protector: PiiProtector
) -> tuple[pa.ChunkedArray[Any], pa.ChunkedArray[Any], pa.ChunkedArray[Any]]:
    # People repeat across versions of their record: protect each distinct value once.
    distinct = cast("pa.StringArray", pc.unique(values).drop_null())
    protect = protector.protect_phones if parse == "phone" else protector.protect_emails
    done = protect(distinct)
    index = pc.index_in(values, value_set=distinct)
    return tuple(  # type: ignore[return-value]
        pa.chunked_array([part]).take(index) for part in (done.hash, done.masked, done.cipher)
    )


def mask_row(row: Mapping[str, Any], pii: Mapping[str, Parse]) -> dict[str, Any]:
    """A raw row for quarantine with its PII fields masked (the clear value never lands)."""
    out = dict(row)
    for name, parse in pii.items():
        value = out.get(name)
        if isinstance(value, str) and value.strip():
            out[name] = mask_phone(value) if parse == "phone" else mask_email(value)
        elif value is not None and not isinstance(value, str):
            out[name] = "****"
    return out
