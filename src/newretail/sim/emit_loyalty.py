"""Writes membership versions in each programme's own export (see ingest.sources app, wechat, pos)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.ingest.sources import app, pos, wechat
from newretail.sim.loyalty import LEVELS, Programme, Versions
from newretail.sim.paid import ANNUAL_FEE, Terms
from newretail.sim.text import (
    Column,
    dates,
    epoch_ms,
    ids,
    idx,
    iso_offset,
    iso_utc,
    nullable,
    utc_timestamps,
)
from newretail.sim.truth import Writers, person_ids
from newretail.sim.world import World
from newretail.sim.writers import Output

_GRADE = {v: k for k, v in app.GRADE.items()}
_WECHAT_LEVEL = {v: k for k, v in wechat.CARD_LEVEL.items()}
_POS_LEVEL = {v: k for k, v in pos.CARD_LEVEL.items()}


def app_member_ids(index: np.ndarray) -> Column:
    return ids("AM", index + 1, 9)


def plus_ids(index: np.ndarray) -> Column:
    return ids("PL", index + 1, 9)


def write(
    out: Output,
    world: World,
    label: str,
    programmes: dict[str, Programme],
    versions: dict[str, Versions],
    terms: Terms,
    updated_s: int,
) -> None:
    """One file per programme source; ``updated_s`` stamps the free programmes' snapshot."""
    _app(out, world, label, programmes["app_member"], versions["app_member"], terms, updated_s)
    card, v = programmes["wechat_card"], versions["wechat_card"]
    openids = world.identities.records["wechat"].record_id
    levels = pa.array([_WECHAT_LEVEL["standard"], _WECHAT_LEVEL["gold"]])
    out.jsonl(
        "wechat.member_cards",
        f"wechat/member_cards/{label}.jsonl",
        {
            "card_code": ids("WXC", v.rows + 1, 10),
            "openid": openids.take(idx(card.holder[v.rows])),
            "level_name": levels.take(idx(v.level > 0)),
            "bonus": pa.array(v.points),
            "activate_time": epoch_ms(card.joined_s[v.rows]),
            "update_time": epoch_ms(np.full(len(v.rows), updated_s)),
        },
    )
    cards, v = programmes["pos_card"], versions["pos_card"]
    card_no = world.identities.records["pos"].record_id.take(idx(cards.holder[v.rows]))
    out.csv(
        "pos.member_cards",
        f"pos/member_cards/{label}.csv",
        {
            "card_no": card_no,
            "card_level": pa.array([_POS_LEVEL[x] for x in LEVELS]).take(idx(v.level)),
            "jifen": pa.array(v.points),
            "open_time": iso_offset(cards.joined_s[v.rows], 8 * 3600),
            "modify_time": iso_offset(np.full(len(v.rows), updated_s), 8 * 3600),
        },
        encoding="gbk",
    )


def _app(
    out: Output,
    world: World,
    label: str,
    members: Programme,
    v: Versions,
    terms: Terms,
    updated_s: int,
) -> None:
    uids = world.identities.records["app"].record_id
    k, t = len(v.rows), len(terms.member)
    plus = np.r_[np.zeros(k, dtype=bool), np.ones(t, dtype=bool)]
    holder = np.r_[members.holder[v.rows], members.holder[terms.member]]
    expires = np.r_[np.zeros(k, dtype=np.int64), world.start_epoch_day + terms.expires]
    out.jsonl(
        "app.memberships",
        f"app/memberships/{label}.jsonl",
        {
            "member_no": pa.concat_arrays([app_member_ids(v.rows), plus_ids(terms.member)]),
            "uid": uids.take(idx(holder)),
            "plan": pa.array(np.where(plus, "PLUS", "MEMBER")),
            "grade": pa.array([*(_GRADE[x] for x in LEVELS), _GRADE["plus"]]).take(
                idx(np.r_[v.level, np.full(t, len(LEVELS))])
            ),
            "points": nullable(pa.array(np.r_[v.points, np.zeros(t, dtype=np.int64)]), ~plus),
            "joined_at": iso_utc(np.r_[members.joined_s[v.rows], terms.first_s]),
            "expire_date": nullable(dates(expires), plus),
            "updated_at": iso_utc(np.r_[np.full(k, updated_s), terms.bought_s]),
        },
    )


def write_truth(
    out: Output, world: World, members: Programme, terms: Terms, writers: Writers
) -> None:
    """Every paid term bought: who, when, until when, the fee and whether it was a renewal."""
    person = members.person[terms.member]
    currency = world.persons.country_sg[person].astype(np.int64)
    out.truth(
        "paid_memberships",
        pa.table(
            {
                "membership_id": plus_ids(terms.member),
                "person_id": person_ids(person),
                "bought_at": utc_timestamps(terms.bought_s),
                "expires_on": pa.array(
                    (world.start_epoch_day + terms.expires).astype("datetime64[D]")
                ),
                "fee_minor": pa.array(ANNUAL_FEE[currency]),
                "currency": pa.array(np.array(["CNY", "SGD"])[currency]),
                "renewal": pa.array(terms.renewal),
            }
        ),
        writers,
    )
