"""The registry's API as the console calls it: the register's districts, streets and addresses, and a
clerk's registration of a citizen at the office."""

from typing import Any

import httpx

from hlasatel_web.api import ApiRefused, JsonApi

Json = dict[str, Any]


class RegistryApi(JsonApi):
    def __init__(self, *, base_url: str, client: httpx.AsyncClient) -> None:
        super().__init__(name="registry", base_url=base_url, client=client)

    async def districts(self) -> list[Json]:
        return list(await self.call("GET", "/v1/districts"))

    async def streets(self, district_code: int) -> list[Json]:
        return list(await self.call("GET", f"/v1/districts/{district_code}/streets"))

    async def search(self, query: str, *, limit: int = 10) -> list[Json]:
        """The register's addresses best matching what was typed; none when nothing matches."""
        try:
            found = await self.call("GET", "/v1/addresses/search", params={"q": query, "limit": limit})
        except ApiRefused as refused:
            if refused.status == 404:
                return []
            raise
        return list(found.get("results", []))

    async def address(self, code: int) -> Json:
        return dict(await self.call("GET", f"/v1/addresses/{code}"))

    async def register_in_person(self, token: str, registration: Json) -> Json:
        return dict(await self.call("POST", "/v1/staff/subscribers", token=token, json=registration))

    # the codes at the desk go through the staff's routes, with the clerk's session: the registry's limits on
    # codes then count per clerk, not for the console's one address that every counter shares
    async def verify(self, token: str, subscriber_id: str, contact_id: str, code: str) -> Json:
        path = f"/v1/staff/subscribers/{subscriber_id}/contacts/{contact_id}/verify"
        return dict(await self.call("POST", path, token=token, json={"code": code}))

    async def resend(self, token: str, access_token: str, subscriber_id: str, contact_id: str) -> None:
        path = f"/v1/staff/subscribers/{subscriber_id}/contacts/{contact_id}/code"
        await self.call("POST", path, token=token, json={"access_token": access_token})
