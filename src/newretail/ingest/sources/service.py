"""Customer service: refunds, complaints and ratings, each pointing at an order."""

from __future__ import annotations

from newretail.ingest.mapping import BusinessDate, SourceFile
from newretail.ingest.sources.common import STORE_REF, c

FILES = (
    SourceFile(
        "service",
        "refunds",
        "service/refunds/*.csv",
        "csv",
        "refunds",
        columns=(
            c("refund_id", "refund_no"),
            c("order_source", "order_source"),
            c("order_id", "order_id"),
            c("store_id", "store_id"),
            c("reason", "reason"),
            c("currency", "currency"),
            c("amount_minor", "amount", "money"),
            c("requested_at", "apply_time", "local_time"),
        ),
        business_date=BusinessDate("requested_at"),
        tz_from="store_id",
        references=STORE_REF,
    ),
    SourceFile(
        "service",
        "complaints",
        "service/complaints/*.csv",
        "csv",
        "complaints",
        columns=(
            c("complaint_id", "ticket_no"),
            c("order_source", "order_source"),
            c("order_id", "order_id"),
            c("identity_source", "member_source"),
            c("identity_record_id", "member_id"),
            c("store_id", "store_id"),
            c("category", "category"),
            c("created_at", "created_time", "local_time"),
            c("resolved_at", "closed_time", "local_time"),
        ),
        business_date=BusinessDate("created_at"),
        tz_from="store_id",
        references=STORE_REF,
    ),
    SourceFile(
        "service",
        "ratings",
        "service/ratings/*.csv",
        "csv",
        "ratings",
        columns=(
            c("rating_id", "rating_no"),
            c("order_source", "order_source"),
            c("order_id", "order_id"),
            c("store_id", "store_id"),
            c("stars", "stars", "int"),
            c("rated_at", "rated_time", "local_time"),
        ),
        business_date=BusinessDate("rated_at"),
        tz_from="store_id",
        references=STORE_REF,
    ),
)
