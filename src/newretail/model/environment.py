"""The trading environment outside the chain: daily weather per city."""

from __future__ import annotations

import pyarrow as pa

from newretail.model import codes
from newretail.model.spec import DATE, TableSpec, col

WEATHER = TableSpec(
    name="weather",
    subject="environment",
    description="One city's weather on one local day: mean temperature and whether it rained.",
    schema=pa.schema(
        [
            col("source", pa.string(), "Source system (weather).", required=True),
            col("city", pa.string(), "City in English, as in stores.city.", required=True),
            col("country", pa.string(), "ISO 3166 country code.", required=True),
            col("business_date", DATE, "Local date in the city (the partition).", required=True),
            col("temp_c", pa.float64(), "Daily mean temperature in °C.", required=True),
            col("rain", pa.bool_(), "It rained that day.", required=True),
        ]
    ),
    key=("source", "city", "business_date"),
    partition_by=("source", "business_date"),
    enums=(("country", codes.COUNTRIES),),
)

TABLES = (WEATHER,)
