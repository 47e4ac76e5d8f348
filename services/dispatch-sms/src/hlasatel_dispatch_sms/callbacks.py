"""The gateway calls this endpoint with delivery reports."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, HTTPException, Request, Response

from hlasatel_contracts import SendSms
from hlasatel_dispatch.dispatcher import Dispatcher
from hlasatel_dispatch_sms.reports import reported_state, signed_by


def callback_router(
    *, dispatcher: Dispatcher[SendSms], auth_tokens: list[str], callback_url: str
) -> APIRouter:
    """`callback_url` is the StatusCallback the gateway was given: the signature covers the URL as the
    gateway called it, which behind a proxy is not the URL this service sees."""
    router = APIRouter(tags=["delivery reports"])
    base = callback_url.split("?", 1)[0]

    @router.post("/v1/callbacks/sms", status_code=204)
    async def delivery_report(
        request: Request, x_twilio_signature: Annotated[str | None, Header()] = None
    ) -> Response:
        params = {name: str(value) for name, value in (await request.form()).items()}
        url = f"{base}?{request.url.query}" if request.url.query else base
        if not any(signed_by(token, url, params, x_twilio_signature) for token in auth_tokens):
            raise HTTPException(403, "the report's X-Twilio-Signature does not match")
        try:
            delivery_id = UUID(request.query_params.get("delivery_id", ""))
        except ValueError:
            raise HTTPException(422, "the report's URL carries no delivery_id") from None
        outcome = reported_state(params)
        if outcome is not None:
            state, reason = outcome
            if await dispatcher.report(delivery_id=str(delivery_id), state=state, reason=reason) is None:
                # a report can overtake the ledger's record of the hand-over: a gateway that retries comes
                # back once it is written
                raise HTTPException(409, "no delivery with this id has been handed to the gateway (yet)")
        return Response(status_code=204)

    return router
