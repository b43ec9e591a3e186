"""What the customers and review pages share: the identity rules, and running a form's merge, un-merge,
re-merge or verdict in one transaction, answered with a redirect to a page that shows the outcome."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Connection, Engine

from newretail.config import Settings
from newretail.errors import Forbidden, NewRetailError
from newretail.identity.rules import IdentityRules, load_rules
from newretail.web.deps import Visitor
from newretail.web.i18n import Language
from newretail.web.render import page, redirect, refuse_bad_csrf

# Refusals the pages explain in words; any other is shown as a general failure.
ERRORS = (
    "identity.not_merged",
    "identity.nothing_to_unmerge",
    "identity.already_undone",
    "identity.person_retired",
    "identity.same_person",
    "identity.event_not_found",
    "identity.person_not_found",
    "identity.review_not_found",
    "identity.review_decided",
    "identity.review_stale",
)
GENERAL_ERROR = "identity.failed"


def rules_of(settings: Settings) -> IdentityRules:
    return load_rules(settings.home / "identity.json")


def outcome(path: str, *, done: str | None = None, error: str | None = None) -> str:
    """``path`` with the outcome the page announces (``?done=unmerged`` or ``?error=<code>``)."""
    pairs = {"done": done} if done else {"error": error if error in ERRORS else GENERAL_ERROR}
    return f"{path}?{urlencode(pairs)}"


def shown_error(code: str) -> str | None:
    """The refusal a page may announce for a ``?error=`` it was sent (never free text)."""
    if not code:
        return None
    return code if code in ERRORS else GENERAL_ERROR


def act(
    request: Request,
    *,
    language: Language,
    visitor: Visitor,
    oltp: Engine,
    token: str,
    back: str,
    done: str,
    action: Callable[[Connection], object],
) -> Response:
    """Check the form's CSRF token, run ``action`` in one transaction and redirect to ``back``; a
    role without the permission gets the 403 page, a refusal is shown on ``back``."""
    refused = refuse_bad_csrf(request, language=language, visitor=visitor, token=token)
    if refused is not None:
        return refused
    try:
        with oltp.begin() as conn:
            action(conn)
    except Forbidden:
        return page(
            request,
            "error.html",
            language=language,
            visitor=visitor,
            status=403,
            message="error.forbidden",
        )
    except NewRetailError as error:
        return redirect(outcome(back, error=error.code))
    return redirect(outcome(back, done=done))
