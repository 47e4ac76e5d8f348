"""A clerk registers a citizen at the office: the address from the register, the citizen's own phone and
e-mail, their choices; the codes go to the citizen's phone and mailbox and the citizen reads them out.
The consent record names the clerk (the registry's staff route); the citizen's access token stays sealed
in this browser for the 20 minutes the codes take, and is gone afterwards."""

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from hlasatel_console.entrypoints.web import (
    ASSISTED_COOKIE,
    FormDep,
    Page,
    PageDep,
    Staff,
    StaffDep,
    redirect,
)
from hlasatel_console.labels import choices, word
from hlasatel_contracts import CATEGORIES
from hlasatel_web.api import ApiRefused

router = APIRouter(prefix="/register")
COOKIE = ASSISTED_COOKIE
KEEP_S = 20 * 60
Json = dict[str, Any]


def _entered(fields: FormData | None) -> Json:
    if fields is None:
        return {"categories": list(CATEGORIES), "language": "cs", "role": "resident"}
    return {
        "query": str(fields.get("address_query") or "").strip(),
        "address_point": str(fields.get("address_point") or ""),
        "role": str(fields.get("role") or "resident"),
        "phone": str(fields.get("phone") or "").strip(),
        "email": str(fields.get("email") or "").strip(),
        "language": str(fields.get("language") or "cs"),
        "categories": [c for c in fields.getlist("categories") if isinstance(c, str)],
        "consent": bool(fields.get("consent")),
    }


async def _render(
    page: Page, entered: Json, *, found: list[Json] | None = None, status_code: int = 200
) -> HTMLResponse:
    lang = page.lang
    return page.render(
        "register.html",
        h1=lang.gettext("Register a citizen at the office"),
        entered=entered,
        found=found,
        addresses=[(str(address["code"]), str(address["label"])) for address in found or []],
        roles=choices(lang, ("resident", "owner", "workplace", "caregiver")),
        languages=choices(lang, ("cs", "en", "de", "pl", "uk")),
        categories=choices(lang, CATEGORIES),
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def register_page(page: PageDep, staff: StaffDep) -> HTMLResponse:
    return await _render(page, _entered(None))


def _registration(entered: Json, page: Page) -> tuple[Json, dict[str, str]]:
    _ = page.lang.gettext
    errors: dict[str, str] = {}
    if not entered["address_point"].isdigit():
        errors["address_query"] = _("Find the citizen's address and choose it from the register's list")
    contacts = [{"channel": "sms", "value": entered["phone"]}] if entered["phone"] else []
    contacts += [{"channel": "email", "value": entered["email"]}] if entered["email"] else []
    if not contacts:
        errors["phone"] = _("Enter the citizen's phone number, e-mail address, or both")
    if not entered["consent"]:
        errors["consent"] = _("The citizen must agree before they are registered")
    body = {
        "addresses": [{"address_point": int(entered["address_point"] or 0), "role": entered["role"]}],
        "contacts": contacts,
        "language": entered["language"],
        "categories": entered["categories"],
    }
    return body, errors


@router.post("", response_class=HTMLResponse)
async def register(page: PageDep, fields: FormDep, staff: StaffDep) -> Response:
    entered = _entered(fields)
    if fields.get("action") == "find_address":
        found = await page.console.registry.search(entered["query"]) if entered["query"] else []
        if not found:
            page.errors = {
                "address_query": page.lang.gettext("No address of the register matches; check the spelling")
            }
        return await _render(page, entered, found=found)
    body, errors = _registration(entered, page)
    if not errors:
        try:
            made = await page.console.registry.register_in_person(staff.token, body)
        except ApiRefused as refused:
            errors = {
                _field(location, body): message
                for location, message in (refused.fields or {"form": refused.reason}).items()
            }
    if errors:
        page.errors = errors
        again = await page.console.registry.search(entered["query"]) if entered["query"] else None
        return await _render(page, entered, found=again, status_code=422)
    sealed = page.console.assisted.seal(
        {
            "subscriber_id": made["id"],
            "access_token": made["access_token"],
            "contacts": [
                {"id": c["id"], "channel": c["channel"]} for c in made["contacts"] if c["channel"] != "push"
            ],
            # for this clerk only, and for 20 minutes from the registration however often it is sealed again
            "clerk": staff.id,
            "until": int(time.time()) + KEEP_S,
        },
        ttl_s=KEEP_S,
    )
    response = redirect("/register/codes")
    response.set_cookie(COOKIE, sealed, max_age=KEEP_S, httponly=True, secure=True, samesite="strict")
    return response


def _field(location: str, body: Json) -> str:
    """Where on the form the registry's complaint belongs: `contacts.1.value` is the e-mail address when
    the phone came first."""
    parts = location.split(".")
    if parts[0] == "contacts":
        contacts = body.get("contacts") or []
        index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        channel = contacts[index]["channel"] if index < len(contacts) else "sms"
        return "email" if channel == "email" else "phone"
    if location.startswith("addresses"):
        return "address_query"
    return location if location in ("language", "categories") else "form"


def _held(request: Request, page: Page, staff: Staff) -> Json | None:
    """The registration this clerk is finishing; another clerk at the same browser gets none."""
    held = page.console.assisted.unseal(request.cookies.get(COOKIE))
    return held if held is not None and held.get("clerk") == staff.id else None


def _left_s(held: Json) -> int:
    return max(1, int(held.get("until", 0)) - int(time.time()))


@router.get("/codes", response_class=HTMLResponse)
async def codes_page(request: Request, page: PageDep, staff: StaffDep) -> Response:
    held = _held(request, page, staff)
    if held is None:
        return redirect("/register")
    return _render_codes(page, held)


def _render_codes(
    page: Page,
    held: Json,
    *,
    verified: set[str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page.render(
        "register_codes.html",
        h1=page.lang.gettext("Enter the codes the citizen received"),
        contacts=held["contacts"],
        verified=verified or set(),
        notice=notice,
        status_code=status_code,
    )


@router.post("/codes", response_class=HTMLResponse)
async def check_codes(request: Request, page: PageDep, fields: FormDep, staff: StaffDep) -> Response:
    held = _held(request, page, staff)
    if held is None:
        return redirect("/register")
    registry = page.console.registry
    errors: dict[str, str] = {}
    verified: set[str] = set(held.get("verified", []))
    resend = str(fields.get("resend") or "")
    notice = None
    if resend:
        # "no code came": that one code again, and nothing else checked
        contact = next((c for c in held["contacts"] if c["id"] == resend and c["id"] not in verified), None)
        if contact is not None:
            try:
                await registry.resend(staff.token, held["access_token"], held["subscriber_id"], contact["id"])
                notice = page.lang.gettext(
                    "A new code went by %(channel)s. The earlier one no longer works.",
                    channel=word(page.lang, contact["channel"]),
                )
            except ApiRefused as refused:
                errors[f"code-{contact['id']}"] = refused.reason
    for contact in [] if resend else held["contacts"]:
        name = f"code-{contact['id']}"
        if contact["id"] in verified:
            continue
        # read out and typed as "477 227" or "477-227": the registry takes the digits
        code = "".join(str(fields.get(name) or "").split()).replace("-", "")
        if not code:
            errors[name] = page.lang.gettext("Enter the 6 digits the citizen received")
            continue
        try:
            answer = await registry.verify(staff.token, held["subscriber_id"], contact["id"], code)
        except ApiRefused as refused:
            errors[name] = refused.reason
            continue
        if answer.get("verified"):
            verified.add(contact["id"])
        else:
            errors[name] = page.lang.gettext("The code is not right: ask the citizen to read it again")
    if errors or resend:
        page.errors = errors
        page_again = _render_codes(
            page, held, verified=verified, notice=notice, status_code=422 if errors else 200
        )
        left = _left_s(held)
        kept = page.console.assisted.seal({**held, "verified": sorted(verified)}, ttl_s=left)
        page_again.set_cookie(COOKIE, kept, max_age=left, httponly=True, secure=True, samesite="strict")
        return page_again
    response = page.render("register_done.html", h1=page.lang.gettext("The citizen is registered"))
    response.delete_cookie(COOKIE, secure=True, httponly=True, samesite="strict")
    return response


__all__ = ["Staff", "router"]
