"""Getting back in without a password: a code to a verified phone number or e-mail address opens a short
session (the registry issues a new access token for it); signing out ends it here."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from hlasatel_public_web.container import PublicWeb
from hlasatel_public_web.domain.answers import channel_of, code_typed
from hlasatel_public_web.entrypoints.questions import registry_refusal
from hlasatel_public_web.entrypoints.web import (
    SESSION_COOKIE,
    SIGNING_IN_COOKIE,
    FormDep,
    IpDep,
    Page,
    PageDep,
    PublicWebDep,
    forget,
    keep,
    redirect,
    text,
)
from hlasatel_web.api import ApiRefused

router = APIRouter()
CODE_MINUTES = 10


def open_session(response: Response, public_web: PublicWeb, subscriber_id: str, token: str) -> Response:
    minutes = public_web.settings.session_minutes
    sealed = public_web.session.seal({"id": subscriber_id, "token": token}, ttl_s=minutes * 60)
    return keep(response, SESSION_COOKIE, sealed, minutes=minutes)


def _sign_in_page(page: Page, entered: str, *, ended: bool = False) -> HTMLResponse:
    _ = page.lang.gettext
    return page.render(
        "sign_in.html",
        h1=_("Manage your subscription"),
        entered=entered,
        notice=_("Your session has ended. Sign in again.") if ended else None,
        status_code=422 if page.errors else 200,
    )


@router.get("/manage", response_model=None)
async def sign_in(
    request: Request, page: PageDep, public_web: PublicWebDep, ended: Annotated[int, Query()] = 0
) -> Response:
    if public_web.session.unseal(request.cookies.get(SESSION_COOKIE)) is not None:
        return redirect("/manage/subscription")
    return _sign_in_page(page, "", ended=bool(ended))


@router.post("/manage", response_model=None)
async def send_sign_in_code(page: PageDep, public_web: PublicWebDep, form: FormDep, ip: IpDep) -> Response:
    contact = text(form, "contact", limit=254)
    if not contact:
        page.errors["contact"] = page.lang.gettext(
            "Enter the phone number or e-mail address you signed up with"
        )
        return _sign_in_page(page, contact)
    channel = channel_of(contact)
    try:
        await public_web.registry.access_code(channel, contact, ip=ip)
    except ApiRefused as refused:
        if refused.status == 422:
            page.errors["contact"] = page.lang.gettext(
                "Enter a phone number like 777 123 456, or an e-mail address like jana@example.cz"
            )
        else:
            registry_refusal(page, refused, field="contact")
        return _sign_in_page(page, contact)
    sealed = public_web.signing_in.seal({"channel": channel, "value": contact}, ttl_s=CODE_MINUTES * 60)
    return keep(redirect("/manage/code"), SIGNING_IN_COOKIE, sealed, minutes=CODE_MINUTES)


def _code_page(page: Page, sent_to: str) -> HTMLResponse:
    return page.render(
        "sign_in_code.html",
        h1=page.lang.gettext("Enter the code"),
        sent_to=sent_to,
        status_code=422 if page.errors else 200,
    )


@router.get("/manage/code", response_model=None)
async def code_page(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    signing_in = public_web.signing_in.unseal(request.cookies.get(SIGNING_IN_COOKIE))
    if signing_in is None:
        return redirect("/manage")
    return _code_page(page, str(signing_in["value"]))


@router.post("/manage/code", response_model=None)
async def type_code(
    request: Request, page: PageDep, public_web: PublicWebDep, form: FormDep, ip: IpDep
) -> Response:
    signing_in = public_web.signing_in.unseal(request.cookies.get(SIGNING_IN_COOKIE))
    if signing_in is None:
        return redirect("/manage")
    code = code_typed(text(form, "code", limit=40))
    if code is None:
        page.errors["code"] = page.lang.gettext("Enter the 6 digits of the code")
        return _code_page(page, str(signing_in["value"]))
    try:
        granted = await public_web.registry.access_token(
            str(signing_in["channel"]), str(signing_in["value"]), code, ip=ip
        )
    except ApiRefused as refused:
        if refused.status == 429:
            registry_refusal(page, refused, field="code")
        else:
            page.errors["code"] = page.lang.gettext(
                "This code is not right, or it has expired. Check it or ask for a new one."
            )
        return _code_page(page, str(signing_in["value"]))
    if not granted:
        page.errors["code"] = page.lang.gettext("No subscription has this phone number or e-mail address")
        return _code_page(page, str(signing_in["value"]))
    if len(granted) == 1:
        (only,) = granted
        response = open_session(
            redirect("/manage/subscription"), public_web, only["subscriber_id"], only["access_token"]
        )
        return forget(response, SIGNING_IN_COOKIE)
    # a contact of several subscriptions (a household's shared e-mail): the citizen chooses one
    sealed = public_web.signing_in.seal({"choices": granted}, ttl_s=CODE_MINUTES * 60)
    return keep(redirect("/manage/choose"), SIGNING_IN_COOKIE, sealed, minutes=CODE_MINUTES)


@router.get("/manage/choose", response_model=None)
async def choose_page(request: Request, page: PageDep, public_web: PublicWebDep) -> Response:
    signing_in = public_web.signing_in.unseal(request.cookies.get(SIGNING_IN_COOKIE))
    if signing_in is None or "choices" not in signing_in:
        return redirect("/manage")
    found = []
    for granted in signing_in["choices"]:
        subscription = await public_web.registry.subscription(
            granted["subscriber_id"], granted["access_token"]
        )
        labels = ", ".join(address["label"] for address in subscription["addresses"])
        found.append((granted["subscriber_id"], labels))
    return page.render("choose.html", h1=page.lang.gettext("Which subscription?"), subscriptions=found)


@router.post("/manage/choose", response_model=None)
async def choose(request: Request, public_web: PublicWebDep, form: FormDep) -> Response:
    signing_in = public_web.signing_in.unseal(request.cookies.get(SIGNING_IN_COOKIE))
    if signing_in is None or "choices" not in signing_in:
        return redirect("/manage")
    chosen = next(
        (g for g in signing_in["choices"] if g["subscriber_id"] == text(form, "subscription")), None
    )
    if chosen is None:
        return redirect("/manage/choose")
    response = open_session(
        redirect("/manage/subscription"), public_web, chosen["subscriber_id"], chosen["access_token"]
    )
    return forget(response, SIGNING_IN_COOKIE)


@router.post("/sign-out")
async def sign_out(form: FormDep) -> Response:
    return forget(redirect("/?signed_out=1"), SESSION_COOKIE)
