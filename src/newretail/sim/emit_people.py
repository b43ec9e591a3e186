"""Writes identity exports per source: an initial load, then the records created or changed each month."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.ingest.sources import IDENTITY_EXPORTS
from newretail.sim.identity import Records
from newretail.sim.names import addresses, masked
from newretail.sim.text import Column, epoch_ms, idx, iso_offset, iso_utc, nullable
from newretail.sim.world import World
from newretail.sim.writers import Output

_GENDER = {"app": ["F", "M"], "mini_program": ["2", "1"], "wechat": ["2", "1"], "pos": ["女", "男"]}


def _time(style: str, epoch_s: np.ndarray) -> Column:
    if style == "iso":
        return iso_utc(epoch_s)
    if style == "ms":
        return epoch_ms(epoch_s)
    return iso_offset(epoch_s, 8 * 3600)


def write_identities(out: Output, world: World) -> None:
    labels = [m.label for m in world.months]
    firsts = np.array([world.epoch0 + m.first * 86400 for m in world.months])
    for source, rec in world.identities.records.items():
        export = IDENTITY_EXPORTS[source]
        folder, fmt = export.folder, export.format
        cols = _identity_columns(world, source, rec, export.fields)
        month = np.searchsorted(firsts, rec.updated_s, side="right") - 1
        for m in np.unique(month):
            rows = pa.array(np.flatnonzero(month == m))
            name = "initial" if m < 0 else labels[m]
            part = {k: v.take(rows) for k, v in cols.items()}
            rel = f"{source}/{folder}/{name}.{fmt}"
            if fmt == "jsonl":
                out.jsonl(f"{source}.{folder}", rel, part)
            else:
                out.csv(f"{source}.{folder}", rel, part, export.encoding)


def _identity_columns(
    world: World, source: str, rec: Records, fields: dict[str, str]
) -> dict[str, Column]:
    persons = world.persons
    n = len(rec.person)
    style = IDENTITY_EXPORTS[source].time
    phone_text = pa.array(rec.phone).cast(pa.string())
    if source in ("meituan", "eleme", "tmall"):
        phone_text = masked(rec.phone)
    city_zh = pa.array(
        [c.name_zh for c in __import__("newretail.sim.geography", fromlist=["CITIES"]).CITIES]
    )
    city = city_zh.take(idx(world.stores.city[persons.home_store[rec.person]]))
    rng = np.random.default_rng(len(rec.person))
    values: dict[str, Column] = {
        "source_record_id": rec.record_id,
        "app_uid": rec.record_id,
        "wechat_openid": rec.record_id,
        "pos_card_no": rec.record_id,
        "platform_user_id": rec.record_id,
        "wechat_unionid": rec.unionid,
        "phone": nullable(phone_text, rec.phone > 0),
        "email": rec.email,
        "name": rec.name,
        "city": city,
        "address": addresses(rng, city, rec.person, 0.25),
        "birthday": pa.array((persons.birth_days[rec.person]).astype("datetime64[D]")).cast(
            pa.string()
        ),
        "created_at": _time(style, rec.created_s),
        "updated_at": _time(style, rec.updated_s),
    }
    if source in _GENDER:
        values["gender"] = pa.array(_GENDER[source]).take(idx(persons.gender[rec.person]))
    for i, flag in enumerate(("consent_sms", "consent_email", "consent_wechat", "consent_push")):
        values[flag] = pa.array(rec.consent[:, i].astype(np.int64))
    del n
    return {name: values[target] for target, name in fields.items()}
