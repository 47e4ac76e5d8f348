"""Getting back in: a citizen's new access token by a code to a verified contact, and the city office's
operator routes for a citizen who cannot do even that."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from hlasatel_registry.entrypoints.api import IpDep, OperatorKeyDep, RegistryDep
from hlasatel_registry.handlers import access, operators
from hlasatel_registry.schemas import (
    AccessCodeRequest,
    AccessGranted,
    AccessTokenRequest,
    ContactLookup,
    ErasureRequest,
    OperatorAuditRead,
    SubscriptionFound,
)

Responses = dict[int | str, dict[str, Any]]
_LIMITED: Responses = {429: {"description": "Too many attempts; Retry-After says when to try again"}}
_OPERATOR: Responses = {401: {"description": "No valid operator key"}}

router = APIRouter(prefix="/v1")


_ON_ITS_WAY: Responses = {
    202: {
        "content": {
            "application/json": {
                "example": {"status": "if the contact is a verified one, a code is on its way"}
            }
        }
    }
}


@router.post("/access/code", status_code=202, tags=["access"], responses={**_LIMITED, **_ON_ITS_WAY})
async def request_access_code(data: AccessCodeRequest, registry: RegistryDep, ip: IpDep) -> dict[str, str]:
    """Send a code to a verified phone number or e-mail address, for a new access token; the answer is
    the same whether or not the contact is registered."""
    await access.request_access_code(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        channel=data.channel,
        value=data.value,
        ip=ip,
    )
    return {"status": "if the contact is a verified one, a code is on its way"}


@router.post(
    "/access/token",
    tags=["access"],
    responses={**_LIMITED, 422: {"description": "Wrong code, or no code was sent"}},
)
async def grant_access(data: AccessTokenRequest, registry: RegistryDep, ip: IpDep) -> AccessGranted:
    """A new access token for each subscription with this contact, once its code is right; the old
    tokens stop working."""
    return await access.grant_access(
        sessions=registry.sessions,
        settings=registry.settings,
        channel=data.channel,
        value=data.value,
        code=data.code,
        ip=ip,
    )


@router.post("/operator/lookup", tags=["operators"], responses=_OPERATOR)
async def operator_lookup(
    data: ContactLookup, registry: RegistryDep, key: OperatorKeyDep
) -> list[SubscriptionFound]:
    """The subscriptions with this phone number or e-mail address, for an operator helping a citizen at
    the office (operator key; audited with the reason)."""
    return await operators.lookup(sessions=registry.sessions, key=key, question=data)


@router.post(
    "/operator/subscribers/{subscriber_id}/erase",
    status_code=204,
    tags=["operators"],
    responses={**_OPERATOR, 404: {"description": "No such subscriber"}},
)
async def operator_erase(
    subscriber_id: UUID, data: ErasureRequest, registry: RegistryDep, key: OperatorKeyDep
) -> Response:
    """Erase a subscription whose owner lost the access token (operator key; audited with the reason)."""
    await operators.erase_subscription(
        sessions=registry.sessions,
        relay=registry.relay,
        key=key,
        subscriber_id=subscriber_id,
        reason=data.reason,
    )
    return Response(status_code=204)


@router.get("/operator/audit", tags=["operators"], responses=_OPERATOR)
async def operator_audit(
    registry: RegistryDep, key: OperatorKeyDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[OperatorAuditRead]:
    """What the operators did, newest first (operator key)."""
    return await operators.audit_log(sessions=registry.sessions, key=key, limit=limit)
