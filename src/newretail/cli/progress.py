"""Rich progress bars behind the domain's :class:`newretail.progress.Progress` interface."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import TaskID as _TaskID

from newretail.progress import Task


class _RichTask:
    def __init__(self, bar: Progress, task_id: _TaskID) -> None:
        self._bar = bar
        self._id = task_id

    def advance(self, amount: int = 1) -> None:
        self._bar.advance(self._id, amount)


class RichProgress:
    """Adapts one Rich progress display to the domain interface."""

    def __init__(self, bar: Progress) -> None:
        self._bar = bar

    def task(self, description: str, total: int | None) -> Task:
        return _RichTask(self._bar, self._bar.add_task(description, total=total))


@contextmanager
def progress_bars(console: Console) -> Iterator[RichProgress]:
    columns = (
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        yield RichProgress(bar)
