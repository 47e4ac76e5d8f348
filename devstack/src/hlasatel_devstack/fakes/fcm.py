"""A fake FCM HTTP v1 endpoint with Google's OAuth 2.0 JWT-bearer token exchange."""

import asyncio
import json
import secrets
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from hlasatel_devstack.fakes.behaviour import Misbehaviour, told
from hlasatel_devstack.fakes.ledger import Ledger

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def write_service_account(path: Path, *, token_uri: str, project_id: str = "hlasatel-dev") -> dict[str, Any]:
    """A service-account key like Google's, made locally, whose token_uri points at the fake."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": f"hlasatel@{project_id}.iam.gserviceaccount.com",
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(account, indent=2), encoding="utf-8")
    path.chmod(0o600)
    return account


def _error(status: int, code: str, message: str, fcm_code: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if fcm_code:
        error["details"] = [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}
        ]
    return JSONResponse({"error": error}, status_code=status)


# A token starting with one of these gets FCM's answer for it, so that a test can ask for each error.
TOKEN_ANSWERS: dict[str, tuple[int, str, str, str]] = {
    # an app that was uninstalled
    "unregistered-": (404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"),
    "invalid-": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
        "INVALID_ARGUMENT",
    ),
    "quota-": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages.", "QUOTA_EXCEEDED"),
    "unavailable-": (503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"),
    "internal-": (500, "INTERNAL", "Internal error encountered.", "INTERNAL"),
}


# What FCM answers when it is overloaded or broken, for `fail_status`.
STATUS_ANSWERS: dict[int, tuple[int, str, str, str]] = {
    429: TOKEN_ANSWERS["quota-"],
    500: TOKEN_ANSWERS["internal-"],
    503: TOKEN_ANSWERS["unavailable-"],
}


class Behaviour(Misbehaviour):
    fail_status: Literal[429, 500, 503] | None = Field(
        default=None, description="answer the next `fail_times` messages with this FCM error instead"
    )


def fcm_app(
    *, ledger: Ledger, service_account: dict[str, Any], behaviour: Behaviour | None = None
) -> FastAPI:
    app = FastAPI(title="Fake FCM HTTP v1")
    # slow down, fail or throttle the next messages, like an overloaded or broken FCM
    behaviour = told(app, behaviour or Behaviour())

    def _failure() -> JSONResponse | None:
        status = behaviour.next_failure()
        return None if status is None else behaviour.failure(_error(*STATUS_ANSWERS[status]))

    private_key = serialization.load_pem_private_key(service_account["private_key"].encode(), password=None)
    assert isinstance(private_key, rsa.RSAPrivateKey)
    public_key = private_key.public_key()
    issued: set[str] = set()
    project_id = service_account["project_id"]

    @app.post("/token", response_model=None)
    async def token(
        grant_type: Annotated[str, Form()], assertion: Annotated[str, Form()], request: Request
    ) -> Any:
        if grant_type != JWT_BEARER:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        try:
            claims = jwt.decode(
                assertion,
                public_key,
                algorithms=["RS256"],
                audience=str(request.url),
                options={"verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            return JSONResponse({"error": "invalid_grant", "error_description": str(exc)}, status_code=400)
        if claims.get("iss") != service_account["client_email"]:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "unknown issuer"}, status_code=400
            )
        access_token = "ya29.fake-" + secrets.token_urlsafe(24)
        issued.add(access_token)
        return {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}

    @app.post("/v1/projects/{project}/messages:send", response_model=None)
    async def send(
        project: str, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        if not authorization or authorization.removeprefix("Bearer ") not in issued:
            return _error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if project != project_id:
            return _error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH")
        body = await request.json()
        message = body.get("message") or {}
        token = message.get("token")
        if not token:
            return _error(400, "INVALID_ARGUMENT", "Invalid registration token", "INVALID_ARGUMENT")
        notification = message.get("notification") or {}
        data = message.get("data") or {}
        payload = json.dumps({"notification": notification, "data": data}).encode()
        if len(payload) > 4096:
            return _error(
                400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "INVALID_ARGUMENT"
            )
        for prefix, answer in TOKEN_ANSWERS.items():
            if token.startswith(prefix):
                return _error(*answer)
        if behaviour.delay_ms:
            await asyncio.sleep(behaviour.delay_ms / 1000)
        if (failure := _failure()) is not None:
            return failure
        name = f"projects/{project}/messages/{uuid.uuid4().hex}"
        ledger.append(
            {
                "recipient": token,
                "title": notification.get("title"),
                "body": notification.get("body"),
                "data": data,
                "priority": (message.get("android") or {}).get("priority"),
                "tag": ((message.get("android") or {}).get("notification") or {}).get("tag"),
                "ttl": (message.get("android") or {}).get("ttl"),
                "apns_expiration": ((message.get("apns") or {}).get("headers") or {}).get("apns-expiration"),
                "name": name,
                "message_id": data.get("message_id"),
                "delivery_id": data.get("delivery_id"),
            }
        )
        await behaviour.stall()
        return {"name": name}

    return app
