"""The city's staff: signing in with a password and a TOTP code, sessions, and staff as an admin invites
and manages them. Every step is in the audit log under the person's name."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access
from hlasatel_composer.adapters.orm import StaffRow, StaffSessionRow
from hlasatel_composer.adapters.sealed import seal, unseal
from hlasatel_composer.domain import staff as policy
from hlasatel_composer.domain.access import Principal, Role, Scope, require
from hlasatel_composer.domain.staff import SignInRefused, Stage
from hlasatel_composer.domain.targeting import Selection
from hlasatel_composer.staff_schemas import (
    Enrolment,
    SessionStarted,
    StaffCreate,
    StaffInvited,
    StaffRead,
    StaffUpdate,
)
from hlasatel_runtime.errors import SafeError
from hlasatel_runtime.secrets import KeyRing

REFUSED = "the e-mail address or the password is wrong, or the account is locked for a while"
WRONG_CODE = "the code is wrong or was used already, or the account is locked for a while"
_TOTP = "staff-totp"


class StaffNotFound(SafeError):
    """No staff member has that id."""


class StaffExists(SafeError):
    """Someone of the staff has that e-mail address already."""


class InvitationInvalid(SafeError):
    """The invitation is unknown, used or expired."""


def principal_of(row: StaffRow) -> Principal:
    """The staff member as the composer's rules see any caller: a role and a scope, told apart by id."""
    return Principal(
        key_id=f"staff:{row.id}", name=row.name, role=Role(row.role), scope=scope_of(row), person=True
    )


def scope_of(row: StaffRow) -> Scope:
    return Scope(
        categories=frozenset(row.categories) if row.categories is not None else None,
        area=Selection.model_validate(row.area) if row.area else None,
        emergency=bool(row.emergency),
        whole_city=bool(row.whole_city),
    )


def staff_read(row: StaffRow) -> StaffRead:
    return StaffRead(
        id=row.id,
        name=row.name,
        email=row.email,
        role=Role(row.role),
        categories=row.categories,
        area=Selection.model_validate(row.area) if row.area else None,
        emergency=bool(row.emergency),
        whole_city=bool(row.whole_city),
        created_at=row.created_at,
        created_by=row.created_by,
        invited=row.password_hash is None,
        second_factor=row.totp_enrolled_at is not None,
        locked_until=row.locked_until,
        disabled_at=row.disabled_at,
    )


async def _by_email(session: AsyncSession, email: str) -> StaffRow | None:
    return await session.scalar(
        select(StaffRow).where(func.lower(StaffRow.email) == email.strip().lower()).with_for_update()
    )


def _failed(row: StaffRow, now: datetime) -> None:
    lock = policy.after_failure(row.failures, now)
    row.failures, row.locked_until = lock.failures, lock.until or row.locked_until


async def start_session(
    *, sessions: async_sessionmaker[AsyncSession], keys: KeyRing, email: str, password: str
) -> SessionStarted:
    """The password checked: a session that can only prove the second factor (or set it up, the first
    time). Wrong e-mail, wrong password, a locked or disabled account: one and the same refusal."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        row = await _by_email(session, email)
        started = _opened(session, keys, row, password, now)
    if started is None or row is None:
        # refused after the commit: the failure counts whatever the caller does next
        raise SignInRefused(REFUSED)
    token, stage, offered = started
    return SessionStarted(
        token=token,
        stage=stage,
        expires_at=now + policy.PENDING,
        enrolment=Enrolment(secret=offered, uri=policy.provisioning_uri(offered, email=row.email))
        if offered
        else None,
    )


def _opened(
    session: AsyncSession, keys: KeyRing, row: StaffRow | None, password: str, now: datetime
) -> tuple[str, Stage, str | None] | None:
    """A password-checked session for the account (its token, its stage and a secret offered for
    enrolment), or None, the failure counted against an account that can still fail."""
    matches = policy.password_matches(row.password_hash if row else None, password)
    if row is None or row.disabled_at is not None or _locked(row, now):
        return None
    if not matches:
        _failed(row, now)
        return None
    row.failures = 0
    token = policy.new_token(policy.SESSION_PREFIX)
    stage = Stage.TOTP if row.totp_enrolled_at else Stage.ENROL
    offered = policy.new_totp_secret() if stage is Stage.ENROL else None
    session.add(
        StaffSessionRow(
            token_hash=policy.token_hash(token),
            staff_id=row.id,
            stage=stage.value,
            created_at=now,
            last_seen_at=now,
            offered_secret=seal(keys, offered, purpose=_TOTP) if offered else None,
        )
    )
    return token, stage, offered


async def pending_session(
    *, sessions: async_sessionmaker[AsyncSession], keys: KeyRing, token: str
) -> SessionStarted:
    """A password-checked session still waiting for its code: its stage and, while enrolling, the secret
    offered (so that the console can show the QR code again after a reload). A full session is /me's."""
    now = datetime.now(UTC)
    async with sessions() as session:
        held = await session.get(StaffSessionRow, policy.token_hash(token))
        row = await session.get(StaffRow, held.staff_id) if held else None
        if held is None or row is None or Stage(held.stage) is Stage.SIGNED_IN or not _alive(held, now):
            raise SignInRefused("the session is unknown, has expired or is signed in already")
        offered = unseal(keys, held.offered_secret, purpose=_TOTP) if held.offered_secret else None
    return SessionStarted(
        token=token,
        stage=Stage(held.stage),
        expires_at=held.created_at + policy.PENDING,
        enrolment=Enrolment(secret=offered, uri=policy.provisioning_uri(offered, email=row.email))
        if offered
        else None,
    )


def _locked(row: StaffRow, now: datetime) -> bool:
    return policy.Lock(row.failures, row.locked_until).locked(now)


async def prove_second_factor(
    *, sessions: async_sessionmaker[AsyncSession], keys: KeyRing, token: str, code: str
) -> StaffRead:
    """The TOTP code of a password-checked session: it becomes a full session (and a secret offered for
    enrolment becomes the account's)."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        held = await session.get(StaffSessionRow, policy.token_hash(token), with_for_update=True)
        row = await session.get(StaffRow, held.staff_id, with_for_update=True) if held else None
        if held is None or row is None or Stage(held.stage) is Stage.SIGNED_IN or not _alive(held, now):
            raise SignInRefused("the session is unknown or has expired: sign in again")
        if row.disabled_at is not None or _locked(row, now):
            raise SignInRefused(WRONG_CODE)
        enrolling = Stage(held.stage) is Stage.ENROL
        sealed = held.offered_secret if enrolling else row.totp_secret
        secret = unseal(keys, sealed, purpose=_TOTP) if sealed else ""
        step = policy.totp_step(secret, code, at=now, last_step=row.totp_last_step) if secret else None
        if step is None:
            _failed(row, now)
        else:
            row.failures, row.totp_last_step = 0, step
            if enrolling:
                row.totp_secret, row.totp_enrolled_at = held.offered_secret, now
            held.stage, held.offered_secret, held.last_seen_at = Stage.SIGNED_IN.value, None, now
            await access.audit(
                session,
                actor=principal_of(row),
                action="staff.signed_in",
                detail={"second_factor": "enrolled" if enrolling else "totp"},
            )
    if step is None:
        raise SignInRefused(WRONG_CODE)
    return staff_read(row)


def _alive(held: StaffSessionRow, now: datetime) -> bool:
    return policy.session_alive(
        created_at=held.created_at, last_seen_at=held.last_seen_at, stage=Stage(held.stage), now=now
    )


async def principal_for_session(session: AsyncSession, token: str) -> Principal | None:
    """The staff member of a full, living session, which this use keeps alive; None otherwise."""
    now = datetime.now(UTC)
    held = await session.get(StaffSessionRow, policy.token_hash(token))
    if held is None or Stage(held.stage) is not Stage.SIGNED_IN or not _alive(held, now):
        return None
    row = await session.get(StaffRow, held.staff_id)
    if row is None or row.disabled_at is not None:
        return None
    # a minute's precision is enough for a 30-minute idle limit, and spares a write on every request
    if (now - held.last_seen_at).total_seconds() > 60:
        held.last_seen_at = now
        await session.commit()
    return principal_of(row)


async def me(*, sessions: async_sessionmaker[AsyncSession], principal: Principal) -> StaffRead:
    async with sessions() as session:
        return staff_read(await _staff_of(session, principal))


async def _staff_of(session: AsyncSession, principal: Principal) -> StaffRow:
    if not principal.key_id.startswith("staff:"):
        raise StaffNotFound("this is an API key, not a member of the staff")
    row = await session.get(StaffRow, UUID(principal.key_id.removeprefix("staff:")))
    if row is None:
        raise StaffNotFound("no such member of the staff")
    return row


async def forget_ended_sessions(session: AsyncSession, now: datetime) -> int:
    """Delete the sessions nobody can use any more (idle, too old, or a password never followed by its
    code): who signed in when is not kept past the session itself. Returns how many went."""
    ended = or_(
        and_(
            StaffSessionRow.stage != Stage.SIGNED_IN.value, StaffSessionRow.created_at < now - policy.PENDING
        ),
        StaffSessionRow.last_seen_at < now - policy.IDLE,
        StaffSessionRow.created_at < now - policy.LONGEST,
    )
    result = await session.execute(delete(StaffSessionRow).where(ended))
    return int(getattr(result, "rowcount", 0) or 0)


async def sign_out(*, sessions: async_sessionmaker[AsyncSession], token: str, everywhere: bool) -> None:
    """This session ends; or every session of its holder, on every device."""
    async with sessions() as session, session.begin():
        held = await session.get(StaffSessionRow, policy.token_hash(token))
        if held is None:
            return
        doomed = (
            StaffSessionRow.staff_id == held.staff_id
            if everywhere
            else StaffSessionRow.token_hash == held.token_hash
        )
        await session.execute(delete(StaffSessionRow).where(doomed))


async def invite(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, data: StaffCreate
) -> StaffInvited:
    """A new member of the staff, with a single-use invitation to set a password (admin)."""
    require(principal, Role.ADMIN)
    now = datetime.now(UTC)
    token = policy.new_token(policy.INVITATION_PREFIX)
    async with sessions() as session, session.begin():
        if await _by_email(session, data.email) is not None:
            raise StaffExists(f"someone of the staff has the address {data.email} already")
        row = StaffRow(
            id=uuid4(),
            name=data.name,
            email=data.email,
            role=data.role,
            created_at=now,
            created_by=principal.name,
            invitation_hash=policy.token_hash(token),
            invitation_expires_at=now + policy.INVITATION_VALID,
            failures=0,
        )
        _set_scope(row, data)
        session.add(row)
        await access.audit(
            session, actor=principal, action="staff.invited", detail={"staff": str(row.id), "role": row.role}
        )
        await session.flush()
        return StaffInvited(
            **staff_read(row).model_dump(),
            invitation=token,
            invitation_expires_at=now + policy.INVITATION_VALID,
        )


def _set_scope(row: StaffRow, data: StaffCreate | StaffUpdate) -> None:
    scope = data.scope()
    row.categories = sorted(scope.categories) if scope.categories is not None else None
    row.area = scope.area.model_dump(mode="json", exclude_defaults=True) if scope.area else None
    row.emergency, row.whole_city = scope.emergency, scope.whole_city


async def accept_invitation(
    *, sessions: async_sessionmaker[AsyncSession], token: str, password: str
) -> StaffRead:
    """The invited person sets a password; the invitation is used up. The second factor is set up at the
    first sign-in."""
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(StaffRow).where(StaffRow.invitation_hash == policy.token_hash(token)).with_for_update()
        )
        if (
            row is None
            or row.invitation_expires_at is None
            or row.invitation_expires_at < now
            or row.disabled_at
        ):
            raise InvitationInvalid("the invitation is unknown, used or expired: ask an admin for a new one")
        policy.check_password_policy(password, email=row.email)
        row.password_hash = policy.hash_password(password)
        row.invitation_hash, row.invitation_expires_at = None, None
        await access.audit(session, actor=principal_of(row), action="staff.invitation_accepted")
        return staff_read(row)


async def list_staff(*, sessions: async_sessionmaker[AsyncSession], principal: Principal) -> list[StaffRead]:
    require(principal, Role.ADMIN)
    async with sessions() as session:
        return [staff_read(row) for row in await session.scalars(select(StaffRow).order_by(StaffRow.name))]


async def update_staff(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, staff_id: UUID, data: StaffUpdate
) -> StaffRead:
    """A new role or scope; their sessions end, so that the next one has it (admin)."""
    require(principal, Role.ADMIN)
    async with sessions() as session, session.begin():
        row = await _get(session, staff_id)
        if data.role is not None:
            row.role = data.role
        _set_scope(row, data)
        await session.execute(delete(StaffSessionRow).where(StaffSessionRow.staff_id == row.id))
        await access.audit(
            session, actor=principal, action="staff.updated", detail={"staff": str(row.id), "role": row.role}
        )
        return staff_read(row)


async def disable_staff(
    *, sessions: async_sessionmaker[AsyncSession], principal: Principal, staff_id: UUID
) -> StaffRead:
    """The person can no longer sign in, and every session of theirs ends (admin)."""
    require(principal, Role.ADMIN)
    async with sessions() as session, session.begin():
        row = await _get(session, staff_id)
        row.disabled_at = row.disabled_at or datetime.now(UTC)
        await session.execute(delete(StaffSessionRow).where(StaffSessionRow.staff_id == row.id))
        await access.audit(session, actor=principal, action="staff.disabled", detail={"staff": str(row.id)})
        return staff_read(row)


async def _get(session: AsyncSession, staff_id: UUID) -> StaffRow:
    row = await session.get(StaffRow, staff_id, with_for_update=True)
    if row is None:
        raise StaffNotFound(f"no member of the staff {staff_id}")
    return row


async def create_signed_up(
    session: AsyncSession, keys: KeyRing, *, data: StaffCreate, password: str, created_by: str
) -> str:
    """A member of the staff with a password and a second factor already set up (where nobody can invite
    yet: the first admin of a deployment, or a laptop's development accounts), or one already there set up
    anew (their sessions end); returns the TOTP secret."""
    policy.check_password_policy(password, email=data.email)
    secret = policy.new_totp_secret()
    now = datetime.now(UTC)
    row = await _by_email(session, data.email)
    if row is None:
        row = StaffRow(id=uuid4(), email=data.email, created_at=now, created_by=created_by)
        session.add(row)
    row.name, row.role = data.name, data.role
    row.password_hash = policy.hash_password(password)
    row.totp_secret, row.totp_enrolled_at, row.totp_last_step = seal(keys, secret, purpose=_TOTP), now, None
    row.failures, row.locked_until, row.disabled_at = 0, None, None
    row.invitation_hash = row.invitation_expires_at = None
    _set_scope(row, data)
    await session.flush()
    await session.execute(delete(StaffSessionRow).where(StaffSessionRow.staff_id == row.id))
    return secret
