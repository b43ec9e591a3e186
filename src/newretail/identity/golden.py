"""The golden profile: one value per field for each person, picked from their records by the
survivorship rule configured for the field (most trusted source, most recent, most frequent)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from newretail.identity.rules import IdentityRules

# Fields picked as a unit: a phone's mask, hash and ciphertext must come from the same record.
_UNITS = {
    "name": ("name",),
    "gender": ("gender",),
    "birthday": ("birthday",),
    "city": ("city",),
    "address": ("address",),
    "phone": ("phone_masked", "phone_hash", "phone_cipher"),
    "email": ("email_masked", "email_hash", "email_cipher"),
}
_CONSENTS = ("consent_sms", "consent_email", "consent_wechat", "consent_push")
# A platform's courtesy name (王先生) is never a person's name when a real one exists.
_UNKNOWN = {"name": "name LIKE '_先生' OR name LIKE '_女士'", "gender": "gender = 'U'"}


def golden_profiles(linked: pa.Table, rules: IdentityRules) -> pa.Table:
    """``linked``: identity-record rows with a ``person_id`` column; one golden row per person.

    Consent per channel is the person's most recent stated choice on any record (a later opt-out
    overrides an earlier opt-in, as PIPL and GDPR require).
    """
    db = duckdb.connect()
    db.register("linked", linked)
    ranks = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(rules.trusted_sources))
    picks: list[str] = []
    frequent: list[str] = []
    for field, columns in _UNITS.items():
        method = rules.survivorship.get(field, "most_recent")
        present = f"{columns[0]} IS NOT NULL" + (
            f" AND NOT ({_UNKNOWN[field]})" if field in _UNKNOWN else ""
        )
        for column in columns:
            if method == "most_frequent":
                # The most frequent value; ties go to the most recent record holding it.
                frequent.append(
                    f"f_{column} AS (SELECT person_id, first(v ORDER BY n DESC, t DESC) AS {column}"
                    f" FROM (SELECT person_id, {column} AS v, count(*) AS n, max(updated_at) AS t"
                    f" FROM linked WHERE {present} GROUP BY ALL) GROUP BY person_id)"
                )
                picks.append(f"any_value(f_{column}.{column}) AS {column}")
                continue
            order = (
                "trust, updated_at DESC" if method == "most_trusted" else "updated_at DESC, trust"
            )
            picks.append(f"first(l.{column} ORDER BY {order}) FILTER (WHERE {present}) AS {column}")
    joins = " ".join(f"LEFT JOIN f_{c.split(' ', 1)[0][2:]} USING (person_id)" for c in frequent)
    consents = [
        f"first(l.{c} ORDER BY updated_at DESC) FILTER (WHERE l.{c} IS NOT NULL) AS {c}"
        for c in _CONSENTS
    ]
    result = db.sql(
        f"""
        WITH {"".join(c + ", " for c in frequent)}ranked AS (
            SELECT *, CASE source {ranks} ELSE 99 END AS trust FROM linked
        )
        SELECT person_id, {", ".join(picks + consents)},
               count(*)::INTEGER AS records,
               list(DISTINCT l.source ORDER BY l.source) AS sources,
               min(l.created_at) AS first_seen_at,
               max(l.updated_at) AS last_updated_at
        FROM ranked l {joins} GROUP BY person_id ORDER BY person_id
        """
    ).to_arrow_table()
    db.close()
    table: pa.Table = result
    return table
