"""Writing a message: its content and its target on one page with a live preview beside the target, a
check page that says what will happen, and the draft sent for approval. Without JavaScript every step
works by its buttons; with it, the counts and the map follow the typing."""

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData

from hlasatel_console.adapters.maps import map_features
from hlasatel_console.domain import check
from hlasatel_console.domain.compose import (
    ComposeForm,
    StreetRow,
    build,
    carried,
    field_of,
    from_draft,
    from_post,
)
from hlasatel_console.entrypoints.web import (
    Editor,
    FormDep,
    Page,
    PageDep,
    Staff,
    StaffDep,
    redirect,
)
from hlasatel_console.labels import choices, script_words, word
from hlasatel_contracts import CATEGORIES
from hlasatel_web.api import ApiRefused

router = APIRouter()
Json = dict[str, Any]


def refused_fields(refused: ApiRefused) -> dict[str, str]:
    """The composer's reasons against the form's fields (its locations are the draft's)."""
    if not refused.fields:
        return {"form": refused.reason}
    found: dict[str, str] = {}
    for location, message in refused.fields.items():
        found.setdefault(field_of(location), message)
    return found


async def render_compose(
    page: Page,
    form: ComposeForm,
    *,
    message: Json | None = None,
    preview: Json | None = None,
    found: list[Json] | None = None,
    query: str = "",
    street_rows: int = 0,
    status_code: int = 200,
) -> HTMLResponse:
    lang = page.lang
    names = await page.console.gazetteer.names()
    h1 = lang.gettext("Change the message") if message else lang.gettext("New message")
    return page.render(
        "compose.html",
        h1=h1,
        form=form,
        message=message,
        preview=preview,
        summary=check.summary(preview, lang) if preview else None,
        found=found,
        query=query,
        rows=form.street_rows(max(street_rows, 3)),
        excluded_rows=form.excluded_rows(),
        districts=names.districts,
        streets=names.streets,
        categories=choices(lang, CATEGORIES),
        severities=choices(lang, ("info", "warning", "emergency")),
        roles=choices(lang, ("resident", "owner", "workplace", "caregiver")),
        languages=choices(lang, ("cs", "en", "de", "pl", "uk")),
        words=script_words(lang),
        status_code=status_code,
    )


@router.get("/messages/new", response_class=HTMLResponse)
async def new_message(page: PageDep, staff: Editor) -> HTMLResponse:
    return await render_compose(page, ComposeForm())


def _preview_request(built: Json) -> Json:
    request: Json = {"target": built["target"], "category": built["category"], "severity": built["severity"]}
    if "cs" in built["content"]:
        request["content"] = built["content"]
        request["sms_transliterate"] = built["sms_transliterate"]
    return request


@router.post("/messages/new", response_class=HTMLResponse)
async def compose_step(page: PageDep, fields: FormDep, staff: Editor) -> Response:
    """The buttons of the compose page without JavaScript: another street row, an address search, an
    update of the preview."""
    form = from_post(fields)
    action, rows = fields.get("action"), _int(fields.get("street_count"))
    message = await _editing(page, fields)
    if action == "add_street":
        return await render_compose(page, form, message=message, street_rows=max(rows, len(form.streets)) + 1)
    if action == "find_address":
        query = str(fields.get("address_query") or "").strip()
        found = await page.console.registry.search(query) if query else []
        if not query:
            page.errors = {"address_query": page.lang.gettext("Type an address to search for")}
        return await render_compose(page, form, message=message, found=found, query=query, street_rows=rows)
    built = build(form, page.lang.gettext)
    preview = None
    if "targets" not in built.errors:
        try:
            preview = await page.console.composer.preview(staff.token, _preview_request(built.draft))
        except ApiRefused as refused:
            built.errors.update(refused_fields(refused))
    page.errors = built.errors
    return await render_compose(
        page, form, message=message, preview=preview, street_rows=rows, status_code=200
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


async def _editing(page: Page, fields: FormData) -> Json | None:
    message_id = fields.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        return None
    assert page.staff is not None
    return await page.console.composer.message(page.staff.token, message_id)


@router.post("/messages/check", response_class=HTMLResponse)
async def check_page(page: PageDep, fields: FormDep, staff: Editor) -> Response:
    """What will happen, said in one sentence and shown in full; an empty target, a name the register does
    not know and a repeat of a message sent within the hour go back to the form."""
    form = from_post(fields)
    message = await _editing(page, fields)
    built = build(form, page.lang.gettext)
    rows = _int(fields.get("street_count"))
    if built.errors:
        page.errors = built.errors
        return await render_compose(page, form, message=message, street_rows=rows, status_code=422)
    try:
        preview = await page.console.composer.preview(staff.token, _preview_request(built.draft))
    except ApiRefused as refused:
        page.errors = refused_fields(refused)
        return await render_compose(page, form, message=message, street_rows=rows, status_code=422)
    problems = await _problems(page, staff, built.draft, preview, editing=message["id"] if message else None)
    if problems:
        page.errors = problems
        return await render_compose(
            page, form, message=message, preview=preview, street_rows=rows, status_code=422
        )
    return _render_check(page, built.draft, preview, message=message)


async def _problems(
    page: Page, staff: Staff, draft: Json, preview: Json, *, editing: str | None
) -> dict[str, str]:
    lang = page.lang
    problems: dict[str, str] = {}
    for unknown in preview.get("unknown", []):
        suggestion = ", ".join(unknown["suggestions"][:3])
        problems["targets"] = lang.gettext(
            "The register has no %(kind)s '%(name)s'", kind=word(lang, unknown["kind"]), name=unknown["name"]
        ) + (lang.gettext(" (did you mean %(names)s?)", names=suggestion) if suggestion else "")
    if (refusal := check.refusal(preview, lang)) is not None:
        problems.setdefault("targets", refusal)
    now = datetime.now(UTC)
    recent = await page.console.composer.messages(staff.token, since=now - check.DUPLICATE_WINDOW, limit=200)
    duplicate = check.duplicate_of(draft, recent, now=now, editing=editing)
    if duplicate is not None:
        problems["form"] = lang.gettext(
            "The same message went to the same households at %(time)s (message by %(author)s). "
            "Send an update of it instead, or change the text or the target.",
            time=lang.time(duplicate["created_at"]),
            author=duplicate["author"],
        )
    return problems


def _render_check(page: Page, draft: Json, preview: Json, *, message: Json | None) -> HTMLResponse:
    lang = page.lang
    return page.render(
        "check.html",
        h1=lang.gettext("Check the message before you send it"),
        draft=draft,
        carried=carried(draft),
        preview=preview,
        summary=check.summary(preview, lang),
        message=message,
    )


def _draft_of(fields: FormData) -> Json:
    try:
        draft = json.loads(str(fields.get("draft") or ""))
    except ValueError:
        draft = None
    if not isinstance(draft, dict):
        raise ApiRefused(422, "the draft did not come back whole: start the message again")
    return draft


@router.post("/messages/submit")
async def submit(page: PageDep, fields: FormDep, staff: Editor) -> Response:
    """The checked draft to the composer: a new one waits for an approver; a changed one again."""
    draft = _draft_of(fields)
    message_id = fields.get("message_id")
    try:
        if isinstance(message_id, str) and message_id:
            changes = {
                key: draft.get(key) for key in ("category", "severity", "content", "sms_transliterate")
            }
            changes |= {key: draft.get(key) for key in ("send_at", "expires_at")}
            message = await page.console.composer.message(staff.token, message_id)
            if message.get("follows") is None:
                changes["target"] = draft["target"]
            saved = await page.console.composer.update(staff.token, message_id, changes)
        else:
            saved = await page.console.composer.create(staff.token, draft)
    except ApiRefused as refused:
        # a draft being changed stays that draft: sent again, it must not become a second message
        page.errors = refused_fields(refused)
        editing = await _editing(page, fields)
        return await render_compose(page, from_draft(draft), message=editing, status_code=refused.status)
    return redirect(f"/messages/{saved['id']}?done=submitted")


@router.post("/messages/change", response_class=HTMLResponse)
async def change(page: PageDep, fields: FormDep, staff: Editor) -> HTMLResponse:
    """Back from the check page to the form, as it was."""
    return await render_compose(page, from_draft(_draft_of(fields)), message=await _editing(page, fields))


@router.get("/messages/{message_id}/edit", response_class=HTMLResponse)
async def edit(message_id: str, page: PageDep, staff: Editor) -> HTMLResponse:
    """A draft opened again by its author (the composer lets nobody else change it: four eyes compare the
    author with the approver)."""
    message = await page.console.composer.message(staff.token, message_id)
    if message["state"] != "draft" or message.get("alert_id"):
        raise ApiRefused(409, page.lang.gettext("Only a draft of the press office can be changed."))
    if message.get("author_key_id") != staff.key_id:
        raise ApiRefused(
            403,
            page.lang.gettext(
                "Only its author, %(name)s, changes a draft: return it to them with a reason.",
                name=message.get("author") or "",
            ),
        )
    return await render_compose(page, from_draft(message), message=message)


@router.post("/api/preview")
async def live_preview(page: PageDep, fields: FormDep, staff: StaffDep) -> JSONResponse:
    """The preview panel for the page's script: the same markup the button renders."""
    if not staff.may("editor"):
        return JSONResponse({"detail": "editors only"}, status_code=403)
    form = from_post(fields)
    built = build(form, page.lang.gettext)
    nothing_chosen = not built.draft["target"]
    preview, errors = None, {k: v for k, v in built.errors.items() if k in ("targets", "polygons", "circles")}
    if nothing_chosen:
        errors = {}
    if not errors and not nothing_chosen:
        try:
            preview = await page.console.composer.preview(staff.token, _preview_request(built.draft))
        except ApiRefused as refused:
            errors = refused_fields(refused)
    html = page.console.templates.get_template("_preview.html").render(
        preview=preview,
        summary=check.summary(preview, page.lang) if preview else None,
        problems=errors,
        lang=page.lang,
        _=page.lang.gettext,
        ngettext=page.lang.ngettext,
    )
    return JSONResponse({"html": html, "target": built.draft["target"] if preview else None})


@router.post("/api/map")
async def live_map(page: PageDep, fields: FormDep, staff: StaffDep) -> JSONResponse:
    """The map's features for the target as typed: the districts' outlines, the targeted points, and the
    other points of the districts they lie in."""
    if not staff.may("editor"):
        return JSONResponse({"detail": "editors only"}, status_code=403)
    built = build(from_post(fields), page.lang.gettext)
    target = built.draft["target"] if "targets" not in built.errors else None
    return JSONResponse(await map_features(page.console.composer, staff.token, target))


__all__ = ["StreetRow", "render_compose", "router"]
