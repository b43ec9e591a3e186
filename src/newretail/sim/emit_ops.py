"""Writes store operations: door counts, device readings and inspections, and their truth."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from newretail.ingest.sources import qc as qc_decl
from newretail.sim import iot
from newretail.sim.footfall import Counts
from newretail.sim.qc import FINDINGS, PASS_MARK, Inspections
from newretail.sim.text import Column, epoch_ms, ids, idx, local_time, nullable, pc, utc_timestamps
from newretail.sim.truth import Writers
from newretail.sim.world import Month, World
from newretail.sim.writers import Output

_RESULT = {v: k for k, v in qc_decl.RESULT.items()}


def device_ids(world: World, dev: iot.Devices) -> Column:
    code = pa.array(["-FR", "-FZ", "-ES"]).take(idx(dev.type))
    number = pa.array(dev.number).cast(pa.string())
    return pc.binary_join_element_wise(
        pa.array(world.stores.ids).take(idx(dev.store)), code, number, ""
    )


def write_footfall(out: Output, world: World, month: Month, counts: Counts) -> None:
    start = world.epoch0 + counts.day * 86400 - world.offset_s[counts.store] + counts.hour * 3600
    out.csv(
        "footfall.counts",
        f"footfall/counts/{month.label}.csv",
        {
            "store_code": pa.array(world.stores.ids).take(idx(counts.store)),
            "hour_start": local_time(start, world.offset_s[counts.store]),
            "visitors": pa.array(counts.visitors),
        },
    )


def write_readings(
    out: Output, world: World, month: Month, dev: iot.Devices, reads: iot.Readings
) -> None:
    kind = dev.type[reads.device]
    out.jsonl(
        "iot.readings",
        f"iot/readings/{month.label}.jsonl",
        {
            "device": device_ids(world, dev).take(idx(reads.device)),
            "type": pa.array(iot.DEVICE_TYPES).take(idx(kind)),
            "store": pa.array(world.stores.ids).take(idx(dev.store[reads.device])),
            "metric": pa.array(["temperature_c", "temperature_c", "pressure_bar"]).take(idx(kind)),
            "value": pa.array(reads.value),
            "ts": epoch_ms(reads.read_s),
        },
    )


def write_inspections(out: Output, world: World, month: Month, qc: Inspections) -> None:
    n = len(qc.store)
    # Each finding present contributes "code;"; the last separator is trimmed off.
    found = [
        pc.if_else(pa.array(qc.findings[:, f]), f"{code};", "") for f, code in enumerate(FINDINGS)
    ]
    findings = pc.utf8_rtrim(pc.binary_join_element_wise(*found, ""), characters=";")
    out.csv(
        "qc.inspections",
        f"qc/inspections/{month.label}.csv",
        {
            "inspection_no": ids(f"QC{month.label.replace('-', '')}", np.arange(n) + 1, 6),
            "store_code": pa.array(world.stores.ids).take(idx(qc.store)),
            "inspector_id": ids("QC", qc.inspector, 3),
            "inspect_time": local_time(qc.inspected_s, world.offset_s[qc.store]),
            "score": pa.array(qc.score),
            "result": pa.array([_RESULT["false"], _RESULT["true"]]).take(
                idx(qc.score >= PASS_MARK)
            ),
            "findings": nullable(findings, np.asarray(qc.findings.any(axis=1))),
        },
    )


def write_excursions(
    out: Output, world: World, dev: iot.Devices, exc: iot.Excursions, writers: Writers
) -> None:
    """Every excursion: device, kind and the readings it covers (first to last, inclusive)."""
    out.truth(
        "iot_excursions",
        pa.table(
            {
                "store_id": pa.array(world.stores.ids).take(idx(dev.store[exc.device])),
                "device_id": device_ids(world, dev).take(idx(exc.device)),
                "kind": pa.array(iot.EXCURSION_KINDS).take(idx(exc.kind)),
                "first_reading_at": utc_timestamps(exc.start_s),
                "last_reading_at": utc_timestamps(exc.start_s + (exc.hours - 1) * 3600),
                "limit_c": pa.array(exc.limit),
                "peak_c": pa.array(np.round(exc.peak, 2)),
            }
        ),
        writers,
    )


def write_store_truth(out: Output, world: World, dev: iot.Devices, writers: Writers) -> None:
    """The stores' latent carelessness behind excursions and inspection findings."""
    out.truth(
        "store_conditions",
        pa.table({"store_id": pa.array(world.stores.ids), "sloppiness": pa.array(dev.sloppiness)}),
        writers,
    )
