"""Tags users add through the API and console, kept in the OLTP store beside the shipped catalogue
and computed with it at the next refresh."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from newretail.errors import Conflict
from newretail.oltp.statements import insert_if_absent
from newretail.oltp.tables import tag_definitions
from newretail.tags.spec import TagSpec


def spec_to_json(spec: TagSpec) -> dict[str, Any]:
    doc = dataclasses.asdict(spec)
    doc["values"] = list(spec.values)
    return doc


def spec_from_json(doc: dict[str, Any]) -> TagSpec:
    return TagSpec(**{**doc, "values": tuple(doc.get("values", ()))})


def user_tags(conn: Connection) -> list[TagSpec]:
    """Every user-defined tag, in the order they were added."""
    rows = conn.execute(
        select(tag_definitions.c.spec).order_by(tag_definitions.c.created_at, tag_definitions.c.id)
    )
    return [spec_from_json(row.spec) for row in rows]


def add_user_tag(conn: Connection, spec: TagSpec, *, created_by: str, now: dt.datetime) -> None:
    """Store a validated tag; Conflict ``tags.duplicate`` when the id is taken."""
    inserted = insert_if_absent(
        conn,
        tag_definitions,
        {
            "id": spec.id,
            "entity": spec.entity,
            "spec": spec_to_json(spec),
            "created_by": created_by,
            "created_at": now,
            "updated_at": now,
        },
        unique=("id",),
    )
    if not inserted:
        raise Conflict("tags.duplicate", f"a tag {spec.id!r} already exists")
