"""Which source files the lake already holds: ``<lake>/_ingest/files.json``, replaced atomically.

A file is recorded only after all its partitions and its quarantine are written, so a killed run
leaves it unrecorded and the next run ingests it again (merging by key makes that converge).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from newretail.lake.storage import Lake, replacing

VERSION = 1


@dataclass(frozen=True)
class Entry:
    """One ingested file, keyed in the manifest by its path under the ingest directory."""

    sha256: str
    size: int
    mtime_ns: int
    path: str  # absolute path when ingested: size and mtime vouch for the hash only there
    declaration: str
    rows_read: int
    accepted: int
    rejected: int


class Manifest:
    def __init__(self, lake: Lake) -> None:
        self.path = lake.root / "_ingest" / "files.json"
        self.entries: dict[str, Entry] = {}
        self._plain: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._plain = data["files"]
            self.entries = {rel: Entry(**entry) for rel, entry in self._plain.items()}

    def unchanged_by_stat(self, rel: str, path: Path, size: int, mtime_ns: int) -> Entry | None:
        """The entry if the same file (same place, size and mtime) was ingested: no need to hash it."""
        entry = self.entries.get(rel)
        if entry and (entry.path, entry.size, entry.mtime_ns) == (str(path), size, mtime_ns):
            return entry
        return None

    def unchanged_by_hash(self, rel: str, sha256: str) -> Entry | None:
        entry = self.entries.get(rel)
        return entry if entry and entry.sha256 == sha256 else None

    def record(self, rel: str, entry: Entry) -> None:
        """Add or replace ``rel`` and write the manifest durably (temporary file, then rename)."""
        self.entries[rel] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._plain[rel] = asdict(entry)
        # Rewritten after every file, so kept cheap: plain dicts, one compact line per file.
        files = ",\n".join(
            f"{json.dumps(k)}: {json.dumps(self._plain[k], sort_keys=True)}"
            for k in sorted(self._plain)
        )
        body = f'{{"version": {VERSION}, "files": {{\n{files}\n}}}}\n'
        with replacing(self.path, suffix=".json") as handle:
            handle.write(body.encode("utf-8"))
