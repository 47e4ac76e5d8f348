"""Identity assertions from the city's citizen portal: a signed JWT with the citizen's address point."""

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from hlasatel_devstack.testing import serve_in_thread
from hlasatel_registry.adapters.portal import InvalidAssertion, PortalVerifier
from hlasatel_registry.domain.gazetteer import AddressRecord
from hlasatel_registry.handlers import subscribers
from hlasatel_registry.schemas import SubscriberCreated

Register = Callable[..., Awaitable[SubscriberCreated]]
ISSUER, AUDIENCE = "https://portal.liberec.cz", "hlasatel"
MASARYKOVA_12 = 23657235
BODY = {"addresses": [{"address_point": MASARYKOVA_12}], "contacts": [{"channel": "push", "value": "t"}]}


def keypair() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


PORTAL_KEY, PORTAL_PUBLIC = keypair()
OTHER_KEY, _ = keypair()


def assertion(key: rsa.RSAPrivateKey = PORTAL_KEY, *, kid: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "citizen-42",
        "iat": now,
        "exp": now + 300,
        "address_point": MASARYKOVA_12,
    } | claims
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid} if kid else None)


@pytest.fixture(autouse=True)
async def masarykova(gazetteer: Callable[..., Awaitable[str]], records: list[AddressRecord]) -> None:
    await gazetteer([r for r in records if r.street in ("Masarykova",)])


@pytest.fixture
def portal() -> PortalVerifier:
    return PortalVerifier(issuer=ISSUER, audience=AUDIENCE, public_key=PORTAL_PUBLIC)


class TestAssertions:
    async def test_a_valid_assertion_makes_the_identity_verified(
        self, register: Register, portal: PortalVerifier
    ) -> None:
        created = await register(BODY, assertion=assertion(), portal=portal)
        assert created.identity_level == "verified"

    async def test_without_an_assertion_the_identity_is_self_declared(self, register: Register) -> None:
        assert (await register(BODY)).identity_level == "self_declared"

    @pytest.mark.parametrize(
        ("token", "reason"),
        [
            (lambda: assertion(exp=int(time.time()) - 10), "expired"),
            (lambda: assertion(OTHER_KEY), "signature does not match"),
            (lambda: _tampered(assertion()), "signature does not match"),
            (lambda: assertion(iss="https://evil.example"), "InvalidIssuerError"),
            (lambda: assertion(aud="someone-else"), "InvalidAudienceError"),
        ],
        ids=["expired", "wrong-key", "tampered", "wrong-issuer", "wrong-audience"],
    )
    async def test_an_untrustworthy_assertion_is_refused_with_the_reason(
        self, register: Register, portal: PortalVerifier, token: Callable[[], str], reason: str
    ) -> None:
        with pytest.raises(InvalidAssertion, match=reason):
            await register(BODY, assertion=token(), portal=portal)

    async def test_the_portal_must_vouch_for_one_of_the_addresses(
        self, register: Register, portal: PortalVerifier
    ) -> None:
        with pytest.raises(subscribers.AssertionMismatch):
            await register(BODY, assertion=assertion(address_point=23653141), portal=portal)

    async def test_keys_published_as_jwks(self, register: Register) -> None:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PORTAL_KEY.public_key())) | {"kid": "portal-2026"}
        app = FastAPI()

        @app.get("/.well-known/jwks.json")
        async def jwks() -> dict[str, Any]:
            return {"keys": [jwk]}

        with serve_in_thread(app) as url:
            portal = PortalVerifier(issuer=ISSUER, audience=AUDIENCE, jwks_url=f"{url}/.well-known/jwks.json")
            created = await register(BODY, assertion=assertion(kid="portal-2026"), portal=portal)
            assert created.identity_level == "verified"
            with pytest.raises(InvalidAssertion, match="does not publish"):
                await register(BODY, assertion=assertion(OTHER_KEY, kid="unknown"), portal=portal)


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["address_point"] = 23656727
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{forged}.{signature}"
