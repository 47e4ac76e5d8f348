"""A message the e-mail adapter cannot build (a subject that would smuggle in a header) is an outcome
for that delivery, not an exception that leaves its chunk claimed."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from hlasatel_contracts import Lane, SendEmail
from hlasatel_dispatch.providers import PermanentProviderError
from hlasatel_dispatch_email.provider import SmtpEmailProvider

pytestmark = pytest.mark.hostile


async def test_a_subject_with_a_line_break_fails_its_delivery_and_names_no_address() -> None:
    request = SendEmail(
        delivery_id=uuid4(),
        message_id=uuid4(),
        subscriber_id=uuid4(),
        contact_id=uuid4(),
        lane=Lane.BULK,
        category="water",
        requested_at=datetime.now(UTC),
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
