"""The build: run every step over the partitions whose inputs changed, swap the results in
atomically, keep the state that makes the next build incremental, and record the run."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa

from newretail.errors import NoData
from newretail.lake import runlog
from newretail.lake.engines import Engine, connect_engine
from newretail.lake.inputs import InputIndex
from newretail.lake.plan import Step, is_dated
from newretail.lake.state import WHOLE, BuildState, Entry
from newretail.lake.storage import Lake
from newretail.lake.transforms import STEPS
from newretail.model import CANONICAL
from newretail.progress import Progress, SilentProgress

log = logging.getLogger("newretail.lake")
_WRITERS = 4


@dataclass
class BuildReport:
    """What one build did: partitions written, deleted (their inputs vanished) and left as they were."""

    run_id: str
    engine: str
    date_from: dt.date | None
    date_to: dt.date | None
    written: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    seconds: float = 0.0

    @property
    def partitions_written(self) -> int:
        return sum(self.written.values())

    def describe(self) -> str:
        """A few lines for a terminal: what was written per table, and how long it took."""
        span = (
            f" {self.date_from or '…'}..{self.date_to or '…'}"
            if self.date_from or self.date_to
            else ""
        )
        lines = [
            f"build {self.run_id} on {self.engine}{span}: {self.partitions_written} partitions written,"
            f" {self.unchanged} unchanged, {sum(self.deleted.values())} deleted in {self.seconds:.1f}s"
        ]
        lines += [
            f"  {label}: {n} partitions, {self.rows.get(label, 0):,} rows"
            for label, n in sorted(self.written.items())
        ]
        return "\n".join(lines)


def build(
    *,
    lake: Lake,
    engine: str | Engine = "duckdb",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Bring DWD, DWS and ADS up to date with ODS.

    Without dates, every partition whose inputs changed since the last build is recomputed (and
    nothing else); with ``date_from``/``date_to`` exactly the dated partitions in that range are,
    changed or not. Raises :class:`NoData` (and writes nothing) when the range holds no ODS data.
    """
    if not lake.table_dir("ods", "").exists():
        # Checked before the writer lock, which would create the lake directory.
        raise NoData("build.no_data", "the lake holds no ODS data: run `newretail ingest` first")
    start = time.perf_counter()
    runner = connect_engine(engine) if isinstance(engine, str) else engine
    report = BuildReport(uuid.uuid4().hex[:12], runner.name, date_from, date_to)
    try:
        with lake.writer():
            state = BuildState.load(lake)
            index = InputIndex(lake, state)
            window = _window(index, date_from, date_to)
            record = runlog.RunRecord(
                run_id=report.run_id,
                kind="build",
                started_at=_now(),
                status="running",
                engine=runner.name,
                date_from=date_from,
                date_to=date_to,
            )
            runlog.append(lake, record)
            try:
                for step in STEPS:
                    _Step(step, lake, runner, state, index, report, window).run(
                        progress or SilentProgress()
                    )
            except BaseException as exc:
                runlog.append(
                    lake, _finished(record, report, "failed", f"{type(exc).__name__}: {exc}")
                )
                raise
            runlog.append(lake, _finished(record, report, "ok", None))
    finally:
        if isinstance(engine, str):
            runner.close()
        else:
            runner.release()
    report.seconds = time.perf_counter() - start
    log.info(
        "lake.build_finished run=%s engine=%s written=%d unchanged=%d seconds=%.1f",
        report.run_id,
        report.engine,
        report.partitions_written,
        report.unchanged,
        report.seconds,
    )
    return report


@dataclass(frozen=True)
class _Window:
    """The dates a build covers; ``forced`` ones are rebuilt whether changed or not."""

    dates: frozenset[dt.date] | None
    forced: frozenset[dt.date]

    def admits(self, day: dt.date) -> bool:
        return self.dates is None or day in self.dates


def _window(index: InputIndex, date_from: dt.date | None, date_to: dt.date | None) -> _Window:
    available = index.ods_dates(CANONICAL)
    if date_from is None and date_to is None:
        if not available and not any(
            index.files(s.inputs[0][1], None) for s in STEPS if not s.dated
        ):
            raise NoData("build.no_data", "the lake holds no ODS data to build from")
        return _Window(None, frozenset())
    low, high = date_from or dt.date.min, date_to or dt.date.max
    chosen = frozenset(d for d in available if low <= d <= high)
    if not chosen:
        raise NoData("build.no_data", f"no ODS data between {date_from} and {date_to}")
    return _Window(chosen, chosen)


class _Step:
    """One step of one build: find its dirty partitions, compute them in chunks, write them."""

    def __init__(
        self,
        step: Step,
        lake: Lake,
        engine: Engine,
        state: BuildState,
        index: InputIndex,
        report: BuildReport,
        window: _Window,
    ) -> None:
        self.step, self.lake, self.engine, self.state = step, lake, engine, state
        self.index, self.report, self.window = index, report, window
        self.entries = state.table(step.label)

    def run(self, progress: Progress) -> None:
        step = self.step
        if not step.dated:
            fingerprint = self.index.fingerprint(step, None)
            if self._dirty(WHOLE, fingerprint, forced=False):
                task = progress.task(step.label, 1)
                self._compute(None, {WHOLE: fingerprint})
                task.advance()
            else:
                self.report.unchanged += 1
            self.state.save()
            return
        dirty: dict[str, str] = {}
        for day in sorted(self._candidates()):
            fingerprint = self.index.fingerprint(step, day)
            if self._dirty(day.isoformat(), fingerprint, forced=day in self.window.forced):
                dirty[day.isoformat()] = fingerprint
            else:
                self.report.unchanged += 1
        if not dirty:
            return
        task = progress.task(step.label, len(dirty))
        for chunk in self._chunks(sorted(dt.date.fromisoformat(d) for d in dirty)):
            self._compute(chunk, {d.isoformat(): dirty[d.isoformat()] for d in chunk})
            self.state.save()
            task.advance(len(chunk))

    def _candidates(self) -> set[dt.date]:
        days = {dt.date.fromisoformat(d) for d in self.entries}
        for _, source in self.step.inputs:
            if 0 in source.lags:
                days |= self.index.dates(source)
        return {d for d in days if self.window.admits(d)}

    def _dirty(self, partition: str, fingerprint: str, *, forced: bool) -> bool:
        entry = self.entries.get(partition)
        if forced or entry is None or entry.fingerprint != fingerprint:
            return True
        # A partition deleted by hand is rebuilt even though its inputs did not change.
        return entry.rows > 0 and not self.lake.exists(
            self.step.layer, self.step.spec.name, _part(partition)
        )

    def _chunks(self, days: Sequence[dt.date]) -> Iterator[list[dt.date]]:
        """Consecutive runs of dates whose inputs fit one query of the engine's chunk size."""
        chunk: list[dt.date] = []
        size = 0
        for day in days:
            day_size = sum(
                f.size
                for _, s in self.step.inputs
                for f in self.index.files(s, self.index.read_dates(s, [day]))
                if is_dated(s.spec)
            )
            if chunk and size + day_size > self.engine.chunk_bytes:
                yield chunk
                chunk, size = [], 0
            chunk.append(day)
            size += day_size
        if chunk:
            yield chunk

    def _compute(self, days: list[dt.date] | None, fingerprints: dict[str, str]) -> None:
        step = self.step
        tables = {}
        for name, source in step.inputs:
            files = self.index.files(source, self.index.read_dates(source, days))
            base = self.lake.table_dir(source.layer, source.spec.name)
            tables[name] = self.engine.read(
                [Path(f.path) for f in files], base=base, schema=source.spec.schema
            )
        expr = step.transform(tables)
        if days is not None:
            expr = expr.filter(expr.business_date.isin([ibis.literal(d) for d in days]))
        # The engine sorts (in parallel, and by the same byte order on every engine), so each
        # partition's rows are in key order and the files come out identical across engines.
        order = dict.fromkeys(
            c for c in ("business_date", *step.spec.key) if c in step.spec.schema.names
        )
        expr = expr.order_by([ibis.asc(expr[c], nulls_first=False) for c in order])
        label = f"{step.label} {days[0]}..{days[-1]}" if days else step.label
        result = self.engine.execute(expr, schema=step.spec.schema, label=label).combine_chunks()
        self.engine.release()
        parts = list(_split(result, days))
        # Writing is compression and fsync, which release the GIL: a few partitions at a time.
        with ThreadPoolExecutor(max_workers=_WRITERS) as pool:
            written = list(pool.map(lambda part: self._write(*part), parts))
        for (partition, rows), action in zip(parts, written, strict=True):
            label = step.label
            if action == "written":
                self.report.written[label] = self.report.written.get(label, 0) + 1
                self.report.rows[label] = self.report.rows.get(label, 0) + rows.num_rows
            elif action == "deleted":
                self.report.deleted[label] = self.report.deleted.get(label, 0) + 1
            self.entries[partition] = Entry(fingerprints[partition], rows.num_rows)

    def _write(self, partition: str, rows: pa.Table) -> str:
        step = self.step
        if rows.num_rows:
            self.lake.write_partition(step.layer, step.spec.name, _part(partition), rows)
            return "written"
        if self.lake.exists(step.layer, step.spec.name, _part(partition)):
            self.lake.delete_partition(step.layer, step.spec.name, _part(partition))
            return "deleted"
        return "absent"


def _split(result: pa.Table, days: list[dt.date] | None) -> Iterator[tuple[str, pa.Table]]:
    """The rows of each date in ``days`` (sorted by date already); whole tables are one partition."""
    if days is None:
        yield WHOLE, result
        return
    column = result.column("business_date").to_numpy().astype("datetime64[D]")
    for day in days:
        target = np.datetime64(day, "D")
        lo, hi = np.searchsorted(column, target, "left"), np.searchsorted(column, target, "right")
        yield day.isoformat(), result.slice(int(lo), int(hi - lo))


def _part(partition: str) -> dict[str, str]:
    return {"business_date": partition} if partition != WHOLE else {}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _finished(
    record: runlog.RunRecord, report: BuildReport, status: runlog.Status, error: str | None
) -> runlog.RunRecord:
    return runlog.RunRecord(
        run_id=record.run_id,
        kind=record.kind,
        started_at=record.started_at,
        status=status,
        engine=record.engine,
        date_from=record.date_from,
        date_to=record.date_to,
        finished_at=_now(),
        partitions=dict(report.written),
        rows=dict(report.rows),
        error=error,
    )
