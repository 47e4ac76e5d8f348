"""The staff's routes: signing in with a password and a TOTP code, the session, and staff as an admin
invites and manages them. The console calls these; a person never holds an API key."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from hlasatel_composer.domain.staff import SignInRefused
from hlasatel_composer.entrypoints.deps import ComposerDep, PrincipalDep, bearer
from hlasatel_composer.handlers import staff
from hlasatel_composer.staff_schemas import (
    Code,
    InvitationAccept,
    SessionStarted,
    SignIn,
    StaffCreate,
    StaffInvited,
    StaffRead,
    StaffUpdate,
)

router = APIRouter(prefix="/v1/staff", tags=["staff"])
Token = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
_REFUSED: dict[int | str, dict[str, Any]] = {401: {"description": "Wrong, locked, expired or disabled"}}
_ADMIN: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid key or session"},
    403: {"description": "Not an admin"},
}


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise SignInRefused("a session token is required: 'Authorization: Bearer hss_…'")
    return credentials.credentials


@router.post("/sessions", status_code=status.HTTP_201_CREATED, responses=_REFUSED)
async def sign_in(data: SignIn, composer: ComposerDep) -> SessionStarted:
    """The password: a session that may only prove the second factor, or set it up the first time. Five
    wrong passwords or codes in a row lock the account, 30 s and twice as long each time after."""
    return await staff.start_session(
        sessions=composer.sessions, keys=composer.settings.keys(), email=data.email, password=data.password
    )


@router.get("/sessions/current", responses=_REFUSED)
async def pending_session(composer: ComposerDep, credentials: Token) -> SessionStarted:
    """A session still waiting for its code: its stage, and while the second factor is being set up the
    secret offered (the same one, until a code proves it)."""
    return await staff.pending_session(
        sessions=composer.sessions, keys=composer.settings.keys(), token=_token(credentials)
    )


@router.post("/sessions/current/code", responses=_REFUSED)
async def prove_code(data: Code, composer: ComposerDep, credentials: Token) -> StaffRead:
    """The six digits of the authenticator app (at the first sign-in: of the secret just offered); the
    session is then a full one, for 30 minutes without use and 12 hours at most."""
    return await staff.prove_second_factor(
        sessions=composer.sessions, keys=composer.settings.keys(), token=_token(credentials), code=data.code
    )


@router.get("/me", responses={**_REFUSED, 404: {"description": "An API key, not a member of the staff"}})
async def who_am_i(composer: ComposerDep, principal: PrincipalDep) -> StaffRead:
    """The signed-in member of the staff."""
    return await staff.me(sessions=composer.sessions, principal=principal)


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(composer: ComposerDep, credentials: Token) -> Response:
    """This session ends."""
    await staff.sign_out(sessions=composer.sessions, token=_token(credentials), everywhere=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/sessions", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out_everywhere(composer: ComposerDep, credentials: Token) -> Response:
    """Every session of the signed-in person ends, on every device."""
    await staff.sign_out(sessions=composer.sessions, token=_token(credentials), everywhere=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses={**_ADMIN, 409: {"description": "E-mail taken"}}
)
async def invite(data: StaffCreate, composer: ComposerDep, principal: PrincipalDep) -> StaffInvited:
    """A new member of the staff and their single-use invitation, valid 7 days (admin)."""
    return await staff.invite(sessions=composer.sessions, principal=principal, data=data)


@router.post(
    "/invitations/accept", responses={422: {"description": "Unknown, used or expired; weak password"}}
)
async def accept_invitation(data: InvitationAccept, composer: ComposerDep) -> StaffRead:
    """The invited person's password (12 characters at least); the second factor comes at the first
    sign-in."""
    return await staff.accept_invitation(sessions=composer.sessions, token=data.token, password=data.password)


@router.get("", responses=_ADMIN)
async def list_staff(composer: ComposerDep, principal: PrincipalDep) -> list[StaffRead]:
    """Everyone of the staff (admin)."""
    return await staff.list_staff(sessions=composer.sessions, principal=principal)


@router.patch("/{staff_id}", responses={**_ADMIN, 404: {"description": "No such person"}})
async def update_staff(
    staff_id: UUID, data: StaffUpdate, composer: ComposerDep, principal: PrincipalDep
) -> StaffRead:
    """A new role or scope; the person's sessions end (admin)."""
    return await staff.update_staff(
        sessions=composer.sessions, principal=principal, staff_id=staff_id, data=data
    )


@router.post("/{staff_id}/disable", responses={**_ADMIN, 404: {"description": "No such person"}})
async def disable_staff(staff_id: UUID, composer: ComposerDep, principal: PrincipalDep) -> StaffRead:
    """The person can sign in no more; their sessions end (admin)."""
    return await staff.disable_staff(sessions=composer.sessions, principal=principal, staff_id=staff_id)
