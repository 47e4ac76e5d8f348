"""The registry's API as the citizen's pages call it: the register's addresses, a citizen's subscription
with their access token, codes, links, and the messages they were sent. Every call that the registry
limits per address carries the citizen's own (X-Forwarded-For), not these pages' one address."""

from typing import Any

import httpx

from hlasatel_web.api import ApiRefused, JsonApi

Json = dict[str, Any]


def _from(ip: str | None) -> dict[str, str]:
    return {"X-Forwarded-For": ip} if ip else {}


class RegistryApi(JsonApi):
    def __init__(self, *, base_url: str, client: httpx.AsyncClient) -> None:
        super().__init__(name="registry", base_url=base_url, client=client)

    async def search(self, query: str, *, limit: int = 10) -> tuple[list[Json], list[Json]]:
        """The register's addresses best matching what was typed, or, when none does, the nearest ones."""
        try:
            found = await self.call("GET", "/v1/addresses/search", params={"q": query, "limit": limit})
        except ApiRefused as refused:
            if refused.status != 404:
                raise
            nearest = refused.body.get("suggestions", []) if isinstance(refused.body, dict) else []
            return [], list(nearest)
        return list(found.get("results", [])), []

    async def address(self, code: int) -> Json | None:
        try:
            return dict(await self.call("GET", f"/v1/addresses/{code}"))
        except ApiRefused as refused:
            if refused.status in (404, 422):
                return None
            raise

    async def register(self, body: Json, *, ip: str | None) -> Json:
        return dict(await self.call("POST", "/v1/subscribers", json=body, headers=_from(ip)))

    async def subscription(self, subscriber_id: str, token: str) -> Json:
        return dict(await self.call("GET", f"/v1/subscribers/{subscriber_id}", token=token))

    async def update(self, subscriber_id: str, token: str, body: Json, *, ip: str | None) -> Json:
        path = f"/v1/subscribers/{subscriber_id}"
        return dict(await self.call("PATCH", path, token=token, json=body, headers=_from(ip)))

    async def remove_contact(self, subscriber_id: str, token: str, contact_id: str) -> Json:
        path = f"/v1/subscribers/{subscriber_id}/contacts/{contact_id}"
        return dict(await self.call("DELETE", path, token=token))

    async def send_code(self, subscriber_id: str, token: str, contact_id: str, *, ip: str | None) -> None:
        path = f"/v1/subscribers/{subscriber_id}/contacts/{contact_id}/code"
        await self.call("POST", path, token=token, headers=_from(ip))

    async def verify(self, subscriber_id: str, contact_id: str, code: str, *, ip: str | None) -> None:
        path = f"/v1/subscribers/{subscriber_id}/contacts/{contact_id}/verify"
        await self.call("POST", path, json={"code": code}, headers=_from(ip))

    async def access_code(self, channel: str, value: str, *, ip: str | None) -> None:
        await self.call(
            "POST", "/v1/access/code", json={"channel": channel, "value": value}, headers=_from(ip)
        )

    async def access_token(self, channel: str, value: str, code: str, *, ip: str | None) -> list[Json]:
        body = {"channel": channel, "value": value, "code": code}
        granted = await self.call("POST", "/v1/access/token", json=body, headers=_from(ip))
        return list(granted.get("subscriptions", []))

    async def export(self, subscriber_id: str, token: str) -> Json:
        return dict(await self.call("GET", f"/v1/subscribers/{subscriber_id}/export", token=token))

    async def erase(self, subscriber_id: str, token: str) -> None:
        await self.call("DELETE", f"/v1/subscribers/{subscriber_id}", token=token)

    async def messages(self, subscriber_id: str, token: str) -> Json:
        return dict(await self.call("GET", f"/v1/subscribers/{subscriber_id}/messages", token=token))

    async def portal_messages(self, assertion: str) -> Json:
        return dict(await self.call("GET", "/v1/portal/messages", headers={"X-Portal-Assertion": assertion}))

    async def describe_link(self, code: str, category: str | None) -> Json:
        return dict(await self.call("GET", f"/v1/links/unsubscribe/{code}", params={"category": category}))

    async def unsubscribe_by_link(self, code: str, category: str | None, *, confirm: bool, via: str) -> Json:
        path = f"/v1/links/unsubscribe/{code}"
        body = {"confirm": confirm, "via": via}
        return dict(await self.call("POST", path, json=body, params={"category": category}))

    async def verify_email_link(self, token: str) -> None:
        await self.call("POST", "/v1/links/verify-email", json={"token": token})
