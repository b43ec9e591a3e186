"""Audience files for marketing tools and off-site ad platforms, honouring consent.

``csv`` lists person ids with masked phone and e-mail; ``phone_sha256`` the SHA-256 of each E.164
phone (the form ad platforms match uploaded audiences on); ``device_sha256`` the SHA-256 of each app
device id seen on the person's logged-in app or mini-program events. Only persons whose latest
stated choice on the ``consent`` channel is yes are written; the file appears whole or not at all.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ibis
import pyarrow as pa

from newretail.lake import Engine, Lake
from newretail.lake.storage import replacing
from newretail.model import dwd
from newretail.model.oneid import PERSON_LINKS, PERSONS
from newretail.security.pii import PiiProtector

ExportKind = Literal["csv", "phone_sha256", "device_sha256"]
Consent = Literal["sms", "email", "wechat", "push"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("csv", "phone_sha256", "device_sha256")
CONSENTS: tuple[Consent, ...] = ("sms", "email", "wechat", "push")

# Identity sources whose app events carry the record's app uid or WeChat openid as user_id.
_EVENT_IDS = {"app": "app_uid", "mini_program": "wechat_openid"}


@dataclass(frozen=True, slots=True)
class ExportCounts:
    rows: int
    excluded: int  # members left out because they have not said yes on the channel


def write_export(
    lake: Lake,
    engine: Engine,
    protector: PiiProtector,
    *,
    person_ids: Sequence[str],
    kind: ExportKind,
    consent: Consent,
    path: Path,
) -> ExportCounts:
    """Write the members' file to ``path`` (atomically); how many rows, and who was left out."""
    wanted = pa.table({"person_id": pa.array(person_ids, pa.string())})
    persons = _persons(lake, engine, wanted, consent)
    consenting = persons.filter(persons["consent"])
    excluded = len(person_ids) - consenting.num_rows
    if kind == "csv":
        header, rows = _masked(consenting)
    elif kind == "phone_sha256":
        header, rows = _phones(consenting, protector)
    else:
        header, rows = _devices(lake, engine, consenting)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path, suffix=".partial") as out:
        out.write(buffer.getvalue().encode())
    return ExportCounts(rows=len(rows), excluded=excluded)


def _read(lake: Lake, engine: Engine, spec_name: str, schema: pa.Schema) -> ibis.Table:
    return engine.read(
        lake.files("dwd", spec_name), base=lake.table_dir("dwd", spec_name), schema=schema
    )


def _persons(lake: Lake, engine: Engine, wanted: pa.Table, consent: Consent) -> pa.Table:
    persons = _read(lake, engine, PERSONS.name, PERSONS.schema)
    members = ibis.memtable(wanted)
    joined = members.left_join(persons, "person_id")
    expr = joined.select(
        person_id=members.person_id,
        phone_masked=joined.phone_masked,
        email_masked=joined.email_masked,
        phone_cipher=joined.phone_cipher,
        consent=joined[f"consent_{consent}"].fill_null(False),
    ).order_by("person_id")
    binary: pa.DataType = pa.binary()
    schema = pa.schema(
        [
            pa.field("person_id", pa.string()),
            pa.field("phone_masked", pa.string()),
            pa.field("email_masked", pa.string()),
            pa.field("phone_cipher", binary),
            pa.field("consent", pa.bool_()),
        ]
    )
    try:
        return engine.execute(expr, schema=schema, label="audience export persons")
    finally:
        engine.release()


def _masked(persons: pa.Table) -> tuple[list[str], list[list[str]]]:
    rows = zip(
        persons["person_id"].to_pylist(),
        persons["phone_masked"].to_pylist(),
        persons["email_masked"].to_pylist(),
        strict=True,
    )
    return ["person_id", "phone_masked", "email_masked"], [
        [str(person), phone or "", email or ""] for person, phone, email in rows
    ]


def _phones(persons: pa.Table, protector: PiiProtector) -> tuple[list[str], list[list[str]]]:
    hashed = set()
    for blob in persons["phone_cipher"].to_pylist():
        if blob is not None:
            hashed.add(_sha256(protector.decrypt(blob)))
    return ["phone_sha256"], [[value] for value in sorted(hashed)]


def _devices(lake: Lake, engine: Engine, persons: pa.Table) -> tuple[list[str], list[list[str]]]:
    records_spec = dwd.table("identity_records")
    events_spec = dwd.table("app_events")
    links = _read(lake, engine, PERSON_LINKS.name, PERSON_LINKS.schema)
    records = _read(lake, engine, records_spec.name, records_spec.schema)
    events = _read(lake, engine, events_spec.name, events_spec.schema)
    members = ibis.memtable(persons.select(["person_id"]))
    mine = links.semi_join(members, "person_id")
    ids = []
    for source, column in _EVENT_IDS.items():
        of_source = records.filter(records.source == source).select(
            "source", "source_record_id", user_id=records[column]
        )
        ids.append(
            of_source.semi_join(mine, ["source", "source_record_id"]).select("source", "user_id")
        )
    users = ids[0].union(ids[1])
    seen = events.filter(events.anonymous_id.notnull()).semi_join(users, ["source", "user_id"])
    expr = seen.select("anonymous_id").distinct().order_by("anonymous_id")
    try:
        devices = engine.execute(
            expr, schema=pa.schema([("anonymous_id", pa.string())]), label="audience export devices"
        )
    finally:
        engine.release()
    return ["device_sha256"], [[_sha256(str(d))] for d in devices["anonymous_id"].to_pylist()]


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
