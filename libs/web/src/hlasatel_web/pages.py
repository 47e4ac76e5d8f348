"""What every Hlasatel application's pages are made with: Jinja2 templates that find the shared macros
(templates/macros.html) after the application's own, and the shared styles (static/hlasatel.css), which
each application serves at /static/web/."""

from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape
from jinja2.utils import missing

from hlasatel_web.i18n import Lang
from hlasatel_web.security import CSRF_FIELD, csrf_token
from hlasatel_web.words import word

SHARED_TEMPLATES = Path(__file__).parent / "templates"
SHARED_STATIC = Path(__file__).parent / "static"


class PageUndefined(ChainableUndefined):
    """A name a page was not given is an error; a key that a service's answer leaves out is empty (the
    services omit what is not set)."""

    def _given(self) -> None:
        if self._undefined_obj is missing:
            self._fail_with_undefined_error()

    def __str__(self) -> str:
        self._given()
        return ""

    def __bool__(self) -> bool:
        self._given()
        return False

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._given()
        return iter(())

    def __len__(self) -> int:
        self._given()
        return 0


def template_environment(directory: Path) -> Environment:
    """An application's templates, then the shared ones; HTML escaped, blocks trimmed."""
    return Environment(
        loader=FileSystemLoader([directory, SHARED_TEMPLATES]),
        autoescape=select_autoescape(["html"]),
        undefined=PageUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def here_of(request: Request) -> str | None:
    """The page to come back to after choosing a language: only a page that a link may open again (a
    page answering a form, reloaded, would lose what was typed)."""
    if request.method != "GET":
        return None
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def page_context(request: Request, lang: Lang, secret: str, errors: dict[str, str]) -> dict[str, Any]:
    """What every page's templates are given: the reader's language and its words, the form's errors,
    the CSRF token of the browser's forms, the nonce of the page's scripts, and where the page is."""
    return {
        "lang": lang,
        "_": lang.gettext,
        "ngettext": lang.ngettext,
        "word": lambda code: word(lang, code),
        "errors": errors,
        "notice": None,
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(secret, request.state.csrf_seed),
        "nonce": request.state.nonce,
        "path": request.url.path,
        "here": here_of(request),
    }
