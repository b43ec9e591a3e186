"""People: identity records from every source system, and the memberships each channel keeps.

Phone and e-mail never reach the lake in clear: ingest replaces them with an HMAC for matching, a mask
for display and AES-GCM ciphertext for an audited reveal (see ``newretail.security.pii``).
"""

from __future__ import annotations

import pyarrow as pa

from newretail.model import codes
from newretail.model.spec import DATE, TIMESTAMP, TableSpec, col

IDENTITY_RECORDS = TableSpec(
    name="identity_records",
    subject="people",
    description=(
        "One row per version of a member or customer record in one source system. The same person"
        " appears in several sources, with the noise real systems have; OneID links them."
    ),
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that holds the record.", required=True),
            col(
                "source_record_id",
                pa.string(),
                "The record's id in its source system.",
                required=True,
            ),
            col(
                "phone_hash",
                pa.string(),
                "HMAC-SHA256 of the phone in E.164 form; null if absent or masked.",
            ),
            col(
                "phone_masked",
                pa.string(),
                "Phone for display, middle digits hidden (138****1234).",
            ),
            col(
                "phone_cipher",
                pa.binary(),
                "AES-GCM ciphertext of the E.164 phone (nonce prefixed).",
            ),
            col(
                "email_hash", pa.string(), "HMAC-SHA256 of the lower-cased e-mail; null if absent."
            ),
            col("email_masked", pa.string(), "E-mail for display (a***@example.com)."),
            col("email_cipher", pa.binary(), "AES-GCM ciphertext of the e-mail (nonce prefixed)."),
            col(
                "wechat_unionid",
                pa.string(),
                "WeChat unionid, the same across the brand's WeChat apps.",
            ),
            col("wechat_openid", pa.string(), "WeChat openid, specific to one WeChat app."),
            col("app_uid", pa.string(), "User id in the brand's app."),
            col("platform_user_id", pa.string(), "User id on a delivery or e-commerce platform."),
            col("pos_card_no", pa.string(), "Member card number printed for the POS."),
            col("name", pa.string(), "Name as typed into the source (may contain typos)."),
            col("gender", pa.string(), "F, M or U (unknown)."),
            col("birthday", DATE, "Date of birth as given."),
            col("city", pa.string(), "City given by the person or inferred by the source."),
            col("address", pa.string(), "Delivery or postal address as typed."),
            col("consent_sms", pa.bool_(), "Agreed to marketing by SMS."),
            col("consent_email", pa.bool_(), "Agreed to marketing by e-mail."),
            col("consent_wechat", pa.bool_(), "Agreed to marketing messages on WeChat."),
            col("consent_push", pa.bool_(), "Agreed to app push notifications."),
            col(
                "created_at", TIMESTAMP, "When the record was created in its source.", required=True
            ),
            col(
                "updated_at",
                TIMESTAMP,
                "When this version of the record was written.",
                required=True,
            ),
            col("business_date", DATE, "UTC date of updated_at (the partition).", required=True),
        ]
    ),
    key=("source", "source_record_id", "updated_at"),
    partition_by=("source", "business_date"),
    enums=(("source", codes.SOURCES), ("gender", codes.GENDERS)),
)

MEMBERSHIPS = TableSpec(
    name="memberships",
    subject="people",
    description=(
        "A membership in one programme (app member, WeChat member card, POS card, platform member)."
        " A person may hold several; each keeps its own level and points."
    ),
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system that runs the programme.", required=True),
            col("membership_id", pa.string(), "Membership id in its source.", required=True),
            col(
                "source_record_id",
                pa.string(),
                "Identity record (same source) the membership belongs to.",
                required=True,
            ),
            col(
                "program",
                pa.string(),
                "Programme name, e.g. app_member, wechat_card, paid_annual.",
                required=True,
            ),
            col(
                "level",
                pa.string(),
                "Tier within the programme, e.g. bronze, silver, gold.",
                required=True,
            ),
            col("points", pa.int64(), "Points balance when this version was written."),
            col("joined_at", TIMESTAMP, "When the person joined the programme.", required=True),
            col("expires_on", DATE, "End of a paid membership; null for free programmes."),
            col("updated_at", TIMESTAMP, "When this version was written.", required=True),
            col("business_date", DATE, "UTC date of updated_at (the partition).", required=True),
        ]
    ),
    key=("source", "membership_id", "updated_at"),
    partition_by=("source", "business_date"),
    enums=(("source", codes.SOURCES),),
)

TABLES = (IDENTITY_RECORDS, MEMBERSHIPS)
