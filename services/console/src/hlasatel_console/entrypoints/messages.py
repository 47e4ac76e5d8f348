"""A message after it was written: the approver's check and decision, the live report with its map and the
door-to-door list, cancelling it, and an update or an all-clear to exactly the same recipients."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hlasatel_console.domain import check
from hlasatel_console.domain.compose import build, from_post
from hlasatel_console.domain.report import still_arriving
from hlasatel_console.entrypoints.compose import refused_fields
from hlasatel_console.entrypoints.web import (
    Editor,
    FormDep,
    NotAllowed,
    Page,
    PageDep,
    Staff,
    StaffDep,
    redirect,
)
from hlasatel_console.labels import N_, choices, script_words, word
from hlasatel_web.api import ApiRefused
from hlasatel_web.i18n import Lang

router = APIRouter()
Json = dict[str, Any]
DONE_NOTICES = {
    "submitted": N_("The message waits for an approver. You can follow it here."),
    "approved": N_("Approved: the message is going out. The report below fills in as providers answer."),
    "rejected": N_("Rejected: the author sees your reason. Nothing was sent."),
    "returned": N_("Returned to its author with your reason."),
    "cancelled": N_("Cancelled: nothing more of it goes out."),
    "follow_up": N_(
        "The update waits for an approver; it goes to exactly the recipients of the message it follows."
    ),
}
FILTERS = {"waiting": "draft", "sending": "sending", "sent": "done", "all": None}


@router.get("/messages", response_class=HTMLResponse)
async def list_messages(
    page: PageDep, staff: Editor, show: Annotated[str, Query(max_length=20)] = "all"
) -> HTMLResponse:
    state = FILTERS.get(show)
    found = await page.console.composer.messages(staff.token, state=state, limit=100)
    return page.render(
        "messages.html",
        h1=page.lang.gettext("Messages"),
        messages=found,
        show=show if show in FILTERS else "all",
    )


async def _preview_of(page: Page, staff: Staff, message: Json) -> Json | None:
    """What the message would reach now, for a draft with a target of its own."""
    if message["state"] != "draft" or not message.get("target"):
        return None
    request = {
        "target": message["target"],
        "category": message["category"],
        "severity": message["severity"],
        "content": message["content"],
        "sms_transliterate": message["sms_transliterate"],
    }
    return await page.console.composer.preview(staff.token, request)


def _state(message: Json) -> str:
    review = message.get("review") or {}
    return (
        "returned"
        if message["state"] == "draft" and review.get("decision") == "returned"
        else message["state"]
    )


async def render_message(
    page: Page, staff: Staff, message_id: str, *, status_code: int = 200, done: str | None = None
) -> HTMLResponse:
    lang = page.lang
    message = await page.console.composer.message(staff.token, message_id)
    preview = await _preview_of(page, staff, message)
    report = (
        None
        if message["state"] in ("draft", "rejected")
        else await page.console.composer.report(staff.token, message_id)
    )
    notice = lang.gettext(DONE_NOTICES[done]) if done in DONE_NOTICES else None
    return page.render(
        "message.html",
        h1=_title(message, lang),
        message=message,
        state=_state(message),
        preview=preview,
        summary=check.summary(preview, lang) if preview else None,
        report=report,
        live=still_arriving(message),
        own=message.get("author_key_id") == staff.key_id,
        version=check.version_of(message),
        notice=notice,
        status_code=status_code,
    )


def _title(message: Json, lang: Lang) -> str:
    cs = message["content"].get("cs") or {}
    push, email = cs.get("push") or {}, cs.get("email") or {}
    text = " ".join(str(push.get("title") or email.get("subject") or cs.get("sms") or "").split())
    short = text if len(text) <= 60 else text[:57].rstrip() + "…"
    return lang.gettext("Message: %(text)s", text=short) if short else lang.gettext("Message")


@router.get("/messages/{message_id}", response_class=HTMLResponse)
async def message_page(
    message_id: str,
    page: PageDep,
    staff: Editor,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    return await render_message(page, staff, message_id, done=done)


@router.post("/messages/{message_id}/decide", response_class=HTMLResponse)
async def decide(message_id: str, page: PageDep, fields: FormDep, staff: StaffDep) -> Response:
    """An approver's decision: approve (confirming the reach above four eyes), reject or return with a
    reason; cancel. The composer has the last word, and its reason is shown."""
    lang = page.lang
    decision = str(fields.get("decision") or "")
    reason = str(fields.get("reason_" + decision) or "").strip()
    errors: dict[str, str] = {}
    if decision not in ("approve", "reject", "return", "cancel"):
        errors["form"] = lang.gettext("Choose what to do with the message")
    elif not staff.may("approver"):
        raise NotAllowed("approver")
    elif decision in ("reject", "return") and not reason:
        errors["reason_" + decision] = lang.gettext("Say why, so that the author knows what to do")
    elif decision == "approve":
        message = await page.console.composer.message(staff.token, message_id)
        preview = await _preview_of(page, staff, message)
        # the author is refused by the composer whatever they send (four eyes): its reason is the one to show
        own = message.get("author_key_id") == staff.key_id
        if not own and fields.get("version") != check.version_of(message):
            errors["form"] = lang.gettext(
                "The message was changed after you opened it. Read it again as it is now before you "
                "approve it."
            )
        elif preview and preview.get("four_eyes") and not fields.get("confirm_reach"):
            errors["confirm_reach"] = lang.gettext("Confirm that you understand how many people this reaches")
    if not errors:
        try:
            await page.console.composer.decide(staff.token, message_id, decision, reason or None)
        except ApiRefused as refused:
            errors["form"] = refused.reason
    if errors:
        page.errors = errors
        return await render_message(page, staff, message_id, status_code=422)
    done = {"approve": "approved", "reject": "rejected", "return": "returned", "cancel": "cancelled"}[
        decision
    ]
    return redirect(f"/messages/{message_id}?done={done}")


@router.get("/messages/{message_id}/unreached.csv")
async def unreached_csv(message_id: str, page: PageDep, staff: Editor) -> Response:
    """The households not reached, for a door-to-door visit: the composer's CSV, as it made it."""
    answer = await page.console.composer.unreached_csv(staff.token, message_id)
    disposition = answer.headers.get(
        "content-disposition", f'attachment; filename="unreached-{message_id}.csv"'
    )
    return Response(
        answer.content, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


@router.get("/api/messages/{message_id}/report")
async def live_report(message_id: str, page: PageDep, staff: StaffDep) -> JSONResponse:
    """The report's markup as it is now, for the page's script to replace while the message goes out."""
    message = await page.console.composer.message(staff.token, message_id)
    report = await page.console.composer.report(staff.token, message_id)
    context = {
        "message": message,
        "report": report,
        "lang": page.lang,
        "_": page.lang.gettext,
        "ngettext": page.lang.ngettext,
        "word": lambda code: word(page.lang, code),
    }
    templates = page.console.templates
    return JSONResponse(
        {
            "html": templates.get_template("_report.html").render(**context),
            "unreached": templates.get_template("_unreached.html").render(**context),
            "live": still_arriving(message),
            "state": message["state"],
        }
    )


@router.get("/api/messages/{message_id}/map")
async def message_map(message_id: str, page: PageDep, staff: StaffDep) -> JSONResponse:
    """The message's households on the map: reached, subscribed but not reached, nobody subscribed."""
    message = await page.console.composer.message(staff.token, message_id)
    composer = page.console.composer
    unreached = await composer.unreached_geojson(staff.token, message_id)
    reasons = {
        feature["id"]: feature["properties"].get("reason")
        for feature in unreached.get("features", [])
        if feature.get("geometry")
    }
    target = message.get("target")
    everything = await composer.target_geojson(staff.token, target) if target else unreached
    outlines, points = [], []
    for feature in everything.get("features", []):
        properties = feature.get("properties", {})
        if properties.get("kind") == "district":
            outlines.append(feature)
        elif feature.get("geometry"):
            longitude, latitude = feature["geometry"]["coordinates"]
            state = reasons.get(feature["id"], "reached")
            points.append([round(longitude, 6), round(latitude, 6), properties.get("address"), state])
    return JSONResponse({"outlines": {"type": "FeatureCollection", "features": outlines}, "points": points})


@router.get("/messages/{message_id}/follow-up", response_class=HTMLResponse)
async def follow_up_page(
    message_id: str,
    page: PageDep,
    staff: Editor,
    kind: Annotated[str, Query(pattern="^(update|all-clear)$")] = "update",
) -> HTMLResponse:
    message = await page.console.composer.message(staff.token, message_id)
    # an update goes out as the message it follows did: without diacritics if that one did
    return _render_follow_up(page, message, kind, {}, transliterate=bool(message.get("sms_transliterate")))


def _render_follow_up(
    page: Page,
    message: Json,
    kind: str,
    content: dict[str, dict[str, str]],
    *,
    transliterate: bool,
    status_code: int = 200,
) -> HTMLResponse:
    lang = page.lang
    h1 = lang.gettext("All-clear") if kind == "all-clear" else lang.gettext("Update of the message")
    return page.render(
        "follow_up.html", h1=h1, message=message, kind=kind, content=content, transliterate=transliterate,
        languages=choices(lang, ("cs", "en", "de", "pl", "uk")),
        words=script_words(lang), status_code=status_code,
    )  # fmt: skip


@router.post("/messages/{message_id}/follow-up", response_class=HTMLResponse)
async def follow_up(message_id: str, page: PageDep, fields: FormDep, staff: Editor) -> Response:
    """An update or an all-clear: a draft that reaches exactly whoever the message reached."""
    kind = "all-clear" if fields.get("kind") == "all-clear" else "update"
    form = from_post(fields)
    built = build(form, page.lang.gettext)
    errors = {
        key: value
        for key, value in built.errors.items()
        if key.startswith(("cs.", "en.", "de.", "pl.", "uk."))
    }
    message = await page.console.composer.message(staff.token, message_id)
    if not errors:
        body: Json = {"content": built.draft["content"], "sms_transliterate": form.sms_transliterate}
        if kind == "all-clear":
            body["severity"] = "info"
        try:
            made = await page.console.composer.follow_up(staff.token, message_id, body)
            return redirect(f"/messages/{made['id']}?done=follow_up")
        except ApiRefused as refused:
            errors = refused_fields(refused)
    page.errors = errors
    return _render_follow_up(
        page, message, kind, form.content, transliterate=form.sms_transliterate, status_code=422
    )
