"""What becomes of a claimed delivery: before its call (not to be sent at all) and after it (the provider's
answer). Pure: the dispatcher applies a verdict's consequences (the ledger, the failover, the account's
pause, the metrics, the dead-letter topic); these functions only decide them."""

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from hlasatel_contracts import DeliveryRequest
from hlasatel_dispatch.ledger import LedgerState, Outcome, Taken
from hlasatel_dispatch.providers import ContactInvalidError, ProviderError, Receipt
from hlasatel_dispatch.retry import RetryPolicy


class Verdict(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    GAVE_UP = "gave_up"
    PERMANENT = "permanent"
    CONTACT_INVALID = "contact_invalid"
    # decided before any call
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Settlement:
    """A delivery's outcome for the ledger, and what else follows from it."""

    outcome: Outcome
    verdict: Verdict
    # the provider answered (its circuit stays closed), or failed in a way that counts against it
    provider_up: bool = True
    # how long nobody calls the account: the provider's Retry-After, held to the retry cap
    pause_s: float | None = None
    # the reason, when the request goes to the dead-letter topic for an operator
    dead_letter: str | None = None


def before_call(
    request: DeliveryRequest,
    took: Taken,
    *,
    now: datetime,
    oldest: datetime | None,
    max_attempts: int,
) -> Settlement | None:
    """A granted claim that must not reach the provider: its message was cancelled, its subscriber
    erased, it expired, it is older than the ledger remembers deliveries (so a repeat of it could no longer
    be told from a new one), or its dispatchers kept stopping during its call. None: send it."""
    delivery_id = str(request.delivery_id)

    def dropped(state: LedgerState, reason: str, verdict: Verdict, letter: bool = False) -> Settlement:
        outcome = Outcome(delivery_id, state, reason=reason, attempted=False)
        return Settlement(outcome, verdict, dead_letter=reason if letter else None)

    if took.cancelled:
        return dropped(LedgerState.CANCELLED, "message cancelled", Verdict.CANCELLED)
    if took.erased:
        return dropped(LedgerState.CANCELLED, "subscriber erased", Verdict.CANCELLED)
    if request.expires_at is not None and request.expires_at <= now:
        return dropped(LedgerState.EXPIRED, "expired", Verdict.EXPIRED)
    if oldest is not None and request.requested_at < oldest:
        reason = "requested longer ago than deliveries are remembered"
        return dropped(LedgerState.EXPIRED, reason, Verdict.EXPIRED)
    if took.taken_over and took.attempts >= max_attempts:
        reason = f"gave up after {took.attempts} attempts: its dispatcher stopped during the call"
        return dropped(LedgerState.FAILED, reason, Verdict.GAVE_UP, letter=True)
    return None


def after_call(
    request: DeliveryRequest,
    took: Taken,
    result: Receipt | ProviderError,
    *,
    provider: str,
    retry: RetryPolicy,
    now: datetime,
) -> Settlement:
    """The provider's answer to one delivery: handed over; tried again later (or, once the attempts are
    used up, failed for good and dead-lettered); failed for good; or its contact is invalid."""
    delivery_id = str(request.delivery_id)
    if isinstance(result, Receipt):
        outcome = Outcome(
            delivery_id,
            LedgerState.HANDED,
            provider=provider,
            provider_message_id=result.provider_message_id,
            segments=result.segments,
        )
        return Settlement(outcome, Verdict.SENT)
    if result.retryable:
        # a provider asking for a day's break gets the longest pause the retries allow, not a stopped city
        pause = min(result.retry_after, retry.cap_s) if result.retry_after else None
        attempts = took.attempts + 1
        delay = retry.delay(attempts=attempts, retry_after=pause)
        if delay is not None:
            outcome = Outcome(
                delivery_id,
                LedgerState.RETRY_WAIT,
                provider=provider,
                reason=result.reason,
                due_at=now + timedelta(seconds=delay),
            )
            return Settlement(outcome, Verdict.RETRY, provider_up=False, pause_s=pause)
        reason = f"gave up after {attempts} attempts: {result.reason}"
        outcome = Outcome(delivery_id, LedgerState.FAILED, provider=provider, reason=reason)
        return Settlement(outcome, Verdict.GAVE_UP, provider_up=False, pause_s=pause, dead_letter=reason)
    # the provider answered: it is up, and it is the delivery that failed
    if isinstance(result, ContactInvalidError):
        outcome = Outcome(delivery_id, LedgerState.CONTACT_INVALID, provider=provider, reason=result.reason)
        return Settlement(outcome, Verdict.CONTACT_INVALID)
    outcome = Outcome(delivery_id, LedgerState.FAILED, provider=provider, reason=result.reason)
    return Settlement(outcome, Verdict.PERMANENT)
