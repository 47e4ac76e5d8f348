"""An SMS gateway in the shape of Twilio's Messages API (2010-04-01), through httpx."""

from urllib.parse import urlencode

import httpx

from hlasatel_contracts import Channel, SendSms
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    PermanentProviderError,
    Provider,
    Receipt,
    RetryableProviderError,
    retry_after,
)

# Twilio error codes meaning the number cannot receive SMS at all.
INVALID_NUMBER_CODES = frozenset(
    {21211, 21212, 21214, 21217, 21401, 21407, 21408, 21421, 21610, 21612, 21614}
)


class TwilioSmsProvider(Provider[SendSms]):
    channel = Channel.SMS

    def __init__(
        self,
        *,
        base_url: str,
        account_sid: str,
        auth_token: str,
        sender: str,
        status_callback_url: str | None = None,
        timeout_s: float = 10.0,
        name: str = "twilio",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._sender = sender
        self._callback = status_callback_url
        self._client = httpx.AsyncClient(
            base_url=base_url, auth=(account_sid, auth_token), timeout=timeout_s, transport=transport
        )

    def _form(self, request: SendSms) -> dict[str, str]:
        form = {"To": request.to, "From": self._sender, "Body": request.text}
        if self._callback:
            ids = {"delivery_id": str(request.delivery_id), "message_id": str(request.message_id)}
            form["StatusCallback"] = f"{self._callback}?{urlencode(ids)}"
        return form

    async def _send(self, request: SendSms) -> Receipt:
        try:
            # a gateway that honours Idempotency-Key answers a repeat (after a crash mid-call) with the
            # message it already took, instead of sending a second SMS
            headers = {"Idempotency-Key": str(request.delivery_id)}
            response = await self._client.post(self._path, data=self._form(request), headers=headers)
        except httpx.TimeoutException as exc:
            raise RetryableProviderError(f"gateway timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise RetryableProviderError(f"gateway unreachable ({type(exc).__name__})") from None
        # a 429 or a 503 may say when to come back, in seconds or as an HTTP-date
        wait = retry_after(response.headers.get("Retry-After"))
        if response.status_code == 429:
            raise RetryableProviderError("gateway rate limit (429)", retry_after=wait)
        if response.status_code >= 500:
            raise RetryableProviderError(f"gateway error {response.status_code}", retry_after=wait)
        if response.status_code >= 400:
            raise self._refusal(response)
        body = response.json()
        return Receipt(provider_message_id=body.get("sid"), segments=int(body.get("num_segments") or 1))

    @staticmethod
    def _refusal(response: httpx.Response) -> PermanentProviderError:
        # Twilio's error message repeats the phone number, so only its code is kept.
        try:
            code = int(response.json().get("code", 0))
        except (ValueError, AttributeError):
            code = 0
        reason = f"gateway refused: HTTP {response.status_code}, code {code}"
        if code in INVALID_NUMBER_CODES:
            return ContactInvalidError(reason)
        return PermanentProviderError(reason)

    async def close(self) -> None:
        await self._client.aclose()
