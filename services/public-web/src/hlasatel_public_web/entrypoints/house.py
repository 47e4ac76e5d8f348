"""What concerns my house: type an address, see the city's public messages in force that cover it (the
composer's lookup), with the Atom feed and each message's CAP document, and sign up for that address."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from hlasatel_public_web.entrypoints.web import PageDep
from hlasatel_web.api import ApiRefused

router = APIRouter(prefix="/house")


@router.get("", response_class=HTMLResponse)
async def find(page: PageDep, q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    _ = page.lang.gettext
    query = q.strip()
    results, suggestions = await page.public_web.registry.search(query) if query else ([], [])
    if query and not results:
        page.errors["q"] = _(
            "No address in Liberec matches ‘%(query)s’. Check the street and the number.", query=query
        )
    return page.render(
        "house.html",
        h1=_("What concerns my house"),
        query=query,
        results=results,
        suggestions=suggestions,
        status_code=404 if page.errors else 200,
    )


@router.get("/{code}", response_class=HTMLResponse)
async def address(page: PageDep, code: Annotated[int, Path(ge=1, le=999_999_999)]) -> HTMLResponse:
    _ = page.lang.gettext
    try:
        found = await page.public_web.composer.address_messages(code)
    except ApiRefused:
        found = None
    if found is None:
        page.errors["form"] = _("The city's register has no such address.")
        return page.render(
            "house.html",
            h1=_("What concerns my house"),
            query="",
            results=[],
            suggestions=[],
            status_code=404,
        )
    return page.render(
        "house_address.html",
        h1=found["address"],
        code=code,
        messages=found["messages"],
        feed=found["feed"],
    )
