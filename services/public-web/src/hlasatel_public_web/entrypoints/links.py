"""The pages behind the links in messages, at the paths the registry served them at before (the registry
sends its old links on here): a button on each, so that link scanners and previews verify and unsubscribe
nobody; leaving everything asks again. An e-mail client's RFC 8058 one-click POST carries no CSRF token:
the code in the link is what proves it, as the registry checks."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from hlasatel_public_web.entrypoints.web import FormDep, Page, PageDep, text
from hlasatel_web.api import ApiRefused
from hlasatel_web.words import word

router = APIRouter()
Category = Annotated[str | None, Query(max_length=40)]
Confirm = Annotated[str | None, Form()]


def _link_page(
    page: Page,
    *,
    h1: str,
    lead: str,
    action: str | None = None,
    button: str = "",
    confirm: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return page.render(
        "link.html", h1=h1, lead=lead, action=action, button=button, confirm=confirm, status_code=status_code
    )


def _gone(page: Page) -> HTMLResponse:
    _ = page.lang.gettext
    return _link_page(
        page,
        h1=_("This link does not work"),
        lead=_(
            "The link is not valid, or the subscription no longer exists. You can manage your subscription "
            "by signing in with your phone number or e-mail address."
        ),
        status_code=404,
    )


async def _ask(page: Page, code: str, category: str | None, action: str) -> HTMLResponse:
    _ = page.lang.gettext
    try:
        link = await page.public_web.registry.describe_link(code, category)
    except ApiRefused:
        return _gone(page)
    if link["category"] is None:
        return _link_page(
            page,
            h1=_("Stop all the city's messages"),
            lead=_("Do you want to stop getting all messages from the City of Liberec?"),
            action=action,
            button=_("Continue"),
        )
    return _link_page(
        page,
        h1=_("Stop messages about %(category)s", category=word(page.lang, link["category"]).lower()),
        lead=_("You will no longer get the city's messages in this category."),
        action=action,
        button=_("Stop these messages"),
    )


async def _leave(
    page: Page, code: str, category: str | None, confirm: str | None, action: str, via: str
) -> HTMLResponse:
    _ = page.lang.gettext
    registry = page.public_web.registry
    try:
        link = await registry.unsubscribe_by_link(code, category, confirm=confirm == "yes", via=via)
    except ApiRefused:
        return _gone(page)
    if not link["done"]:
        return _link_page(
            page,
            h1=_("Are you sure you want to stop everything?"),
            lead=_(
                "You will not get any of the city's messages: outages, traffic, culture or news "
                "from the town hall."
            ),
            action=action,
            button=_("Yes, stop all messages"),
            confirm=True,
        )
    if link["category"] is None:
        return _link_page(page, h1=_("You will no longer get the city's messages"), lead="")
    return _link_page(
        page,
        h1=_(
            "You will no longer get messages about %(category)s",
            category=word(page.lang, link["category"]).lower(),
        ),
        lead="",
    )


def _action(path: str, category: str | None) -> str:
    return path + (f"?category={category}" if category else "")


@router.get("/v1/unsubscribe/{code}", response_class=HTMLResponse)
async def unsubscribe_page(code: str, page: PageDep, category: Category = None) -> HTMLResponse:
    """The page behind an e-mail's unsubscribe link."""
    return await _ask(page, code, category, _action(f"/v1/unsubscribe/{code}", category))


@router.post("/v1/unsubscribe/{code}", response_class=HTMLResponse)
async def unsubscribe(
    code: str, request: Request, page: PageDep, category: Category = None, confirm: Confirm = None
) -> HTMLResponse:
    """The page's button, and the RFC 8058 one-click target of the e-mail's List-Unsubscribe."""
    return await _leave(
        page, code, category, confirm, _action(f"/v1/unsubscribe/{code}", category), "email_link"
    )


@router.get("/u/{code}", response_class=HTMLResponse)
async def sms_unsubscribe_page(code: str, page: PageDep, category: Category = None) -> HTMLResponse:
    """The page behind an SMS footer's link."""
    return await _ask(page, code, category, _action(f"/u/{code}", category))


@router.post("/u/{code}", response_class=HTMLResponse)
async def sms_unsubscribe(
    code: str, page: PageDep, category: Category = None, confirm: Confirm = None
) -> HTMLResponse:
    return await _leave(page, code, category, confirm, _action(f"/u/{code}", category), "sms_link")


@router.get("/v1/verify/email", response_class=HTMLResponse)
async def email_link_page(page: PageDep, token: Annotated[str, Query(max_length=1000)] = "") -> HTMLResponse:
    """The page behind the verification e-mail's link: a button, so that link scanners verify nothing."""
    _ = page.lang.gettext
    return page.render("verify_email.html", h1=_("Confirm your e-mail address"), token=token)


@router.post("/v1/verify/email", response_class=HTMLResponse)
async def verify_email(page: PageDep, form: FormDep) -> HTMLResponse:
    _ = page.lang.gettext
    try:
        await page.public_web.registry.verify_email_link(text(form, "token", limit=1000))
    except ApiRefused:
        return _link_page(
            page,
            h1=_("This link does not work"),
            lead=_(
                "The link has expired or a newer code was sent. Use the newest e-mail, or ask "
                "for a new code on the page where you signed up."
            ),
            status_code=422,
        )
    return _link_page(
        page,
        h1=_("Your e-mail address is confirmed"),
        lead=_("Thank you. The city's messages will come to this address too."),
    )
