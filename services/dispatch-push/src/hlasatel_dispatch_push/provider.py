"""Push notifications through FCM HTTP v1 with firebase-admin's async API."""

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import firebase_admin
import google.auth.exceptions
import httpx
from firebase_admin import _http_client, credentials, exceptions, messaging
from firebase_admin._retry import HttpxRetry, HttpxRetryTransport

from hlasatel_contracts import Channel, Lane, SendPush
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    PermanentProviderError,
    Provider,
    ProviderError,
    Receipt,
    RetryableProviderError,
    retry_after,
)

_TOKEN_GONE = (messaging.UnregisteredError, messaging.SenderIdMismatchError)
_RETRYABLE = (
    messaging.QuotaExceededError,
    exceptions.UnavailableError,
    exceptions.InternalError,
    exceptions.DeadlineExceededError,
    exceptions.ResourceExhaustedError,
    exceptions.UnknownError,
)


# FCM caps a message's payload at 4,096 bytes; the body gives way first, the title is kept whole.
PAYLOAD_LIMIT = 4096


def classify_fcm_error(exc: Exception) -> ProviderError:
    """FCM's error codes as the provider error tree; the token never enters the reason."""
    if isinstance(getattr(exc, "cause", None), google.auth.exceptions.GoogleAuthError):
        # Our own key was refused: every delivery waits until an operator fixes it, none is dropped.
        return RetryableProviderError("FCM authentication failed")
    code = getattr(exc, "code", type(exc).__name__)
    reason = f"FCM {code} ({type(exc).__name__})"
    if isinstance(exc, _TOKEN_GONE):
        return ContactInvalidError(reason)
    if isinstance(exc, exceptions.InvalidArgumentError):
        # one code for two faults: FCM names the registration token when it is the token that is bad
        if "registration token" in str(exc).lower():
            return ContactInvalidError(f"{reason}: not a valid registration token")
        return PermanentProviderError(f"{reason}: the message was refused")
    if isinstance(exc, _RETRYABLE):
        return RetryableProviderError(reason, retry_after=_retry_after_of(exc))
    return PermanentProviderError(reason)


def _retry_after_of(exc: Exception) -> float | None:
    """FCM's Retry-After on a 429 or 503."""
    response = getattr(exc, "http_response", None)
    return retry_after(response.headers.get("Retry-After")) if response is not None else None


def _payload_size(title: str, body: str, data: dict[str, str]) -> int:
    return len(json.dumps({"notification": {"title": title, "body": body}, "data": data}).encode())


def fitting_body(title: str, body: str, data: dict[str, str]) -> str:
    """The body, cut at a character with an ellipsis if the payload would pass FCM's limit."""
    if _payload_size(title, body, data) <= PAYLOAD_LIMIT:
        return body
    low, high = 0, len(body)
    while low < high:  # the longest prefix that fits with its ellipsis
        middle = (low + high + 1) // 2
        if _payload_size(title, body[:middle] + "…", data) <= PAYLOAD_LIMIT:
            low = middle
        else:
            high = middle - 1
    return body[:low] + "…"


# connections to FCM at once: Google's endpoint multiplexes a whole batch over one HTTP/2 connection
POOL_SIZE = 10


def _time_to_live(expires_at: datetime | None, now: datetime | None) -> timedelta | None:
    """Whole seconds until the message expires (none left: 0, deliver now or never); None without an
    expiry, which leaves FCM's own four weeks."""
    if expires_at is None:
        return None
    left = (expires_at - (now or datetime.now(UTC))).total_seconds()
    return timedelta(seconds=max(0, int(left)))


def _fcm_client(credential: Any, timeout_s: float) -> Any:
    """firebase-admin's async client without its own retries and with a small connection pool.

    send_each_async starts all its requests at once, and httpcore finds a connection for each waiting
    request by scanning every connection of the pool: 500 requests over the default 100 HTTP/1.1
    connections (the local fake has no HTTP/2) cost more CPU than the calls themselves.
    """
    no_retries = HttpxRetry(max_retries=0)
    client = _http_client.HttpxAsyncClient(credential=credential, retry_config=no_retries, timeout=timeout_s)
    transport = HttpxRetryTransport(retry=no_retries, limits=httpx.Limits(max_connections=POOL_SIZE))
    client._async_client = httpx.AsyncClient(
        http2=True,
        timeout=client.timeout,
        headers=client._headers,
        auth=_http_client.GoogleAuthCredentialFlow(credential),
        mounts={"http://": transport, "https://": transport},
    )
    return client


class FcmPushProvider(Provider[SendPush]):
    channel = Channel.PUSH
    max_batch = 500  # send_each_async's limit

    def __init__(
        self,
        *,
        credentials_file: str,
        project_id: str | None = None,
        endpoint: str | None = None,
        name: str = "fcm",
        timeout_s: float = 30.0,
    ) -> None:
        self.name = name
        options: dict[str, Any] = {"projectId": project_id} if project_id else {}
        self._app = firebase_admin.initialize_app(
            credentials.Certificate(credentials_file), options, name=f"hlasatel-{uuid.uuid4().hex}"
        )
        service = messaging._get_messaging_service(self._app)
        # firebase-admin retries 500 and 503 itself, four times over about 7 s, before an error comes out;
        # the dispatcher retries on its own schedule and its circuit breaker must see each failure
        service._async_client = _fcm_client(service._credential, timeout_s)
        if endpoint:
            # firebase-admin has no endpoint option; the local fake FCM replaces Google's URL.
            service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{self._app.project_id}/messages:send"

    @staticmethod
    def build_message(request: SendPush, *, now: datetime | None = None) -> messaging.Message:
        urgent = request.lane is Lane.EMERGENCY
        data = {
            **request.data,
            "message_id": str(request.message_id),
            "delivery_id": str(request.delivery_id),
        }
        return messaging.Message(
            token=request.token,
            notification=messaging.Notification(
                title=request.title, body=fitting_body(request.title, request.body, data)
            ),
            data=data,
            # the delivery id as the notification's tag and collapse id: a repeat after a crash mid-call
            # replaces the notification on the phone instead of showing a second one
            # a phone that comes back online after the message expired (an outage that has ended) is not
            # shown it: FCM and APNs drop it at the expiry
            android=messaging.AndroidConfig(
                priority="high" if urgent else "normal",
                notification=messaging.AndroidNotification(tag=str(request.delivery_id)),
                ttl=_time_to_live(request.expires_at, now),
            ),
            apns=messaging.APNSConfig(
                headers={
                    "apns-priority": "10" if urgent else "5",
                    "apns-collapse-id": str(request.delivery_id),
                    **(
                        {"apns-expiration": str(int(request.expires_at.timestamp()))}
                        if request.expires_at is not None
                        else {}
                    ),
                }
            ),
        )

    async def _send(self, request: SendPush) -> Receipt:
        (outcome,) = await self._send_many([request])
        if isinstance(outcome, ProviderError):
            raise outcome
        return outcome

    async def _send_many(self, requests: Sequence[SendPush]) -> list[Receipt | ProviderError]:
        """Up to 500 messages in one send_each_async; an outcome for each."""
        try:
            batch = await messaging.send_each_async([self.build_message(r) for r in requests], app=self._app)
        except exceptions.FirebaseError as exc:
            return [classify_fcm_error(exc)] * len(requests)
        return [
            classify_fcm_error(response.exception)
            if response.exception is not None
            else Receipt(provider_message_id=response.message_id)
            for response in batch.responses
        ]

    async def close(self) -> None:
        # delete_app closes its async client with asyncio.run(), which needs a thread without a loop.
        await asyncio.to_thread(firebase_admin.delete_app, self._app)
