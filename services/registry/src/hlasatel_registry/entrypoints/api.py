"""The registry's HTTP routes: they only call handlers; errors become 4xx answers with a reason."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hlasatel_contracts.addresses import MAX_CODE
from hlasatel_registry.container import Registry
from hlasatel_registry.handlers import addresses, erasure, subscribers, verification
from hlasatel_registry.handlers.common import NotFound
from hlasatel_registry.schemas import (
    AddressNotFound,
    AddressRead,
    AddressSearchRead,
    CodeCheck,
    DistrictRead,
    StreetRead,
    SubscriberCreate,
    SubscriberCreated,
    SubscriberRead,
    SubscriberUpdate,
    VerificationRead,
)
from hlasatel_runtime.addresses import counted_as


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


# declared as the OpenAPI document's HTTP bearer security, so that a generated client sends the token
_access_token = HTTPBearer(
    scheme_name="access_token",
    description="The citizen's access token, returned once at registration: 'Authorization: Bearer …'",
    auto_error=False,
)
_operator_key = HTTPBearer(
    scheme_name="operator_key",
    description="A key of the city office's operators (`registry create-operator-key`)",
    auto_error=False,
)


def _bearer(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_access_token)],
) -> str | None:
    return credentials.credentials.strip() if credentials else None


def _operator(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_operator_key)],
) -> str | None:
    return credentials.credentials.strip() if credentials else None


RegistryDep = Annotated[Registry, Depends(_registry)]


def _ip(request: Request, registry: RegistryDep) -> str | None:
    """The caller as per-IP limits count them: the address our last trusted proxy saw (IPv6 by /64)."""
    peer = request.client.host if request.client else None
    return counted_as(registry.proxies.client(peer, request.headers))


TokenDep = Annotated[str | None, Depends(_bearer)]
OperatorKeyDep = Annotated[str | None, Depends(_operator)]
IpDep = Annotated[str | None, Depends(_ip)]

router = APIRouter(prefix="/v1")

Responses = dict[int | str, dict[str, Any]]
Code = Annotated[int, Path(ge=1, le=MAX_CODE, description="A RÚIAN code")]
_AUTH: Responses = {401: {"description": "Missing or wrong access token"}}
_LIMITED: Responses = {429: {"description": "Too many attempts; Retry-After says when to try again"}}
_INVALID: Responses = {422: {"description": "Invalid input: the field and the reason are named"}}
_NOT_FOUND: Responses = {404: {"description": "No such subscriber, contact or link"}}
_EXPORT: Responses = {
    200: {
        "content": {
            "application/json": {
                "example": {
                    "subscriber": {"id": "0b7d3c52-5d1e-4a43-9a3e-2f5d0c1b7a11", "version": 3},
                    "portal_subject": None,
                    "addresses": [
                        {
                            "address_point": 23657235,
                            "role": "resident",
                            "label": "Masarykova 522/12, Liberec I-Staré Město, 460 01",
                        }
                    ],
                    "contacts": [
                        {
                            "id": "5f0f5f7e-0a55-4b8e-9a9d-7b7f8c2d1e01",
                            "channel": "sms",
                            "value": "+420777123456",
                            "active": True,
                            "verified_at": "2026-11-22T08:01:00+00:00",
                            "deactivated_reason": None,
                        }
                    ],
                    "consents": [
                        {
                            "at": "2026-11-22T08:00:00+00:00",
                            "action": "registered",
                            "via": "api",
                            "terms": "hlasatel-2026",
                            "details": {"categories": ["water"]},
                        }
                    ],
                    "verification_codes_sent": [
                        {
                            "contact_id": "5f0f5f7e-0a55-4b8e-9a9d-7b7f8c2d1e01",
                            "sent_at": "2026-11-22T08:00:00+00:00",
                            "used_at": "2026-11-22T08:01:00+00:00",
                        }
                    ],
                    "deliveries": {
                        "held_by": "composer",
                        "kept_for_days": 7,
                        "deliveries": [
                            {
                                "message_id": "7d3f1c2a-9b4e-4f1a-8c2d-1e0f5a6b7c8d",
                                "category": "water",
                                "severity": "warning",
                                "kind": "alert",
                                "message_approved_at": "2026-11-23T07:00:00+00:00",
                                "channel": "sms",
                                "contact_id": "5f0f5f7e-0a55-4b8e-9a9d-7b7f8c2d1e01",
                                "state": "delivered",
                                "reason": None,
                                "updated_at": "2026-11-23T07:00:04+00:00",
                                "held_for_quiet_hours": False,
                                "address_points": [23657235],
                            }
                        ],
                    },
                }
            }
        }
    }
}
_SENT: Responses = {202: {"content": {"application/json": {"example": {"status": "sent"}}}}}
_NO_MATCH: Responses = {
    404: {"model": AddressNotFound, "description": "Nothing matches; the nearest addresses are suggested"}
}


@router.post("/subscribers", status_code=201, tags=["subscribers"], responses={**_INVALID, **_LIMITED})
async def register_subscriber(
    data: SubscriberCreate,
    registry: RegistryDep,
    ip: IpDep,
    x_portal_assertion: Annotated[
        str | None, Header(description="The citizen portal's signed JWT: makes the identity 'verified'")
    ] = None,
) -> SubscriberCreated:
    """Register a citizen at address points with contacts; phones and e-mail addresses get a code."""
    return await subscribers.register_subscriber(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        portal=registry.portal,
        data=data,
        assertion=x_portal_assertion,
        ip=ip,
    )


@router.get("/subscribers/{subscriber_id}", tags=["subscribers"], responses=_AUTH)
async def get_subscriber(subscriber_id: UUID, registry: RegistryDep, token: TokenDep) -> SubscriberRead:
    """The subscription, for its owner."""
    return await subscribers.get_subscriber(
        sessions=registry.sessions, settings=registry.settings, subscriber_id=subscriber_id, token=token
    )


@router.patch(
    "/subscribers/{subscriber_id}", tags=["subscribers"], responses={**_AUTH, **_INVALID, **_LIMITED}
)
async def update_subscriber(
    subscriber_id: UUID, data: SubscriberUpdate, registry: RegistryDep, token: TokenDep, ip: IpDep
) -> SubscriberRead:
    """Change language, categories, quiet hours or addresses, or add contacts."""
    return await subscribers.update_subscriber(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        token=token,
        data=data,
        ip=ip,
    )


@router.delete("/subscribers/{subscriber_id}", status_code=204, tags=["subscribers"], responses=_AUTH)
async def erase_subscriber(subscriber_id: UUID, registry: RegistryDep, token: TokenDep) -> Response:
    """Erase everything held about the subscriber; the city's systems are told by a tombstone."""
    await erasure.erase_subscriber(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        token=token,
    )
    return Response(status_code=204)


@router.get(
    "/subscribers/{subscriber_id}/export",
    tags=["subscribers"],
    responses={**_AUTH, **_EXPORT, 502: {"description": "The composer's delivery history could not be read"}},
)
async def export_subscriber(subscriber_id: UUID, registry: RegistryDep, token: TokenDep) -> dict[str, Any]:
    """Everything held about the subscriber, as JSON: the registry's records and the composer's delivery
    history."""
    return await erasure.export_subscriber(
        sessions=registry.sessions,
        settings=registry.settings,
        history=registry.history,
        subscriber_id=subscriber_id,
        token=token,
    )


@router.delete(
    "/subscribers/{subscriber_id}/contacts/{contact_id}",
    tags=["subscribers"],
    responses={**_AUTH, **_NOT_FOUND},
)
async def remove_contact(
    subscriber_id: UUID, contact_id: UUID, registry: RegistryDep, token: TokenDep
) -> SubscriberRead:
    """Remove one phone number, e-mail address or push token."""
    return await subscribers.remove_contact(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        token=token,
        contact_id=contact_id,
    )


@router.post(
    "/subscribers/{subscriber_id}/contacts/{contact_id}/code",
    status_code=202,
    tags=["verification"],
    responses={**_AUTH, **_LIMITED, **_INVALID, **_SENT},
)
async def request_code(
    subscriber_id: UUID, contact_id: UUID, registry: RegistryDep, token: TokenDep, ip: IpDep
) -> dict[str, str]:
    """Send a new verification code to a phone number or e-mail address."""
    await verification.request_code(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        contact_id=contact_id,
        token=token,
        ip=ip,
    )
    return {"status": "sent"}


@router.post(
    "/subscribers/{subscriber_id}/contacts/{contact_id}/verify",
    tags=["verification"],
    responses={**_INVALID, **_LIMITED},
)
async def verify_code(
    subscriber_id: UUID, contact_id: UUID, data: CodeCheck, registry: RegistryDep, ip: IpDep
) -> VerificationRead:
    """Confirm a contact with the code it received; the answer says only that it worked (the record is
    behind the access token)."""
    await verification.verify_code(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        contact_id=contact_id,
        code=data.code,
        ip=ip,
    )
    return VerificationRead(verified=True)


@router.get(
    "/addresses/search",
    tags=["addresses"],
    response_model=AddressSearchRead,
    responses={
        404: {"model": AddressNotFound, "description": "Nothing matches; the nearest addresses are suggested"}
    },
)
async def search_addresses(
    registry: RegistryDep,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["Masarykova 12, Liberec"])],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> AddressSearchRead | JSONResponse:
    """Find address points as people type them: with or without diacritics, 'č.p./č.o.', letters."""
    try:
        return await addresses.search_addresses(
            sessions=registry.sessions, search=registry.search, text=q, limit=limit
        )
    except addresses.NoAddressMatches as exc:
        body = AddressNotFound(detail=f"no address matches {q!r}", suggestions=exc.suggestions)
        return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_404_NOT_FOUND)


@router.get("/districts", tags=["addresses"])
async def list_districts(registry: RegistryDep) -> list[DistrictRead]:
    """The city's districts (části obce) with their address point counts."""
    return await addresses.list_districts(sessions=registry.sessions)


@router.get("/districts/{district_code}/streets", tags=["addresses"])
async def list_streets(district_code: Code, registry: RegistryDep) -> list[StreetRead]:
    """The streets of one district (část obce), for the composer's target picker."""
    return await addresses.list_streets(sessions=registry.sessions, district_code=district_code)


# after /addresses/search, which it would otherwise shadow
@router.get(
    "/addresses/{code}", tags=["addresses"], responses={404: {"description": "No such address point"}}
)
async def get_address(code: Code, registry: RegistryDep) -> AddressRead:
    """One RÚIAN address point of the gazetteer."""
    found = await addresses.get_address(sessions=registry.sessions, code=code)
    if found is None:
        raise NotFound("no such address point")
    return found
