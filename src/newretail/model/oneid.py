"""OneID's tables in the lake: which person each identity record belongs to, and each person's golden
profile. Each ``newretail identity resolve`` replaces them whole, with the rows of the persons it
resolved again; tags, audiences and BI join them."""

from __future__ import annotations

import pyarrow as pa

from newretail.model.spec import DATE, TIMESTAMP, TableSpec, col

PERSON_LINKS = TableSpec(
    name="person_links",
    subject="oneid",
    description="One row per identity record: the person OneID linked it to.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system of the identity record.", required=True),
            col("source_record_id", pa.string(), "The record's id in its source.", required=True),
            col(
                "person_id",
                pa.string(),
                "The person; stable across runs (only a merge or split changes it).",
                required=True,
            ),
        ]
    ),
    key=("source", "source_record_id"),
    partition_by=(),
)

PERSONS = TableSpec(
    name="persons",
    subject="oneid",
    description=(
        "One row per person: the golden profile, each field picked from the person's records by"
        " its survivorship rule (most trusted source, most recent, most frequent)."
    ),
    schema=pa.schema(
        [
            col("person_id", pa.string(), "The person.", required=True),
            col("name", pa.string(), "Name (platform courtesy names such as 王先生 never win)."),
            col("gender", pa.string(), "F, M or U."),
            col("birthday", DATE, "Date of birth."),
            col("city", pa.string(), "City."),
            col("address", pa.string(), "Delivery or postal address."),
            col("phone_masked", pa.string(), "Phone for display (138****1234)."),
            col("phone_hash", pa.string(), "HMAC-SHA256 of the E.164 phone, for matching."),
            col("phone_cipher", pa.binary(), "AES-GCM ciphertext of the phone (audited reveal)."),
            col("email_masked", pa.string(), "E-mail for display."),
            col("email_hash", pa.string(), "HMAC-SHA256 of the lower-cased e-mail."),
            col("email_cipher", pa.binary(), "AES-GCM ciphertext of the e-mail."),
            col("consent_sms", pa.bool_(), "Latest stated choice on SMS marketing, any record."),
            col("consent_email", pa.bool_(), "Latest stated choice on e-mail marketing."),
            col("consent_wechat", pa.bool_(), "Latest stated choice on WeChat messages."),
            col("consent_push", pa.bool_(), "Latest stated choice on app push."),
            col("records", pa.int32(), "Identity records linked to the person.", required=True),
            col("sources", pa.list_(pa.string()), "Source systems holding the person's records."),
            col("first_seen_at", TIMESTAMP, "Earliest created_at of the person's records."),
            col("last_updated_at", TIMESTAMP, "Latest updated_at of the person's records."),
        ]
    ),
    key=("person_id",),
    partition_by=(),
)

TABLES = (PERSON_LINKS, PERSONS)
