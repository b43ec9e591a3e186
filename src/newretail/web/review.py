"""The review queue (``identity.merge``): open record pairs in the grey zone of match probability,
both records side by side (masked), most probable first, each with Approve and Reject."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from newretail.errors import Forbidden
from newretail.identity import actions
from newretail.web.deps import LakeDep, LanguageDep, NowDep, OltpDep, VisitorDep
from newretail.web.identity_forms import act, shown_error
from newretail.web.render import LOGIN_PATH, page, redirect

router = APIRouter()
REVIEW_PATH = "/console/review"
PAGE_SIZE = 50
# The attributes shown for each record of a pair, in this order.
FIELDS = ("name", "phone_masked", "email_masked", "gender", "birthday", "city", "address")
DONE = ("approved", "rejected")


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    lake: LakeDep,
    done: str = "",
    error: str = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    show = partial(page, request, language=language, visitor=visitor, active="review")
    try:
        with oltp.connect() as conn:
            pairs = actions.reviews(
                conn, lake, principal=visitor.session.principal, limit=PAGE_SIZE
            )
    except Forbidden:
        return show("error.html", status=403, message="error.forbidden")
    return show(
        "review.html",
        pairs=pairs,
        fields=FIELDS,
        page_size=PAGE_SIZE,
        done=done if done in DONE else None,
        error=shown_error(error),
    )


@router.post("/review/{review_id}/{verdict}")
def decide_submit(
    request: Request,
    review_id: Annotated[int, Path(ge=1)],
    verdict: Literal["approve", "reject"],
    language: LanguageDep,
    visitor: VisitorDep,
    oltp: OltpDep,
    lake: LakeDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if visitor is None:
        return redirect(LOGIN_PATH)
    principal = visitor.session.principal
    return act(
        request,
        language=language,
        visitor=visitor,
        oltp=oltp,
        token=csrf_token,
        back=REVIEW_PATH,
        done="approved" if verdict == "approve" else "rejected",
        action=lambda conn: actions.decide(
            conn, lake, review_id, principal=principal, approve=verdict == "approve", now=now
        ),
    )
