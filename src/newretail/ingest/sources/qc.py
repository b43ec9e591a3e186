"""Quality inspections recorded by inspectors at the stores."""

from __future__ import annotations

from newretail.ingest.mapping import BusinessDate, SourceFile
from newretail.ingest.sources.common import STORE_REF, c

RESULT = {"PASS": "true", "FAIL": "false"}

FILES = (
    SourceFile(
        "qc",
        "inspections",
        "qc/inspections/*.csv",
        "csv",
        "qc_inspections",
        columns=(
            c("inspection_id", "inspection_no"),
            c("store_id", "store_code"),
            c("inspector", "inspector_id"),
            c("inspected_at", "inspect_time", "local_time"),
            c("score", "score", "int"),
            c("passed", "result", "bool", codes=RESULT),
            c("findings", "findings"),
        ),
        business_date=BusinessDate("inspected_at"),
        tz_from="store_id",
        references=STORE_REF,
    ),
)
