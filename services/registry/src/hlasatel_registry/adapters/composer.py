"""The composer's record of whom it sent what: asked for a subscriber's export, never read from its
database (services share no database)."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from hlasatel_runtime.errors import SafeError


class ComposerUnavailable(SafeError):
    """The composer did not answer with the delivery history: the export is not complete without it."""


class ComposerHistory:
    """`GET /v1/subscribers/{id}/deliveries` on the composer, with the key of role `registry` it gave us."""

    def __init__(
        self,
        *,
        base_url: str | None,
        key: str | None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        self._key = key
        self._timeout_s = timeout_s
        self._transport = transport

    @property
    def configured(self) -> bool:
        return bool(self._base_url and self._key)

    async def of(self, subscriber_id: UUID, *, language: str = "cs") -> dict[str, Any]:
        """What the composer holds of the subscriber's deliveries, each with what it said in their
        language; where it is not configured (a registry on its own), the export says so rather than
        leaving the history out in silence."""
        if not self.configured:
            return {"held_by": "composer", "note": "the composer is not configured (REGISTRY_COMPOSER_URL)"}
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s, transport=self._transport) as client:
                response = await client.get(
                    f"{self._base_url}/v1/subscribers/{subscriber_id}/deliveries",
                    params={"language": language},
                    headers={"Authorization": f"Bearer {self._key}"},
                )
            response.raise_for_status()
            body: dict[str, Any] = response.json()
        except httpx.HTTPStatusError as exc:
            raise ComposerUnavailable(
                f"the composer refused the delivery history (HTTP {exc.response.status_code})"
            ) from None
        except (httpx.HTTPError, ValueError) as exc:
            raise ComposerUnavailable(
                f"the composer's delivery history could not be read ({type(exc).__name__}); try again"
            ) from None
        return body


@dataclass(frozen=True)
class StaffMember:
    """A member of the city's staff, as the composer knows them from their session."""

    id: str
    name: str
    role: str


class StaffNotSignedIn(SafeError):
    """No staff session, or one the composer does not know (ended, or never begun)."""


class ComposerStaff:
    """Who holds a staff session: `GET /v1/staff/me` on the composer, where staff accounts live, asked with
    the session itself (the registry keeps no staff of its own)."""

    def __init__(
        self,
        *,
        base_url: str | None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/") if base_url else None
        self._timeout_s = timeout_s
        self._transport = transport

    async def who(self, session_token: str | None) -> StaffMember:
        """The member of the staff whose session this is; refused when it is not a living staff session."""
        if not session_token or not session_token.startswith("hss_"):
            raise StaffNotSignedIn("a staff member's session is required: 'Authorization: Bearer hss_…'")
        if self._base_url is None:
            raise ComposerUnavailable("staff sign-in needs the composer (REGISTRY_COMPOSER_URL is not set)")
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s, transport=self._transport) as client:
                response = await client.get(
                    f"{self._base_url}/v1/staff/me", headers={"Authorization": f"Bearer {session_token}"}
                )
        except httpx.HTTPError as exc:
            raise ComposerUnavailable(
                f"the composer could not say who is signed in ({type(exc).__name__}); try again"
            ) from None
        if response.status_code in (401, 404):
            raise StaffNotSignedIn("the staff session has ended or is not known: sign in again")
        if response.status_code != 200:
            raise ComposerUnavailable(
                f"the composer could not say who is signed in (HTTP {response.status_code})"
            )
        body = response.json()
        return StaffMember(id=str(body["id"]), name=str(body["name"]), role=str(body["role"]))
