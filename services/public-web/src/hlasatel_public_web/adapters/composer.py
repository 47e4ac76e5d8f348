"""The composer's public API as the citizen's pages call it: the city's messages in force at an address."""

from typing import Any

import httpx

from hlasatel_web.api import ApiRefused, JsonApi

Json = dict[str, Any]


class ComposerApi(JsonApi):
    def __init__(self, *, base_url: str, client: httpx.AsyncClient) -> None:
        super().__init__(name="composer", base_url=base_url, client=client)

    async def address_messages(self, code: int) -> Json | None:
        """The public messages in force that cover the address point, with the CAP and Atom links; None for
        a code the city's register does not know."""
        try:
            return dict(await self.call("GET", f"/v1/public/addresses/{code}/alerts"))
        except ApiRefused as refused:
            if refused.status in (404, 422):
                return None
            raise
