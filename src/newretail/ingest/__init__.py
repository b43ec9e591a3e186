"""Batch ingest: every source system's files mapped into the lake's ODS layer, bad rows quarantined.

>>> from newretail.ingest import ingest  # ingest(directory, lake=..., settings=..., progress=...)
"""

from __future__ import annotations

from newretail.ingest.report import DeclarationLine, FileReport, IngestReport
from newretail.ingest.runner import ingest

__all__ = ["DeclarationLine", "FileReport", "IngestReport", "ingest"]
