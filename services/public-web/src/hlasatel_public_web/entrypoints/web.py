"""What every citizen's page needs: the reader's language, their own address (for the registry's limits),
a CSRF-checked form, the signed-in citizen when there is one, and a page rendered with them (its one h1
is its title's start)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from hlasatel_public_web.container import PublicWeb
from hlasatel_public_web.domain.answers import RELATIONS
from hlasatel_web.forms import checked_form
from hlasatel_web.i18n import Lang
from hlasatel_web.pages import page_context
from hlasatel_web.security import LANGUAGE_COOKIE

# a signed-in citizen's session: their subscription's id and access token, sealed, in a cookie no script reads
SESSION_COOKIE = "__Host-hlasatel-citizen"
# a sign-up's answers so far, sealed
SIGN_UP_COOKIE = "__Host-hlasatel-sign-up"
# the phone number or e-mail address a sign-in code was sent to, sealed, while the code is typed
SIGNING_IN_COOKIE = "__Host-hlasatel-signing-in"


def public_web_of(request: Request) -> PublicWeb:
    public_web: PublicWeb = request.app.state.public_web
    return public_web


PublicWebDep = Annotated[PublicWeb, Depends(public_web_of)]


def lang_of(request: Request, public_web: PublicWebDep) -> Lang:
    return public_web.languages.lang(request.cookies.get(LANGUAGE_COOKIE))


LangDep = Annotated[Lang, Depends(lang_of)]


def ip_of(request: Request, public_web: PublicWebDep) -> str | None:
    """The citizen's address, as the registry's per-address limits must count it (not these pages' own)."""
    peer = request.client.host if request.client else None
    return public_web.proxies.client(peer, request.headers)


IpDep = Annotated[str | None, Depends(ip_of)]


@dataclass(frozen=True)
class Citizen:
    """The signed-in citizen: one subscription's id and its access token."""

    id: str
    token: str


class SignInNeeded(Exception):
    """No session, or one that has ended: the page asks to sign in again."""

    def __init__(self, *, ended: bool) -> None:
        super().__init__("sign in")
        self.ended = ended


@dataclass
class Page:
    """A page in the reader's language, with the tokens its forms need."""

    request: Request
    public_web: PublicWeb
    lang: Lang
    citizen: Citizen | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def render(self, template: str, *, h1: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        lang = self.lang
        shared = page_context(self.request, lang, self.public_web.secret, self.errors)
        mine = {
            "h1": h1,
            "settings": self.public_web.settings,
            "signed_in": self.citizen is not None or SESSION_COOKIE in self.request.cookies,
            "relation": lambda code: lang.gettext(RELATIONS[code]) if code in RELATIONS else code,
        }
        body = self.public_web.templates.get_template(template).render(shared | mine | context)
        return HTMLResponse(body, status_code=status_code)

    def with_errors(self, errors: Mapping[str, str]) -> "Page":
        self.errors = dict(errors)
        return self


def page_of(request: Request, public_web: PublicWebDep, lang: LangDep) -> Page:
    return Page(request=request, public_web=public_web, lang=lang)


PageDep = Annotated[Page, Depends(page_of)]


async def citizen_of(request: Request, public_web: PublicWebDep, page: PageDep) -> Citizen:
    """The signed-in citizen; without a session (or after it ended) the page asks to sign in."""
    cookie = request.cookies.get(SESSION_COOKIE)
    sealed = public_web.session.unseal(cookie)
    if sealed is None:
        raise SignInNeeded(ended=cookie is not None)
    page.citizen = Citizen(id=str(sealed["id"]), token=str(sealed["token"]))
    return page.citizen


CitizenDep = Annotated[Citizen, Depends(citizen_of)]


async def form_of(request: Request, public_web: PublicWebDep) -> FormData:
    """The posted form, once its CSRF token is this browser's."""
    return await checked_form(request, public_web.secret)


FormDep = Annotated[FormData, Depends(form_of)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def keep(response: Response, name: str, value: str, *, minutes: int) -> Response:
    """A sealed cookie of this host only, for these pages only, unread by scripts."""
    response.set_cookie(name, value, max_age=minutes * 60, httponly=True, secure=True, samesite="lax")
    return response


def forget(response: Response, name: str) -> Response:
    response.delete_cookie(name, secure=True, httponly=True, samesite="lax")
    return response


def text(form: FormData, name: str, *, limit: int = 500) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
