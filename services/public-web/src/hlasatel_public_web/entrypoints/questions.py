"""The questions a sign-up asks and a signed-in citizen answers again (an address and their relation to
it, categories, language, quiet hours): one page each, the same for both; only where the answer goes
differs."""

from dataclasses import dataclass
from typing import Any

from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from hlasatel_contracts import CATEGORIES
from hlasatel_public_web.domain.answers import LANGUAGES, NIGHT, RELATIONS, ROLES, clock
from hlasatel_public_web.entrypoints.web import Page, text
from hlasatel_web.api import ApiRefused
from hlasatel_web.words import choices

Json = dict[str, Any]


@dataclass(frozen=True)
class Flow:
    """Where a question's form posts, where its search goes, and the link back."""

    action: str
    back: str


async def address_page(page: Page, flow: Flow, *, query: str, status_code: int = 200) -> HTMLResponse:
    """'What is your address?': the register's matches for what was typed, to pick one from."""
    _ = page.lang.gettext
    results: list[Json] = []
    suggestions: list[Json] = []
    if query:
        results, suggestions = await page.public_web.registry.search(query)
        if not results:
            page.errors.setdefault(
                "q",
                _("No address in Liberec matches ‘%(query)s’. Check the street and the number.", query=query),
            )
    return page.render(
        "address.html",
        h1=_("What is your address?"),
        flow=flow,
        query=query,
        results=[(str(found["code"]), found["label"]) for found in results],
        suggestions=suggestions,
        status_code=422 if page.errors else status_code,
    )


async def chosen_address(page: Page, form: FormData) -> Json | None:
    """The address point picked from the list, as the register knows it; None with the page's error."""
    code = text(form, "address_point")
    found = await page.public_web.registry.address(int(code)) if code.isdigit() and len(code) < 10 else None
    if found is None:
        page.errors["address_point"] = page.lang.gettext("Choose your address from the list")
    return found


def relation_page(page: Page, flow: Flow, *, label: str, role: str | None) -> HTMLResponse:
    _ = page.lang.gettext
    return page.render(
        "relation.html",
        h1=_("How are you connected to this address?"),
        flow=flow,
        label=label,
        roles=[(code, _(RELATIONS[code])) for code in ROLES],
        role=role,
        status_code=422 if page.errors else 200,
    )


def chosen_role(page: Page, form: FormData) -> str | None:
    role = text(form, "role")
    if role not in ROLES:
        page.errors["role"] = page.lang.gettext("Choose how you are connected to the address")
        return None
    return role


def categories_page(page: Page, flow: Flow, *, chosen: list[str] | None) -> HTMLResponse:
    _ = page.lang.gettext
    return page.render(
        "categories.html",
        h1=_("Which messages do you want?"),
        flow=flow,
        categories=choices(page.lang, CATEGORIES),
        chosen=chosen if chosen is not None else [],
    )


def chosen_categories(form: FormData) -> list[str]:
    return [c for c in form.getlist("categories") if isinstance(c, str) and c in CATEGORIES]


def language_page(page: Page, flow: Flow, *, chosen: str | None) -> HTMLResponse:
    _ = page.lang.gettext
    return page.render(
        "language.html",
        h1=_("In which language should the messages come?"),
        flow=flow,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        chosen=chosen or page.lang.code,
        status_code=422 if page.errors else 200,
    )


# each language in its own words, as a reader of it looks for it
LANGUAGE_NAMES = {"cs": "Čeština", "en": "English", "de": "Deutsch", "pl": "Polski", "uk": "Українська"}


def chosen_language(page: Page, form: FormData) -> str | None:
    language = text(form, "language")
    if language not in LANGUAGES:
        page.errors["language"] = page.lang.gettext("Choose a language")
        return None
    return language


def quiet_page(page: Page, flow: Flow, *, quiet: dict[str, str] | None) -> HTMLResponse:
    _ = page.lang.gettext
    return page.render(
        "quiet_hours.html",
        h1=_("Should messages wait during the night?"),
        flow=flow,
        quiet=quiet or {"choice": "", "start": NIGHT[0], "end": NIGHT[1]},
        night=NIGHT,
        status_code=422 if page.errors else 200,
    )


def chosen_quiet(page: Page, form: FormData) -> dict[str, str] | None:
    """none, the night, or the hours typed; None with the page's errors."""
    _ = page.lang.gettext
    choice = text(form, "quiet")
    if choice == "none":
        return {"choice": "none", "start": "", "end": ""}
    if choice == "night":
        return {"choice": "night", "start": NIGHT[0], "end": NIGHT[1]}
    if choice != "custom":
        page.errors["quiet"] = _("Choose whether messages should wait")
        return None
    start, end = clock(text(form, "start")), clock(text(form, "end"))
    if start is None:
        page.errors["start"] = _("Enter the time they start waiting, like 22:00")
    if end is None:
        page.errors["end"] = _("Enter the time they come again, like 7:00")
    if start is not None and start == end:
        page.errors["end"] = _("The end must differ from the start")
    if page.errors:
        return {"choice": "custom", "start": text(form, "start"), "end": text(form, "end")}
    assert start is not None and end is not None
    return {"choice": "custom", "start": start, "end": end}


def registry_refusal(page: Page, refused: ApiRefused, *, field: str = "form") -> None:
    """The registry's refusal on the page, in the reader's words where it is one they may meet."""
    _ = page.lang.gettext
    if refused.status == 429:
        minutes = max(1, round((refused.retry_after or 60) / 60))
        page.errors[field] = page.lang.ngettext(
            "Too many attempts. Try again in %(num)s minute.",
            "Too many attempts. Try again in %(num)s minutes.",
            minutes,
        )
        return
    page.errors[field] = refused.reason
