"""One person's tag values, as the member 360 shows them: the row of the latest ADS refresh that
belongs to the person, read with a filter pushed into the Parquet reader (the refresh is sorted by
``person_id``, so only the row group holding the person is decoded), paired with the tags'
definitions in catalogue order.

>>> as_of, values = person_tags(lake, "P227O5LIASDZ7")  # doctest: +SKIP
>>> [(spec.id, value) for spec, value in values][:2]  # doctest: +SKIP
[('gender', 'F'), ('birthday', None)]
"""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq

from newretail.lake import Lake
from newretail.tags.catalogue import Catalogue
from newretail.tags.compute import latest_refresh
from newretail.tags.spec import ENTITY_KEYS, TagSpec

TagValue = bool | str | int | dt.date | None


def person_tags(
    lake: Lake, person_id: str, *, catalogue: Catalogue | None = None
) -> tuple[dt.date, list[tuple[TagSpec, TagValue]]] | None:
    """The as-of date of the latest person-tag refresh and, for every tag it computed that
    ``catalogue`` (the shipped one unless given, e.g. with the users' tags) defines, the person's
    value (None: no value). An unknown person gets an empty list; None before the first refresh."""
    refresh = latest_refresh(lake, "person")
    if refresh is None:
        return None
    computed = set(refresh.tag_ids)
    specs = [
        spec
        for spec in refresh.catalogue(catalogue or Catalogue.shipped()).for_entity("person")
        if spec.id in computed
    ]
    key = ENTITY_KEYS["person"]
    table = pq.read_table(
        refresh.path,
        columns=[key, *(spec.id for spec in specs)],
        filters=[(key, "==", person_id)],
    )
    if table.num_rows == 0:
        return refresh.as_of, []
    row = table.slice(0, 1).to_pylist()[0]
    return refresh.as_of, [(spec, row[spec.id]) for spec in specs]
