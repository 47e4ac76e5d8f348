"""What every page of the console needs: the reader's language, the signed-in member of the staff, a
CSRF-checked form, and a page rendered with them (its one h1 is its title's start)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from hlasatel_console.container import Console
from hlasatel_web.api import SessionEnded
from hlasatel_web.forms import FormExpired, checked_form
from hlasatel_web.i18n import Lang
from hlasatel_web.pages import here_of, page_context
from hlasatel_web.security import LANGUAGE_COOKIE

__all__ = ["FormExpired"]

# the staff member's session: the composer's token, in a cookie of this host that no script reads
SESSION_COOKIE = "__Host-hlasatel-session"
# a citizen registered at the office, sealed for the clerk while they finish (entrypoints/assisted.py)
ASSISTED_COOKIE = "__Host-hlasatel-assisted"

ROLES = ("editor", "approver", "admin")


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


ConsoleDep = Annotated[Console, Depends(console_of)]


def lang_of(request: Request, console: ConsoleDep) -> Lang:
    return console.languages.lang(request.cookies.get(LANGUAGE_COOKIE))


LangDep = Annotated[Lang, Depends(lang_of)]


@dataclass(frozen=True)
class Staff:
    """The signed-in member of the staff, as the composer knows them, and their session."""

    token: str
    id: str
    name: str
    email: str
    role: str
    categories: list[str] | None = None
    emergency: bool = False

    @property
    def key_id(self) -> str:
        """How the composer names them as the author of a message."""
        return f"staff:{self.id}"

    def may(self, role: str) -> bool:
        """Each role may do what the roles before it may: editor, approver, admin."""
        return ROLES.index(self.role) >= ROLES.index(role)


class SignInNeeded(Exception):
    """No session, or one that has ended: the page asks to sign in, and comes back afterwards."""

    def __init__(self, *, back_to: str, ended: bool) -> None:
        super().__init__("sign in")
        self.back_to = back_to
        self.ended = ended


class NotAllowed(Exception):
    """The staff member's role does not allow this page."""

    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role


@dataclass
class Page:
    """A page of the console in the reader's language, with the tokens its forms and scripts need."""

    request: Request
    console: Console
    lang: Lang
    staff: Staff | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def render(self, template: str, *, h1: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        shared = page_context(self.request, self.lang, self.console.secret, self.errors)
        mine = {"h1": h1, "staff": self.staff, "settings": self.console.settings}
        body = self.console.templates.get_template(template).render(shared | mine | context)
        return HTMLResponse(body, status_code=status_code)

    def with_errors(self, errors: Mapping[str, str]) -> "Page":
        self.errors = dict(errors)
        return self


def page_of(request: Request, console: ConsoleDep, lang: LangDep) -> Page:
    return Page(request=request, console=console, lang=lang)


PageDep = Annotated[Page, Depends(page_of)]


async def staff_of(request: Request, console: ConsoleDep, page: PageDep) -> Staff:
    """The signed-in member of the staff; the request's page knows them from here on (its header names
    them, its templates offer what their role may do)."""
    token = request.cookies.get(SESSION_COOKIE)
    back_to = here_of(request) or "/"
    if not token:
        raise SignInNeeded(back_to=back_to, ended=False)
    try:
        me = await console.composer.me(token)
    except SessionEnded:
        raise SignInNeeded(back_to=back_to, ended=True) from None
    page.staff = Staff(
        token=token,
        id=str(me["id"]),
        name=str(me["name"]),
        email=str(me["email"]),
        role=str(me["role"]),
        categories=me.get("categories"),
        emergency=bool(me.get("emergency")),
    )
    return page.staff


StaffDep = Annotated[Staff, Depends(staff_of)]


def requires(role: str) -> Any:
    """A dependency: the signed-in staff member, if their role includes `role`."""

    async def allowed(staff: StaffDep) -> Staff:
        if not staff.may(role):
            raise NotAllowed(role)
        return staff

    return Depends(allowed)


Editor = Annotated[Staff, requires("editor")]
Approver = Annotated[Staff, requires("approver")]
Admin = Annotated[Staff, requires("admin")]


async def form_of(request: Request, console: ConsoleDep) -> FormData:
    """The posted form, once its CSRF token is this browser's."""
    return await checked_form(request, console.secret)


FormDep = Annotated[FormData, Depends(form_of)]


def sign_in_url(back_to: str, *, ended: bool = False) -> str:
    query = f"?next={quote(back_to, safe='/')}" if back_to not in ("", "/") else ""
    if ended:
        query += ("&" if query else "?") + "ended=1"
    return "/sign-in" + query


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
