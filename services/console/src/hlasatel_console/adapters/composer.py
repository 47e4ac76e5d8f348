"""The composer's API as the console calls it: each method one route, with the staff member's session."""

from datetime import datetime
from typing import Any

import httpx

from hlasatel_web.api import JsonApi

Json = dict[str, Any]


class ComposerApi(JsonApi):
    def __init__(self, *, base_url: str, client: httpx.AsyncClient) -> None:
        super().__init__(name="composer", base_url=base_url, client=client)

    # signing in
    async def sign_in(self, email: str, password: str) -> Json:
        return dict(
            await self.call("POST", "/v1/staff/sessions", json={"email": email, "password": password})
        )

    async def pending(self, token: str) -> Json:
        return dict(await self.call("GET", "/v1/staff/sessions/current", token=token))

    async def prove(self, token: str, code: str) -> Json:
        return dict(
            await self.call("POST", "/v1/staff/sessions/current/code", token=token, json={"code": code})
        )

    async def me(self, token: str) -> Json:
        return dict(await self.call("GET", "/v1/staff/me", token=token))

    async def sign_out(self, token: str, *, everywhere: bool = False) -> None:
        await self.call(
            "DELETE", "/v1/staff/sessions" if everywhere else "/v1/staff/sessions/current", token=token
        )

    async def accept_invitation(self, invitation: str, password: str) -> Json:
        body = {"token": invitation, "password": password}
        return dict(await self.call("POST", "/v1/staff/invitations/accept", json=body))

    # messages
    async def messages(
        self, token: str, *, state: str | None = None, since: datetime | None = None, limit: int = 50
    ) -> list[Json]:
        params = {"state": state, "since": since.isoformat() if since else None, "limit": limit}
        return list(await self.call("GET", "/v1/messages", token=token, params=params))

    async def message(self, token: str, message_id: str) -> Json:
        return dict(await self.call("GET", f"/v1/messages/{message_id}", token=token))

    async def create(self, token: str, draft: Json) -> Json:
        return dict(await self.call("POST", "/v1/messages", token=token, json=draft))

    async def update(self, token: str, message_id: str, changes: Json) -> Json:
        return dict(await self.call("PATCH", f"/v1/messages/{message_id}", token=token, json=changes))

    async def follow_up(self, token: str, message_id: str, body: Json) -> Json:
        return dict(await self.call("POST", f"/v1/messages/{message_id}/updates", token=token, json=body))

    async def decide(self, token: str, message_id: str, decision: str, reason: str | None = None) -> Json:
        """approve, cancel, reject or return (the last two with a reason)."""
        body = {"reason": reason} if decision in ("reject", "return") else None
        return dict(await self.call("POST", f"/v1/messages/{message_id}/{decision}", token=token, json=body))

    async def report(self, token: str, message_id: str, *, unreached: int = 50) -> Json:
        path = f"/v1/messages/{message_id}/report"
        return dict(await self.call("GET", path, token=token, params={"unreached_limit": unreached}))

    async def unreached_csv(self, token: str, message_id: str) -> httpx.Response:
        return await self.raw("GET", f"/v1/messages/{message_id}/unreached.csv", token=token)

    async def unreached_geojson(self, token: str, message_id: str) -> Json:
        return dict(await self.call("GET", f"/v1/messages/{message_id}/unreached.geojson", token=token))

    # targets
    async def preview(self, token: str, request: Json) -> Json:
        return dict(await self.call("POST", "/v1/targets/preview", token=token, json=request))

    async def target_geojson(self, token: str, target: Json | None) -> Json:
        if target is None:
            return dict(await self.call("GET", "/v1/targets/geojson", token=token))
        return dict(await self.call("POST", "/v1/targets/geojson", token=token, json={"target": target}))

    # alerts
    async def alerts(self, token: str, *, state: str | None = None, waiting: bool = False) -> list[Json]:
        params = {"state": state, "waiting": "true" if waiting else None}
        return list(await self.call("GET", "/v1/alerts", token=token, params=params))

    # admin
    async def staff(self, token: str) -> list[Json]:
        return list(await self.call("GET", "/v1/staff", token=token))

    async def invite(self, token: str, person: Json) -> Json:
        return dict(await self.call("POST", "/v1/staff", token=token, json=person))

    async def update_staff(self, token: str, staff_id: str, changes: Json) -> Json:
        return dict(await self.call("PATCH", f"/v1/staff/{staff_id}", token=token, json=changes))

    async def disable_staff(self, token: str, staff_id: str) -> Json:
        return dict(await self.call("POST", f"/v1/staff/{staff_id}/disable", token=token))

    async def keys(self, token: str) -> list[Json]:
        return list(await self.call("GET", "/v1/keys", token=token))

    async def create_key(self, token: str, key: Json) -> Json:
        return dict(await self.call("POST", "/v1/keys", token=token, json=key))

    async def revoke_key(self, token: str, key_id: str) -> Json:
        return dict(await self.call("POST", f"/v1/keys/{key_id}/revoke", token=token))

    async def templates(self, token: str) -> list[Json]:
        return list(await self.call("GET", "/v1/templates", token=token))

    async def put_template(self, token: str, language: str, kind: str, text: Json) -> Json:
        return dict(await self.call("PUT", f"/v1/templates/{language}/{kind}", token=token, json=text))

    async def reset_template(self, token: str, language: str, kind: str) -> Json:
        return dict(await self.call("DELETE", f"/v1/templates/{language}/{kind}", token=token))

    async def audit(self, token: str, **filters: Any) -> list[Json]:
        return list(await self.call("GET", "/v1/audit", token=token, params=filters))
