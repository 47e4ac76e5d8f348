"""The utilities' and agencies' routes: alerts as JSON or CAP 1.2, and the templates they are written in."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, status
from fastapi.responses import JSONResponse

from hlasatel_composer.domain.alerts import AlertEvent
from hlasatel_composer.domain.templates import AlertKind, TemplateText
from hlasatel_composer.entrypoints.deps import ComposerDep, PrincipalDep
from hlasatel_composer.handlers import alerts, templates
from hlasatel_composer.handlers.idempotency import Answer, idempotent
from hlasatel_composer.schemas import AlertRead, TemplateRead
from hlasatel_contracts import Language

router = APIRouter(prefix="/v1")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Any unique string per request: a retry with the same key never makes a second alert",
    ),
]

_ALERT_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Nothing new: the same event was received before", "model": AlertRead},
    401: {"description": "No valid API key"},
    403: {"description": "The key may not send this category, or to these addresses"},
    409: {"description": "The event does not fit its alert (a second alert under one id, or ended)"},
    422: {"description": "The event is invalid, or the Idempotency-Key came with another request"},
    429: {"description": "The key's rate limit is used up; see Retry-After"},
}


def _answer(answer: Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


@router.post(
    "/alerts",
    status_code=status.HTTP_201_CREATED,
    response_model=AlertRead,
    tags=["alerts"],
    responses=_ALERT_ANSWERS,
)
async def post_alert(
    event: AlertEvent, composer: ComposerDep, principal: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """An outage, or an update, cancel or all-clear of one by its event id (utility): rendered by the
    city's templates into every channel and language, sent at once when its category is pre-approved for
    the key, otherwise put in the approvers' queue."""

    async def run() -> tuple[int, dict[str, Any]]:
        read, created = await alerts.receive_event(
            deps=composer.alert_deps(), principal=principal, event=event
        )
        return (201 if created else 200), read.model_dump(mode="json")

    return _answer(
        await idempotent(
            sessions=composer.sessions,
            key_id=principal.key_id,
            idempotency_key=idempotency_key,
            fingerprint=event.digest(),
            run=run,
        )
    )


@router.get("/alerts/{event_id}", tags=["alerts"], responses={404: {"description": "No such alert"}})
async def get_alert(event_id: str, composer: ComposerDep, principal: PrincipalDep) -> AlertRead:
    """An alert of this key by its event id, with its messages (utility)."""
    return await alerts.get_alert(sessions=composer.sessions, principal=principal, event_id=event_id)


@router.get("/templates", tags=["templates"])
async def list_templates(composer: ComposerDep, principal: PrincipalDep) -> list[TemplateRead]:
    """Every alert template per language and kind, with an example rendering (editor)."""
    return await templates.list_templates(sessions=composer.sessions, principal=principal)


@router.put(
    "/templates/{language}/{kind}",
    tags=["templates"],
    responses={422: {"description": "The template does not compile or render"}},
)
async def put_template(
    language: Language, kind: AlertKind, text: TemplateText, composer: ComposerDep, principal: PrincipalDep
) -> TemplateRead:
    """Replace a template: Jinja2 in a sandbox, checked on an example alert before it is kept (admin)."""
    return await templates.put_template(
        sessions=composer.sessions, principal=principal, language=language, kind=kind, text=text
    )


@router.delete("/templates/{language}/{kind}", tags=["templates"])
async def reset_template(
    language: Language, kind: AlertKind, composer: ComposerDep, principal: PrincipalDep
) -> TemplateRead:
    """Back to the template Hlasatel ships (admin)."""
    return await templates.reset_template(
        sessions=composer.sessions, principal=principal, language=language, kind=kind
    )
