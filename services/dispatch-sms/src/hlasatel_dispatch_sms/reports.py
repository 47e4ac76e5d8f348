"""The gateway's delivery reports (Twilio's StatusCallback): checked against the account's signature and
turned into statuses. Pure, but for the signature's HMAC."""

import base64
import hashlib
import hmac
from collections.abc import Mapping

from hlasatel_contracts import DeliveryState

# Twilio error codes of a delivery report that mean the number cannot receive SMS.
UNREACHABLE_NUMBER_CODES = frozenset({30005, 30006, 21610})


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1, keyed by the auth token, of the full URL followed by every
    POST parameter's name and value in name order."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_by(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """Whether the report carries the account's signature; any malformed signature is simply not it
    (compared as bytes: compare_digest refuses text with characters outside ASCII)."""
    if signature is None:
        return False
    expected = twilio_signature(auth_token, url, params).encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape"))


def reported_state(params: Mapping[str, str]) -> tuple[DeliveryState, str | None] | None:
    """What a report says happened; None for the steps before the handset (queued, sent, accepted)."""
    status = params.get("MessageStatus", "")
    if status == "delivered":
        return DeliveryState.DELIVERED, None
    if status not in {"undelivered", "failed"}:
        return None
    code = params.get("ErrorCode", "")
    reason = f"gateway reported {status}" + (f", code {code}" if code else "")
    if code.isdigit() and int(code) in UNREACHABLE_NUMBER_CODES:
        return DeliveryState.CONTACT_INVALID, reason
    return DeliveryState.FAILED, reason
