"""What every Hlasatel page's forms and links share: a posted form accepted only with this browser's CSRF
token, a way back that stays on the site, and the reader's choice of language."""

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from hlasatel_web.i18n import LANGUAGES
from hlasatel_web.security import CSRF_FIELD, LANGUAGE_COOKIE, csrf_valid


class FormExpired(Exception):
    """A form without this browser's CSRF token: forged elsewhere, or older than the browser's cookie."""


async def checked_form(request: Request, secret: str) -> FormData:
    """The posted form, once its CSRF token is this browser's (the guard put its seed on the request)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not csrf_valid(secret, request.state.csrf_seed, token if isinstance(token, str) else None):
        raise FormExpired()
    return form


def safe_next(target: str | None) -> str:
    """Back to a page of this site only: never to another one."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def language_chosen(code: str, back_to: str | None) -> RedirectResponse:
    """Back where the reader was, in the language they chose (a cookie for a year; an unknown one is
    ignored)."""
    response = RedirectResponse(safe_next(back_to), status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, secure=True, samesite="lax")
    return response
