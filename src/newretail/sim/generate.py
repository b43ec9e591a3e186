"""Runs the whole chain month by month and writes sources, ground truth and a manifest atomically."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from newretail.errors import InvalidInput
from newretail.progress import Progress
from newretail.sim import truth
from newretail.sim.config import SimConfig
from newretail.sim.emit_dimensions import write_dimensions
from newretail.sim.emit_people import write_identities
from newretail.sim.month import Chain, run_month, start_chain
from newretail.sim.world import World, build_world
from newretail.sim.writers import Output


@dataclass
class GenerateReport:
    rows: dict[str, int] = field(default_factory=dict)  # "<source>.<kind>" -> rows written
    truth_rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def generate(config: SimConfig, *, out: Path, progress: Progress) -> GenerateReport:
    """Generate the chain into ``out`` (created; must not exist or be empty).

    Everything is written to a hidden sibling first and renamed into place at the end, so an
    interrupted run leaves no half chain behind.
    """
    config.validate()
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput("sim.out_not_empty", f"{out} exists and is not empty", field="out")
    began = time.perf_counter()  # only for the report; nothing generated depends on it
    tmp = out.parent / f".{out.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        output = Output(tmp)
        world = build_world(config)
        _run(world, output, progress)
        manifest = {
            "config": config.as_dict(),
            "rows": dict(sorted(output.rows.items())),
            "truth_rows": dict(sorted(output.truth_rows.items())),
        }
        (tmp / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        )
        if out.exists():
            out.rmdir()
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return GenerateReport(dict(output.rows), dict(output.truth_rows), time.perf_counter() - began)


def _run(world: World, out: Output, progress: Progress) -> None:
    task = progress.task("generating chain", len(world.months) + 2)
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        write_dimensions(out, world)
        write_identities(out, world)
        chain: Chain = start_chain(world, out, writers)
        task.advance()
        for month in world.months:
            run_month(world, month, out, chain, writers)
            task.advance()
        truth.write_people(out, world, writers)
    finally:
        for writer in writers.values():
            writer.close()
    task.advance()
