"""The pass over every file before anything is written: content hash, encoding and columns.

One streaming read per file computes its SHA-256, decodes it in the declared encoding and checks its
header, so a file-level problem stops the run while the lake is still untouched.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from newretail.errors import InvalidInput
from newretail.ingest.discover import Found

_CHUNK = 8 << 20
# JSONL has no header: the declared fields must each appear in one of its first records.
_JSONL_SAMPLE = 1000


@dataclass(frozen=True)
class Checked:
    """A file that passed pre-flight, with what the manifest records about it."""

    found: Found
    sha256: str
    size: int
    mtime_ns: int
    lines: int  # physical lines; more than records means quoted fields span lines


def fingerprint(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def check(found: Found) -> Checked:
    """Hash ``found`` and check it decodes and carries its declared columns."""
    size, mtime_ns = fingerprint(found.path)
    decl = found.plan.decl
    digest = hashlib.sha256()
    if decl.format == "parquet":
        with found.path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        try:
            names = pq.read_schema(found.path).names
        except Exception as error:
            raise InvalidInput(
                "ingest.bad_format",
                f"{found.rel} is not a Parquet file: {error}",
                position=found.rel,
            ) from None
        _require(found, names)
        return Checked(found, digest.hexdigest(), size, mtime_ns, lines=0)
    head, lines = _decode_all(found, digest)
    if decl.format == "csv":
        _require(found, _csv_header(head))
    else:
        _require(found, _jsonl_keys(head))
    return Checked(found, digest.hexdigest(), size, mtime_ns, lines=lines)


def _decode_all(found: Found, digest: hashlib._Hash) -> tuple[str, int]:
    """Decode the whole file (raising ``ingest.bad_encoding``); its first lines and line count."""
    decoder = codecs.getincrementaldecoder(found.plan.decl.encoding)()
    head: list[str] = []
    head_lines = 0
    offset = 0  # bytes of the file fed to the decoder so far
    lines = 1
    last = b"\n"
    with found.path.open("rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            pending = decoder.getstate()[0]
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                data = pending + chunk
                at = offset - len(pending) + error.start
                line = lines - pending.count(b"\n") + data[: error.start].count(b"\n")
                raise InvalidInput(
                    "ingest.bad_encoding",
                    f"{found.rel} is not valid {found.plan.decl.encoding} at line {line}, byte {at}",
                    position=f"{found.rel}:{line}",
                ) from None
            digest.update(chunk)
            last = chunk[-1:] or last
            offset += len(chunk)
            lines += chunk.count(b"\n")
            if head_lines <= _JSONL_SAMPLE:
                head.append(text)
                head_lines += text.count("\n")
            if not chunk:
                # ``lines`` counts from 1, so a final newline leaves it one too high.
                return "".join(head), lines - 1 if last == b"\n" else lines


def _csv_header(head: str) -> list[str]:
    first = next(csv.reader(io.StringIO(head.lstrip("\ufeff"))), [])
    return [name.strip() for name in first]


def _jsonl_keys(head: str) -> set[str]:
    keys: set[str] = set()
    for line in head.splitlines()[:_JSONL_SAMPLE]:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a malformed line is a row-level reject, found later
        if isinstance(record, dict):
            keys.update(record)
    return keys


def _require(found: Found, names: list[str] | set[str]) -> None:
    wanted = [c.source for c in found.plan.source_columns if c.source is not None]
    missing = [name for name in wanted if name not in set(names)]
    if missing:
        raise InvalidInput(
            "ingest.wrong_columns",
            f"{found.rel} lacks declared columns: {', '.join(missing)}",
            position=f"{found.rel}:1",
        )
