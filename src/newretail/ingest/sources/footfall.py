"""Door counters: visitors per store and local hour."""

from __future__ import annotations

from newretail.ingest.mapping import BusinessDate, SourceFile
from newretail.ingest.sources.common import STORE_REF, c

FILES = (
    SourceFile(
        "footfall",
        "counts",
        "footfall/counts/*.csv",
        "csv",
        "footfall",
        columns=(
            c("store_id", "store_code"),
            c("hour_start", "hour_start", "local_time"),
            c("visitors", "visitors", "int"),
        ),
        business_date=BusinessDate("hour_start", local=True, hour="business_hour"),
        tz_from="store_id",
        references=STORE_REF,
    ),
)
