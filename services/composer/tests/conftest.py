"""The composer's test harness: the real Liberec address points (devstack's `liberec`, as the registry
publishes them), a database, principals, a fake bus."""

import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_composer.adapters import access
from hlasatel_composer.adapters.index import apply_subscriber_events
from hlasatel_composer.adapters.orm import Base, OutboxRow
from hlasatel_composer.adapters.register import apply_register_events
from hlasatel_composer.adapters.renderer import TemplateRenderer
from hlasatel_composer.adapters.uow import UnitOfWork
from hlasatel_composer.bootstrap import bootstrap
from hlasatel_composer.config import Settings
from hlasatel_composer.domain.access import Principal, Role, Scope
from hlasatel_composer.domain.alerts import AlertEvent
from hlasatel_composer.domain.targeting import Selection
from hlasatel_composer.handlers import alerts, messages
from hlasatel_composer.handlers.fanout import FanOut
from hlasatel_composer.schemas import ApiKeyCreate, MessageCreate
from hlasatel_contracts import (
    CATEGORIES,
    MESSAGE_CANCELLATIONS,
    AddressPoint,
    AddressPointChanged,
    AddressRole,
    Channel,
    Contact,
    DeliveryRequest,
    DeliveryState,
    DeliveryStatusChanged,
    IdentityLevel,
    Language,
    MessageCancelled,
    QuietHours,
    SubscribedAddress,
    SubscriberChanged,
    SubscriberErased,
)
from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import sessions_on

SECRET = "test-secret"
STAFF_PASSWORD = "správné koně baterie sponka"
# the press office's keys may send emergencies; a key without the permission is made where it is tested
PRESS_OFFICE = Scope(emergency=True)
EDITOR = Principal(key_id="1", name="Eva Editorová", role=Role.EDITOR, scope=PRESS_OFFICE)
APPROVER = Principal(key_id="2", name="Adam Schvalovatel", role=Role.APPROVER, scope=PRESS_OFFICE)
SECOND_APPROVER = Principal(key_id="3", name="Božena Druhá", role=Role.APPROVER, scope=PRESS_OFFICE)
# one worker process renders the city's templates for the whole test session
RENDERER = TemplateRenderer(timeout_s=5.0)


def make_utility(
    name: str = "Severočeská vodárenská",
    *,
    categories: Sequence[str] = ("water",),
    pre_approved: Sequence[str] = ("water",),
    area: dict[str, Any] | None = None,
    emergency: bool = False,
    whole_city: bool = False,
    key_id: str | None = None,
) -> Principal:
    """A utility's key: scoped to its categories and, if given, to its network's area."""
    return Principal(
        key_id=key_id or f"utility-{name}",
        name=name,
        role=Role.UTILITY,
        scope=Scope(
            categories=frozenset(categories),
            area=Selection.model_validate(area) if area else None,
            pre_approved=frozenset(pre_approved),
            rate_limit_per_minute=60,
            emergency=emergency,
            whole_city=whole_city,
        ),
    )


@pytest.fixture(scope="session", autouse=True)
def _renderer() -> Iterator[None]:
    yield
    RENDERER.close()


@pytest.fixture(scope="session")
def addresses(liberec: list[AddressPoint]) -> dict[str, list[AddressPoint]]:
    by_street: dict[str, list[AddressPoint]] = {}
    for point in liberec:
        by_street.setdefault(point.street or "", []).append(point)
    return by_street


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with sessions_on(database_url, Base.metadata) as sessions:
        yield sessions


_phones = itertools.count(1)


def subscriber(
    *points: AddressPoint,
    version: int = 1,
    subscriber_id: UUID | None = None,
    verified: bool = True,
    identity: IdentityLevel = IdentityLevel.SELF_DECLARED,
    role: AddressRole = AddressRole.RESIDENT,
    phone: str | None = None,
    language: Language = Language.CS,
    categories: Sequence[str] = CATEGORIES,
    quiet_hours: QuietHours | None = None,
    push: bool = True,
) -> SubscriberChanged:
    sid = subscriber_id or uuid4()
    contacts = [
        Contact(
            contact_id=uuid4(),
            channel=Channel.SMS,
            value=phone or f"+420777{next(_phones):06d}",
            verified=verified,
            active=True,
        )
    ]
    if push:
        contacts.append(
            Contact(
                contact_id=uuid4(), channel=Channel.PUSH, value=f"token-{sid}", verified=True, active=True
            )
        )
    return SubscriberChanged(
        subscriber_id=sid,
        version=version,
        occurred_at=datetime.now(UTC),
        language=language,
        identity_level=identity,
        categories=list(categories),
        quiet_hours=quiet_hours,
        addresses=[SubscribedAddress(address=p, role=role) for p in points],
        contacts=contacts,
    )


def status_of(
    request: DeliveryRequest, state: DeliveryState, *, retryable: bool = False
) -> DeliveryStatusChanged:
    """What the request's dispatcher would report of it."""
    return DeliveryStatusChanged(
        retryable=retryable,
        delivery_id=request.delivery_id,
        message_id=request.message_id,
        subscriber_id=request.subscriber_id,
        contact_id=request.contact_id,
        channel=request.channel,
        state=state,
        occurred_at=datetime.now(UTC),
    )


class Published:
    """The bus as the fan-out sees it: takes batches of requests, or fails like a broker gone away."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.requests: list[DeliveryRequest] = []
        self.fail_after = fail_after

    async def __call__(self, requests: Sequence[DeliveryRequest]) -> None:
        for request in requests:
            if self.fail_after is not None and len(self.requests) >= self.fail_after:
                raise ConnectionError("broker went away")
            self.requests.append(request)

    def subscribers(self) -> set[UUID]:
        return {r.subscriber_id for r in self.requests}


class Harness:
    """Index subscribers, write and approve messages, fan them out: the composer's use cases by name."""

    subscriber = staticmethod(subscriber)
    editor, approver, second_approver = EDITOR, APPROVER, SECOND_APPROVER
    secret = SECRET

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.published = Published()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def cancellations(self) -> list[MessageCancelled]:
        """What the composer's outbox holds for the dispatchers: the cancellations it committed."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(OutboxRow).where(OutboxRow.topic == MESSAGE_CANCELLATIONS).order_by(OutboxRow.id)
            )
            return [MessageCancelled.model_validate_json(row.payload) for row in rows]

    async def index(self, *events: SubscriberChanged | SubscriberErased) -> None:
        for start in range(0, len(events), 500):
            async with self.sessions() as session, session.begin():
                await apply_subscriber_events(session, events[start : start + 500])

    async def register(
        self,
        points: Sequence[AddressPoint],
        *,
        version: int = 1,
        retired: bool = False,
        municipality_code: int = 563889,
    ) -> None:
        """The register topic's records of these address points, as an import announces them."""
        now = datetime.now(UTC)
        events = [
            AddressPointChanged(
                version=version,
                occurred_at=now,
                municipality_code=municipality_code,
                municipality={563889: "Liberec", 563510: "Jablonec nad Nisou"}[municipality_code],
                address=point,
                retired_at=now if retired else None,
            )
            for point in points
        ]
        for start in range(0, len(events), 2000):
            async with self.sessions() as session, session.begin():
                await apply_register_events(session, events[start : start + 2000])

    def fan_out(self, publish: Any = None, batch_size: int = 500) -> FanOut:
        return FanOut(
            contact_secret=SECRET,
            sessions=self.sessions,
            publish=publish or self.published,
            batch_size=batch_size,
        )

    async def draft(self, target: dict[str, Any], *, author: Principal = EDITOR, **fields: Any) -> UUID:
        data = MessageCreate.model_validate(
            {
                "severity": "warning",
                "category": "water",
                "target": target,
                "content": {"cs": {"sms": "Odstávka vody", "push": {"title": "Voda", "body": "Odstávka"}}},
                **fields,
            }
        )
        return (await messages.create_message(uow=self.uow, principal=author, data=data)).id

    async def approve(
        self, message_id: UUID, *, approver: Principal = APPROVER, threshold: int = 1000
    ) -> None:
        await messages.approve_message(
            uow=self.uow,
            principal=approver,
            message_id=message_id,
            four_eyes_threshold=threshold,
        )

    async def approved(self, target: dict[str, Any], **fields: Any) -> UUID:
        message_id = await self.draft(target, **fields)
        await self.approve(message_id)
        return message_id

    def alert_deps(self, four_eyes_threshold: int = 1000) -> alerts.AlertDeps:
        return alerts.AlertDeps(
            uow=self.uow,
            renderer=RENDERER,
            four_eyes_threshold=four_eyes_threshold,
        )

    async def alert(self, principal: Principal, **event: Any) -> Any:
        """A utility's event as its system would post it; returns the alert."""
        data = AlertEvent.model_validate({"category": "water", **event})
        read, _ = await alerts.receive_event(deps=self.alert_deps(), principal=principal, event=data)
        return read

    async def fan_out_all(self) -> None:
        """Fan out everything due, as the worker does, until nothing more is due."""
        fan_out = self.fan_out()
        while await fan_out.next_batch():
            pass

    async def send(self, target: dict[str, Any], *, batch_size: int = 500, **fields: Any) -> UUID:
        """Draft, approve and fan out; what was published is in `self.published`."""
        message_id = await self.approved(target, **fields)
        await self.fan_out(batch_size=batch_size).fan_out(message_id)
        return message_id


@pytest.fixture
def harness(sessions: async_sessionmaker[AsyncSession]) -> Harness:
    return Harness(sessions)


@pytest.fixture
def utility() -> Any:
    return make_utility


class Api:
    """The composer's HTTP API in process (no broker: fan-out is driven by the harness), and its keys."""

    def __init__(self, client: httpx.AsyncClient, harness: Harness) -> None:
        self.client = client
        self.harness = harness

    async def key(self, name: str, role: str, **scope: Any) -> dict[str, str]:
        """A new key of this role and scope, as the header that carries it."""
        data = ApiKeyCreate.model_validate({"name": name, "role": role, **scope})
        async with self.harness.sessions() as session, session.begin():
            _, key = await access.create_key(
                session, name=name, role=data.role, created_by="test", scope=data.scope()
            )
        return {"Authorization": f"Bearer {key}"}

    async def person(self, name: str, role: str, **scope: Any) -> dict[str, str]:
        """A member of the staff of this role and scope, invited by an admin, their password and second
        factor set up, signed in: the header of their session."""
        admin = await self.key("Admin of the staff", "admin")
        email = f"{uuid4().hex[:12]}@liberec.cz"
        invited = await self.client.post(
            "/v1/staff", json={"name": name, "email": email, "role": role, **scope}, headers=admin
        )
        assert invited.status_code == 201, invited.text
        body = {"token": invited.json()["invitation"], "password": STAFF_PASSWORD}
        assert (await self.client.post("/v1/staff/invitations/accept", json=body)).status_code == 200
        started = await self.client.post(
            "/v1/staff/sessions", json={"email": email, "password": STAFF_PASSWORD}
        )
        session = {"Authorization": f"Bearer {started.json()['token']}"}
        code = pyotp.TOTP(started.json()["enrolment"]["secret"]).now()
        proved = await self.client.post(
            "/v1/staff/sessions/current/code", json={"code": code}, headers=session
        )
        assert proved.status_code == 200, proved.text
        return session


@pytest.fixture
async def api(database_url: str, harness: Harness) -> AsyncIterator[Api]:
    app = bootstrap(
        Settings(database_url=database_url, public_base_url="http://composer", allow_insecure=ON_LOOPBACK)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://composer") as client:
        yield Api(client, harness)
    await app.state.composer.sessions.kw["bind"].dispose()
