"""A fake SMS gateway in the shape of Twilio's Messages API (2010-04-01)."""

import asyncio
import base64
import contextlib
import hmac
import logging
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI, Form, Header
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import Field

from hlasatel_contracts.sms import measure
from hlasatel_devstack.fakes.behaviour import Misbehaviour, told
from hlasatel_devstack.fakes.ledger import Ledger

log = logging.getLogger(__name__)

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# Twilio's own test numbers, answered as Twilio answers them with test credentials
MAGIC_NUMBERS: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number is not a valid phone number."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "The 'To' number is not a valid mobile number."),
}
BODY_LIMIT = 1600  # characters of a message body, as Twilio counts them


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's request signature, written here from Twilio's documentation on its own (not imported from
    dispatch-sms), so that the fake checks the service's version rather than agreeing with it by
    construction."""
    signed = url
    for name, value in sorted(params.items()):
        signed += f"{name}{value}"
    mac = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), "sha1")
    return base64.b64encode(mac.digest()).decode("ascii")


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


class Behaviour(Misbehaviour):
    fail_status: Literal[429, 500, 502, 503] | None = Field(
        default=None, description="answer the next `fail_times` messages with this status instead"
    )
    report: Literal["delivered", "undelivered", "none"] = Field(
        default="delivered", description="the delivery report sent to the StatusCallback"
    )
    report_error_code: int | None = Field(default=None, description="ErrorCode of an undelivered report")
    report_delay_ms: int = Field(default=200, ge=0, description="how long after accepting the report goes")
    html_times: int = Field(
        default=0,
        ge=0,
        description="answer the next messages 200 with an HTML page (a captive portal or a misconfigured "
        "proxy in front of the gateway), without taking them",
    )


REPORTS_IN_FLIGHT = 50


def sms_gateway_app(
    *, ledger: Ledger, account_sid: str, auth_token: str, behaviour: Behaviour | None = None
) -> FastAPI:
    # one client for every report: a client per report costs a TLS context each, which at a few hundred
    # messages a second is most of the fake's CPU
    client = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=REPORTS_IN_FLIGHT))
    # at most this many reports on the wire: with a receiver that did not answer, thousands of reports
    # waiting for the client's pool at once took the fake's whole event loop (4,000 SMS were not taken in
    # 200 s; with the limit in 9.8 s, 2 ms each while the reports waited) and everything it fakes with it
    reporting = asyncio.Semaphore(REPORTS_IN_FLIGHT)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = FastAPI(title="Fake SMS gateway (Twilio Messages API shape)", lifespan=lifespan)
    # slow down, fail or rate-limit the next messages, like a congested or broken gateway
    behaviour = told(app, behaviour or Behaviour())
    expected_auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    taken: dict[str, dict[str, Any]] = {}  # the answer to each Idempotency-Key that was accepted
    reports: set[asyncio.Task[None]] = set()

    async def _report(url: str, params: dict[str, str], delay_ms: int) -> None:
        """Like Twilio: a form POST signed with the account's auth token (X-Twilio-Signature), tried again
        a few times while the receiver answers with an error (as Twilio's callback retries do)."""
        await asyncio.sleep(delay_ms / 1000)
        signature = twilio_signature(auth_token, url, params)
        for pause in (0.5, 1, 2, 4, None):
            try:
                async with reporting:
                    response = await client.post(url, data=params, headers={"X-Twilio-Signature": signature})
                if response.is_success or response.status_code == 403:
                    return
            except httpx.HTTPError:
                pass
            if pause is None:
                log.info("delivery report to %s given up", url.split("?", 1)[0])
                return
            await asyncio.sleep(pause)

    def _failure() -> JSONResponse | None:
        status = behaviour.next_failure()
        if status is None:
            return None
        if status == 429:
            return behaviour.failure(_error(429, 20429, "Too Many Requests"))
        return _error(status, 20500, "Internal Server Error")

    @app.post("/2010-04-01/Accounts/{sid}/Messages.json", status_code=201, response_model=None)
    async def create_message(
        sid: str,
        to: Annotated[str, Form(alias="To")],
        sender: Annotated[str, Form(alias="From")],
        body: Annotated[str, Form(alias="Body")] = "",
        status_callback: Annotated[str | None, Form(alias="StatusCallback")] = None,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Any:
        if sid != account_sid or authorization != expected_auth:
            return _error(401, 20003, "Authenticate")
        if idempotency_key is not None and idempotency_key in taken:
            # the message was already taken: the same answer again, and no second SMS
            return JSONResponse(
                taken[idempotency_key], status_code=201, headers={"Idempotent-Replayed": "true"}
            )
        if not _E164.match(to):
            return _error(400, 21211, "The 'To' number is not a valid phone number.")
        if to in MAGIC_NUMBERS:
            return _error(400, *MAGIC_NUMBERS[to])
        if not body:
            return _error(400, 21602, "Message body is required.")
        if len(body) > BODY_LIMIT:
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if behaviour.delay_ms:
            await asyncio.sleep(behaviour.delay_ms / 1000)
        if behaviour.html_times > 0:
            behaviour.html_times -= 1
            return HTMLResponse("<!doctype html><title>Přihlášení do sítě</title><h1>Wi-Fi</h1>")
        if (failure := _failure()) is not None:
            return failure
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
        if status_callback and behaviour.report != "none":
            params = {
                "MessageSid": message_sid,
                "AccountSid": account_sid,
                "MessageStatus": behaviour.report,
                **({"ErrorCode": str(behaviour.report_error_code)} if behaviour.report_error_code else {}),
            }
            task = asyncio.create_task(_report(status_callback, params, behaviour.report_delay_ms))
            reports.add(task)
            task.add_done_callback(reports.discard)
        now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        answer: dict[str, Any] = {
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
        if idempotency_key is not None:
            taken[idempotency_key] = answer
        await behaviour.stall()
        return answer

    return app
