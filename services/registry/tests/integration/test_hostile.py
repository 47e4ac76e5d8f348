"""Hostile input to the registry: registrations that stop the city's sending, codes that hand out a
citizen's record, limits a client can step around, links that do more than they say, a portal that
answers rubbish. Each test failed on the code before the hardening."""

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_contracts import (
    SUBSCRIBERS,
    Channel,
    DeliveryState,
    DeliveryStatusChanged,
    SendSms,
    SubscriberChanged,
)
from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import serve_in_thread
from hlasatel_registry.adapters.composer import ComposerHistory, ComposerUnavailable
from hlasatel_registry.adapters.orm import ContactRow, OperatorAuditRow, OutboxRow, SubscriberRow
from hlasatel_registry.adapters.outbox import OutboxRelay
from hlasatel_registry.adapters.portal import InvalidAssertion, PortalUnavailable, PortalVerifier
from hlasatel_registry.bootstrap import bootstrap
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.gazetteer import AddressRecord
from hlasatel_registry.handlers import retention, subscribers
from hlasatel_runtime.addresses import TrustedProxies, counted_as

pytestmark = pytest.mark.hostile
Register = Callable[..., Awaitable[Any]]
MASARYKOVA_12 = 23657235
REGISTRATION = {
    "addresses": [{"address_point": MASARYKOVA_12}],
    "contacts": [{"channel": "sms", "value": "+420777123456"}],
}


@pytest.fixture(autouse=True)
async def masarykova(gazetteer: Callable[..., Awaitable[str]], records: list[AddressRecord]) -> None:
    await gazetteer([r for r in records if r.street == "Masarykova"])


@pytest.fixture
async def client(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The registry's API in process, as a client on the network sees it (its peer 203.0.113.9)."""
    app = bootstrap(
        Settings(database_url=database_url, allow_insecure=ON_LOOPBACK, trusted_proxies=["10.0.0.0/8"])
    )
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as made:
        yield made
    await app.state.registry.sessions.kw["bind"].dispose()


async def outbox(sessions: async_sessionmaker[AsyncSession], topic_part: str) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxRow).where(OutboxRow.topic.contains(topic_part)))
        return [row.payload for row in rows]


def code_in(payloads: list[str]) -> str:
    return re.findall(r"\b\d{6}\b", SendSms.model_validate_json(payloads[-1]).text)[0]


class TestARecordThatStopsTheCity:
    async def test_a_time_zone_that_is_no_time_zone_is_refused(self, client: httpx.AsyncClient) -> None:
        body = REGISTRATION | {
            "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Nowhere/Atlantis"}
        }
        answer = await client.post("/v1/subscribers", json=body)
        assert answer.status_code == 422 and "IANA" in answer.text

    async def test_a_registration_body_larger_than_any_registration_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        answer = await client.post(
            "/v1/subscribers",
            content=b"{" + b" " * 200_000 + b"}",
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 413 and "65536" in answer.json()["detail"]

    async def test_a_body_without_a_declared_length_is_stopped_as_it_grows(
        self, client: httpx.AsyncClient
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b" " * 10_000

        answer = await client.post(
            "/v1/subscribers", content=chunks(), headers={"content-type": "application/json"}
        )
        assert answer.status_code == 413 and "larger than 65536" in answer.json()["detail"]


class TestAWrongCodeTellsNothing:
    async def test_a_verification_answers_only_whether_it_worked(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        created = (await client.post("/v1/subscribers", json=REGISTRATION)).json()
        sms = created["contacts"][0]["id"]
        path = f"/v1/subscribers/{created['id']}/contacts/{sms}/verify"
        code = code_in(await outbox(sessions, "deliveries.sms"))
        right = await client.post(path, json={"code": code})
        assert right.status_code == 200 and right.json() == {"verified": True}
        wrong = await client.post(path, json={"code": "000000" if code != "000000" else "111111"})
        assert wrong.status_code == 422 and "+420" not in wrong.text and "contacts" not in wrong.text
        again = await client.post(path, json={"code": code})
        assert again.json() == {"verified": True}

    async def test_a_push_token_is_no_way_past_the_code(self, client: httpx.AsyncClient) -> None:
        body = REGISTRATION | {"contacts": [{"channel": "push", "value": "token-of-a-phone"}]}
        created = (await client.post("/v1/subscribers", json=body)).json()
        path = f"/v1/subscribers/{created['id']}/contacts/{created['contacts'][0]['id']}/verify"
        answer = await client.post(path, json={"code": "123456"})
        assert answer.status_code == 422 and "token-of-a-phone" not in answer.text

    async def test_guesses_at_subscribers_that_do_not_exist_count_too(
        self, client: httpx.AsyncClient
    ) -> None:
        answers = [
            (
                await client.post(
                    f"/v1/subscribers/{uuid4()}/contacts/{uuid4()}/verify", json={"code": "123456"}
                )
            )
            for _ in range(31)
        ]
        assert {a.status_code for a in answers[:30]} == {422} and answers[30].status_code == 429


class TestLimitsCountTheRealClient:
    def test_the_client_is_the_right_most_address_our_proxies_did_not_write(self) -> None:
        proxies = TrustedProxies(["10.0.0.0/8"])
        headers = {"x-forwarded-for": "198.51.100.1, 203.0.113.7, 10.1.2.3"}
        assert proxies.client("10.0.0.1", headers) == "203.0.113.7"
        assert proxies.client("203.0.113.9", headers) == "203.0.113.9", "not from our proxy: its own address"

    def test_an_ipv6_client_is_counted_by_its_slash_64(self) -> None:
        assert counted_as("2001:db8:1:2:aaaa::1") == counted_as("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
        assert counted_as("2001:db8:1:3::1") != counted_as("2001:db8:1:2::1")

    def test_trusting_every_proxy_is_not_offered(self) -> None:
        with pytest.raises(ValidationError, match="list them"):
            Settings(trusted_proxies="*")

    async def test_a_forwarded_for_written_by_the_client_does_not_reset_its_limit(
        self, client: httpx.AsyncClient
    ) -> None:
        answers = []
        for i in range(31):
            body = REGISTRATION | {"contacts": [{"channel": "push", "value": f"token-{i}"}]}
            answers.append(
                await client.post(
                    "/v1/subscribers", json=body, headers={"X-Forwarded-For": f"198.51.100.{i}"}
                )
            )
        assert {a.status_code for a in answers[:20]} == {201}
        assert answers[20].status_code == 429 and "registrations from this address" in answers[20].text


class TestRegistrationCannotBeAbused:
    async def test_numbers_of_countries_the_city_does_not_send_to_are_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        us = REGISTRATION | {"contacts": [{"channel": "sms", "value": "+12015550123"}]}
        answer = await client.post("/v1/subscribers", json=us)
        assert (
            answer.status_code == 422
            and "US" in answer.text
            and answer.json()["detail"][0]["loc"][1] == "contacts"
        )
        slovak = REGISTRATION | {"contacts": [{"channel": "sms", "value": "+421905123456"}]}
        assert (await client.post("/v1/subscribers", json=slovak)).status_code == 201

    async def test_a_stranger_cannot_lock_a_number_out_of_its_owners_portal_registration(
        self, register: Register, settings: Settings
    ) -> None:
        from hlasatel_registry.adapters.limits import RateLimited

        for i in range(5):
            await register(REGISTRATION, ip=f"192.0.2.{i}")
        with pytest.raises(RateLimited, match="this contact"):
            await register(REGISTRATION, ip="192.0.2.100")
        portal = _StubPortal()
        created = await register(REGISTRATION, ip="192.0.2.101", portal=portal, assertion="signed")
        assert created.identity_level == "verified"

    async def test_registrations_never_verified_are_erased_after_the_ttl(
        self,
        register: Register,
        sessions: async_sessionmaker[AsyncSession],
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(REGISTRATION)
        contacts = [{"channel": "push", "value": "t"}, {"channel": "sms", "value": "+420777000111"}]
        kept = await register({**REGISTRATION, "contacts": contacts})
        later = datetime.now(UTC) + timedelta(hours=settings.unverified_ttl_h + 1)
        erased, removed = await retention.forget_unverified(
            sessions=sessions, relay=relay, settings=settings, now=later
        )
        assert (erased, removed) == (1, 1)
        async with sessions() as session:
            assert await session.get(SubscriberRow, created.id) is None
            left = list(
                await session.scalars(select(ContactRow.channel).where(ContactRow.subscriber_id == kept.id))
            )
        assert left == ["push"]
        tombstones = [p for p in await outbox(sessions, SUBSCRIBERS) if "subscriber.erased" in p]
        assert len(tombstones) == 1 and str(created.id) in tombstones[0]

    async def test_an_invalid_report_older_than_the_verification_is_not_believed(
        self,
        register: Register,
        sessions: async_sessionmaker[AsyncSession],
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(REGISTRATION)
        contact = created.contacts[0]
        verified_at = datetime.now(UTC)
        async with sessions() as session, session.begin():
            row = await session.get(ContactRow, contact.id)
            assert row is not None
            row.verified_at = verified_at
        status = DeliveryStatusChanged(
            delivery_id=uuid4(),
            message_id=uuid4(),
            subscriber_id=created.id,
            contact_id=contact.id,
            channel=Channel.SMS,
            state=DeliveryState.CONTACT_INVALID,
            occurred_at=verified_at - timedelta(minutes=5),
            provider="twilio",
        )
        assert not await subscribers.deactivate_invalid_contact(
            sessions=sessions, relay=relay, settings=settings, status=status
        )
        newer = status.model_copy(update={"occurred_at": verified_at + timedelta(minutes=5)})
        assert await subscribers.deactivate_invalid_contact(
            sessions=sessions, relay=relay, settings=settings, status=newer
        )


class _StubPortal(PortalVerifier):
    def __init__(self) -> None:
        super().__init__(issuer="x", audience="y", public_key="unused")

    async def verify(self, token: str) -> Any:
        from hlasatel_registry.adapters.portal import PortalIdentity

        return PortalIdentity(subject="citizen-1", address_point=MASARYKOVA_12)


class TestUnsubscribeLinks:
    async def test_a_link_for_everything_asks_first_and_keeps_emergencies(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        await client.post("/v1/subscribers", json=REGISTRATION)
        state = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        everything = state.unsubscribe_tokens["all"]
        described = await client.get(f"/v1/links/unsubscribe/{everything}")
        assert described.json() == {"category": None, "done": False}
        first = await client.post(f"/v1/links/unsubscribe/{everything}", json={"via": "sms_link"})
        assert first.json() == {"category": None, "done": False}
        unchanged = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        assert unchanged.version == state.version, "nothing was done before the confirmation"
        done = await client.post(f"/v1/links/unsubscribe/{everything}", json={"confirm": True})
        assert done.json() == {"category": None, "done": True}
        after = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        assert after.categories == [] and [c.active for c in after.contacts] == [True]

    async def test_a_category_link_cannot_be_turned_into_another(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        await client.post("/v1/subscribers", json=REGISTRATION)
        state = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        water = state.unsubscribe_tokens["water"]
        answer = await client.post(f"/v1/links/unsubscribe/{water}?category=culture", json={})
        assert answer.json() == {"category": "water", "done": True}
        after = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        assert "water" not in after.categories and "culture" in after.categories

    async def test_links_sent_before_the_pages_moved_still_work(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        await client.post("/v1/subscribers", json=REGISTRATION)
        state = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        water, everything = state.unsubscribe_tokens["water"], state.unsubscribe_tokens["all"]
        page = await client.get(f"/u/{everything}?category=water")
        assert page.status_code == 308
        assert page.headers["location"] == f"http://127.0.0.1:8006/u/{everything}?category=water"
        verify = await client.get("/v1/verify/email?token=abc")
        assert verify.headers["location"] == "http://127.0.0.1:8006/v1/verify/email?token=abc"
        # an older e-mail's one-click List-Unsubscribe POST is still done where it was promised
        one_click = await client.post(f"/v1/unsubscribe/{water}", data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 303
        assert one_click.headers["location"] == f"http://127.0.0.1:8006/v1/unsubscribe/{water}"
        after = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        assert "water" not in after.categories
        not_yet = await client.post(f"/u/{everything}")
        assert not_yet.status_code == 303
        unchanged = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        assert unchanged.version == after.version, "a link for everything waits for the confirmation"


class TestOperatorsAndLostTokens:
    async def test_an_operator_finds_and_erases_a_subscription_and_the_audit_says_who_and_why(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        from hlasatel_registry.handlers.operators import create_operator_key

        created = (await client.post("/v1/subscribers", json=REGISTRATION)).json()
        async with sessions() as session, session.begin():
            key = await create_operator_key(session, name="Přepážka 3")
        operator = {"Authorization": f"Bearer {key}"}
        question = {"channel": "sms", "value": "777 123 456", "reason": "žádost občana, čj. MML/1"}
        assert (await client.post("/v1/operator/lookup", json=question)).status_code == 401
        found = (await client.post("/v1/operator/lookup", json=question, headers=operator)).json()
        assert [f["subscriber_id"] for f in found] == [created["id"]]
        erased = await client.post(
            f"/v1/operator/subscribers/{created['id']}/erase", json={"reason": "čj. MML/1"}, headers=operator
        )
        assert erased.status_code == 204
        async with sessions() as session:
            assert await session.get(SubscriberRow, UUID(created["id"])) is None
            audit = list(await session.scalars(select(OperatorAuditRow).order_by(OperatorAuditRow.id)))
        assert [(a.operator, a.action, a.reason) for a in audit] == [
            ("Přepážka 3", "lookup", "žádost občana, čj. MML/1"),
            ("Přepážka 3", "erased", "čj. MML/1"),
        ]

    async def test_a_citizen_proves_a_verified_contact_for_a_new_token_and_the_old_one_stops(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        created = (await client.post("/v1/subscribers", json=REGISTRATION)).json()
        sms = created["contacts"][0]["id"]
        code = code_in(await outbox(sessions, "deliveries.sms"))
        await client.post(f"/v1/subscribers/{created['id']}/contacts/{sms}/verify", json={"code": code})
        nobody = await client.post("/v1/access/code", json={"channel": "sms", "value": "+420777999888"})
        asked = await client.post("/v1/access/code", json={"channel": "sms", "value": "777 123 456"})
        assert nobody.status_code == asked.status_code == 202 and nobody.json() == asked.json()
        access = code_in(await outbox(sessions, "deliveries.sms"))
        granted = await client.post(
            "/v1/access/token", json={"channel": "sms", "value": "+420777123456", "code": access}
        )
        (subscription,) = granted.json()["subscriptions"]
        fresh = {"Authorization": f"Bearer {subscription['access_token']}"}
        old = {"Authorization": f"Bearer {created['access_token']}"}
        assert (await client.get(f"/v1/subscribers/{created['id']}", headers=fresh)).status_code == 200
        assert (await client.get(f"/v1/subscribers/{created['id']}", headers=old)).status_code == 401


class TestTheExportAndThePortal:
    async def test_the_export_includes_the_composers_history_or_says_it_could_not(self) -> None:
        subscriber_id = uuid4()

        def composer(request: httpx.Request) -> httpx.Response:
            assert request.headers["authorization"] == "Bearer hls_registry"
            return httpx.Response(200, json={"held_by": "composer", "deliveries": [{"channel": "sms"}]})

        history = ComposerHistory(
            base_url="http://composer", key="hls_registry", transport=httpx.MockTransport(composer)
        )
        assert (await history.of(subscriber_id))["deliveries"] == [{"channel": "sms"}]
        down = ComposerHistory(
            base_url="http://composer", key="k", transport=httpx.MockTransport(lambda _: httpx.Response(503))
        )
        with pytest.raises(ComposerUnavailable, match="503"):
            await down.of(subscriber_id)

    async def test_a_jwks_that_is_not_json_is_the_portals_fault_and_unknown_keys_are_fetched_rarely(
        self,
    ) -> None:
        fetched = []
        app = FastAPI()

        @app.get("/jwks")
        async def jwks() -> PlainTextResponse:
            fetched.append(time.monotonic())
            return PlainTextResponse("<html>maintenance</html>")

        with serve_in_thread(app) as url:
            verifier = PortalVerifier(issuer="x", audience="y", jwks_url=f"{url}/jwks")
            token = jwt.encode({"sub": "a"}, "k" * 32, algorithm="HS256", headers={"kid": "made-up"})
            with pytest.raises(PortalUnavailable, match="not a JWKS"):
                await verifier.verify(token)
            for _ in range(5):
                with pytest.raises(InvalidAssertion, match="does not publish"):
                    await verifier.verify(token)
        assert len(fetched) == 1, "an unknown key id fetches the keys at most once a minute"

    async def test_a_registration_through_a_portal_that_answers_rubbish_is_a_502_with_the_reason(
        self, database_url: str, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        app = FastAPI()
        app.get("/jwks")(lambda: PlainTextResponse("not json"))
        with serve_in_thread(app) as url:
            registry = bootstrap(
                Settings(database_url=database_url, allow_insecure=ON_LOOPBACK, portal_jwks_url=f"{url}/jwks")
            )
            transport = httpx.ASGITransport(app=registry)
            async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
                token = jwt.encode({"sub": "a"}, "k" * 32, algorithm="HS256", headers={"kid": "k1"})
                answer = await client.post(
                    "/v1/subscribers", json=REGISTRATION, headers={"X-Portal-Assertion": token}
                )
            await registry.state.registry.sessions.kw["bind"].dispose()
        assert answer.status_code == 502 and "not a JWKS" in answer.json()["detail"]


class TestSecretsCanBeReplaced:
    async def test_what_the_old_secret_made_still_works_after_it_was_replaced(
        self,
        register: Register,
        sessions: async_sessionmaker[AsyncSession],
        relay: OutboxRelay,
        settings: Settings,
    ) -> None:
        created = await register(REGISTRATION)
        rotated = settings.model_copy(
            update={"secret_key": _secret("a new one"), "previous_secret_keys": [settings.secret_key]}
        )
        read = await subscribers.get_subscriber(
            sessions=sessions, settings=rotated, subscriber_id=created.id, token=created.access_token
        )
        assert read.id == created.id
        state = SubscriberChanged.model_validate_json((await outbox(sessions, SUBSCRIBERS))[-1])
        from hlasatel_registry.handlers import unsubscribe

        _, done = await unsubscribe.unsubscribe(
            sessions=sessions,
            relay=relay,
            settings=rotated,
            code=state.unsubscribe_tokens["water"],
            category=None,
            confirmed=False,
            via="email_link",
        )
        assert done
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(SubscriberRow)) == 1


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)
