"""One line and a non-zero exit for every error a command meets; never a traceback on the terminal."""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from newretail.config import get_settings
from newretail.errors import NewRetailError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 1

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`NewRetailError` into ``error[code]: message`` and exit 2.

    An unexpected exception is a bug: its traceback goes to NEWRETAIL_HOME/logs/cli.log and the
    terminal gets one line pointing there, exit 1.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except NewRetailError as error:
            err_console.print(f"error[{error.code}]: {error}", markup=False)
            raise typer.Exit(EXIT_USER_ERROR) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            log = _log_internal_error()
            err_console.print(
                f"error[internal]: {type(error).__name__}: {error} (details in {log})", markup=False
            )
            raise typer.Exit(EXIT_INTERNAL_ERROR) from None

    return wrapper


def _log_internal_error() -> str:
    path = get_settings().home / "logs" / "cli.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("newretail.cli")
    handler = logging.FileHandler(path)
    logger.addHandler(handler)
    try:
        logger.error("internal error\n%s", traceback.format_exc())
    finally:
        logger.removeHandler(handler)
        handler.close()
    return str(path)
