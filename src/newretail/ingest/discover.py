"""Find the files under an ingest directory and match each to exactly one declaration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from newretail.errors import InvalidInput
from newretail.ingest.plan import Plan


@dataclass(frozen=True)
class Found:
    """One source file and the declaration it matches; ``rel`` is its path under the directory."""

    path: Path
    rel: str
    plan: Plan


def _matches(rel: str, pattern: str) -> bool:
    # Component by component, so "*" never crosses a folder (fnmatch alone lets it match "/").
    parts, wanted = rel.split("/"), pattern.strip("/").split("/")
    return len(parts) == len(wanted) and all(map(fnmatchcase, parts, wanted))


def _visible_files(directory: Path) -> list[Path]:
    # Hidden files and folders (.DS_Store, editor swap files, .git) are not deliveries.
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(directory).parts)
    )


def discover(directory: Path, plans: Sequence[Plan]) -> list[Found]:
    """Every visible file under ``directory`` with its plan, in ingest order (dimensions first).

    Raises ``ingest.missing_dir``, ``ingest.no_files``, ``ingest.unknown_source``,
    ``ingest.unrecognised_file`` or ``ingest.ambiguous_file``.
    """
    if not directory.is_dir():
        raise InvalidInput(
            "ingest.missing_dir", f"no directory {directory}", position=str(directory)
        )
    files = _visible_files(directory)
    if not files:
        raise InvalidInput(
            "ingest.no_files", f"{directory} holds no files to ingest", position=str(directory)
        )
    folders = {p.decl.pattern.strip("/").split("/")[0] for p in plans}
    found = []
    for path in files:
        rel = path.relative_to(directory).as_posix()
        top = rel.split("/")[0]
        if "/" not in rel:
            raise InvalidInput(
                "ingest.unrecognised_file",
                f"{rel} is not inside a source system's folder",
                position=rel,
            )
        if top not in folders:
            raise InvalidInput(
                "ingest.unknown_source",
                f"folder {top!r} is no declared source (known: {', '.join(sorted(folders))})",
                position=top,
            )
        matching = [p for p in plans if _matches(rel, p.decl.pattern)]
        if not matching:
            raise InvalidInput(
                "ingest.unrecognised_file",
                f"{rel} matches no declared file of source {top!r}",
                position=rel,
            )
        if len(matching) > 1:
            names = ", ".join(p.decl.name for p in matching)
            raise InvalidInput(
                "ingest.ambiguous_file",
                f"{rel} matches several declarations: {names}",
                position=rel,
            )
        found.append(Found(path=path, rel=rel, plan=matching[0]))
    return sorted(found, key=lambda f: (f.plan.order, f.rel))
