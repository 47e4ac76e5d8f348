"""Identity assertions from the city's citizen portal: a JWT carrying the citizen's verified address point."""

import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from hlasatel_runtime.errors import SafeError

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class InvalidAssertion(SafeError):
    """The portal's assertion cannot be trusted; the message says why."""


class PortalUnavailable(SafeError):
    """The portal's keys could not be had: its fault, not the citizen's (502)."""


# an unknown key id fetches the portal's keys again, but not more often than this: a stream of made-up
# key ids must not turn the registry into a flood of requests to the portal
REFETCH_AFTER_S = 60.0


@dataclass(frozen=True)
class PortalIdentity:
    subject: str
    address_point: int


class PortalVerifier:
    """Checks signature, issuer, audience and expiry against the portal's public key or its JWKS."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key: str | None = None,
        jwks_url: str | None = None,
        jwks_cache_s: float = 600.0,
    ) -> None:
        self._issuer, self._audience = issuer, audience
        self._public_key = public_key
        self._jwks_url = jwks_url
        self._jwks: dict[str, Any] = {}
        self._jwks_fetched: float | None = None
        self._jwks_cache_s = jwks_cache_s

    @property
    def configured(self) -> bool:
        return bool(self._public_key or self._jwks_url)

    def _stale(self, kid: Any) -> bool:
        """Fetch the keys when they are old, or for a key id not among them, at most once a minute."""
        if self._jwks_fetched is None:
            return True
        age = time.monotonic() - self._jwks_fetched
        return age > self._jwks_cache_s or (kid not in self._jwks and age > REFETCH_AFTER_S)

    async def _fetch(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self._jwks_url or "")
                response.raise_for_status()
            keys = response.json().get("keys", [])
            published = {str(key.get("kid")): key for key in keys if isinstance(key, dict)}
        except httpx.HTTPError as exc:
            raise PortalUnavailable(
                f"the portal's keys could not be fetched ({type(exc).__name__})"
            ) from None
        except (ValueError, AttributeError, TypeError):
            raise PortalUnavailable("the portal's keys are not a JWKS (JSON with 'keys')") from None
        finally:
            self._jwks_fetched = time.monotonic()
        self._jwks = published

    async def _key(self, token: str) -> Any:
        if self._public_key:
            return self._public_key
        kid = jwt.get_unverified_header(token).get("kid")
        if self._stale(kid):
            await self._fetch()
        if kid not in self._jwks:
            raise InvalidAssertion("signed with a key the portal does not publish")
        try:
            return jwt.PyJWK(self._jwks[kid]).key
        except jwt.PyJWTError:
            raise PortalUnavailable("the portal publishes that key in a form that cannot be read") from None

    async def verify(self, token: str) -> PortalIdentity:
        if not self.configured:
            raise InvalidAssertion("no citizen portal is configured")
        try:
            claims = jwt.decode(
                token,
                await self._key(token),
                algorithms=ALGORITHMS,
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "address_point"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidAssertion("the assertion has expired") from None
        except jwt.InvalidSignatureError:
            raise InvalidAssertion("the assertion's signature does not match the portal's key") from None
        except jwt.PyJWTError as exc:
            raise InvalidAssertion(f"the assertion is not valid ({type(exc).__name__})") from None
        try:
            return PortalIdentity(subject=str(claims["sub"]), address_point=int(claims["address_point"]))
        except (TypeError, ValueError):
            raise InvalidAssertion("the assertion's address_point is not an address point code") from None
