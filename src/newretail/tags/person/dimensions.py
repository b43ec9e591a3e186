"""The fixed value lists the person features and the shipped tag families share.

The catalogue's families (``definitions/person_*.toml``) enumerate the same lists; a unit test keeps
them equal. A product whose category or line is not listed here still counts in every total, but gets
no per-category or per-line feature.
"""

from __future__ import annotations

from newretail.model import codes

CATEGORIES: tuple[str, ...] = ("coffee", "tea", "food", "retail")

# Product line (the products table's subcategory) -> its category.
LINES: dict[str, str] = {
    "americano": "coffee",
    "latte": "coffee",
    "cappuccino": "coffee",
    "flat_white": "coffee",
    "macchiato": "coffee",
    "cold_brew": "coffee",
    "mocha": "coffee",
    "espresso": "coffee",
    "matcha": "tea",
    "black_tea": "tea",
    "green_tea": "tea",
    "milk_tea": "tea",
    "pastry": "food",
    "bagel": "food",
    "sandwich": "food",
    "cake": "food",
    "dessert": "food",
    "beans": "retail",
    "drip_bag": "retail",
    "merchandise": "retail",
}

CHANNELS: tuple[str, ...] = codes.CHANNELS
FULFILMENTS: tuple[str, ...] = codes.FULFILMENTS
PAYMENTS: tuple[str, ...] = codes.PAYMENT_METHODS
SOURCES: tuple[str, ...] = ("app", "mini_program", "wechat", "pos", "meituan", "eleme", "tmall")

# Local hour at the store when the order was placed: [start, end) of each daypart; the evening runs
# from 16:00 through the night to 04:59.
DAYPARTS: dict[str, tuple[int, int]] = {"morning": (5, 11), "afternoon": (11, 16)}
EVENING = "evening"

# ISO weekdays, Monday first (Ibis's day_of_week.index(): 0 is Monday on every engine).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Windows in days: a window of N days ending on as_of is business_date in (as_of - N, as_of].
WINDOWS: tuple[int, ...] = (7, 30, 90, 180, 365)
CATEGORY_WINDOWS: tuple[int, ...] = (30, 90, 365)

COUPON_TYPES: tuple[str, ...] = codes.COUPON_TYPES
REFUND_REASONS: tuple[str, ...] = codes.REFUND_REASONS
COMPLAINT_CATEGORIES: tuple[str, ...] = codes.COMPLAINT_CATEGORIES

# App events that evidence a referral (none of the synthetic chain's sources emit them), and the
# campaign-id marker of referral-reward coupons.
REFERRAL_EVENTS: tuple[str, ...] = ("Referral Sent", "Friend Invited")
REFERRAL_CAMPAIGN_MARKER = "REFERRAL"
