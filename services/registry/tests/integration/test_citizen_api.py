"""What the citizen's pages and the city's portal ask the registry: the consent given on a page, the
messages a citizen was sent, and the links of messages."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hlasatel_devstack.stack import ON_LOOPBACK
from hlasatel_registry.adapters.composer import ComposerHistory
from hlasatel_registry.bootstrap import bootstrap
from hlasatel_registry.config import Settings
from hlasatel_registry.domain.gazetteer import AddressRecord

MASARYKOVA_12 = 23657235
PORTAL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PORTAL_PUBLIC = (
    PORTAL_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
SIGNED_UP = {
    "page": "/sign-up/contacts",
    "statement": "Send me codes to check my contacts, and emergencies at my address.",
}
OLDER, NEWER = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def delivery(message_id: str, approved_at: str, channel: str = "sms") -> dict[str, Any]:
    return {
        "message_id": message_id,
        "headline": f"headline of {message_id[:2]}",
        "text": "Zítra nepoteče voda.",
        "category": "water",
        "severity": "warning",
        "kind": None,
        "message_approved_at": approved_at,
        "channel": channel,
        "contact_id": None,
        "state": "delivered",
        "reason": None,
        "updated_at": approved_at,
        "held_for_quiet_hours": False,
        "address_points": [MASARYKOVA_12],
    }


@pytest.fixture(autouse=True)
async def masarykova(gazetteer: Callable[..., Awaitable[str]], records: list[AddressRecord]) -> None:
    await gazetteer([r for r in records if r.street == "Masarykova"])


@pytest.fixture
def asked() -> list[httpx.Request]:
    return []


@pytest.fixture
async def client(
    database_url: str, sessions: async_sessionmaker[AsyncSession], asked: list[httpx.Request]
) -> AsyncIterator[httpx.AsyncClient]:
    """The registry in process, with a composer that holds two deliveries for whoever is asked about."""

    def composer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        deliveries = [
            delivery(OLDER, "2026-11-20T08:00:00+00:00"),
            delivery(NEWER, "2026-11-23T07:00:00+00:00"),
        ]
        return httpx.Response(200, json={"held_by": "composer", "kept_for_days": 7, "deliveries": deliveries})

    app = bootstrap(
        Settings(database_url=database_url, allow_insecure=ON_LOOPBACK, portal_public_key=PORTAL_PUBLIC)
    )
    app.state.registry.history = ComposerHistory(
        base_url="http://composer", key="hls_registry", transport=httpx.MockTransport(composer)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry") as made:
        yield made
    await app.state.registry.sessions.kw["bind"].dispose()


async def register(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    body = {
        "addresses": [{"address_point": MASARYKOVA_12}],
        "contacts": [{"channel": "push", "value": "a-token"}],
        "language": "en",
    } | extra
    answer = await client.post("/v1/subscribers", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


class TestConsentOnAPage:
    async def test_the_consent_record_says_what_was_agreed_on_which_page(
        self, client: httpx.AsyncClient
    ) -> None:
        created = await register(client, categories=[], consent=SIGNED_UP)
        bearer = {"Authorization": f"Bearer {created['access_token']}"}
        agreed = {"page": "/sign-up/check", "statement": "Send me messages about water by SMS."}
        changed = await client.patch(
            f"/v1/subscribers/{created['id']}",
            json={"categories": ["water"], "consent": agreed},
            headers=bearer,
        )
        assert changed.status_code == 200 and changed.json()["categories"] == ["water"]
        consents = (await client.get(f"/v1/subscribers/{created['id']}/export", headers=bearer)).json()[
            "consents"
        ]
        assert [(c["action"], c["via"], c["details"].get("page")) for c in consents] == [
            ("registered", "web", "/sign-up/contacts"),
            ("preferences_changed", "web", "/sign-up/check"),
        ]
        assert consents[1]["details"]["statement"] == agreed["statement"]
        assert consents[1]["details"]["changed"] == ["categories"], "the consent itself is no preference"

    async def test_a_consent_without_its_words_is_refused(self, client: httpx.AsyncClient) -> None:
        answer = await client.post(
            "/v1/subscribers",
            json={
                "addresses": [{"address_point": MASARYKOVA_12}],
                "contacts": [{"channel": "push", "value": "t"}],
                "consent": {"page": "/sign-up/check", "statement": ""},
            },
        )
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "statement"


class TestMyMessages:
    async def test_the_owner_sees_what_was_sent_newest_first_in_their_language(
        self, client: httpx.AsyncClient, asked: list[httpx.Request]
    ) -> None:
        created = await register(client)
        path = f"/v1/subscribers/{created['id']}/messages"
        assert (await client.get(path)).status_code == 401
        answer = await client.get(path, headers={"Authorization": f"Bearer {created['access_token']}"})
        assert answer.status_code == 200
        body = answer.json()
        assert [m["message_id"] for m in body["messages"]] == [NEWER, OLDER]
        assert body["kept_for_days"] == 7 and body["messages"][0]["headline"] == "headline of 22"
        assert "contact_id" not in body["messages"][0] and "address_points" not in body["messages"][0]
        assert asked[-1].url.params["language"] == "en"
        assert asked[-1].url.path == f"/v1/subscribers/{created['id']}/deliveries"

    async def test_the_portal_shows_the_messages_of_the_citizen_it_vouches_for(
        self, client: httpx.AsyncClient, asked: list[httpx.Request]
    ) -> None:
        def vouch(subject: str) -> str:
            now = int(time.time())
            claims = {
                "iss": "https://portal.liberec.cz",
                "aud": "hlasatel",
                "sub": subject,
                "iat": now,
                "exp": now + 300,
                "address_point": MASARYKOVA_12,
            }
            return jwt.encode(claims, PORTAL_KEY, algorithm="RS256")

        answer = await client.post(
            "/v1/subscribers",
            json={
                "addresses": [{"address_point": MASARYKOVA_12}],
                "contacts": [{"channel": "push", "value": "t"}],
            },
            headers={"X-Portal-Assertion": vouch("citizen-7")},
        )
        subscriber_id = UUID(answer.json()["id"])
        mine = await client.get("/v1/portal/messages", headers={"X-Portal-Assertion": vouch("citizen-7")})
        assert [m["message_id"] for m in mine.json()["messages"]] == [NEWER, OLDER]
        assert asked[-1].url.path == f"/v1/subscribers/{subscriber_id}/deliveries"
        stranger = await client.get("/v1/portal/messages", headers={"X-Portal-Assertion": vouch("citizen-8")})
        assert stranger.json()["messages"] == []
        forged = jwt.encode({"sub": "citizen-7"}, "k" * 32, algorithm="HS256")
        refused = await client.get("/v1/portal/messages", headers={"X-Portal-Assertion": forged})
        assert refused.status_code == 422 and "x-portal-assertion" in refused.json()["detail"][0]["loc"]
