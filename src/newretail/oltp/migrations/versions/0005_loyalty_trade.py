"""Membership and benefits, coupons and the order middle platform: schemes, memberships, ledgers,
points lots, coupon templates and coupons, the checkout catalogue, orders, refunds and their outbox.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_UTC = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "catalogue_products",
        sa.Column("product_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("subcategory", sa.String(length=32), nullable=True),
        sa.Column(
            "sizes", _JSON, nullable=False, comment='upcharge per size, e.g. {"M": 0, "L": 300}'
        ),
        sa.Column("on_sale", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_catalogue_products")),
    )
    op.create_table(
        "catalogue_stores",
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_catalogue_stores")),
    )
    op.create_table(
        "coupon_templates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False, comment="zh-CN"),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="amount_off, percent_off, free_item, size_upgrade",
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_off_minor", sa.BigInteger(), nullable=True),
        sa.Column(
            "threshold_minor", sa.BigInteger(), nullable=True, comment="minimum eligible spend"
        ),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column(
            "cap_minor", sa.BigInteger(), nullable=True, comment="most a percent-off coupon takes"
        ),
        sa.Column(
            "target", _JSON, nullable=True, comment='free item: {"product_id"} or {"category"}'
        ),
        sa.Column("scope", _JSON, nullable=False, comment="channels, stores, products, categories"),
        sa.Column("valid_from", _UTC, nullable=True),
        sa.Column("valid_until", _UTC, nullable=True),
        sa.Column("valid_days", sa.Integer(), nullable=True, comment="validity counted from issue"),
        sa.Column("budget_total", sa.Integer(), nullable=True, comment="most coupons ever issued"),
        sa.Column("per_person_limit", sa.Integer(), nullable=True),
        sa.Column("issued_count", sa.Integer(), nullable=False),
        sa.Column("stacks_with_tier", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False, comment="active, paused, retired"),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.CheckConstraint(
            "kind IN ('amount_off', 'percent_off', 'free_item', 'size_upgrade')",
            name=op.f("ck_coupon_templates_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'retired')", name=op.f("ck_coupon_templates_status")
        ),
        sa.CheckConstraint(
            "budget_total IS NULL OR issued_count <= budget_total",
            name=op.f("ck_coupon_templates_within_budget"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_templates")),
    )
    op.create_table(
        "loyalty_schemes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False, comment="zh-CN"),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="free, paid"),
        sa.Column(
            "currency", sa.String(length=3), nullable=False, comment="ISO 4217 of its money rules"
        ),
        sa.Column(
            "rules",
            _JSON,
            nullable=False,
            comment="tiers, earn rules, expiry, paid price, vouchers",
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.CheckConstraint("kind IN ('free', 'paid')", name=op.f("ck_loyalty_schemes_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_schemes")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "client_order_id",
            sa.String(length=64),
            nullable=False,
            comment="the channel's own order id",
        ),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=24), nullable=True),
        sa.Column(
            "identity_source",
            sa.String(length=32),
            nullable=True,
            comment="the record checkout was given",
        ),
        sa.Column("identity_record_id", sa.String(length=128), nullable=True),
        sa.Column("membership_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "status",
            sa.String(length=20),
            nullable=False,
            comment="placed, partially_refunded, refunded",
        ),
        sa.Column("fulfilment", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "wallet_minor", sa.BigInteger(), nullable=False, comment="part paid from the wallet"
        ),
        sa.Column("payment_method", sa.String(length=16), nullable=False),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False),
        sa.Column("placed_at", _UTC, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False, comment="local date at the store"),
        sa.CheckConstraint(
            "status IN ('placed', 'partially_refunded', 'refunded')", name=op.f("ck_orders_status")
        ),
        sa.CheckConstraint(
            "refunded_minor <= paid_minor", name=op.f("ck_orders_refund_within_paid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "channel", "client_order_id", name=op.f("uq_orders_channel_client_order_id")
        ),
    )
    op.create_index(op.f("ix_orders_person_id"), "orders", ["person_id"], unique=False)
    op.create_index("ix_orders_placed_at", "orders", ["placed_at"], unique=False)
    op.create_index(op.f("ix_orders_store_id"), "orders", ["store_id"], unique=False)
    op.create_table(
        "trade_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "topic", sa.String(length=16), nullable=False, comment="order, refund, redemption"
        ),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("relayed_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trade_outbox")),
    )
    op.create_index(
        "ix_trade_outbox_relayed_at_id", "trade_outbox", ["relayed_at", "id"], unique=False
    )
    op.create_table(
        "catalogue_prices",
        sa.Column("product_id", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalogue_products.product_id"],
            name=op.f("fk_catalogue_prices_product_id_catalogue_products"),
        ),
        sa.PrimaryKeyConstraint("product_id", "currency", name=op.f("pk_catalogue_prices")),
    )
    op.create_table(
        "coupons",
        sa.Column("id", sa.String(length=40), nullable=False, comment="the code the member shows"),
        sa.Column("template_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=24), nullable=False),
        sa.Column(
            "status",
            sa.String(length=10),
            nullable=False,
            comment="issued, redeemed, expired, revoked",
        ),
        sa.Column(
            "issue_key",
            sa.String(length=160),
            nullable=False,
            comment="why it was issued; natural key",
        ),
        sa.Column("issued_at", _UTC, nullable=False),
        sa.Column("valid_from", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
        sa.Column(
            "order_id", sa.String(length=40), nullable=True, comment="the order it was redeemed on"
        ),
        sa.Column("redeemed_at", _UTC, nullable=True),
        sa.Column("discount_minor", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('issued', 'redeemed', 'expired', 'revoked')", name=op.f("ck_coupons_status")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["coupon_templates.id"],
            name=op.f("fk_coupons_template_id_coupon_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint(
            "template_id",
            "person_id",
            "issue_key",
            name=op.f("uq_coupons_template_id_person_id_issue_key"),
        ),
    )
    op.create_index("ix_coupons_person_id_status", "coupons", ["person_id", "status"], unique=False)
    op.create_index(
        "ix_coupons_template_id_status", "coupons", ["template_id", "status"], unique=False
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scheme_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.String(length=24), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("tier_since", _UTC, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False, comment="active, closed"),
        sa.Column("joined_at", _UTC, nullable=False),
        sa.Column("joined_channel", sa.String(length=16), nullable=False),
        sa.CheckConstraint("status IN ('active', 'closed')", name=op.f("ck_memberships_status")),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["loyalty_schemes.id"],
            name=op.f("fk_memberships_scheme_id_loyalty_schemes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "scheme_id", "person_id", name=op.f("uq_memberships_scheme_id_person_id")
        ),
    )
    op.create_index(op.f("ix_memberships_person_id"), "memberships", ["person_id"], unique=False)
    op.create_table(
        "order_discounts",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False, comment="tier, coupon"),
        sa.Column("coupon_id", sa.String(length=40), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_discounts_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "step", "line_no", name=op.f("pk_order_discounts")),
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("size", sa.String(length=8), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "unit_price_minor",
            sa.BigInteger(),
            nullable=False,
            comment="list price plus size upcharge",
        ),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column(
            "discount_minor", sa.BigInteger(), nullable=False, comment="every discount, apportioned"
        ),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        sa.Column("refunded_quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_lines_quantity")),
        sa.CheckConstraint(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
            name=op.f("ck_order_lines_refunded_quantity"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "line_no", name=op.f("pk_order_lines")),
    )
    op.create_table(
        "order_refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column(
            "refund_key",
            sa.String(length=128),
            nullable=False,
            comment="natural key from the caller",
        ),
        sa.Column(
            "lines", _JSON, nullable=False, comment="[[line_no, quantity, amount_minor], ...]"
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("wallet_minor", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("coupons_restored", _JSON, nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_refunds_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_refunds")),
        sa.UniqueConstraint(
            "order_id", "refund_key", name=op.f("uq_order_refunds_order_id_refund_key")
        ),
    )
    op.create_index(op.f("ix_order_refunds_order_id"), "order_refunds", ["order_id"], unique=False)
    op.create_table(
        "coupon_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("coupon_id", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=10),
            nullable=False,
            comment="issued, redeemed, reversed, expired, revoked",
        ),
        sa.Column("natural_key", sa.String(length=160), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("discount_minor", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_events_coupon_id_coupons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_events")),
        sa.UniqueConstraint(
            "coupon_id", "natural_key", name=op.f("uq_coupon_events_coupon_id_natural_key")
        ),
    )
    op.create_table(
        "loyalty_accounts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "membership_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "kind", sa.String(length=14), nullable=False, comment="points, wallet, wallet_bonus"
        ),
        sa.Column("currency", sa.String(length=3), nullable=True, comment="wallets only"),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.CheckConstraint(
            "kind = 'points' OR balance >= 0", name=op.f("ck_loyalty_accounts_wallet_not_negative")
        ),
        sa.CheckConstraint(
            "kind IN ('points', 'wallet', 'wallet_bonus')", name=op.f("ck_loyalty_accounts_kind")
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_loyalty_accounts_membership_id_memberships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_accounts")),
        sa.UniqueConstraint(
            "membership_id", "kind", name=op.f("uq_loyalty_accounts_membership_id_kind")
        ),
    )
    op.create_table(
        "membership_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "membership_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("natural_key", sa.String(length=160), nullable=False),
        sa.Column("detail", _JSON, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_membership_events_membership_id_memberships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_events")),
        sa.UniqueConstraint(
            "membership_id",
            "natural_key",
            name=op.f("uq_membership_events_membership_id_natural_key"),
        ),
    )
    op.create_table(
        "paid_periods",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "membership_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False, comment="last day covered"),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False, comment="active, cancelled"),
        sa.Column("purchase_key", sa.String(length=160), nullable=False),
        sa.Column("purchased_at", _UTC, nullable=False),
        sa.Column("cancelled_at", _UTC, nullable=True),
        sa.Column(
            "refund_minor",
            sa.BigInteger(),
            nullable=True,
            comment="pro-rata refund on cancellation",
        ),
        sa.CheckConstraint(
            "status IN ('active', 'cancelled')", name=op.f("ck_paid_periods_status")
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_paid_periods_period")),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["memberships.id"],
            name=op.f("fk_paid_periods_membership_id_memberships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paid_periods")),
        sa.UniqueConstraint("purchase_key", name=op.f("uq_paid_periods_purchase_key")),
    )
    op.create_index(
        op.f("ix_paid_periods_membership_id"), "paid_periods", ["membership_id"], unique=False
    )
    op.create_table(
        "loyalty_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="earn, spend, expire, reverse_earn, reverse_spend, adjust, topup, bonus, pay, refund",
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False, comment="signed: + credits, - debits"),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("natural_key", sa.String(length=160), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("detail", _JSON, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["loyalty_accounts.id"],
            name=op.f("fk_loyalty_entries_account_id_loyalty_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loyalty_entries")),
        sa.UniqueConstraint(
            "account_id", "natural_key", name=op.f("uq_loyalty_entries_account_id_natural_key")
        ),
    )
    op.create_index(
        "ix_loyalty_entries_account_id_at", "loyalty_entries", ["account_id", "at"], unique=False
    )
    op.create_index(
        op.f("ix_loyalty_entries_order_id"), "loyalty_entries", ["order_id"], unique=False
    )
    op.create_table(
        "points_lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= amount", name=op.f("ck_points_lots_remaining")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["loyalty_accounts.id"],
            name=op.f("fk_points_lots_account_id_loyalty_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["loyalty_entries.id"],
            name=op.f("fk_points_lots_entry_id_loyalty_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_lots")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_points_lots_entry_id")),
    )
    op.create_index(
        "ix_points_lots_account_id_expires_on",
        "points_lots",
        ["account_id", "expires_on"],
        unique=False,
    )
    op.create_table(
        "points_draws",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["loyalty_entries.id"],
            name=op.f("fk_points_draws_entry_id_loyalty_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["points_lots.id"], name=op.f("fk_points_draws_lot_id_points_lots")
        ),
        sa.PrimaryKeyConstraint("entry_id", "lot_id", name=op.f("pk_points_draws")),
    )


def downgrade() -> None:
    op.drop_table("points_draws")
    op.drop_index("ix_points_lots_account_id_expires_on", table_name="points_lots")
    op.drop_table("points_lots")
    op.drop_index(op.f("ix_loyalty_entries_order_id"), table_name="loyalty_entries")
    op.drop_index("ix_loyalty_entries_account_id_at", table_name="loyalty_entries")
    op.drop_table("loyalty_entries")
    op.drop_index(op.f("ix_paid_periods_membership_id"), table_name="paid_periods")
    op.drop_table("paid_periods")
    op.drop_table("membership_events")
    op.drop_table("loyalty_accounts")
    op.drop_table("coupon_events")
    op.drop_index(op.f("ix_order_refunds_order_id"), table_name="order_refunds")
    op.drop_table("order_refunds")
    op.drop_table("order_lines")
    op.drop_table("order_discounts")
    op.drop_index(op.f("ix_memberships_person_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_index("ix_coupons_template_id_status", table_name="coupons")
    op.drop_index("ix_coupons_person_id_status", table_name="coupons")
    op.drop_table("coupons")
    op.drop_table("catalogue_prices")
    op.drop_index("ix_trade_outbox_relayed_at_id", table_name="trade_outbox")
    op.drop_table("trade_outbox")
    op.drop_index(op.f("ix_orders_store_id"), table_name="orders")
    op.drop_index("ix_orders_placed_at", table_name="orders")
    op.drop_index(op.f("ix_orders_person_id"), table_name="orders")
    op.drop_table("orders")
    op.drop_table("loyalty_schemes")
    op.drop_table("coupon_templates")
    op.drop_table("catalogue_stores")
    op.drop_table("catalogue_products")
