"""Store operations: quality inspections, IoT device readings and footfall counts."""

from __future__ import annotations

import pyarrow as pa

from newretail.model import codes
from newretail.model.spec import DATE, TIMESTAMP, TableSpec, col

QC_INSPECTIONS = TableSpec(
    name="qc_inspections",
    subject="operations",
    description="A quality inspection of a store, recorded online by the inspector.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system (qc).", required=True),
            col("inspection_id", pa.string(), "Inspection id.", required=True),
            col("store_id", pa.string(), "Store inspected.", required=True),
            col("inspector", pa.string(), "Inspector's staff id.", required=True),
            col("inspected_at", TIMESTAMP, "When the inspection took place.", required=True),
            col("score", pa.int16(), "Score 0-100.", required=True),
            col("passed", pa.bool_(), "Score at or above the pass mark.", required=True),
            col(
                "findings",
                pa.string(),
                "Semicolon-separated finding codes, e.g. expired_material;dirty_counter.",
            ),
            col("business_date", DATE, "Local date at the store (the partition).", required=True),
        ]
    ),
    key=("source", "inspection_id"),
    partition_by=("source", "business_date"),
)

IOT_READINGS = TableSpec(
    name="iot_readings",
    subject="operations",
    description="A reading from a store device (fridge temperature, espresso pressure).",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system (iot).", required=True),
            col("device_id", pa.string(), "Device id.", required=True),
            col(
                "device_type",
                pa.string(),
                "fridge, freezer, espresso_machine, oven, ice_machine.",
                required=True,
            ),
            col("store_id", pa.string(), "Store the device is in.", required=True),
            col(
                "metric",
                pa.string(),
                "What was measured, e.g. temperature_c, pressure_bar.",
                required=True,
            ),
            col("value", pa.float64(), "The reading in the metric's unit.", required=True),
            col("read_at", TIMESTAMP, "When it was read.", required=True),
            col("business_date", DATE, "Local date at the store (the partition).", required=True),
        ]
    ),
    key=("source", "device_id", "metric", "read_at"),
    partition_by=("source", "business_date"),
    enums=(("device_type", codes.DEVICE_TYPES),),
)

FOOTFALL = TableSpec(
    name="footfall",
    subject="operations",
    description="Visitors counted at a store's door in one local hour.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system (footfall).", required=True),
            col("store_id", pa.string(), "Store.", required=True),
            col("hour_start", TIMESTAMP, "Start of the counted hour.", required=True),
            col("visitors", pa.int32(), "People who entered.", required=True),
            col("business_hour", pa.int8(), "Local hour 0-23.", required=True),
            col("business_date", DATE, "Local date at the store (the partition).", required=True),
        ]
    ),
    key=("source", "store_id", "hour_start"),
    partition_by=("source", "business_date"),
)

TABLES = (QC_INSPECTIONS, IOT_READINGS, FOOTFALL)
