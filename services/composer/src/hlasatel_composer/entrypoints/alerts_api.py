"""The utilities' and agencies' routes: alerts as JSON or CAP 1.2, and the templates they are written in."""

import hashlib
from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import JSONResponse, Response

from hlasatel_composer.domain.alerts import AlertEvent, AlertState
from hlasatel_composer.domain.templates import AlertKind, TemplateText
from hlasatel_composer.entrypoints.deps import ComposerDep, PrincipalDep
from hlasatel_composer.entrypoints.errors import PayloadTooLarge
from hlasatel_composer.handlers import alerts, cap_alerts, public, templates
from hlasatel_composer.handlers.idempotency import Answer, idempotent
from hlasatel_composer.schemas import AddressMessagesRead, AlertRead, CapReceived, TemplateRead
from hlasatel_contracts import Language
from hlasatel_contracts.addresses import MAX_CODE

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


_CAP_EXAMPLE = """<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>2.49.0.0.203.0.CZ.220117170544.XOCZ50_OKPR</identifier>
  <sender>chmi@chmi.cz</sender><sent>2022-01-17T17:05:44+01:00</sent>
  <status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>cs</language><category>Met</category><event>Silný vítr</event>
    <urgency>Immediate</urgency><severity>Moderate</severity><certainty>Likely</certainty>
    <expires>2022-01-17T19:00:00+01:00</expires>
    <area><areaDesc>Liberecký kraj</areaDesc>
      <geocode><valueName>CISORP</valueName><value>5105</value></geocode></area>
  </info>
</alert>"""


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it grows past the limit rather than after it is all read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the document is {declared} bytes; at most {limit} are accepted")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the document is larger than {limit} bytes, the most accepted")
    return bytes(body)


@router.post(
    "/alerts/cap",
    status_code=status.HTTP_201_CREATED,
    response_model=CapReceived,
    tags=["alerts"],
    responses={
        **_ALERT_ANSWERS,
        200: {"description": "Nothing new was sent; `outcome` says why", "model": CapReceived},
        413: {"description": "The document is too large"},
        422: {"description": "Not CAP 1.2: the schema error, a DOCTYPE, or XML that is not well-formed"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/cap+xml": {"schema": {"type": "string"}, "example": _CAP_EXAMPLE},
                "application/xml": {"schema": {"type": "string"}, "example": _CAP_EXAMPLE},
            },
        }
    },
)
async def post_cap(
    request: Request, composer: ComposerDep, principal: PrincipalDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """A CAP 1.2 alert (utility): validated against the OASIS schema and parsed without entities; an
    Alert, an Update (of a known alert, or a new one) or a Cancel with references. Warnings that name
    Liberec by geocode (ČHMÚ's CISORP 5105) go to the whole city; polygons and circles to the houses
    inside them."""
    data = await _body(request, composer.settings.cap_max_bytes)

    async def run() -> tuple[int, dict[str, Any]]:
        received, created = await cap_alerts.receive_cap(
            deps=composer.alert_deps(),
            principal=principal,
            data=data,
            max_bytes=composer.settings.cap_max_bytes,
        )
        return (201 if created else 200), received.model_dump(mode="json")

    return _answer(
        await idempotent(
            sessions=composer.sessions,
            key_id=principal.key_id,
            idempotency_key=idempotency_key,
            fingerprint=hashlib.sha256(data).hexdigest(),
            run=run,
        )
    )


@router.get("/public/feed.atom", tags=["public"], response_class=Response)
async def public_feed(request: Request, composer: ComposerDep) -> Response:
    """Every public message of the city, newest first, as Atom; no key needed."""
    base = composer.settings.public_base_url.rstrip("/")
    body = await public.feed(sessions=composer.sessions, base_url=base, self_link=str(request.url))
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get(
    "/public/messages/{message_id}.cap",
    tags=["public"],
    response_class=Response,
    responses={404: {"description": "No such public message"}},
)
async def public_cap(message_id: UUID, composer: ComposerDep) -> Response:
    """A public message as a CAP 1.2 document; no key needed."""
    body = await public.message_cap(
        sessions=composer.sessions, message_id=message_id, sender=composer.settings.cap_sender
    )
    return Response(body, media_type="application/cap+xml; charset=utf-8")


@router.get(
    "/public/addresses/{code}/alerts",
    tags=["public"],
    responses={404: {"description": "No such address point in the city's register"}},
)
async def public_address_messages(
    code: Annotated[
        int, Path(ge=1, le=MAX_CODE, description="RÚIAN address point code", examples=[23657235])
    ],
    composer: ComposerDep,
) -> AddressMessagesRead:
    """The city's public messages in force now that concern this address point (an outage there, a
    warning for its area), newest first, with their CAP documents and the Atom feed; no key needed. The
    address point code comes from the registry's address search."""
    return await public.address_messages(
        sessions=composer.sessions,
        code=code,
        base_url=composer.settings.public_base_url.rstrip("/"),
        current_for=timedelta(days=composer.settings.public_current_days),
    )


@router.get("/alerts", tags=["alerts"])
async def list_alerts(
    composer: ComposerDep,
    principal: PrincipalDep,
    state: AlertState | None = None,
    waiting: Annotated[bool, Query(description="Only those waiting for an approver")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AlertRead]:
    """The newest alerts first with their chains of messages: a utility's own, or those the press office
    may see (utility)."""
    return await alerts.list_alerts(
        uow=composer.uow, principal=principal, state=state, waiting=waiting, limit=limit
    )


@router.get("/alerts/{event_id}", tags=["alerts"], responses={404: {"description": "No such alert"}})
async def get_alert(event_id: str, composer: ComposerDep, principal: PrincipalDep) -> AlertRead:
    """An alert of this key by its event id, with its messages (utility)."""
    return await alerts.get_alert(uow=composer.uow, principal=principal, event_id=event_id)


@router.get("/templates", tags=["templates"])
async def list_templates(composer: ComposerDep, principal: PrincipalDep) -> list[TemplateRead]:
    """Every alert template per language and kind, with an example rendering (editor)."""
    return await templates.list_templates(
        sessions=composer.sessions, renderer=composer.renderer, principal=principal
    )


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
        sessions=composer.sessions,
        renderer=composer.renderer,
        principal=principal,
        language=language,
        kind=kind,
        text=text,
    )


@router.delete("/templates/{language}/{kind}", tags=["templates"])
async def reset_template(
    language: Language, kind: AlertKind, composer: ComposerDep, principal: PrincipalDep
) -> TemplateRead:
    """Back to the template Hlasatel ships (admin)."""
    return await templates.reset_template(
        sessions=composer.sessions,
        renderer=composer.renderer,
        principal=principal,
        language=language,
        kind=kind,
    )
