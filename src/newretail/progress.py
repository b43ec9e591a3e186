"""A small progress interface so long-running domain code can report without knowing about Rich."""

from __future__ import annotations

from typing import Protocol


class Task(Protocol):
    def advance(self, amount: int = 1) -> None: ...


class Progress(Protocol):
    """Something that shows progress; the CLI passes a Rich progress bar, tests pass nothing."""

    def task(self, description: str, total: int | None) -> Task: ...


class _SilentTask:
    def advance(self, amount: int = 1) -> None:
        return None


class SilentProgress:
    """A :class:`Progress` that shows nothing."""

    def task(self, description: str, total: int | None) -> Task:
        return _SilentTask()
