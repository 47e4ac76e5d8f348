"""The admin's pages: the staff (invite by a single-use link, role, scopes, disable), the utilities' API
keys (create with scopes, revoke), the alert templates (edit, with the example rendering and the reasons
a template is refused), and the audit log with its filters."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from hlasatel_console.domain.compose import PRAGUE
from hlasatel_console.entrypoints.web import Admin, FormDep, Page, PageDep, redirect
from hlasatel_console.labels import choices
from hlasatel_contracts import CATEGORIES
from hlasatel_web.api import ApiRefused

router = APIRouter(prefix="/admin")
Json = dict[str, Any]


def _texts(fields: FormData, name: str) -> list[str]:
    return [value for value in fields.getlist(name) if isinstance(value, str) and value]


def _scope(fields: FormData) -> Json:
    """The categories, area and permissions an admin ticked; no category ticked is every category, no
    district the whole city."""
    categories = _texts(fields, "categories")
    districts = _texts(fields, "area_districts")
    return {
        "categories": categories or None,
        "area": {"districts": districts} if districts else None,
        "emergency": bool(fields.get("emergency")),
        "whole_city": bool(fields.get("whole_city")),
    }


@router.get("", response_class=HTMLResponse)
async def admin_home(page: PageDep, staff: Admin) -> HTMLResponse:
    return page.render("admin_home.html", h1=page.lang.gettext("Admin"))


async def _render_staff(
    page: Page, *, invited: Json | None = None, status_code: int = 200, entered: Json | None = None
) -> HTMLResponse:
    assert page.staff is not None
    people = await page.console.composer.staff(page.staff.token)
    names = await page.console.gazetteer.names()
    return page.render(
        "admin_staff.html",
        h1=page.lang.gettext("Staff"),
        people=people,
        invited=invited,
        invitation_url=f"{page.console.settings.public_url.rstrip('/')}/invitation?token={invited['invitation']}"
        if invited
        else None,
        entered=entered or {},
        roles=choices(page.lang, ("editor", "approver", "admin")),
        categories=choices(page.lang, CATEGORIES),
        districts=names.districts,
        status_code=status_code,
    )


@router.get("/staff", response_class=HTMLResponse)
async def staff_page(page: PageDep, staff: Admin) -> HTMLResponse:
    return await _render_staff(page)


@router.post("/staff", response_class=HTMLResponse)
async def invite(page: PageDep, fields: FormDep, staff: Admin) -> HTMLResponse:
    person = {"name": str(fields.get("name") or "").strip(), "email": str(fields.get("email") or "").strip(),
              "role": str(fields.get("role") or "editor"), **_scope(fields)}  # fmt: skip
    errors = {}
    if not person["name"]:
        errors["name"] = page.lang.gettext("Enter the person's name")
    if not person["email"]:
        errors["email"] = page.lang.gettext("Enter the person's e-mail address")
    if not errors:
        try:
            invited = await page.console.composer.invite(staff.token, person)
            return await _render_staff(page, invited=invited)
        except ApiRefused as refused:
            errors = {key if key in ("name", "email", "role") else "form": message
                      for key, message in (refused.fields or {"form": refused.reason}).items()}  # fmt: skip
    page.errors = errors
    return await _render_staff(page, status_code=422, entered=person)


async def _render_person(
    page: Page, staff_id: str, *, status_code: int = 200, entered: Json | None = None
) -> HTMLResponse:
    assert page.staff is not None
    people = await page.console.composer.staff(page.staff.token)
    person = next((p for p in people if p["id"] == staff_id), None)
    if person is None:
        raise ApiRefused(404, page.lang.gettext("Nobody of the staff has this id."))
    names = await page.console.gazetteer.names()
    return page.render(
        "admin_person.html",
        h1=page.lang.gettext("Change %(name)s", name=person["name"]),
        person=person,
        entered=entered or person,
        mine=person["id"] == page.staff.id,
        roles=choices(page.lang, ("editor", "approver", "admin")),
        categories=choices(page.lang, CATEGORIES),
        districts=names.districts,
        status_code=status_code,
    )


@router.get("/staff/{staff_id}", response_class=HTMLResponse)
async def person_page(staff_id: str, page: PageDep, staff: Admin) -> HTMLResponse:
    """One person's role and scope, to change; or to disable their account."""
    return await _render_person(page, staff_id)


@router.post("/staff/{staff_id}", response_class=HTMLResponse)
async def change_person(staff_id: str, page: PageDep, fields: FormDep, staff: Admin) -> Response:
    """A new role or scope (their sessions end, so that it binds at once), or the account disabled."""
    changes = {"role": str(fields.get("role") or "") or None, **_scope(fields)}
    try:
        if fields.get("action") == "disable":
            await page.console.composer.disable_staff(staff.token, staff_id)
        else:
            await page.console.composer.update_staff(staff.token, staff_id, changes)
    except ApiRefused as refused:
        page.errors = {"form": refused.reason}
        return await _render_person(page, staff_id, status_code=refused.status, entered=changes)
    return redirect("/admin/staff")


async def _render_keys(
    page: Page, *, made: Json | None = None, entered: Json | None = None, status_code: int = 200
) -> HTMLResponse:
    assert page.staff is not None
    keys = await page.console.composer.keys(page.staff.token)
    names = await page.console.gazetteer.names()
    return page.render(
        "admin_keys.html",
        h1=page.lang.gettext("API keys"),
        keys=keys,
        made=made,
        entered=entered or {},
        roles=choices(page.lang, ("utility", "editor", "approver", "admin")),
        categories=choices(page.lang, CATEGORIES),
        districts=names.districts,
        status_code=status_code,
    )


@router.get("/keys", response_class=HTMLResponse)
async def keys_page(page: PageDep, staff: Admin) -> HTMLResponse:
    return await _render_keys(page)


@router.post("/keys", response_class=HTMLResponse)
async def create_key(page: PageDep, fields: FormDep, staff: Admin) -> HTMLResponse:
    key: Json = {
        "name": str(fields.get("name") or "").strip(),
        "role": str(fields.get("role") or "utility"),
        **_scope(fields),
    }
    key["pre_approved"] = _texts(fields, "pre_approved")
    rate = str(fields.get("rate_limit_per_minute") or "").strip()
    if rate:
        key["rate_limit_per_minute"] = int(rate) if rate.isdigit() else rate
    if not key["name"]:
        page.errors = {"name": page.lang.gettext("Enter whose key it is: a utility's system, or a person")}
        return await _render_keys(page, entered=key, status_code=422)
    try:
        made = await page.console.composer.create_key(staff.token, key)
    except ApiRefused as refused:
        known = ("name", "role", "pre_approved", "rate_limit_per_minute")
        page.errors = {
            name if name in known else "form": message
            for name, message in (refused.fields or {"form": refused.reason}).items()
        }
        return await _render_keys(page, entered=key, status_code=422)
    return await _render_keys(page, made=made)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: str, page: PageDep, fields: FormDep, staff: Admin) -> Response:
    await page.console.composer.revoke_key(staff.token, key_id)
    return redirect("/admin/keys")


async def _render_templates(
    page: Page, *, edited: tuple[str, str] | None = None, text: Json | None = None, status_code: int = 200
) -> HTMLResponse:
    assert page.staff is not None
    templates = await page.console.composer.templates(page.staff.token)
    return page.render(
        "admin_templates.html",
        h1=page.lang.gettext("Alert templates"),
        templates=templates,
        edited=edited,
        text=text or {},
        status_code=status_code,
    )


@router.get("/templates", response_class=HTMLResponse)
async def templates_page(page: PageDep, staff: Admin) -> HTMLResponse:
    return await _render_templates(page)


@router.post("/templates/{language}/{kind}", response_class=HTMLResponse)
async def save_template(language: str, kind: str, page: PageDep, fields: FormDep, staff: Admin) -> Response:
    if fields.get("action") == "reset":
        await page.console.composer.reset_template(staff.token, language, kind)
        return redirect(f"/admin/templates#template-{language}-{kind}")
    text = {part: str(fields.get(part) or "") for part in ("sms", "subject", "text")}
    try:
        await page.console.composer.put_template(staff.token, language, kind, text)
    except ApiRefused as refused:
        page.errors = {f"{language}-{kind}-{name}" if name in text else "form": message
                       for name, message in (refused.fields or {"form": refused.reason}).items()}  # fmt: skip
        return await _render_templates(page, edited=(language, kind), text=text, status_code=422)
    return redirect(f"/admin/templates#template-{language}-{kind}")


def _moment(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=PRAGUE).isoformat()
    except ValueError:
        return None


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    page: PageDep,
    staff: Admin,
    actor: Annotated[str, Query(max_length=100)] = "",
    action: Annotated[str, Query(max_length=40)] = "",
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    message_id: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    filters = {
        "actor": actor or None,
        "action": action or None,
        "since": _moment(since),
        "until": _moment(until),
        "message_id": message_id or None,
        "limit": 200,
    }
    # a time that does not read is said, not dropped: the log would seem filtered and be whole
    unread = {name: typed for name, typed in (("since", since), ("until", until)) if typed}
    errors = {
        name: page.lang.gettext("Enter a date and time such as 8. 12. 2026 14:00")
        for name, typed in unread.items()
        if filters[name] is None
    }
    entries: list[Json] = []
    if errors:
        page.errors = errors
    else:
        try:
            entries = await page.console.composer.audit(staff.token, **filters)
        except ApiRefused as refused:
            page.errors = {"form": refused.reason}
    return page.render(
        "admin_audit.html",
        h1=page.lang.gettext("Audit log"),
        entries=entries,
        chosen={"actor": actor, "action": action, "since": since, "until": until, "message_id": message_id},
        actions=[
            "message.",
            "message.created",
            "message.approved",
            "message.rejected",
            "message.returned",
            "message.cancelled",
            "message.edited",
            "staff.",
            "key.",
            "template.",
        ],
    )
