"""What the citizen's pages (services/public-web) and the city's portal ask the registry: the messages a
citizen was sent, and what the links in messages do (unsubscribe, verify an e-mail address)."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query

from hlasatel_registry.citizen_schemas import (
    EmailLinkCheck,
    MessagesRead,
    UnsubscribeByLink,
    UnsubscribeLinkRead,
)
from hlasatel_registry.entrypoints.api import RegistryDep, TokenDep
from hlasatel_registry.handlers import messages, verification
from hlasatel_registry.handlers import unsubscribe as unsubscribing
from hlasatel_registry.schemas import VerificationRead

Responses = dict[int | str, dict[str, Any]]
_AUTH: Responses = {401: {"description": "Missing or wrong access token"}}
_COMPOSER: Responses = {502: {"description": "The composer, which keeps the deliveries, did not answer"}}
_LINK: Responses = {404: {"description": "The link is not valid, or the subscription no longer exists"}}

router = APIRouter(prefix="/v1")
LinkCode = Annotated[str, Path(min_length=1, max_length=100, description="The code in the link")]
LinkCategory = Annotated[
    str | None, Query(max_length=40, description="The category the link names (links of older messages)")
]


@router.get("/subscribers/{subscriber_id}/messages", tags=["subscribers"], responses={**_AUTH, **_COMPOSER})
async def list_my_messages(subscriber_id: UUID, registry: RegistryDep, token: TokenDep) -> MessagesRead:
    """What the city sent this subscription, newest first, in its language, for as long as it is kept."""
    return await messages.messages_of(
        sessions=registry.sessions,
        settings=registry.settings,
        history=registry.history,
        subscriber_id=subscriber_id,
        token=token,
    )


@router.get(
    "/portal/messages",
    tags=["portal"],
    responses={**_COMPOSER, 422: {"description": "The assertion is missing, expired or not the portal's"}},
)
async def list_portal_messages(
    registry: RegistryDep,
    x_portal_assertion: Annotated[str, Header(description="The citizen portal's signed JWT for the citizen")],
) -> MessagesRead:
    """What the city sent the citizen the portal vouches for, for the portal to show on its own pages;
    an empty list when they have not subscribed."""
    return await messages.portal_messages(
        sessions=registry.sessions,
        history=registry.history,
        portal=registry.portal,
        assertion=x_portal_assertion,
    )


@router.get("/links/unsubscribe/{code}", tags=["unsubscribe"], responses=_LINK)
async def describe_unsubscribe_link(
    code: LinkCode, registry: RegistryDep, category: LinkCategory = None
) -> UnsubscribeLinkRead:
    """What an unsubscribe link would leave, for the page that asks before doing it."""
    link = await unsubscribing.describe_link(sessions=registry.sessions, code=code, category=category)
    return UnsubscribeLinkRead(category=link.category, done=False)


@router.post("/links/unsubscribe/{code}", tags=["unsubscribe"], responses=_LINK)
async def unsubscribe_by_link(
    code: LinkCode, data: UnsubscribeByLink, registry: RegistryDep, category: LinkCategory = None
) -> UnsubscribeLinkRead:
    """Leave the category the link was issued for, without signing in; a link for everything only with
    `confirm`. Emergencies at the citizen's addresses still reach them."""
    link, done = await unsubscribing.unsubscribe(
        sessions=registry.sessions,
        relay=registry.relay,
        settings=registry.settings,
        code=code,
        category=category,
        confirmed=data.confirm,
        via=data.via,
    )
    return UnsubscribeLinkRead(category=link.category, done=done)


@router.post(
    "/links/verify-email",
    tags=["verification"],
    responses={422: {"description": "The link is not valid or has expired"}},
)
async def verify_email_by_link(data: EmailLinkCheck, registry: RegistryDep) -> VerificationRead:
    """Verify an e-mail address through the signed link it received (the citizen's page posts it)."""
    await verification.verify_email_link(
        sessions=registry.sessions, relay=registry.relay, settings=registry.settings, token=data.token
    )
    return VerificationRead(verified=True)
