"""The ingest run: pre-flight every file, then map each changed file into ODS and quarantine."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from newretail.config import Settings
from newretail.ingest import partitions, quarantine
from newretail.ingest.discover import Found, discover
from newretail.ingest.manifest import Entry, Manifest
from newretail.ingest.mapping import SourceFile
from newretail.ingest.plan import plan
from newretail.ingest.preflight import Checked, check, fingerprint
from newretail.ingest.protect import canonical
from newretail.ingest.readers import read
from newretail.ingest.references import References
from newretail.ingest.report import FileReport, IngestReport
from newretail.ingest.validate import validate
from newretail.lake.storage import Lake
from newretail.progress import Progress, SilentProgress
from newretail.security.pii import PiiProtector

# Partition writes in flight at once: each mostly waits on fsync, which releases the GIL.
_WRITERS = 8


def ingest(
    directory: Path,
    *,
    lake: Lake,
    settings: Settings,
    progress: Progress | None = None,
    declarations: Sequence[SourceFile] | None = None,
) -> IngestReport:
    """Map every source file under ``directory`` into the lake's ODS layer; bad rows to quarantine.

    File-level problems (unknown folder or file, missing columns, bad encoding) raise
    :class:`newretail.errors.InvalidInput` before anything is written. Re-running is safe: files
    already ingested unchanged are skipped, and a killed run converges when run again.
    """
    if declarations is None:
        from newretail.ingest.sources import SOURCE_FILES

        declarations = SOURCE_FILES
    progress = progress or SilentProgress()
    plans = [plan(decl) for decl in declarations]
    report = IngestReport()
    # Discovery reads only the directory: its errors leave even a missing lake uncreated.
    found = discover(Path(directory), plans)
    with lake.writer():
        manifest = Manifest(lake)
        todo = _preflight(found, manifest, report, progress)
        if not todo:
            return report
        con = duckdb.connect(config={"threads": "2"})
        con.execute("SET TimeZone = 'UTC'")
        pool = ThreadPoolExecutor(max_workers=_WRITERS, thread_name_prefix="ingest-write")
        run = _Run(
            lake=lake,
            con=con,
            pool=pool,
            existing=partitions.Existing(lake),
            refs=References(lake),
            protector=PiiProtector.from_settings(settings),
            manifest=manifest,
            report=report,
            progress=progress,
        )
        try:
            for checked in todo:
                run.ingest_file(checked)
        finally:
            pool.shutdown()
            con.close()
    return report


def _preflight(
    found: list[Found], manifest: Manifest, report: IngestReport, progress: Progress
) -> list[Checked]:
    """Check every new or changed file; report the unchanged ones. Raises before any write."""
    task = progress.task("check source files", total=len(found))
    todo: list[Checked] = []
    for item in found:
        size, mtime_ns = fingerprint(item.path)
        entry = manifest.unchanged_by_stat(item.rel, item.path, size, mtime_ns)
        if entry is None:
            checked = check(item)
            entry = manifest.unchanged_by_hash(item.rel, checked.sha256)
            if entry is None:
                todo.append(checked)
        if entry is not None:
            report.add(
                FileReport(
                    item.rel, item.plan.decl.name, item.plan.spec.name, "unchanged", 0, 0, 0
                ),
                Counter(),
            )
        task.advance()
    return todo


@dataclass(frozen=True)
class _Run:
    """What every file of one run shares: the lake, one DuckDB connection, the write pool."""

    lake: Lake
    con: duckdb.DuckDBPyConnection
    pool: ThreadPoolExecutor
    existing: partitions.Existing
    refs: References
    protector: PiiProtector
    manifest: Manifest
    report: IngestReport
    progress: Progress

    def ingest_file(self, checked: Checked) -> None:
        """Read, validate and write one file, then record it (only once all of it is durable)."""
        found = checked.found
        spec = found.plan.spec
        raw = read(checked)
        rows_read = raw.values.num_rows + len(raw.broken)
        task = self.progress.task(f"ingest {found.rel}", total=rows_read)
        validated = validate(found.plan, raw, refs=self.refs, con=self.con)
        good = canonical(found.plan, validated.good, self.protector)
        written = partitions.write_all(
            self.lake, spec, good, con=self.con, pool=self.pool, existing=self.existing
        )
        task.advance(good.num_rows)
        self.refs.changed(spec.name)
        rejects = quarantine.rejects_table(found.plan.decl, found.rel, raw, validated, raw.broken)
        quarantine.store(self.lake, table=spec.name, rel=found.rel, rejects=rejects)
        task.advance(rejects.num_rows)
        self.manifest.record(
            found.rel,
            Entry(
                sha256=checked.sha256,
                size=checked.size,
                mtime_ns=checked.mtime_ns,
                path=str(found.path),
                declaration=found.plan.decl.name,
                rows_read=rows_read,
                accepted=good.num_rows,
                rejected=rejects.num_rows,
            ),
        )
        self.report.partitions_written += written
        self.report.add(
            FileReport(
                found.rel,
                found.plan.decl.name,
                spec.name,
                "ingested",
                rows_read,
                good.num_rows,
                rejects.num_rows,
            ),
            Counter(str(reason) for reason in rejects["reason"].to_pylist()),
        )
