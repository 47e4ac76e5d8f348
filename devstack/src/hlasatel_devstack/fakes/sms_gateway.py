"""A fake SMS gateway in the shape of Twilio's Messages API (2010-04-01)."""

import asyncio
import base64
import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Body, FastAPI, Form, Header
from fastapi.responses import JSONResponse

from hlasatel_contracts.sms import measure
from hlasatel_devstack.fakes.ledger import Ledger

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
    )


def sms_gateway_app(*, ledger: Ledger, account_sid: str, auth_token: str) -> FastAPI:
    app = FastAPI(title="Fake SMS gateway (Twilio Messages API shape)")
    expected_auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    behaviour = {"delay_ms": 0}

    @app.post("/_fake/behaviour", include_in_schema=False)
    async def set_behaviour(delay_ms: Annotated[int, Body(embed=True, ge=0, le=60_000)]) -> dict[str, int]:
        """Answer every later message this much later, like a congested gateway, so a backlog builds."""
        behaviour["delay_ms"] = delay_ms
        return behaviour

    @app.post("/2010-04-01/Accounts/{sid}/Messages.json", status_code=201, response_model=None)
    async def create_message(
        sid: str,
        to: Annotated[str, Form(alias="To")],
        sender: Annotated[str, Form(alias="From")],
        body: Annotated[str, Form(alias="Body")] = "",
        status_callback: Annotated[str | None, Form(alias="StatusCallback")] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        if sid != account_sid or authorization != expected_auth:
            return _error(401, 20003, "Authenticate")
        if not _E164.match(to):
            return _error(400, 21211, "The 'To' number is not a valid phone number.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if behaviour["delay_ms"]:
            await asyncio.sleep(behaviour["delay_ms"] / 1000)
        message_sid = "SM" + secrets.token_hex(16)
        ids = {k: v[0] for k, v in parse_qs(urlsplit(status_callback or "").query).items()}
        count = measure(body).segments
        ledger.append(
            {
                "recipient": to,
                "text": body,
                "from": sender,
                "sid": message_sid,
                "segments": count,
                "message_id": ids.get("message_id"),
                "delivery_id": ids.get("delivery_id"),
            }
        )
        now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        return {
            "sid": message_sid,
            "account_sid": account_sid,
            "to": to,
            "from": sender,
            "body": body,
            "status": "queued",
            "num_segments": str(count),
            "num_media": "0",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "messaging_service_sid": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}.json",
            "subresource_uris": {},
        }

    return app
