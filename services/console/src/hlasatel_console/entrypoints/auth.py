"""Signing in: the password, then the authenticator's code (set up at the first sign-in from a QR code);
an invitation's password; signing out here or everywhere; the reader's language."""

from typing import Annotated
from urllib.parse import quote

import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from hlasatel_console.entrypoints.web import (
    ASSISTED_COOKIE,
    SESSION_COOKIE,
    ConsoleDep,
    FormDep,
    PageDep,
    redirect,
)
from hlasatel_web.api import ApiRefused, ServiceUnavailable, SessionEnded
from hlasatel_web.forms import language_chosen, safe_next

router = APIRouter()
# a full session ends after 12 hours at most; the cookie goes with it
SESSION_MAX_AGE_S = 12 * 3600


def _with_session(response: Response, token: str) -> Response:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=SESSION_MAX_AGE_S, httponly=True, secure=True, samesite="strict"
    )
    return response


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(
    page: PageDep,
    next: Annotated[str | None, Query(max_length=500)] = None,
    ended: bool = False,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    _ = page.lang.gettext
    notice = None
    if ended:
        notice = _(
            "Your session has ended (30 minutes without use, 12 hours in all, or signed out elsewhere). "
            "Sign in again."
        )
    elif done == "password":
        notice = _("Your password is set. Sign in with it; you will set up the second factor next.")
    elif done == "out":
        notice = _("You are signed out.")
    elif done == "out-here":
        notice = _(
            "You are signed out in this browser. Hlasatel's services did not answer, so a session of yours "
            "elsewhere may still be open: sign in and out everywhere once they are back."
        )
    return page.render("sign_in.html", h1=_("Sign in"), next=safe_next(next), email="", notice=notice)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(page: PageDep, console: ConsoleDep, form: FormDep) -> Response:
    _ = page.lang.gettext
    email, password, next_page = _field(form, "email"), form.get("password"), safe_next(_field(form, "next"))
    errors = {}
    if not email:
        errors["email"] = _("Enter your e-mail address")
    if not isinstance(password, str) or not password:
        errors["password"] = _("Enter your password")
    if errors:
        return page.with_errors(errors).render(
            "sign_in.html", h1=_("Sign in"), next=next_page, email=email, notice=None, status_code=422
        )
    try:
        started = await console.composer.sign_in(email, str(password))
    except ApiRefused:
        message = _(
            "The e-mail address or the password is wrong, or the account is locked for a while after "
            "repeated mistakes. Wait a minute and try again."
        )
        return page.with_errors({"email": message}).render(
            "sign_in.html", h1=_("Sign in"), next=next_page, email=email, notice=None, status_code=401
        )
    step = "/sign-in/enrol" if started["stage"] == "enrol" else "/sign-in/code"
    return _with_session(redirect(f"{step}?next={quote(next_page, safe='/')}"), str(started["token"]))


async def _pending(request: Request, console: ConsoleDep) -> dict[str, object] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return await console.composer.pending(token)
    except SessionEnded:
        return None


@router.get("/sign-in/code", response_class=HTMLResponse)
async def code_page(
    request: Request,
    page: PageDep,
    console: ConsoleDep,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    pending = await _pending(request, console)
    if pending is None:
        return redirect("/sign-in?ended=1")
    if pending["stage"] == "enrol":
        return redirect(f"/sign-in/enrol?next={quote(safe_next(next), safe='/')}")
    return page.render(
        "sign_in_code.html",
        h1=page.lang.gettext("Enter the code from your authenticator app"),
        next=safe_next(next),
    )


@router.get("/sign-in/enrol", response_class=HTMLResponse)
async def enrol_page(
    request: Request,
    page: PageDep,
    console: ConsoleDep,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    pending = await _pending(request, console)
    if pending is None or not isinstance(pending.get("enrolment"), dict):
        return redirect("/sign-in?ended=1")
    return _enrol(page, pending["enrolment"], safe_next(next))  # type: ignore[arg-type]


def _enrol(page: PageDep, enrolment: dict[str, str], next_page: str, status_code: int = 200) -> HTMLResponse:
    qr = segno.make(enrolment["uri"], error="m").svg_inline(
        scale=5,
        border=2,
        title=page.lang.gettext("QR code for your authenticator app"),
        svgclass="qr",
        lineclass=None,
    )
    secret = " ".join(enrolment["secret"][i : i + 4] for i in range(0, len(enrolment["secret"]), 4))
    return page.render(
        "sign_in_enrol.html",
        h1=page.lang.gettext("Set up your second factor"),
        qr=Markup(qr),
        secret=secret,
        next=next_page,
        status_code=status_code,
    )


@router.post("/sign-in/code", response_class=HTMLResponse)
async def prove_code(request: Request, page: PageDep, console: ConsoleDep, form: FormDep) -> Response:
    _ = page.lang.gettext
    token = request.cookies.get(SESSION_COOKIE)
    next_page = safe_next(_field(form, "next"))
    code = _field(form, "code")
    if not token:
        return redirect("/sign-in?ended=1")
    enrolling = _field(form, "enrolling") == "1"
    if not code:
        errors = {"code": _("Enter the 6 digits your authenticator app shows")}
    else:
        try:
            await console.composer.prove(token, code)
            return redirect(next_page)
        except ApiRefused as refused:
            if "sign in again" in refused.reason:
                return redirect("/sign-in?ended=1")
            errors = {
                "code": _(
                    "The code is wrong or was used already, or the account is locked for a while. Wait for "
                    "the next code and try again."
                )
            }
    if enrolling:
        pending = await _pending(request, console)
        if pending is None or not isinstance(pending.get("enrolment"), dict):
            return redirect("/sign-in?ended=1")
        return _enrol(page.with_errors(errors), pending["enrolment"], next_page, status_code=401)  # type: ignore[arg-type]
    return page.with_errors(errors).render(
        "sign_in_code.html",
        h1=_("Enter the code from your authenticator app"),
        next=next_page,
        status_code=401,
    )


@router.post("/sign-out")
async def sign_out(request: Request, console: ConsoleDep, form: FormDep) -> Response:
    """This browser forgets the session whatever the composer answers; the composer ends it (or every
    session of the person, on every device) when it can be reached."""
    token = request.cookies.get(SESSION_COOKIE)
    done = "out"
    if token:
        try:
            await console.composer.sign_out(token, everywhere=_field(form, "everywhere") == "1")
        except SessionEnded:
            pass
        except ServiceUnavailable:
            done = "out-here"
    response = redirect(f"/sign-in?done={done}")
    for cookie in (SESSION_COOKIE, ASSISTED_COOKIE):
        response.delete_cookie(cookie, secure=True, httponly=True, samesite="strict")
    return response


@router.get("/invitation", response_class=HTMLResponse)
async def invitation_page(page: PageDep, token: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    return page.render("invitation.html", h1=page.lang.gettext("Set your password"), token=token)


@router.post("/invitation", response_class=HTMLResponse)
async def accept_invitation(page: PageDep, console: ConsoleDep, form: FormDep) -> Response:
    _ = page.lang.gettext
    token, password, again = _field(form, "token"), form.get("password"), form.get("password_again")
    errors = {}
    if not isinstance(password, str) or not password:
        errors["password"] = _("Enter a password")
    elif password != again:
        errors["password_again"] = _("The two passwords are not the same")
    if not errors:
        try:
            await console.composer.accept_invitation(token, str(password))
            return redirect("/sign-in?done=password")
        except ApiRefused as refused:
            if "password" in refused.fields or "password" in refused.reason:
                errors["password"] = refused.reason
            else:
                errors["form"] = _(
                    "This invitation is not valid any more: it was used, or it expired. Ask an admin for a "
                    "new one."
                )
    return page.with_errors(errors).render(
        "invitation.html", h1=_("Set your password"), token=token, status_code=422
    )


@router.get("/language/{code}")
async def choose_language(
    code: str, next: Annotated[str | None, Query(max_length=500)] = None
) -> RedirectResponse:
    return language_chosen(code, next)
