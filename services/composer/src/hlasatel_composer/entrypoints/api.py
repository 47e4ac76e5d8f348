"""The composer's HTTP routes: they only call handlers."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request, status

from hlasatel_composer import handlers
from hlasatel_composer.bootstrap import Composer
from hlasatel_composer.schemas import MessageCreate, MessageRead, PreviewRead, PreviewRequest


def _composer(request: Request) -> Composer:
    composer: Composer = request.app.state.composer
    return composer


ComposerDep = Annotated[Composer, Depends(_composer)]

router = APIRouter(prefix="/v1", tags=["messages"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such message"}}


@router.post("/messages", status_code=status.HTTP_201_CREATED)
async def create_message(data: MessageCreate, composer: ComposerDep) -> MessageRead:
    """Write a draft message: content per channel and language, severity, category, target."""
    return await handlers.create_message(sessions=composer.sessions, data=data)


@router.post("/messages/{message_id}/approve", responses={**_NOT_FOUND, 409: {"description": "Not a draft"}})
async def approve_message(message_id: UUID, composer: ComposerDep) -> MessageRead:
    """Approve a draft; its delivery requests start going out at once."""
    try:
        return await handlers.approve_message(
            sessions=composer.sessions, fan_out=composer.fan_out, message_id=message_id
        )
    except handlers.MessageNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    except handlers.InvalidTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None


@router.get("/messages/{message_id}", responses=_NOT_FOUND)
async def get_message(message_id: UUID, composer: ComposerDep) -> MessageRead:
    """The message with its deliveries counted per channel and state."""
    try:
        return await handlers.get_message(sessions=composer.sessions, message_id=message_id)
    except handlers.MessageNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None


@router.post("/targets/preview", tags=["targets"])
async def preview_target(data: PreviewRequest, composer: ComposerDep) -> PreviewRead:
    """How many address points, subscribers and deliveries per channel a target hits, and its streets."""
    return await handlers.preview(sessions=composer.sessions, request=data)
