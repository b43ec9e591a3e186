"""Reading the lake's DWD and DWS tables for supply planning, on whichever engine the lake runs."""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from newretail.lake.engines import Engine
from newretail.lake.storage import Lake, Layer
from newretail.model import dwd as dwd_model
from newretail.model import dws as dws_model


class LakeReader:
    """Reads DWD and DWS tables through one engine and runs expressions to Arrow."""

    def __init__(self, lake: Lake, runner: Engine) -> None:
        self.lake, self.runner = lake, runner

    def has(self, layer: Layer, name: str) -> bool:
        return bool(self.lake.files(layer, name))

    def table(self, layer: Layer, name: str) -> ir.Table:
        spec = dws_model.table(name) if layer == "dws" else dwd_model.table(name)
        return self.runner.read(
            self.lake.files(layer, name), base=self.lake.table_dir(layer, name), schema=spec.schema
        )

    def run(self, expr: ir.Table, label: str) -> pa.Table:
        schema = expr.schema().to_pyarrow()
        return self.runner.execute(expr, schema=schema, label=f"supply {label}")


def column_array(table: pa.Table, name: str) -> np.ndarray:
    """A column as numpy; dates as datetime64[D]."""
    column = table.column(name)
    if pa.types.is_date(column.type):
        return column.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    return column.to_numpy(zero_copy_only=False)
