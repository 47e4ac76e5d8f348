"""The pages behind the links in messages: a button on every one, so that link scanners and previews
verify and unsubscribe nobody; leaving every message asks again before it is done."""

import html
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from hlasatel_registry.entrypoints.api import RegistryDep
from hlasatel_registry.handlers import unsubscribe as unsubscribing
from hlasatel_registry.handlers import verification

_HTML: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/html": {"example": '<!doctype html><html lang="cs">…<form method="post">…</html>'}}
    }
}
_PAGES: dict[int | str, dict[str, Any]] = {
    **_HTML,
    404: {"description": "The link is not valid, or the subscription no longer exists"},
}
EMERGENCIES = (
    "Mimořádné události na vaší adrese (povodeň, únik nebezpečné látky, přerušení vody) vám budeme "
    "posílat i nadále: tak zní pravidla města pro krizové zprávy."
)

router = APIRouter(prefix="/v1")
# The short form that fits an SMS footer: https://…/u/<code>
short_links = APIRouter(tags=["unsubscribe"])


def page(title: str, *paragraphs: str, form_action: str | None = None, button: str = "",
         hidden: dict[str, str] | None = None) -> HTMLResponse:  # fmt: skip
    """A page in the city's words: its title as the one heading, the text, and at most one button."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in (hidden or {}).items()
    )
    form = (
        f'<form method="post" action="{html.escape(form_action)}">{fields}'
        f'<button type="submit">{html.escape(button)}</button></form>'
        if form_action
        else ""
    )
    text = "".join(f"<p>{html.escape(paragraph)}</p>" for paragraph in paragraphs)
    return HTMLResponse(
        f'<!doctype html><html lang="cs"><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} – Hlasatel Liberec</title>"
        f"<main><h1>{html.escape(title)}</h1>{text}{form}</main></html>"
    )


@router.get("/verify/email", tags=["verification"], response_class=HTMLResponse, responses=_HTML)
async def email_link_page(token: str) -> HTMLResponse:
    """The page behind the e-mail's link: a button, so that link scanners verify nothing."""
    return page(
        "Ověření e-mailu",
        "Potvrďte, že tato e-mailová adresa je vaše.",
        form_action=f"/v1/verify/email?token={token}",
        button="Potvrdit",
    )


@router.post(
    "/verify/email",
    tags=["verification"],
    response_class=HTMLResponse,
    responses={**_HTML, 422: {"description": "The link is not valid or has expired"}},
)
async def verify_email_link(token: str, registry: RegistryDep) -> HTMLResponse:
    """Verify an e-mail address through the signed link it received."""
    await verification.verify_email_link(
        sessions=registry.sessions, relay=registry.relay, settings=registry.settings, token=token
    )
    return page("E-mail ověřen", "Děkujeme, zprávy města vám budou chodit i e-mailem.")


def _action(path: str, category: str | None) -> str:
    return path + (f"?category={category}" if category else "")


async def _ask(registry: Any, code: str, category: str | None, path: str) -> HTMLResponse:
    link = await unsubscribing.describe_link(sessions=registry.sessions, code=code, category=category)
    if link.everything:
        return page(
            "Odhlášení ze všech zpráv města",
            "Chcete přestat dostávat všechny zprávy města Liberec?",
            EMERGENCIES,
            form_action=_action(path, None),
            button="Pokračovat",
        )
    return page(
        "Odhlášení",
        f"Odhlásit zprávy města v kategorii {link.category}?",
        EMERGENCIES,
        form_action=_action(path, category),
        button="Odhlásit",
    )


async def _unsubscribe(
    registry: Any, code: str, category: str | None, confirm: str | None, *, path: str, via: str
) -> HTMLResponse:
    link, done = await unsubscribing.unsubscribe(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        code=code,
        category=category,
        confirmed=confirm == "yes",
        via=via,
    )
    if not done:
        return page(
            "Opravdu odhlásit vše?",
            "Nebudou vám chodit žádné zprávy města: odstávky, doprava, kultura ani zprávy z radnice.",
            EMERGENCIES,
            form_action=_action(path, None),
            button="Ano, odhlásit všechny zprávy",
            hidden={"confirm": "yes"},
        )
    if link.everything:
        return page("Odhlášeno", "Zprávy města vám už chodit nebudou.", EMERGENCIES)
    return page("Odhlášeno", f"Zprávy v kategorii {link.category} vám už chodit nebudou.", EMERGENCIES)


Confirm = Annotated[str | None, Form(description="'yes' confirms leaving every message")]


@router.get("/unsubscribe/{code}", tags=["unsubscribe"], response_class=HTMLResponse, responses=_PAGES)
async def unsubscribe_page(code: str, registry: RegistryDep, category: str | None = None) -> HTMLResponse:
    """The page behind an e-mail's unsubscribe link: a button, so that link scanners unsubscribe nobody."""
    return await _ask(registry, code, category, f"/v1/unsubscribe/{code}")


@router.post("/unsubscribe/{code}", tags=["unsubscribe"], response_class=HTMLResponse, responses=_PAGES)
async def unsubscribe(
    code: str, registry: RegistryDep, category: str | None = None, confirm: Confirm = None
) -> HTMLResponse:
    """Leave the category the link was issued for, without signing in; also the RFC 8058 one-click target
    of List-Unsubscribe. A link for every message asks for `confirm=yes` first."""
    return await _unsubscribe(
        registry, code, category, confirm, path=f"/v1/unsubscribe/{code}", via="email_link"
    )


@short_links.get("/u/{code}", response_class=HTMLResponse, responses=_PAGES)
async def sms_unsubscribe_page(code: str, registry: RegistryDep, category: str | None = None) -> HTMLResponse:
    """The page behind an SMS footer's link: a button, so that link previews unsubscribe nobody."""
    return await _ask(registry, code, category, f"/u/{code}")


@short_links.post("/u/{code}", response_class=HTMLResponse, responses=_PAGES)
async def sms_unsubscribe(
    code: str, registry: RegistryDep, category: str | None = None, confirm: Confirm = None
) -> HTMLResponse:
    """Unsubscribe through the link in an SMS footer."""
    return await _unsubscribe(registry, code, category, confirm, path=f"/u/{code}", via="sms_link")
