"""The city office's front desk: a clerk of the city's staff registers a citizen in person. The codes go
to the citizen's own phone and mailbox, and the consent record names the clerk."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hlasatel_registry.entrypoints.api import RegistryDep
from hlasatel_registry.handlers import subscribers
from hlasatel_registry.schemas import SubscriberCreate, SubscriberCreated

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
