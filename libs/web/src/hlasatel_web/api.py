"""One way for Hlasatel's pages to call the composer and the registry: JSON over httpx with the reader's
session (a staff member's, a citizen's access token) and the reader's address for the registry's limits,
and every refusal as an `ApiRefused` that carries the service's own reason for the page to show."""

import logging
import time
from typing import Any

import httpx

from hlasatel_runtime.errors import SafeError

log = logging.getLogger(__name__)


class ApiRefused(SafeError):
    """The service answered with a 4xx: its reason, and the fields it names, for the page to show."""

    def __init__(
        self,
        status: int,
        reason: str,
        fields: dict[str, str] | None = None,
        retry_after: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.fields = fields or {}
        # of a 429: the seconds the service asks to wait
        self.retry_after = retry_after
        # the answer as the service gave it (a search's suggestions with its 404)
        self.body = body


class SessionEnded(ApiRefused):
    """The session is unknown, has ended (idle, signed out, disabled) or was never complete."""


class ServiceUnavailable(SafeError):
    """The composer or the registry did not answer: nothing was changed by this page."""


def reason_of(body: Any) -> tuple[str, dict[str, str]]:
    """A service's refusal as one sentence and, for a validation error, the message of each field."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail, {}
    if isinstance(detail, list):
        fields: dict[str, str] = {}
        for problem in detail:
            if not isinstance(problem, dict):
                continue
            location = [str(part) for part in problem.get("loc", []) if part not in ("body", "query")]
            fields.setdefault(".".join(location) or "form", str(problem.get("msg", "")))
        sentence = "; ".join(
            f"{name}: {message}" if name != "form" else message for name, message in fields.items()
        )
        return sentence or "the request was refused", fields
    return "the request was refused", {}


class JsonApi:
    """A service's HTTP API; the client is shared by every request of the console."""

    def __init__(self, *, name: str, base_url: str, client: httpx.AsyncClient) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.client = client

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The answer's JSON (None for 204); a refusal raises ApiRefused, a 401 SessionEnded."""
        response = await self.raw(method, path, token=token, json=json, params=params, headers=headers)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def raw(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = dict(headers or {}) | ({"Authorization": f"Bearer {token}"} if token else {})
        started = time.monotonic()
        try:
            response = await self.client.request(
                method, self.base_url + path, json=json, params=_plain(params), headers=headers
            )
        except httpx.HTTPError as exc:
            log.warning("%s %s %s failed: %s", self.name, method, _route(path), type(exc).__name__)
            raise ServiceUnavailable(
                f"the {self.name} did not answer ({type(exc).__name__}); try again"
            ) from None
        log.debug("%s %s %s: %s in %.0f ms", self.name, method, _route(path), response.status_code,
                  (time.monotonic() - started) * 1000)  # fmt: skip
        if response.status_code >= 500:
            raise ServiceUnavailable(
                f"the {self.name} could not answer (HTTP {response.status_code}); try again"
            )
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            reason, fields = reason_of(body)
            kind = SessionEnded if response.status_code == 401 else ApiRefused
            wait = response.headers.get("retry-after", "")
            raise kind(response.status_code, reason, fields, int(wait) if wait.isdigit() else None, body)
        return response


def _plain(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters without the ones not given."""
    if params is None:
        return None
    return {key: value for key, value in params.items() if value is not None and value != ""}


def _route(path: str) -> str:
    """A path for a log line: ids stay, query strings (which may hold names and addresses) go."""
    return path.split("?", 1)[0]
