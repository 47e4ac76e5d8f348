"""The composer's HTTP routes: they only call handlers."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError

from hlasatel_composer.domain.messages import MessageState
from hlasatel_composer.domain.targeting import Target
from hlasatel_composer.entrypoints.deps import ComposerDep, PrincipalDep
from hlasatel_composer.handlers import drafts, history, keys, messages, preview, reports, targets
from hlasatel_composer.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    AuditRead,
    FollowUpCreate,
    MessageCreate,
    MessageRead,
    MessageUpdate,
    PreviewRead,
    PreviewRequest,
    ReportRead,
    ReviewCreate,
    TargetRequest,
)
from hlasatel_contracts import Language

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid API key"},
    403: {"description": "The key's role does not allow this"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {**_REFUSALS, 404: {"description": "No such message"}}

router = APIRouter(prefix="/v1", responses=_REFUSALS)


@router.post("/messages", status_code=status.HTTP_201_CREATED, tags=["messages"])
async def create_message(data: MessageCreate, composer: ComposerDep, principal: PrincipalDep) -> MessageRead:
    """Write a draft: content per channel and language, severity, category, target (editor)."""
    return await messages.create_message(uow=composer.uow, principal=principal, data=data)


@router.post(
    "/messages/{message_id}/approve",
    tags=["messages"],
    responses={**_NOT_FOUND, 409: {"description": "Not a draft"}},
)
async def approve_message(message_id: UUID, composer: ComposerDep, principal: PrincipalDep) -> MessageRead:
    """Approve a draft; its deliveries start going out at once, or at its send_at (approver; a large
    message or one to the whole city needs an approver other than its author)."""
    return await messages.approve_message(
        uow=composer.uow,
        principal=principal,
        message_id=message_id,
        four_eyes_threshold=composer.settings.four_eyes_threshold,
    )


@router.patch(
    "/messages/{message_id}",
    tags=["messages"],
    responses={**_NOT_FOUND, 409: {"description": "Not a draft, or an alert's message"}},
)
async def update_message(
    message_id: UUID, data: MessageUpdate, composer: ComposerDep, principal: PrincipalDep
) -> MessageRead:
    """Change a draft; a draft returned for changes waits for an approver again (editor)."""
    return await drafts.update_message(
        uow=composer.uow, principal=principal, message_id=message_id, data=data
    )


@router.post(
    "/messages/{message_id}/reject",
    tags=["messages"],
    responses={**_NOT_FOUND, 409: {"description": "Not a draft, or the approver wrote it"}},
)
async def reject_message(
    message_id: UUID, data: ReviewCreate, composer: ComposerDep, principal: PrincipalDep
) -> MessageRead:
    """Refuse a draft for good with a reason its author sees; nothing is sent (approver)."""
    return await drafts.reject_message(
        uow=composer.uow, principal=principal, message_id=message_id, reason=data.reason
    )


@router.post(
    "/messages/{message_id}/return",
    tags=["messages"],
    responses={
        **_NOT_FOUND,
        409: {"description": "Not a draft, an alert's message, or the approver wrote it"},
    },
)
async def return_message(
    message_id: UUID, data: ReviewCreate, composer: ComposerDep, principal: PrincipalDep
) -> MessageRead:
    """Hand a draft back to its author with what to change; it cannot be approved until changed
    (approver)."""
    return await drafts.return_message(
        uow=composer.uow, principal=principal, message_id=message_id, reason=data.reason
    )


@router.post(
    "/messages/{message_id}/cancel",
    tags=["messages"],
    responses={**_NOT_FOUND, 409: {"description": "Already cancelled"}},
)
async def cancel_message(message_id: UUID, composer: ComposerDep, principal: PrincipalDep) -> MessageRead:
    """Stop a message: nothing not yet handed to a provider goes out (approver)."""
    return await messages.cancel_message(
        uow=composer.uow,
        principal=principal,
        message_id=message_id,
    )


@router.post(
    "/messages/{message_id}/updates",
    status_code=status.HTTP_201_CREATED,
    tags=["messages"],
    responses={**_NOT_FOUND, 409: {"description": "The original has not been sent yet"}},
)
async def create_follow_up(
    message_id: UUID, data: FollowUpCreate, composer: ComposerDep, principal: PrincipalDep
) -> MessageRead:
    """Draft an update or an all-clear that reaches exactly the recipients of this message (editor)."""
    return await messages.create_follow_up(
        uow=composer.uow, principal=principal, message_id=message_id, data=data
    )


@router.get("/messages", tags=["messages"])
async def list_messages(
    composer: ComposerDep,
    principal: PrincipalDep,
    state: Annotated[MessageState | None, Query(description="'draft' is the approvers' queue")] = None,
    since: Annotated[datetime | None, Query(description="Written at or after this time")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[MessageRead]:
    """The newest messages first, optionally in one state (editor)."""
    return await messages.list_messages(
        uow=composer.uow, principal=principal, state=state, since=since, limit=limit
    )


@router.get("/messages/{message_id}", tags=["messages"], responses=_NOT_FOUND)
async def get_message(message_id: UUID, composer: ComposerDep, principal: PrincipalDep) -> MessageRead:
    """The message with its deliveries counted per channel and state (a utility: the messages of its own
    alerts; the press office: those within its key's categories and area)."""
    return await messages.get_message(uow=composer.uow, message_id=message_id, principal=principal)


@router.get("/messages/{message_id}/report", tags=["reports"], responses=_NOT_FOUND)
async def get_report(
    message_id: UUID,
    composer: ComposerDep,
    principal: PrincipalDep,
    unreached_limit: Annotated[
        int, Query(ge=0, le=20_000, description="How many of the households not reached to list")
    ] = 1000,
) -> ReportRead:
    """Live: deliveries per channel and state; every household of the register in the target, those
    reached, and those not, split into where someone subscribed and where nobody did."""
    return await reports.report(
        sessions=composer.sessions,
        principal=principal,
        message_id=message_id,
        unreached_limit=unreached_limit,
    )


@router.get(
    "/messages/{message_id}/report.csv",
    tags=["reports"],
    response_class=PlainTextResponse,
    responses={**_NOT_FOUND, 200: {"content": {"text/csv": {}}, "description": "One row per household"}},
)
async def get_report_csv(
    message_id: UUID, composer: ComposerDep, principal: PrincipalDep
) -> PlainTextResponse:
    """The report per household as CSV."""
    body = await reports.report_csv(sessions=composer.sessions, principal=principal, message_id=message_id)
    return PlainTextResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="report-{message_id}.csv"'},
    )


@router.get(
    "/messages/{message_id}/unreached.csv",
    tags=["reports"],
    response_class=PlainTextResponse,
    responses={
        **_NOT_FOUND,
        200: {"content": {"text/csv": {}}, "description": "One row per household nobody was reached at"},
    },
)
async def get_unreached_csv(
    message_id: UUID, composer: ComposerDep, principal: PrincipalDep
) -> PlainTextResponse:
    """The households nobody was reached at, sorted by district, street and house number (street, number,
    district, PSČ, reason): the list for a door-to-door round."""
    body = await reports.unreached_csv(sessions=composer.sessions, principal=principal, message_id=message_id)
    return PlainTextResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="unreached-{message_id}.csv"'},
    )


@router.get(
    "/messages/{message_id}/unreached.geojson",
    tags=["reports"],
    response_class=JSONResponse,
    responses={
        **_NOT_FOUND,
        200: {"content": {"application/geo+json": {}}, "description": "A FeatureCollection of points"},
    },
)
async def get_unreached_geojson(
    message_id: UUID, composer: ComposerDep, principal: PrincipalDep
) -> JSONResponse:
    """The households nobody was reached at, as GeoJSON points for a map."""
    body = await reports.unreached_geojson(
        sessions=composer.sessions, principal=principal, message_id=message_id
    )
    return JSONResponse(body, media_type="application/geo+json")


@router.post(
    "/targets/preview",
    tags=["targets"],
    responses={429: {"description": "The key's previews for this minute are used up; see Retry-After"}},
)
async def preview_target(data: PreviewRequest, composer: ComposerDep, principal: PrincipalDep) -> PreviewRead:
    """How many address points, subscribers and deliveries per channel a target hits, its streets, and
    the SMS's length and segments per language."""
    return await preview.preview(
        sessions=composer.sessions,
        principal=principal,
        request=data,
        unsubscribe_base_url=composer.settings.unsubscribe_base_url,
        four_eyes_threshold=composer.settings.four_eyes_threshold,
        limiter=composer.limiter,
        per_minute=composer.settings.previews_per_minute,
    )


_GEOJSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/geo+json": {}}, "description": "A GeoJSON FeatureCollection"},
    422: {"description": "The target is not valid"},
}


@router.get("/targets/geojson", tags=["targets"], response_class=JSONResponse, responses=_GEOJSON)
async def target_geojson(
    composer: ComposerDep,
    principal: PrincipalDep,
    target: Annotated[
        str | None,
        Query(
            max_length=20_000,
            description='A target as JSON, e.g. {"streets": [{"name": "Masarykova"}]}; without it, the '
            "districts' outlines alone (for a long polygon, POST the target instead)",
        ),
    ] = None,
) -> JSONResponse:
    """The districts' outlines and the register's address points a target covers, for a map (editor)."""
    try:
        chosen = Target.model_validate_json(target) if target is not None else None
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("query", "target", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None
    body = await targets.target_geojson(sessions=composer.sessions, principal=principal, target=chosen)
    return JSONResponse(body, media_type="application/geo+json")


@router.post("/targets/geojson", tags=["targets"], response_class=JSONResponse, responses=_GEOJSON)
async def post_target_geojson(
    data: TargetRequest, composer: ComposerDep, principal: PrincipalDep
) -> JSONResponse:
    """As GET /v1/targets/geojson, for a target too long for a URL (editor)."""
    body = await targets.target_geojson(sessions=composer.sessions, principal=principal, target=data.target)
    return JSONResponse(body, media_type="application/geo+json")


@router.post("/keys", status_code=status.HTTP_201_CREATED, tags=["access"])
async def create_key(data: ApiKeyCreate, composer: ComposerDep, principal: PrincipalDep) -> ApiKeyCreated:
    """A new API key; the key is in this answer only (admin)."""
    return await keys.create_key(sessions=composer.sessions, principal=principal, data=data)


@router.get("/keys", tags=["access"])
async def list_keys(composer: ComposerDep, principal: PrincipalDep) -> list[ApiKeyRead]:
    """Every key with its role, never the key itself (admin)."""
    return await keys.list_keys(sessions=composer.sessions, principal=principal)


@router.post("/keys/{key_id}/revoke", tags=["access"], responses={404: {"description": "No such key"}})
async def revoke_key(key_id: UUID, composer: ComposerDep, principal: PrincipalDep) -> ApiKeyRead:
    """The key stops working at once (admin)."""
    return await keys.revoke_key(sessions=composer.sessions, principal=principal, key_id=key_id)


@router.get("/audit", tags=["access"])
async def audit_log(
    composer: ComposerDep,
    principal: PrincipalDep,
    message_id: UUID | None = None,
    actor: Annotated[
        str | None, Query(max_length=100, description="Part of the person's or key's name")
    ] = None,
    action: Annotated[
        str | None, Query(max_length=40, description="An action or its start: 'message.'")
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditRead]:
    """Who did what, when, to how many; newest first (admin)."""
    return await keys.audit_log(
        sessions=composer.sessions,
        principal=principal,
        found=keys.AuditFilter(message_id=message_id, actor=actor, action=action, since=since, until=until),
        limit=limit,
    )


@router.get("/subscribers/{subscriber_id}/deliveries", tags=["access"])
async def subscriber_deliveries(
    subscriber_id: UUID,
    composer: ComposerDep,
    principal: PrincipalDep,
    language: Annotated[Language, Query(description="The subscriber's language, for what was sent")] = (
        Language.CS
    ),
) -> dict[str, Any]:
    """What the composer keeps of one subscriber's deliveries and what each said, for their GDPR export and
    their list of messages (the registry's key, role `registry`, only)."""
    return await history.delivery_history(
        sessions=composer.sessions,
        principal=principal,
        subscriber_id=subscriber_id,
        keep_days=composer.settings.delivery_retention_days,
        language=language,
    )
