"""A clerk at the city office registers a citizen in person: the registry asks the composer, where the
staff live, who holds the session; the citizen's own phone gets the code; the consent names the clerk."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_devstack.ports import free_port
from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_devstack.testing import serve_in_thread
from hlasatel_registry.adapters.orm import ConsentRow, OutboxRow
from hlasatel_registry.bootstrap import bootstrap
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.gazetteer import AddressRecord

CLERK = {"id": "5b1f0d6e-8f1c-4d7e-9b0a-2c3d4e5f6a7b", "name": "Klára Úřednice", "role": "editor"}
SESSION = "hss_the-clerks-living-session"
# the clerk at the next counter
OTHER = {"id": "0c2e4a6b-8d0f-4a1b-9c3d-5e7f9a1b3c5d", "name": "Ota Vedlejší", "role": "editor"}
OTHER_SESSION = "hss_the-other-clerks-session"
REGISTRATION = {
    "addresses": [{"address_point": 23657235}],
    "contacts": [{"channel": "sms", "value": "+420777123456"}],
}


@pytest.fixture(autouse=True)
async def masarykova(gazetteer: Callable[..., Awaitable[str]], records: list[AddressRecord]) -> None:
    await gazetteer([r for r in records if r.street == "Masarykova"])


@pytest.fixture(scope="module")
def composer() -> Iterator[str]:
    """A stand-in for the composer's `/v1/staff/me`, on a real socket: it knows one living session."""
    app = FastAPI()

    @app.get("/v1/staff/me")
    async def me(authorization: str = Header("")) -> JSONResponse:
        known = {f"Bearer {SESSION}": CLERK, f"Bearer {OTHER_SESSION}": OTHER}
        if authorization not in known:
            return JSONResponse({"detail": "the session has ended"}, status_code=401)
        return JSONResponse(known[authorization])

    with serve_in_thread(app) as url:
        yield url


async def client_for(database_url: str, composer_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = bootstrap(
        Settings(database_url=database_url, allow_insecure=ON_LOOPBACK, composer_url=composer_url)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://registry"
    ) as client:
        yield client
    await app.state.registry.sessions.kw["bind"].dispose()


@pytest.fixture
async def client(database_url: str, composer: str) -> AsyncIterator[httpx.AsyncClient]:
    async for made in client_for(database_url, composer):
        yield made


class TestAtTheFrontDesk:
    async def test_a_clerk_registers_a_citizen_whose_phone_gets_the_code_and_the_consent_names_the_clerk(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        answer = await client.post(
            "/v1/staff/subscribers", json=REGISTRATION, headers={"Authorization": f"Bearer {SESSION}"}
        )
        assert answer.status_code == 201, answer.text
        made: dict[str, Any] = answer.json()
        assert made["access_token"] and made["contacts"][0]["verified"] is False
        async with sessions() as session:
            consent = await session.scalar(select(ConsentRow).where(ConsentRow.action == "registered"))
            codes = list(
                await session.scalars(select(OutboxRow.payload).where(OutboxRow.topic.contains("sms")))
            )
        assert consent is not None and consent.via == "in_person"
        assert (consent.details["clerk"], consent.details["clerk_id"]) == (CLERK["name"], CLERK["id"])
        assert len(codes) == 1 and "+420777123456" in codes[0]

    @pytest.mark.parametrize(
        "authorization",
        [
            None,
            "Bearer hss_a-session-that-has-ended",
            "Bearer a-citizens-access-token",
            "Bearer hls_an-api-key",
        ],
    )
    async def test_without_a_living_staff_session_nobody_is_registered(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], authorization: str | None
    ) -> None:
        headers = {"Authorization": authorization} if authorization else {}
        answer = await client.post("/v1/staff/subscribers", json=REGISTRATION, headers=headers)
        assert answer.status_code == 401 and "session" in answer.json()["detail"]
        async with sessions() as session:
            assert await session.scalar(select(ConsentRow)) is None

    async def test_when_the_composer_does_not_answer_the_clerk_is_told_to_try_again(
        self, database_url: str, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        async for client in client_for(database_url, f"http://127.0.0.1:{free_port()}"):
            answer = await client.post(
                "/v1/staff/subscribers", json=REGISTRATION, headers={"Authorization": f"Bearer {SESSION}"}
            )
        assert answer.status_code == 502 and "try again" in answer.json()["detail"]
        async with sessions() as session:
            assert await session.scalar(select(ConsentRow)) is None


class TestTheCodesAtTheDesk:
    async def test_the_codes_are_checked_and_sent_again_with_the_clerks_session_and_counted_per_clerk(
        self, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        clerk = {"Authorization": f"Bearer {SESSION}"}
        made = (await client.post("/v1/staff/subscribers", json=REGISTRATION, headers=clerk)).json()
        contact = made["contacts"][0]["id"]
        desk = f"/v1/staff/subscribers/{made['id']}/contacts/{contact}"
        again = await client.post(f"{desk}/code", json={"access_token": made["access_token"]}, headers=clerk)
        assert again.status_code == 202, again.text
        forged = await client.post(f"{desk}/code", json={"access_token": "not-theirs"}, headers=clerk)
        assert forged.status_code == 401, "the citizen's token says whose record it is"
        nobody = await client.post(f"{desk}/verify", json={"code": "000000"})
        assert nobody.status_code == 401, "a clerk's session is required"
        answers = [
            (await client.post(f"{desk}/verify", json={"code": "000000"}, headers=clerk)).status_code
            for _ in range(31)
        ]
        assert answers[-1] == 429, "this clerk's wrong codes are limited"
        other = await client.post(
            f"{desk}/verify", json={"code": "000000"}, headers={"Authorization": f"Bearer {OTHER_SESSION}"}
        )
        assert other.status_code == 422, "the next counter is not locked out by another clerk's mistakes"
