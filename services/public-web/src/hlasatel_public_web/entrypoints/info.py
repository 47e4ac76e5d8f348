"""The front page, the accessibility statement, the privacy notice, the reader's language, and the list of
messages as JSON for the city's citizen portal (with its signed assertion)."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from hlasatel_public_web.entrypoints.web import PageDep, PublicWebDep
from hlasatel_web.api import ApiRefused
from hlasatel_web.forms import language_chosen

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
async def home(page: PageDep, signed_out: Annotated[int, Query()] = 0) -> HTMLResponse:
    _ = page.lang.gettext
    return page.render(
        "home.html",
        h1=_("Messages from the City of Liberec"),
        notice=_("You have signed out.") if signed_out else None,
    )


@router.get("/accessibility", response_class=HTMLResponse)
async def accessibility(page: PageDep) -> HTMLResponse:
    return page.render("accessibility.html", h1=page.lang.gettext("Accessibility statement"))


@router.get("/privacy", response_class=HTMLResponse)
async def privacy(page: PageDep) -> HTMLResponse:
    return page.render("privacy.html", h1=page.lang.gettext("How we use your personal data"))


@router.get("/language/{code}")
async def choose_language(
    code: str, next: Annotated[str | None, Query(max_length=500)] = None
) -> RedirectResponse:
    return language_chosen(code, next)


@router.get("/api/v1/messages", tags=["portal"])
async def portal_messages(
    public_web: PublicWebDep,
    x_portal_assertion: Annotated[str, Header(max_length=8000)],
) -> JSONResponse:
    """What the city sent the citizen the portal vouches for, newest first, for the portal's own pages: the
    registry's list, passed on."""
    try:
        found: dict[str, Any] = await public_web.registry.portal_messages(x_portal_assertion)
    except ApiRefused as refused:
        return JSONResponse({"detail": refused.reason}, status_code=refused.status)
    return JSONResponse(found)
