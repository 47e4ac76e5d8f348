"""The first page after signing in: what waits for approval, what was returned, what is going out now (live),
what went out lately, and the utilities' and agencies' alerts still active."""

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from hlasatel_console.entrypoints.web import PageDep, StaffDep

router = APIRouter()
Json = dict[str, Any]


def _returned(message: Json) -> bool:
    return (message.get("review") or {}).get("decision") == "returned"


@router.get("/", response_class=HTMLResponse)
async def dashboard(page: PageDep, staff: StaffDep) -> HTMLResponse:
    composer = page.console.composer
    drafts, approved, sending, recent, alerts = await asyncio.gather(
        composer.messages(staff.token, state="draft", limit=100),
        composer.messages(staff.token, state="approved", limit=50),
        composer.messages(staff.token, state="sending", limit=50),
        composer.messages(staff.token, limit=10),
        composer.alerts(staff.token, state="active"),
    )
    return page.render(
        "dashboard.html",
        h1=page.lang.gettext("Dashboard"),
        waiting=[m for m in drafts if not _returned(m)],
        returned=[m for m in drafts if _returned(m) and m.get("author_key_id") == staff.key_id],
        sending=approved + sending,
        recent=recent,
        alerts=alerts,
    )


@router.get("/api/alive")
async def alive(staff: StaffDep) -> JSONResponse:
    """Asked by a page being typed into: the session counts as used (the composer's idle clock restarts)."""
    return JSONResponse({"signed_in": True})


@router.get("/api/progress")
async def progress(page: PageDep, staff: StaffDep) -> JSONResponse:
    """The messages going out now with their deliveries so far, for the dashboard's live counts."""
    composer = page.console.composer
    going = [
        *await composer.messages(staff.token, state="approved", limit=50),
        *await composer.messages(staff.token, state="sending", limit=50),
    ]
    found = {}
    for message in going:
        counts = [
            c for states in message["deliveries"].values() for c in states.values() if isinstance(c, int)
        ]
        delivered = [
            c
            for states in message["deliveries"].values()
            for state, c in states.items()
            if isinstance(c, int) and state in ("delivered", "accepted")
        ]
        found[message["id"]] = f"{page.lang.number(sum(delivered))} / {page.lang.number(sum(counts))}"
    return JSONResponse({"progress": found})
