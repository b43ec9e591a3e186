"""The OLTP tables as SQLAlchemy Core metadata; the migrations in ``migrations/versions`` create them.

A test compares this metadata with the migrated schema, so the two cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from newretail.oltp.columns import UtcDateTime

# Named constraints: migrations (and batch mode on SQLite) can refer to them by name.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite autoincrements only an INTEGER primary key; PostgreSQL gets a 64-bit one.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON().with_variant(JSONB(), "postgresql")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True, comment="lower-cased"),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False, comment="scrypt$n$r$p$salt$hash"),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column(
        "supplier_id", String(64), nullable=True, comment="the supplier a supplier's user acts for"
    ),
)

user_stores = Table(
    "user_stores",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", String(64), primary_key=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prefix", String(16), nullable=False, unique=True, comment="public; identifies the key"),
    Column("kind", String(8), nullable=False),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("source", String(32), nullable=True),
    Column("secret_hash", String(64), nullable=False, comment="SHA-256 hex of the whole key"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    CheckConstraint(
        "(kind = 'user' AND user_id IS NOT NULL AND source IS NULL)"
        " OR (kind = 'write' AND user_id IS NULL AND source IS NOT NULL)",
        name="kind_owner",
    ),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# Append-only: the migration adds triggers that refuse UPDATE and DELETE.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False, comment="user:<id>, source:<name>, cli, anonymous"),
    Column(
        "actor_user_id", Integer, nullable=True, comment="no foreign key: entries outlive users"
    ),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32), nullable=True),
    Column("target_id", String(128), nullable=True),
    Column("detail", Json, nullable=False),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor_at", "actor", "at"),
    Index("ix_audit_log_action_at", "action", "at"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("owner", String(64), nullable=False, comment="the principal's actor label"),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("status_code", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    # The race guard: of two concurrent claims on one key, only one insert can succeed.
    UniqueConstraint("owner", "key"),
)

# OneID. One row per identity record: the person it belongs to now, why, and the identifiers real-time
# resolution looks up (hashed; never the clear phone or e-mail).
identity_links = Table(
    "identity_links",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("source_record_id", String(128), primary_key=True),
    Column("person_id", String(24), nullable=False, index=True),
    Column("phone_hash", String(64), nullable=True, index=True),
    Column("email_hash", String(64), nullable=True, index=True),
    Column("wechat_unionid", String(64), nullable=True, index=True),
    Column("reason_kind", String(16), nullable=False, comment="identifier, match, manual, single"),
    Column(
        "reason", String(200), nullable=False, comment="e.g. phone+unionid, or the matched record"
    ),
    Column("match_weight", Float, nullable=True),
    Column("origin", String(8), nullable=False, comment="lake (batch) or api (resolve, import)"),
    Column("run_id", Integer, nullable=True, comment="the batch run that linked it; null for api"),
    Column("linked_at", UtcDateTime, nullable=False),
)

identity_persons = Table(
    "identity_persons",
    metadata,
    Column("person_id", String(24), primary_key=True),
    Column("status", String(12), nullable=False, comment="active, provisional, retired"),
    Column("origin", String(12), nullable=False, comment="batch, resolve, import, split, unmerge"),
    Column("retired_into", String(24), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("status IN ('active', 'provisional', 'retired')", name="status"),
)

# Identifier values demoted from linking: shared by implausibly many records or by different people.
identity_demoted = Table(
    "identity_demoted",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("value", String(128), primary_key=True),
    Column("reason", String(16), nullable=False, comment="fanout or conflict"),
    Column("records", Integer, nullable=False),
    Column("run_id", Integer, nullable=False),
)

identity_runs = Table(
    "identity_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mode", String(12), nullable=False, comment="full or incremental"),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("watermark", UtcDateTime, nullable=True, comment="newest record updated_at included"),
    Column("stats", Json, nullable=False),
)

# Every change of which person a record belongs to, with what moved, so any event can be undone.
identity_events = Table(
    "identity_events",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(16), nullable=False, comment="merge, split, unmerge, remerge"),
    Column("actor", String(64), nullable=False, comment="user:<id>, run:<id>, cli"),
    Column("person_id", String(24), nullable=False, index=True, comment="the person kept"),
    Column("other_person_id", String(24), nullable=False, index=True),
    Column("moves", Json, nullable=False, comment="[[source, record id, from, to], ...]"),
    Column("reason", String(200), nullable=False),
    Column("undoes", BigInteger, nullable=True),
    Column("undone_by", BigInteger, nullable=True),
)

# Decisions the batch must honour: keep two record sets together (must) or apart (cannot).
identity_constraints = Table(
    "identity_constraints",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("left_records", Json, nullable=False, comment="[[source, record id], ...]"),
    Column("right_records", Json, nullable=False),
    Column("event_id", BigInteger, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
    CheckConstraint("kind IN ('must', 'cannot')", name="kind"),
)

# Record pairs whose match probability falls in the grey zone, waiting for a person to decide.
identity_review = Table(
    "identity_review",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("left_source", String(32), nullable=False),
    Column("left_record_id", String(128), nullable=False),
    Column("right_source", String(32), nullable=False),
    Column("right_record_id", String(128), nullable=False),
    Column("match_probability", Float, nullable=False),
    Column("match_weight", Float, nullable=False),
    Column("status", String(10), nullable=False, comment="open, approved, rejected"),
    Column("run_id", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    UniqueConstraint("left_source", "left_record_id", "right_source", "right_record_id"),
    Index("ix_identity_review_status", "status", "match_probability"),
    CheckConstraint("status IN ('open', 'approved', 'rejected')", name="status"),
)

# Member records that arrive through the API (imports from ERP, POS, WeChat; resolve calls) rather
# than in source files; the batch reads them beside the lake's identity records.
identity_api_records = Table(
    "identity_api_records",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("source_record_id", String(128), primary_key=True),
    Column("attributes", Json, nullable=False, comment="canonical identity columns, PII protected"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False, index=True),
)

# Flash sales. A sale, its items and who may buy are written when it is created (an audience is
# snapshotted into flashsale_eligible when the sale is armed); orders come from the engine's order
# log through the order writer, keyed by reservation id so a redelivered record changes nothing.
flashsale_sales = Table(
    "flashsale_sales",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("status", String(8), nullable=False, comment="draft, armed"),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("per_person_limit", Integer, nullable=False, comment="units across all items"),
    Column("payment_window_seconds", Integer, nullable=False),
    Column("channels", Json, nullable=False, comment='e.g. ["app", "wechat_mini"]'),
    Column("eligibility", String(8), nullable=False, comment="everyone, list, audience"),
    Column("audience_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("armed_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True, comment="ended early; ends_at is then this"),
    CheckConstraint("status IN ('draft', 'armed')", name="status"),
    CheckConstraint("eligibility IN ('everyone', 'list', 'audience')", name="eligibility"),
    CheckConstraint("(eligibility = 'audience') = (audience_id IS NOT NULL)", name="audience"),
    CheckConstraint("per_person_limit > 0 AND payment_window_seconds > 0", name="positive"),
)

flashsale_items = Table(
    "flashsale_items",
    metadata,
    Column("sale_id", ForeignKey("flashsale_sales.id", ondelete="CASCADE"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("stock", Integer, nullable=False, comment="units for sale"),
    Column("price_minor", BigInteger, nullable=False, comment="unit price in minor units (fen)"),
    Column("currency", String(3), nullable=False, comment="ISO 4217"),
    CheckConstraint("stock > 0 AND price_minor >= 0", name="amounts"),
)

flashsale_eligible = Table(
    "flashsale_eligible",
    metadata,
    Column("sale_id", ForeignKey("flashsale_sales.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", String(64), primary_key=True),
)

flashsale_orders = Table(
    "flashsale_orders",
    metadata,
    Column("reservation_id", String(64), primary_key=True),
    Column("sale_id", ForeignKey("flashsale_sales.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price_minor", BigInteger, nullable=False, comment="unit price when reserved"),
    Column("currency", String(3), nullable=False),
    Column("status", String(8), nullable=False, comment="reserved, paid, expired"),
    Column("request_key", String(128), nullable=False),
    Column("reserved_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime, nullable=True),
    Column("expired_at", UtcDateTime, nullable=True),
    Index("ix_flashsale_orders_sale_id_status", "sale_id", "status"),
    Index("ix_flashsale_orders_sale_id_person_id", "sale_id", "person_id"),
    CheckConstraint("status IN ('reserved', 'paid', 'expired')", name="status"),
)

# Tags users add through the API and console; the shipped catalogue lives in the package.
tag_definitions = Table(
    "tag_definitions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("entity", String(8), nullable=False, comment="person, store"),
    Column("spec", Json, nullable=False, comment="the TagSpec's fields"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("entity IN ('person', 'store')", name="entity"),
)

# Saved audiences and store selections: the expression is kept as its canonical JSON and text;
# every tag refresh appends one size row per live audience (keyed by the index version, so a
# refresh run again writes nothing twice).
audiences = Table(
    "audiences",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", String(2000), nullable=False),
    Column("entity", String(8), nullable=False, comment="person, store"),
    Column("expression", Json, nullable=False, comment="the expression's JSON tree"),
    Column("expression_text", String(8000), nullable=False, comment="its canonical text"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True, comment="no longer refreshed"),
    CheckConstraint("entity IN ('person', 'store')", name="entity"),
)

audience_sizes = Table(
    "audience_sizes",
    metadata,
    Column("audience_id", ForeignKey("audiences.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "index_version", Integer, primary_key=True, comment="the tag snapshot it was counted on"
    ),
    Column("as_of", String(10), nullable=False, comment="the tags' business date, ISO"),
    Column("size", BigInteger, nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
)

# A frozen member list (dense person ids as a serialized roaring bitmap), taken for a campaign
# launch or an export so later refreshes do not change who was targeted. Erasing a person removes
# their id from every snapshot.
audience_snapshots = Table(
    "audience_snapshots",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("audience_id", ForeignKey("audiences.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(200), nullable=False, comment="e.g. the campaign it was taken for"),
    Column("index_version", Integer, nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("members", LargeBinary, nullable=False, comment="roaring bitmap of dense person ids"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_audience_snapshots_audience_id", "audience_id"),
)

# Files handed to marketing tools and ad platforms; every one is also in the audit log.
audience_exports = Table(
    "audience_exports",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("audience_id", ForeignKey("audiences.id", ondelete="CASCADE"), nullable=False),
    Column("snapshot_id", ForeignKey("audience_snapshots.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False, comment="csv, phone_sha256, device_sha256"),
    Column("consent", String(8), nullable=False, comment="the channel whose consent was required"),
    Column("rows", BigInteger, nullable=False),
    Column("excluded", BigInteger, nullable=False, comment="members left out without consent"),
    Column("file_name", String(200), nullable=False, comment="under the home's exports directory"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_audience_exports_audience_id", "audience_id"),
)

# --- Membership and benefits (loyalty/) -----------------------------------------------------------
# A scheme is one programme (a channel's or a brand's membership, or the paid membership); its rules
# (tier ladder, earn rules, points expiry, paid price and monthly vouchers) are one validated JSON
# document, so a scheme is changed by replacing its rules as a whole.
loyalty_schemes = Table(
    "loyalty_schemes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, comment="zh-CN"),
    Column("name_en", String(200), nullable=False),
    Column("kind", String(8), nullable=False, comment="free, paid"),
    Column("currency", String(3), nullable=False, comment="ISO 4217 of its money rules"),
    Column(
        "rules", Json, nullable=False, comment="tiers, earn rules, expiry, paid price, vouchers"
    ),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN ('free', 'paid')", name="kind"),
)

# One membership per scheme and person (P2: one per channel or brand under the person).
memberships = Table(
    "memberships",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("scheme_id", ForeignKey("loyalty_schemes.id"), nullable=False),
    Column("person_id", String(24), nullable=False, index=True),
    Column("tier", String(32), nullable=False),
    Column("tier_since", UtcDateTime, nullable=False),
    Column("status", String(10), nullable=False, comment="active, closed"),
    Column("joined_at", UtcDateTime, nullable=False),
    Column("joined_channel", String(16), nullable=False),
    UniqueConstraint("scheme_id", "person_id"),
    CheckConstraint("status IN ('active', 'closed')", name="status"),
)

# What happened to a membership (joined, tier_up, tier_down, paid_started, paid_renewed,
# paid_cancelled, ...), keyed naturally so a re-run of the daily tier evaluation writes nothing twice.
membership_events = Table(
    "membership_events",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("membership_id", ForeignKey("memberships.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("natural_key", String(160), nullable=False),
    Column("detail", Json, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("membership_id", "natural_key"),
)

# One row per paid period bought: a renewal is a new period starting where the last one ends.
paid_periods = Table(
    "paid_periods",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("membership_id", ForeignKey("memberships.id"), nullable=False, index=True),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False, comment="last day covered"),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_method", String(16), nullable=False),
    Column("status", String(10), nullable=False, comment="active, cancelled"),
    Column("purchase_key", String(160), nullable=False, unique=True),
    Column("purchased_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("refund_minor", BigInteger, nullable=True, comment="pro-rata refund on cancellation"),
    CheckConstraint("status IN ('active', 'cancelled')", name="status"),
    CheckConstraint("ends_on >= starts_on", name="period"),
)

# A balance a membership holds: points, wallet principal and wallet bonus. ``balance`` is derived
# (the sum of the account's entries, kept in the same transaction); `loyalty reconcile` proves it.
loyalty_accounts = Table(
    "loyalty_accounts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("membership_id", ForeignKey("memberships.id"), nullable=False),
    Column("kind", String(14), nullable=False, comment="points, wallet, wallet_bonus"),
    Column("currency", String(3), nullable=True, comment="wallets only"),
    Column("balance", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("membership_id", "kind"),
    CheckConstraint("kind IN ('points', 'wallet', 'wallet_bonus')", name="kind"),
    # A wallet never goes negative, whatever races; points may, only when a refund claws back points
    # the member has already spent (the debt is settled by the next earn).
    CheckConstraint("kind = 'points' OR balance >= 0", name="wallet_not_negative"),
)

# Append-only: every change to a balance. The natural key makes a retried operation a no-op.
loyalty_entries = Table(
    "loyalty_entries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", ForeignKey("loyalty_accounts.id"), nullable=False),
    Column(
        "kind",
        String(16),
        nullable=False,
        comment="earn, spend, expire, reverse_earn, reverse_spend, adjust, topup, bonus, pay, refund",
    ),
    Column("amount", BigInteger, nullable=False, comment="signed: + credits, - debits"),
    Column("balance_after", BigInteger, nullable=False),
    Column("natural_key", String(160), nullable=False),
    Column("order_id", String(40), nullable=True, index=True),
    Column("detail", Json, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("account_id", "natural_key"),
    Index("ix_loyalty_entries_account_id_at", "account_id", "at"),
)

# Points earned in one entry, spent and expired first-in first-out by expiry date.
points_lots = Table(
    "points_lots",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", ForeignKey("loyalty_accounts.id"), nullable=False),
    Column("entry_id", ForeignKey("loyalty_entries.id"), nullable=False, unique=True),
    Column("amount", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("expires_on", Date, nullable=False),
    Index("ix_points_lots_account_id_expires_on", "account_id", "expires_on"),
    CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining"),
)

# Which lots a spend, expiry or claw-back drew on, so a reversal restores exactly those lots.
points_draws = Table(
    "points_draws",
    metadata,
    Column("entry_id", ForeignKey("loyalty_entries.id"), primary_key=True),
    Column("lot_id", ForeignKey("points_lots.id"), primary_key=True),
    Column("amount", BigInteger, nullable=False),
)

# --- Coupons and vouchers -------------------------------------------------------------------------
coupon_templates = Table(
    "coupon_templates",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, comment="zh-CN"),
    Column("name_en", String(200), nullable=False),
    Column(
        "kind",
        String(16),
        nullable=False,
        comment="amount_off, percent_off, free_item, size_upgrade",
    ),
    Column("currency", String(3), nullable=False),
    Column("amount_off_minor", BigInteger, nullable=True),
    Column("threshold_minor", BigInteger, nullable=True, comment="minimum eligible spend"),
    Column("percent_off", Integer, nullable=True),
    Column("cap_minor", BigInteger, nullable=True, comment="most a percent-off coupon takes"),
    Column("target", Json, nullable=True, comment='free item: {"product_id"} or {"category"}'),
    Column("scope", Json, nullable=False, comment="channels, stores, products, categories"),
    Column("valid_from", UtcDateTime, nullable=True),
    Column("valid_until", UtcDateTime, nullable=True),
    Column("valid_days", Integer, nullable=True, comment="validity counted from issue"),
    Column("budget_total", Integer, nullable=True, comment="most coupons ever issued"),
    Column("per_person_limit", Integer, nullable=True),
    Column("issued_count", Integer, nullable=False),
    Column("stacks_with_tier", Boolean, nullable=False),
    Column("status", String(8), nullable=False, comment="active, paused, retired"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "kind IN ('amount_off', 'percent_off', 'free_item', 'size_upgrade')", name="kind"
    ),
    CheckConstraint("status IN ('active', 'paused', 'retired')", name="status"),
    CheckConstraint("budget_total IS NULL OR issued_count <= budget_total", name="within_budget"),
)

coupons = Table(
    "coupons",
    metadata,
    Column("id", String(40), primary_key=True, comment="the code the member shows"),
    Column("template_id", ForeignKey("coupon_templates.id"), nullable=False),
    Column("person_id", String(24), nullable=False),
    Column("status", String(10), nullable=False, comment="issued, redeemed, expired, revoked"),
    Column("issue_key", String(160), nullable=False, comment="why it was issued; natural key"),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("order_id", String(40), nullable=True, comment="the order it was redeemed on"),
    Column("redeemed_at", UtcDateTime, nullable=True),
    Column("discount_minor", BigInteger, nullable=True),
    UniqueConstraint("template_id", "person_id", "issue_key"),
    Index("ix_coupons_person_id_status", "person_id", "status"),
    Index("ix_coupons_template_id_status", "template_id", "status"),
    CheckConstraint("status IN ('issued', 'redeemed', 'expired', 'revoked')", name="status"),
)

# The coupon ledger: every change of a coupon's state, append-only and naturally keyed.
coupon_events = Table(
    "coupon_events",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("coupon_id", ForeignKey("coupons.id"), nullable=False),
    Column(
        "kind", String(10), nullable=False, comment="issued, redeemed, reversed, expired, revoked"
    ),
    Column("natural_key", String(160), nullable=False),
    Column("order_id", String(40), nullable=True),
    Column("discount_minor", BigInteger, nullable=True),
    Column("actor", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("coupon_id", "natural_key"),
)

# --- Order middle platform (trade/) ---------------------------------------------------------------
# What checkout prices from: products and list prices synced from the lake's ERP dimensions, and
# each store's currency and time zone.
catalogue_products = Table(
    "catalogue_products",
    metadata,
    Column("product_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=True),
    Column("category", String(32), nullable=False),
    Column("subcategory", String(32), nullable=True),
    Column("sizes", Json, nullable=False, comment='upcharge per size, e.g. {"M": 0, "L": 300}'),
    Column("on_sale", Boolean, nullable=False),
)

catalogue_prices = Table(
    "catalogue_prices",
    metadata,
    Column("product_id", ForeignKey("catalogue_products.product_id"), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("price_minor", BigInteger, nullable=False),
)

catalogue_stores = Table(
    "catalogue_stores",
    metadata,
    Column("store_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("city", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("timezone", String(40), nullable=False),
    Column("open", Boolean, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("client_order_id", String(64), nullable=False, comment="the channel's own order id"),
    Column("store_id", String(32), nullable=False, index=True),
    Column("person_id", String(24), nullable=True, index=True),
    Column("identity_source", String(32), nullable=True, comment="the record checkout was given"),
    Column("identity_record_id", String(128), nullable=True),
    Column("membership_id", BigInteger, nullable=True),
    Column("status", String(20), nullable=False, comment="placed, partially_refunded, refunded"),
    Column("fulfilment", String(12), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False),
    Column("wallet_minor", BigInteger, nullable=False, comment="part paid from the wallet"),
    Column("payment_method", String(16), nullable=False),
    Column("points_earned", BigInteger, nullable=False),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("business_date", Date, nullable=False, comment="local date at the store"),
    UniqueConstraint("channel", "client_order_id"),
    Index("ix_orders_placed_at", "placed_at"),
    CheckConstraint("status IN ('placed', 'partially_refunded', 'refunded')", name="status"),
    CheckConstraint("refunded_minor <= paid_minor", name="refund_within_paid"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", ForeignKey("orders.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("product_id", String(32), nullable=False),
    Column("category", String(32), nullable=False),
    Column("size", String(8), nullable=True),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False, comment="list price plus size upcharge"),
    Column("gross_minor", BigInteger, nullable=False),
    Column("discount_minor", BigInteger, nullable=False, comment="every discount, apportioned"),
    Column("net_minor", BigInteger, nullable=False),
    Column("points_earned", BigInteger, nullable=False),
    Column("refunded_quantity", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="quantity"),
    CheckConstraint(
        "refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refunded_quantity"
    ),
)

# The pricing breakdown as applied, step by step: what each discount took from each line.
order_discounts = Table(
    "order_discounts",
    metadata,
    Column("order_id", ForeignKey("orders.id"), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("source", String(12), nullable=False, comment="tier, coupon"),
    Column("coupon_id", String(40), nullable=True),
    Column("amount_minor", BigInteger, nullable=False),
)

order_refunds = Table(
    "order_refunds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False, index=True),
    Column("refund_key", String(128), nullable=False, comment="natural key from the caller"),
    Column("lines", Json, nullable=False, comment="[[line_no, quantity, amount_minor], ...]"),
    Column("amount_minor", BigInteger, nullable=False),
    Column("wallet_minor", BigInteger, nullable=False),
    Column("points_reversed", BigInteger, nullable=False),
    Column("coupons_restored", Json, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("order_id", "refund_key"),
)

# Transactional outbox: written with the order or refund, relayed to the lake's ODS afterwards.
trade_outbox = Table(
    "trade_outbox",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("topic", String(16), nullable=False, comment="order, refund, redemption"),
    Column("payload", Json, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("relayed_at", UtcDateTime, nullable=True),
    Index("ix_trade_outbox_relayed_at_id", "relayed_at", "id"),
)

# The supply chain's tables live in their own module (this one is long enough); importing it here
# puts them on this metadata for every caller, the migrations and the schema test among them.
from newretail.oltp import supply_alert_tables as supply_alert_tables  # noqa: E402
from newretail.oltp import supply_tables as supply_tables  # noqa: E402
