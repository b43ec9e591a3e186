"""Profile features: the golden profile OneID keeps, and the memberships each programme keeps.

Memberships are the lake's current state (the newest version of each): levels and points are as of
the latest load, not as of an earlier ``as_of``; join dates and paid terms are compared to ``as_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from newretail.tags.person import dimensions as dim
from newretail.tags.person.common import Aggregates, count_if, max_if, min_if, person_of

# Levels of each free programme, lowest first.
LEVELS: dict[str, tuple[str, ...]] = {
    "app_member": ("bronze", "silver", "gold"),
    "pos_card": ("bronze", "silver", "gold"),
    "wechat_card": ("standard", "gold"),
}
PAID = "paid_annual"


def profile_columns(persons: ir.Table, as_of: dt.date) -> ir.Table:
    """The golden profile's fields, with age and birthday arithmetic done once, exactly."""
    p = persons
    day = ibis.literal(as_of)
    born = p.birthday
    had_birthday = (born.month() < as_of.month) | (
        (born.month() == as_of.month) & (born.day() <= as_of.day)
    )
    age = ibis.literal(as_of.year) - born.year() - had_birthday.ifelse(0, 1)
    # Day of the year in a leap year, so 29 February has a place; a birthday on it is celebrated
    # on 1 March in other years, at most a day off.
    born_doy = ibis.date(2000, born.month(), born.day()).day_of_year()
    today_doy = dt.date(2000, as_of.month, as_of.day).timetuple().tm_yday
    to_birthday = (born_doy.cast("int64") - today_doy + 366) % 366
    values: dict[str, ir.Value] = {
        "person_id": p.person_id,
        "as_of": day,
        "gender": p.gender,
        "birthday": born,
        "birth_month": born.month().cast("int64"),
        "age": age.cast("int64"),
        "days_to_birthday": to_birthday,
        "profile_city": p.city,
        "has_phone": p.phone_hash.notnull(),
        "has_email": p.email_hash.notnull(),
        "has_name": p.name.notnull(),
        "has_address": p.address.notnull(),
        "consent_sms": p.consent_sms,
        "consent_email": p.consent_email,
        "consent_wechat": p.consent_wechat,
        "consent_push": p.consent_push,
        "identity_records": p.records.cast("int64"),
        "source_count": p.sources.length().cast("int64"),
        "first_seen_date": p.first_seen_at.date(),
    }
    for source in dim.SOURCES:
        values[f"in_source_{source}"] = p.sources.contains(source).fill_null(False)
    return p.select(**values)


def membership_features(
    tables: Mapping[str, ir.Table], links: ir.Table, as_of: dt.date
) -> ir.Table:
    members = tables["memberships"]
    members = members.filter(members.joined_at.date() <= ibis.literal(as_of))
    m = person_of(members, links, source="source", record="source_record_id")
    paid = m.program == PAID
    active = paid & (m.expires_on >= ibis.literal(as_of))
    out: Aggregates = {
        "memberships": m.program.nunique(),
        "member_since": m.joined_at.date().min(),
        "points_balance": m.points.sum(),
        "paid_member_active": count_if(active),
        "paid_member_expires_on": max_if(paid, m.expires_on),
        "paid_member_since": min_if(paid, m.joined_at.date()),
    }
    for program, levels in LEVELS.items():
        mine = m.program == program
        rank = ibis.cases(*[(m.level == lv, i + 1) for i, lv in enumerate(levels)], else_=0)
        out[f"member_{program}"] = count_if(mine)
        out[f"level_rank_{program}"] = max_if(mine, rank)
    return m.group_by("person_id").aggregate(**out)
