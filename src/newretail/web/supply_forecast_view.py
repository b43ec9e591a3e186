"""What the forecast page shows, prepared for its template: the choices in the page's language, the
charts' data (every point with the text its tooltip shows, formatted here), and the accuracy table's
figures as text."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from newretail.supply.forecast.accuracy_table import AccuracyRow, AccuracyTable
from newretail.supply.forecast.views import Choice, Series
from newretail.web.i18n import Language

Translate = Callable[..., str]
Format = Callable[[float], str]
# Figures of the page, each defined in the glossary (def.supply_forecast.<key>).
DEFINITIONS = ("actual", "forecast", "band", "stores_sum", "material_use", "prep")
ACCURACY_DEFINITIONS = ("accuracy", "vs_naive", "bias", "mase", "serving")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def code_or_none(text: str) -> str | None:
    """A store, product or material id from the query, or None for an empty or malformed one."""
    return text if _CODE.match(text) else None


def label(choice: Choice, language: Language) -> str:
    return choice.name_en if language == "en" else choice.name


def units(value: float) -> str:
    """Product units: whole above 100, else to a tenth (a product's day can be a handful)."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def quantity(unit: str, t: Translate) -> Format:
    """Base units with their unit's short name (g, ml, pcs)."""
    short = t(f"supply_forecast.unit_{unit}") if unit else ""
    return lambda value: f"{value:,.0f} {short}".rstrip()


@dataclass(frozen=True, slots=True)
class AccuracyLine:
    row: AccuracyRow
    accuracy: str
    wape: str
    bias: str
    mase: str
    vs_naive: str


def accuracy_lines(table: AccuracyTable) -> list[AccuracyLine]:
    return [
        AccuracyLine(
            row=row,
            accuracy=f"{row.accuracy:.1%}",
            wape=f"{row.wape:.1%}",
            bias=f"{row.bias:+.1%}",
            mase=f"{row.mase:.2f}",
            vs_naive="—" if row.vs_naive is None else f"{row.vs_naive:+.1%}",
        )
        for row in table.rows
    ]


def band_chart(series: Series, t: Translate, fmt: Format) -> dict[str, Any]:
    """Actual (line), forecast mean (dashed line) and its 80% band (a shaded area drawn as the
    low edge plus the band's width stacked on it), on one axis of dates."""
    actual = {p.business_date: p.value for p in series.actual}
    forecast = {p.business_date: p for p in series.forecast}
    dates = sorted(actual.keys() | forecast.keys())

    def points(
        values: dict[dt.date, Any], value: Callable[[Any], float], text: Format
    ) -> list[Any]:
        return [
            {"value": round(value(values[d]), 3), "label": text(value(values[d]))}
            if d in values
            else None
            for d in dates
        ]

    width = [
        {
            "value": round(forecast[d].hi80 - forecast[d].lo80, 3),
            "label": f"{fmt(forecast[d].lo80)} – {fmt(forecast[d].hi80)}",
        }
        if d in forecast
        else None
        for d in dates
    ]
    return {
        "kind": "band",
        "dates": [d.isoformat() for d in dates],
        "names": {
            "actual": t("supply_forecast.series_actual"),
            "forecast": t("supply_forecast.series_forecast"),
            "band": t("supply_forecast.series_band"),
        },
        "actual": points(actual, float, fmt),
        "mean": points(forecast, lambda p: p.mean, fmt),
        "lo": points(forecast, lambda p: p.lo80, fmt),
        "width": width,
    }


def prep_chart(prep_units: tuple[float, ...], t: Translate) -> dict[str, Any]:
    """Tomorrow's forecast units per local hour, trading hours only (from the first to the last
    hour with any)."""
    busy = [h for h, u in enumerate(prep_units) if u > 0] or [0]
    hours = range(busy[0], busy[-1] + 1)
    return {
        "kind": "bars",
        "categories": [f"{h:02d}:00" for h in hours],
        "series": [
            {
                "name": t("supply_forecast.series_prep"),
                "data": [
                    {"value": round(prep_units[h], 2), "label": f"{prep_units[h]:,.1f}"}
                    for h in hours
                ],
            }
        ],
    }
