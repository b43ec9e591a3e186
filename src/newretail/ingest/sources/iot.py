"""Store devices: fridge and freezer temperatures, espresso machine pressure."""

from __future__ import annotations

from newretail.ingest.mapping import BusinessDate, SourceFile
from newretail.ingest.sources.common import STORE_REF, c

FILES = (
    SourceFile(
        "iot",
        "readings",
        "iot/readings/*.jsonl",
        "jsonl",
        "iot_readings",
        columns=(
            c("device_id", "device"),
            c("device_type", "type"),
            c("store_id", "store"),
            c("metric", "metric"),
            c("value", "value", "float"),
            c("read_at", "ts", "utc_time"),
        ),
        business_date=BusinessDate("read_at"),
        tz_from="store_id",
        references=STORE_REF,
    ),
)
