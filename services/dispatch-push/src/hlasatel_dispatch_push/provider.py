"""Push notifications through FCM HTTP v1 with firebase-admin's async API."""

import asyncio
import uuid
from typing import Any

import firebase_admin
import google.auth.exceptions
from firebase_admin import credentials, exceptions, messaging

from hlasatel_contracts import Channel, Lane, SendPush
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    PermanentProviderError,
    Provider,
    ProviderError,
    Receipt,
    RetryableProviderError,
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


def classify_fcm_error(exc: Exception) -> ProviderError:
    """FCM's error codes as the provider error tree; the token never enters the reason."""
    if isinstance(getattr(exc, "cause", None), google.auth.exceptions.GoogleAuthError):
        # Our own key was refused: every delivery waits until an operator fixes it, none is dropped.
        return RetryableProviderError("FCM authentication failed")
    code = getattr(exc, "code", type(exc).__name__)
    reason = f"FCM {code} ({type(exc).__name__})"
    if isinstance(exc, _TOKEN_GONE):
        return ContactInvalidError(reason)
    if isinstance(exc, _RETRYABLE):
        return RetryableProviderError(reason)
    return PermanentProviderError(reason)


class FcmPushProvider(Provider[SendPush]):
    channel = Channel.PUSH

    def __init__(
        self,
        *,
        credentials_file: str,
        project_id: str | None = None,
        endpoint: str | None = None,
        name: str = "fcm",
    ) -> None:
        self.name = name
        options: dict[str, Any] = {"projectId": project_id} if project_id else {}
        self._app = firebase_admin.initialize_app(
            credentials.Certificate(credentials_file), options, name=f"hlasatel-{uuid.uuid4().hex}"
        )
        if endpoint:
            # firebase-admin has no endpoint option; the local fake FCM replaces Google's URL.
            service = messaging._get_messaging_service(self._app)
            service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{self._app.project_id}/messages:send"

    @staticmethod
    def build_message(request: SendPush) -> messaging.Message:
        urgent = request.lane is Lane.EMERGENCY
        return messaging.Message(
            token=request.token,
            notification=messaging.Notification(title=request.title, body=request.body),
            data={
                **request.data,
                "message_id": str(request.message_id),
                "delivery_id": str(request.delivery_id),
            },
            android=messaging.AndroidConfig(priority="high" if urgent else "normal"),
            apns=messaging.APNSConfig(headers={"apns-priority": "10" if urgent else "5"}),
        )

    async def _send(self, request: SendPush) -> Receipt:
        try:
            batch = await messaging.send_each_async([self.build_message(request)], app=self._app)
        except exceptions.FirebaseError as exc:
            raise classify_fcm_error(exc) from None
        response = batch.responses[0]
        if response.exception is not None:
            raise classify_fcm_error(response.exception)
        return Receipt(provider_message_id=response.message_id)

    async def close(self) -> None:
        # delete_app closes its async client with asyncio.run(), which needs a thread without a loop.
        await asyncio.to_thread(firebase_admin.delete_app, self._app)
