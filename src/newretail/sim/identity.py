"""Identity records per source system, with the noise real systems have, and who they truly belong to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from newretail.sim import names
from newretail.sim.geography import CITIES
from newretail.sim.members import JOIN_CHANNELS, NOT_IN_SG, Persons
from newretail.sim.rng import stream
from newretail.sim.stores import Stores
from newretail.sim.text import Column, ids, idx, pc, scramble, tokens

# Probability that a person also holds a record in a source they did not join through.
_ALSO = {
    "app": 0.3,
    "mini_program": 0.45,
    "wechat": 0.0,
    "pos": 0.2,
    "meituan": 0.2,
    "eleme": 0.12,
    "tmall": 0.06,
}
_SALT = {s: i + 11 for i, s in enumerate(_ALSO)}
# Cashiers who type a default number when a customer will not give theirs: a few such numbers end up
# on many unrelated POS cards (a hub that must never link them). Share of CN POS cards, and at least
# this many cards per default number so the hub exists on a small chain too.
_HUB_SHARE = 0.004
_HUB_MIN_CARDS = 12
_HUB_BASE = 13_800_000_000


@dataclass(frozen=True)
class Records:
    """One source's identity record versions; ``person`` is the truth, never written to sources."""

    source: str
    person: np.ndarray
    record_id: Column
    version: np.ndarray  # 1 for the first version, 2 for a later one (changed phone)
    created_s: np.ndarray
    updated_s: np.ndarray
    phone: np.ndarray  # int64 digits, 0 when absent
    name: Column
    email: Column
    unionid: Column
    consent: np.ndarray  # bool (n, 4): sms, email, wechat, push
    hub_phone: np.ndarray  # bool: the phone is a cashier's default number, not the person's


@dataclass(frozen=True)
class Identities:
    records: dict[str, Records]
    # Per source: the record index each person orders with (-1: none) and a second one (-1: none).
    primary: dict[str, np.ndarray]
    secondary: dict[str, np.ndarray]
    created_day: dict[str, np.ndarray]  # per source, per person: first day the primary exists
    # Per person: which phone they carry; equal slots mean a phone shared within a family.
    phone_slot: np.ndarray


def build_identities(
    seed: int, persons: Persons, stores: Stores, days: int, epoch0: int
) -> Identities:
    rng = stream(seed, "identity")
    n = len(persons)
    sg = persons.country_sg
    true_name = names.person_names(rng, sg)
    family = np.zeros(n, dtype=bool)
    family[1:] = rng.random(n - 1) < 0.02  # shares the phone of the person before (a family)
    phone_slot = np.arange(n)
    phone_slot[family] = phone_slot[np.flatnonzero(family) - 1]
    phone = names.phones(phone_slot, sg)
    new_phone = names.phones(np.arange(n) + n, sg)
    changes = rng.random(n) < 0.04
    email = names.emails(rng, np.arange(n))
    has_email = rng.random(n) < 0.35
    records: dict[str, Records] = {}
    primary: dict[str, np.ndarray] = {}
    secondary: dict[str, np.ndarray] = {}
    created_day: dict[str, np.ndarray] = {}
    base_unionid = tokens("o", scramble(np.arange(n), 5), 27, alphabet="b62")
    for source, also in _ALSO.items():
        joined_here = persons.join_channel == JOIN_CHANNELS.index(source)
        if source == "wechat":
            holds = joined_here | ((primary["mini_program"] >= 0) & (rng.random(n) < 0.5))
        else:
            holds = joined_here | (rng.random(n) < also)
        if source in NOT_IN_SG:
            holds &= ~sg
        who = np.flatnonzero(holds)
        lag = np.where(joined_here[who], 0, rng.integers(0, 240, len(who)))
        day = persons.join_day[who] + lag
        keep = day < days
        who, day = who[keep], day[keep]
        # A duplicated POS card or a second WeChat account: a second record for the same person.
        dup_share = {"pos": 0.03, "mini_program": 0.01}.get(source, 0.0)
        dup = who[rng.random(len(who)) < dup_share]
        dup_day = np.minimum(persons.join_day[dup] + rng.integers(10, 200, len(dup)), days - 1)
        rows = np.concatenate([who, dup])
        row_day = np.concatenate([day, dup_day])
        is_dup = np.arange(len(rows)) >= len(who)
        created = epoch0 + row_day * 86400 + rng.integers(0, 86400, len(rows)) - 8 * 3600
        index = np.full(n, -1)
        index[who] = np.arange(len(who))
        second = np.full(n, -1)
        second[dup] = len(who) + np.arange(len(dup))
        primary[source], secondary[source] = index, second
        first_day = np.full(n, days + 1)
        first_day[who] = day
        created_day[source] = first_day
        records[source] = _versions(
            rng,
            source,
            rows,
            is_dup,
            created,
            phone,
            new_phone,
            changes,
            true_name,
            persons,
            email,
            has_email,
            base_unionid,
            days,
            epoch0,
        )
    return Identities(records, primary, secondary, created_day, phone_slot)


def _versions(
    rng: np.random.Generator,
    source: str,
    rows: np.ndarray,
    is_dup: np.ndarray,
    created: np.ndarray,
    phone: np.ndarray,
    new_phone: np.ndarray,
    changes: np.ndarray,
    true_name: Column,
    persons: Persons,
    email: Column,
    has_email: np.ndarray,
    base_unionid: Column,
    days: int,
    epoch0: int,
) -> Records:
    m = len(rows)
    salt = _SALT[source]
    record_id = _record_ids(source, np.arange(m), salt)
    name = names.with_typos(rng, true_name.take(idx(rows)), 0.05 if source != "app" else 0.01)
    if source in ("meituan", "eleme"):
        name = names.courtesy_names(name, persons.gender[rows])
    unionid = base_unionid.take(idx(rows))
    if source == "mini_program":  # the second account is another WeChat identity altogether
        other = tokens("o", scramble(rows, 97), 27, alphabet="b62")
        unionid = pc.if_else(pa.array(is_dup), other, unionid)
    elif source not in ("wechat",):
        unionid = pa.nulls(m, pa.string())
    phone_here = phone[rows].copy()
    hub = np.zeros(m, dtype=bool)
    if source in ("wechat",):
        phone_here[:] = 0
    elif source == "mini_program":
        phone_here[rng.random(m) < 0.2] = 0  # did not authorise the phone number
    elif source == "pos":
        phone_here, hub = _with_hub_phones(rng, phone_here, persons.country_sg[rows])
    email_here = names.nullable_email(
        email.take(idx(rows)), has_email[rows] & (source in ("app", "tmall"))
    )
    consent = rng.random((m, 4)) < np.array([0.55, 0.3, 0.7, 0.6])
    version = np.ones(m, dtype=np.int64)
    # In the app a person who changed number writes a newer version; other sources keep the old one.
    if source == "app":
        moved = np.flatnonzero(changes[rows] & ~is_dup)
        when = created[moved] + rng.integers(20, 200, len(moved)) * 86400
        moved, when = moved[when < epoch0 + days * 86400], when[when < epoch0 + days * 86400]
        take = np.concatenate([np.arange(m), moved])
        updated = np.concatenate([created, when])
        phone_here = np.concatenate([phone_here, new_phone[rows[moved]]])
        version = np.concatenate([version, np.full(len(moved), 2)])
        return Records(
            source,
            rows[take],
            record_id.take(idx(take)),
            version,
            created[take],
            updated,
            phone_here,
            name.take(idx(take)),
            email_here.take(idx(take)),
            unionid.take(idx(take)),
            consent[take],
            hub[take],
        )
    return Records(
        source,
        rows,
        record_id,
        version,
        created,
        created.copy(),
        phone_here,
        name,
        email_here,
        unionid,
        consent,
        hub,
    )


def _with_hub_phones(
    rng: np.random.Generator, phone: np.ndarray, sg: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    cn = np.flatnonzero(~sg & (phone > 0))
    hubs = max(2, int(len(cn) * _HUB_SHARE) // 40)
    cards = min(len(cn), max(hubs * _HUB_MIN_CARDS, int(len(cn) * _HUB_SHARE)))
    chosen = rng.choice(cn, cards, replace=False)
    out = phone.copy()
    out[chosen] = _HUB_BASE + np.arange(cards) % hubs
    hub = np.zeros(len(phone), dtype=bool)
    hub[chosen] = True
    return out, hub


def _record_ids(source: str, index: np.ndarray, salt: int) -> Column:
    if source == "app":
        return ids("U", index + 10_000_001, 9)
    if source in ("mini_program", "wechat"):
        return tokens("o", scramble(index, salt), 27, alphabet="b62")
    if source == "pos":
        return ids("86", index + 1, 10)
    if source == "meituan":
        return pa.array(1_000_000_000 + (index * 7_391_833 + 4_321) % 9_000_000_000).cast(
            pa.string()
        )
    if source == "eleme":
        return ids("E", (index * 7_391_833 + 777) % 10**10, 10)
    return ids("tb", (index * 7_391_833 + 99) % 10**9, 9)


def city_zh(stores: Stores, persons: Persons) -> Column:
    return pa.array([c.name_zh for c in CITIES]).take(idx(stores.city[persons.home_store]))
