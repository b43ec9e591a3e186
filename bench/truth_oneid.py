"""OneID's lake tables for a benchmark chain, taken from the generator's truth: each identity record
linked to its true person, golden profiles by the same survivorship rules the real run uses.

For benchmarks of what runs downstream of OneID (tags, audiences) on chains too large to resolve
on this machine in the time at hand; the identity run has its own benchmark (bench/identity.py).
Usage: ``python bench/truth_oneid.py --home DIR --truth CHAIN/truth``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import pyarrow as pa

from newretail.identity.golden import golden_profiles
from newretail.identity.rules import IdentityRules
from newretail.lake import Lake
from newretail.model.oneid import PERSON_LINKS, PERSONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--truth", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    lake = Lake(args.home / "lake")
    records = ", ".join(f"'{f}'" for f in lake.files("dwd", "identity_records"))
    db = duckdb.connect()
    db.execute("SET memory_limit = '8GB'")
    linked: pa.Table = db.sql(
        f"""
        SELECT r.*, t.person_id
        FROM read_parquet([{records}], union_by_name = true) r
        JOIN (
            SELECT DISTINCT source, source_record_id, person_id
            FROM read_parquet('{args.truth / "identity_map.parquet"}')
        ) t USING (source, source_record_id)
        """
    ).to_arrow_table()
    print(f"{linked.num_rows:,} linked records in {time.perf_counter() - started:.0f} s")
    links = linked.select(list(PERSON_LINKS.schema.names)).cast(PERSON_LINKS.schema)
    lake.write_partition("dwd", PERSON_LINKS.name, {}, links)
    persons = golden_profiles(linked, IdentityRules()).cast(PERSONS.schema)
    lake.write_partition("dwd", PERSONS.name, {}, persons)
    print(f"{persons.num_rows:,} persons written in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
