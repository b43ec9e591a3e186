"""What a scheme's rules give, computed without the database: points for order lines, the bonus on a
wallet top-up, a tier's benefits and when points earned on a day expire."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

from newretail.errors import InvalidInput, NotFound
from newretail.loyalty.rules import TierRule
from newretail.loyalty.schemes import Scheme

# Three percent multipliers (channel, category, tier) share one integer division.
_PERCENT_CUBED = 100 * 100 * 100


def tier_rule(scheme: Scheme, tier_id: str) -> TierRule:
    """The ladder rung ``tier_id`` of the scheme, or NotFound ``loyalty.tier_unknown``."""
    for tier in scheme.rules.tiers:
        if tier.id == tier_id:
            return tier
    raise NotFound(
        "loyalty.tier_unknown", f"scheme {scheme.id} has no tier {tier_id}", field="tier"
    )


def points_for_lines(
    scheme: Scheme, tier_id: str, channel: str, lines: Sequence[tuple[str, int]]
) -> list[int]:
    """Points each ``(category, net_minor)`` line earns, rounded down per line.

    One point per ``minor_per_point`` of net spend, times the channel's, the category's and the
    tier's multiplier; an excluded category earns nothing. With 1 point per CNY and a gold tier at
    150 %, a CNY 25.00 latte earns ``2500 * 150 // (100 * 100) = 37``.
    """
    rules = scheme.rules.earn
    if channel not in scheme.rules.channels:
        raise InvalidInput(
            "loyalty.channel_not_covered",
            f"scheme {scheme.id} does not earn on {channel}",
            field="channel",
        )
    factor = rules.channel_multiplier_percent.get(channel, 100) * (
        tier_rule(scheme, tier_id).points_multiplier_percent
    )
    out: list[int] = []
    for i, (category, net_minor) in enumerate(lines):
        if net_minor < 0:
            raise InvalidInput(
                "loyalty.bad_line", "a line's net amount cannot be negative", field=f"lines[{i}]"
            )
        if category in rules.excluded_categories:
            out.append(0)
            continue
        percent = rules.category_multiplier_percent.get(category, 100)
        out.append(net_minor * factor * percent // (rules.minor_per_point * _PERCENT_CUBED))
    return out


def topup_bonus(scheme: Scheme, amount_minor: int) -> int:
    """The bonus a top-up of ``amount_minor`` earns: the largest step it reaches (0 below the first
    step, or when the scheme has no wallet)."""
    wallet = scheme.rules.wallet
    if wallet is None:
        return 0
    reached = [b.bonus_minor for b in wallet.topup_bonus if amount_minor >= b.min_topup_minor]
    return max(reached, default=0)


def points_expiry(scheme: Scheme, earned_on: dt.date) -> dt.date:
    """The last day points earned on ``earned_on`` can be spent: the end of the ``expiry_months``-th
    month after the month they were earned in (earned 2025-03-15, 12 months: 2026-03-31)."""
    return month_end(add_months(earned_on.replace(day=1), scheme.rules.earn.expiry_months))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the month's last day (Jan 31 + 1 month = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])
