"""Real-time tags: person tags whose value follows the event stream within seconds of an event.

The nightly refresh computes each real-time tag's baseline as of the snapshot date (the tags of
``definitions/person_realtime.toml``, ``refresh = "realtime"``). A consumer of the event log
(:mod:`~newretail.tags.realtime_consumer`) turns events into *signals*: per signal and UTC day, a
bitmap of the dense person ids the signal was seen for, kept in a :class:`RealtimeTagStore`
(:mod:`~newretail.tags.realtime_store`, in-process; :mod:`~newretail.tags.realtime_redis`, Redis).
:class:`~newretail.tags.realtime_view.RealtimeView` answers audience questions from the snapshot
with each real-time tag replaced by its live value, per the tag's rule in :data:`RULES`.

Events read (the stream's ``StoredEvent``, contract v1), each on its UTC date (of ``occurred_at``),
for a ``userId`` that OneID links (``identity_links``: the event's ``source`` and ``userId`` as the
record; anonymous-only events cannot be tied to a person and are skipped):

- any ``track``, ``page``, ``screen`` or ``identify`` event → ``active`` (``active_today``);
- track ``Order Completed`` → ``ordered`` (``ordered_today``); with a non-empty coupon property
  (``coupon``, as Segment's e-commerce spec names it, or ``coupon_id``/``couponId``) also
  ``coupon_used``;
- track ``Coupon Applied`` (Segment's e-commerce spec) → ``coupon_used``;
- track ``Coupon Received`` (ours, not in Segment's spec; ``coupon_id`` is informative) →
  ``coupon_received``.

Event names are matched exactly, as Segment's spec spells them. ``Coupon Removed``, ``Coupon
Denied`` and the like change nothing.

Rules. ``ordered_today``/``active_today`` are :class:`DayFlag`: true for the persons the signal
names on today's date, plus the baseline's when the snapshot is of today. ``holds_unused_coupon_now``
is a :class:`Toggle`: starting from its nightly value (defined as the daily ``holds_unused_coupon``
is, from the lake's coupons issued and redeemed), each day after the snapshot date up to today in
turn sets (``coupon_received``) or clears (``coupon_used``) it; within one day the later event in
log order wins (the consumer sets one of the pair and clears the other). Events dated on or before
the snapshot date are taken to be in the snapshot. What this cannot know: whether a person who used
one coupon still holds another (they read false until the next refresh); an event delivered days
late applies on its own date, but within a day arrival order decides, so a received/applied pair
that arrives swapped reads wrong until the next refresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from newretail.ingest.events.contract import StoredEvent

Signal = Literal["active", "ordered", "coupon_received", "coupon_used"]
SIGNALS: tuple[Signal, ...] = ("active", "ordered", "coupon_received", "coupon_used")

ORDER_COMPLETED = "Order Completed"
COUPON_APPLIED = "Coupon Applied"
COUPON_RECEIVED = "Coupon Received"
ACTIVE_TYPES = frozenset({"track", "page", "screen", "identify"})  # the lake's app_events types
COUPON_KEYS = ("coupon", "coupon_id", "couponId")


@dataclass(frozen=True, slots=True)
class DayFlag:
    """True for the ids ``signal`` names on today's date (and the baseline's if the snapshot is
    of today)."""

    signal: Signal


@dataclass(frozen=True, slots=True)
class Toggle:
    """The baseline, then per day after the snapshot date: ``on`` ids set, ``off`` ids cleared.
    The consumer keeps the two signals of one day disjoint (the later event wins)."""

    on: Signal
    off: Signal


Rule = DayFlag | Toggle

RULES: Mapping[str, Rule] = {
    "ordered_today": DayFlag("ordered"),
    "active_today": DayFlag("active"),
    "holds_unused_coupon_now": Toggle(on="coupon_received", off="coupon_used"),
}
# Each signal of a toggle and its opposite: setting one clears the other on the same day.
OPPOSITE: Mapping[Signal, Signal] = {
    signal: other
    for rule in RULES.values()
    if isinstance(rule, Toggle)
    for signal, other in ((rule.on, rule.off), (rule.off, rule.on))
}


def signals_of(event: StoredEvent) -> tuple[Signal, ...]:
    """The signals one event raises, in the order they apply.

    >>> import datetime as dt
    >>> at = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    >>> event = StoredEvent(source="app", message_id="m1", type="track", received_at=at,
    ...     occurred_at=at, user_id="u1", event="Order Completed", properties={"coupon": "C1"})
    >>> signals_of(event)
    ('active', 'ordered', 'coupon_used')
    """
    if event.type not in ACTIVE_TYPES:
        return ()
    if event.type != "track":
        return ("active",)
    if event.event == ORDER_COMPLETED:
        coupon = any(event.properties.get(key) not in (None, "") for key in COUPON_KEYS)
        return ("active", "ordered", "coupon_used") if coupon else ("active", "ordered")
    if event.event == COUPON_APPLIED:
        return ("active", "coupon_used")
    if event.event == COUPON_RECEIVED:
        return ("active", "coupon_received")
    return ("active",)


def days_after(as_of: dt.date, today: dt.date) -> list[dt.date]:
    """The days (as_of, today], oldest first: those whose changes a toggle replays."""
    return [as_of + dt.timedelta(days=n) for n in range(1, (today - as_of).days + 1)]
