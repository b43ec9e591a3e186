"""Weather feed: mean temperature and rain per city and local day."""

from __future__ import annotations

from newretail.ingest.mapping import SourceFile
from newretail.ingest.sources.common import c

FILES = (
    SourceFile(
        "weather",
        "daily",
        "weather/daily/*.csv",
        "csv",
        "weather",
        # The feed already reports the city's local date, so it is the partition as it is: no time
        # to convert and no store to take a time zone from.
        columns=(
            c("city", "city"),
            c("country", "country_code"),
            c("business_date", "obs_date", "date"),
            c("temp_c", "mean_temp_c", "float"),
            c("rain", "rain", "bool"),
        ),
    ),
)
