"""Hostile answers to and from dispatch-sms: a gateway or a proxy answering 200 without JSON, and
delivery reports with signatures that are no signatures."""

from uuid import uuid4

import httpx
import pytest

from hlasatel_contracts import SendSms
from hlasatel_devstack.dispatching import common_fields
from hlasatel_dispatch.providers import PermanentProviderError
from hlasatel_dispatch_sms.provider import TwilioSmsProvider
from hlasatel_dispatch_sms.reports import signed_by

pytestmark = pytest.mark.hostile


def request() -> SendSms:
    return SendSms(**common_fields(uuid4()), to="+420777123456", text="Odstávka vody")


async def test_a_200_that_is_not_json_fails_the_delivery_instead_of_raising() -> None:
    portal = httpx.MockTransport(lambda _: httpx.Response(200, text="<html>Wi-Fi login</html>"))
    provider = TwilioSmsProvider(
        base_url="http://gateway",
        account_sid="AC" + "1" * 32,
        auth_token="t",
        sender="Liberec",
        transport=portal,
    )
    outcome = await provider.attempt(request())
    assert isinstance(outcome, PermanentProviderError) and "JSONDecodeError" in outcome.reason
    assert "+420" not in outcome.reason


@pytest.mark.parametrize("signature", ["žluťoučký kůň", "", "=" * 500, "\x00\x01"])
def test_a_malformed_signature_is_simply_not_the_accounts(signature: str) -> None:
    assert not signed_by(
        "token", "http://dispatch/v1/callbacks/sms", {"MessageStatus": "delivered"}, signature
    )
