"""A message the e-mail adapter cannot build (a subject that would smuggle in a header) is an outcome
for that delivery, not an exception that leaves its chunk claimed."""

from uuid import uuid4

import pytest

from hlasatel_contracts import SendEmail
from hlasatel_devstack.dispatching import common_fields
from hlasatel_dispatch.providers import PermanentProviderError
from hlasatel_dispatch_email.provider import SmtpEmailProvider

pytestmark = pytest.mark.hostile


async def test_a_subject_with_a_line_break_fails_its_delivery_and_names_no_address() -> None:
    request = SendEmail(
        **common_fields(uuid4()),
        to="jana.novakova@example.cz",
        subject="Water\r\nBcc: everyone@example.cz",
        text="Zítra nepoteče voda.",
    )
    # port 1: nothing listens, and nothing is reached: the message fails before any connection
    outcome = await SmtpEmailProvider(host="127.0.0.1", port=1, sender="Liberec <h@liberec.cz>").attempt(
        request
    )
    assert isinstance(outcome, PermanentProviderError)
    assert "HeaderParseError" in outcome.reason and "novakova" not in outcome.reason
