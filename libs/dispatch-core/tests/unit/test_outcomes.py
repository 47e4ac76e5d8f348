# ruff: noqa: E501  (a table reads best one case a line)
"""What becomes of a claimed delivery, decided without a database, a clock or a provider: one row a case."""

import random
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from hlasatel_contracts import Lane, SendSms
from hlasatel_dispatch.ledger import Claim, LedgerState, Taken
from hlasatel_dispatch.outcomes import Verdict, after_call, before_call
from hlasatel_dispatch.providers import (
    ContactInvalidError,
    PermanentProviderError,
    ProviderError,
    Receipt,
    RetryableProviderError,
)
from hlasatel_dispatch.retry import RetryPolicy

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def sms(*, expires_in: timedelta | None = None, age: timedelta = timedelta(0)) -> SendSms:
    return SendSms(
        delivery_id=uuid4(),
        message_id=uuid4(),
        subscriber_id=uuid4(),
        contact_id=uuid4(),
        lane=Lane.BULK,
        category="water",
        requested_at=NOW - age,
        expires_at=NOW + expires_in if expires_in is not None else None,
        to="+420777000001",
        text="Voda",
    )


def granted(attempts: int = 0, **flags: bool) -> Taken:
    return Taken(claim=Claim.GRANTED, state=LedgerState.SENDING, attempts=attempts, claimed_at=NOW, **flags)


# (case, the claim, the request, what the ledger records, the verdict, dead-lettered)
BEFORE = [
    ("a fresh delivery goes", granted(), sms(), None, None, False),
    ("its message cancelled", granted(cancelled=True), sms(), LedgerState.CANCELLED, Verdict.CANCELLED, False),
    ("its subscriber erased", granted(erased=True), sms(), LedgerState.CANCELLED, Verdict.CANCELLED, False),
    ("cancelled wins over expired", granted(cancelled=True), sms(expires_in=-timedelta(1)), LedgerState.CANCELLED,
     Verdict.CANCELLED, False),
    ("expired", granted(), sms(expires_in=-timedelta(seconds=1)), LedgerState.EXPIRED, Verdict.EXPIRED, False),
    ("expiring this instant", granted(), sms(expires_in=timedelta(0)), LedgerState.EXPIRED, Verdict.EXPIRED, False),
    ("older than the ledger remembers", granted(), sms(age=timedelta(days=7)), LedgerState.EXPIRED,
     Verdict.EXPIRED, False),
    ("taken over with attempts left", granted(attempts=5, taken_over=True), sms(), None, None, False),
    ("taken over once too often", granted(attempts=6, taken_over=True), sms(), LedgerState.FAILED,
     Verdict.GAVE_UP, True),
    ("many attempts, but not taken over", granted(attempts=9), sms(), None, None, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "took", "request_", "state", "verdict", "letter"), BEFORE, ids=[b[0] for b in BEFORE]
)
def test_before_the_call(
    case: str,
    took: Taken,
    request_: SendSms,
    state: LedgerState | None,
    verdict: Verdict | None,
    letter: bool,
) -> None:
    settled = before_call(request_, took, now=NOW, oldest=NOW - timedelta(days=6), max_attempts=6)
    if state is None:
        assert settled is None
        return
    assert settled is not None
    assert (settled.outcome.state, settled.verdict, settled.dead_letter is not None) == (
        state,
        verdict,
        letter,
    )
    assert settled.outcome.attempted is False and settled.outcome.reason


RETRY = RetryPolicy(max_attempts=3, base_s=2, cap_s=300, rng=random.Random(0))
GATEWAY_DOWN = RetryableProviderError("gateway error 503")
SLOW_DOWN = RetryableProviderError("gateway rate limit (429)", retry_after=30)
COME_BACK_TOMORROW = RetryableProviderError("gateway rate limit (429)", retry_after=86_400)

# (case, the answer, attempts before, state, verdict, the provider counts as up, pause, dead-lettered)
AFTER = [
    ("accepted", Receipt("SM1", segments=2), 0, LedgerState.HANDED, Verdict.SENT, True, None, False),
    ("accepted on the last attempt", Receipt("SM1"), 2, LedgerState.HANDED, Verdict.SENT, True, None, False),
    ("a 503 with attempts left", GATEWAY_DOWN, 0, LedgerState.RETRY_WAIT, Verdict.RETRY, False, None, False),
    ("a 429 pauses the account as asked", SLOW_DOWN, 1, LedgerState.RETRY_WAIT, Verdict.RETRY, False, 30, False),
    ("a Retry-After of a day is held to the cap", COME_BACK_TOMORROW, 0, LedgerState.RETRY_WAIT, Verdict.RETRY,
     False, 300, False),
    ("the attempts used up", GATEWAY_DOWN, 2, LedgerState.FAILED, Verdict.GAVE_UP, False, None, True),
    ("refused for good", PermanentProviderError("gateway refused: HTTP 400, code 21617"), 0, LedgerState.FAILED,
     Verdict.PERMANENT, True, None, False),
    ("a number that cannot take an SMS", ContactInvalidError("gateway refused: HTTP 400, code 21211"), 0,
     LedgerState.CONTACT_INVALID, Verdict.CONTACT_INVALID, True, None, False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "result", "attempts", "state", "verdict", "up", "pause", "letter"),
    AFTER,
    ids=[a[0] for a in AFTER],
)
def test_after_the_call(
    case: str,
    result: Receipt | ProviderError,
    attempts: int,
    state: LedgerState,
    verdict: Verdict,
    up: bool,
    pause: float | None,
    letter: bool,
) -> None:
    settled = after_call(sms(), granted(attempts), result, provider="twilio", retry=RETRY, now=NOW)
    outcome = settled.outcome
    assert (outcome.state, settled.verdict, settled.provider_up, settled.pause_s) == (
        state,
        verdict,
        up,
        pause,
    )
    assert (settled.dead_letter is not None) is letter
    assert outcome.provider == "twilio" and outcome.attempted
    if state is LedgerState.RETRY_WAIT:
        assert outcome.due_at is not None and outcome.due_at >= NOW + timedelta(seconds=pause or 0)
        assert outcome.due_at <= NOW + timedelta(seconds=max(pause or 0, 2 * 2**attempts))
    else:
        assert outcome.due_at is None
    if isinstance(result, Receipt):
        assert (outcome.provider_message_id, outcome.segments) == (
            result.provider_message_id,
            result.segments,
        )
    else:
        assert result.reason in (outcome.reason or "")
    if letter:
        assert settled.dead_letter == outcome.reason == "gave up after 3 attempts: gateway error 503"
