"""The city office's front desk: a clerk of the city's staff registers a citizen in person. The codes go
to the citizen's own phone and mailbox, and the consent record names the clerk."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hlasatel_registry.entrypoints.api import RegistryDep
from hlasatel_registry.handlers import subscribers, verification
from hlasatel_registry.schemas import (
    AssistedCodeRequest,
    CodeCheck,
    SubscriberCreate,
    SubscriberCreated,
    VerificationRead,
)

_staff_session = HTTPBearer(
    scheme_name="staff_session",
    description="A staff member's session from the composer's sign-in (the console's): 'Bearer hss_…'",
    auto_error=False,
)


def _session(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_staff_session)],
) -> str | None:
    return credentials.credentials.strip() if credentials else None


StaffSessionDep = Annotated[str | None, Depends(_session)]
Responses = dict[int | str, dict[str, Any]]
_STAFF: Responses = {
    401: {"description": "No staff session, or one that has ended"},
    422: {"description": "Invalid input: the field and the reason are named"},
    429: {"description": "Too many codes to one contact; Retry-After says when to try again"},
    502: {"description": "The composer, which knows the staff, did not answer"},
}

router = APIRouter(prefix="/v1/staff", tags=["staff"])


@router.post("/subscribers", status_code=201, responses=_STAFF)
async def register_in_person(
    data: SubscriberCreate, registry: RegistryDep, session: StaffSessionDep
) -> SubscriberCreated:
    """Register a citizen who came to the office: their phone and e-mail get codes as anyone's do, which
    they read to the clerk; the consent record says 'in person, by <clerk>'."""
    clerk = await registry.staff.who(session)
    return await subscribers.register_subscriber(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        portal=registry.portal,
        data=data,
        assertion=None,
        ip=None,
        clerk=clerk,
    )


def _desk(clerk_id: str) -> str:
    """What the limits on codes count for a clerk's desk in place of an address: every counter of the office
    reaches the registry from the console's one address, and one counter's mistakes must not lock the rest."""
    return f"clerk:{clerk_id}"


@router.post(
    "/subscribers/{subscriber_id}/contacts/{contact_id}/code",
    status_code=202,
    responses={**_STAFF, 202: {"content": {"application/json": {"example": {"status": "sent"}}}}},
)
async def resend_in_person(
    subscriber_id: UUID,
    contact_id: UUID,
    data: AssistedCodeRequest,
    registry: RegistryDep,
    session: StaffSessionDep,
) -> dict[str, str]:
    """A new code for the citizen at the desk (their access token says whose record it is); the limits
    count per clerk."""
    clerk = await registry.staff.who(session)
    await verification.request_code(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        contact_id=contact_id,
        token=data.access_token,
        ip=_desk(clerk.id),
    )
    return {"status": "sent"}


@router.post("/subscribers/{subscriber_id}/contacts/{contact_id}/verify", responses=_STAFF)
async def verify_in_person(
    subscriber_id: UUID, contact_id: UUID, data: CodeCheck, registry: RegistryDep, session: StaffSessionDep
) -> VerificationRead:
    """The code the citizen reads out to the clerk; wrong codes count per clerk."""
    clerk = await registry.staff.who(session)
    await verification.verify_code(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        subscriber_id=subscriber_id,
        contact_id=contact_id,
        code=data.code,
        ip=_desk(clerk.id),
    )
    return VerificationRead(verified=True)
