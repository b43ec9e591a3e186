"""What the last builds produced: per output partition, the fingerprint of the inputs it was built
from and its row count, kept in one small JSON file that is replaced atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from newretail.lake.storage import Lake, replacing

WHOLE = ""  # the partition name of an unpartitioned table
_VERSION = 1


@dataclass(frozen=True)
class Entry:
    """One output partition: the fingerprint of its inputs and the rows written (0: no file)."""

    fingerprint: str
    rows: int


@dataclass
class BuildState:
    """Entries per output table label (``dwd/orders``), per partition (ISO date or :data:`WHOLE`)."""

    path: Path
    outputs: dict[str, dict[str, Entry]] = field(default_factory=dict)

    @classmethod
    def load(cls, lake: Lake) -> BuildState:
        path = lake.root / "_state" / "build.json"
        if not path.exists():
            return cls(path)
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != _VERSION:
            # A state from another layout says nothing reliable: rebuild everything.
            return cls(path)
        outputs = {
            label: {part: Entry(fp, rows) for part, (fp, rows) in parts.items()}
            for label, parts in raw["outputs"].items()
        }
        return cls(path, outputs)

    def table(self, label: str) -> dict[str, Entry]:
        return self.outputs.setdefault(label, {})

    def get(self, label: str, partition: str) -> Entry | None:
        return self.outputs.get(label, {}).get(partition)

    def save(self) -> None:
        """Write the state beside its final name, fsync it and move it into place."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            "version": _VERSION,
            "outputs": {
                label: {part: [e.fingerprint, e.rows] for part, e in sorted(parts.items())}
                for label, parts in sorted(self.outputs.items())
            },
        }
        with replacing(self.path, suffix=".json") as handle:
            handle.write(json.dumps(body, separators=(",", ":")).encode("utf-8"))
