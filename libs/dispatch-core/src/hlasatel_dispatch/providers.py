"""The provider client base: every call timed and logged by ids, vendor errors turned into one tree."""

import abc
import asyncio
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Generic, TypeVar

from hlasatel_contracts import Channel, DeliveryRequest
from hlasatel_dispatch import metrics
from hlasatel_runtime.errors import SafeError, describe

log = logging.getLogger(__name__)

RequestT = TypeVar("RequestT", bound=DeliveryRequest)


@dataclass(frozen=True)
class Receipt:
    """The provider took the delivery."""

    provider_message_id: str | None
    segments: int | None = None


class ProviderError(SafeError):
    """A provider refused or failed; the message names the provider's reason, never the contact."""

    retryable: bool = False

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RetryableProviderError(ProviderError):
    """Worth trying again later: timeouts, 5xx, 429, SMTP 4xx."""

    retryable = True


class PermanentProviderError(ProviderError):
    """Trying again will not help: a rejected payload, a refused sender."""


class ContactInvalidError(PermanentProviderError):
    """The number, address or token does not exist."""


# failures on the way to the provider that are worth trying again; anything else unexpected is permanent
_PASSING = (ConnectionError, TimeoutError, OSError)


def unexpected(exc: BaseException, provider: str) -> ProviderError:
    """An exception outside the provider error tree as an outcome: permanent, unless it is a failure of
    the connection, which is worth trying again. The reason names its type, never its text (which may
    repeat a contact)."""
    log.warning("%s raised %s outside the provider error tree", provider, type(exc).__name__)
    reason = f"{provider} failed unexpectedly: {describe(exc)}"
    if isinstance(exc, _PASSING):
        return RetryableProviderError(reason)
    return PermanentProviderError(reason)


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header (RFC 9110) as seconds from now: delay-seconds ("120") or an HTTP-date ("Wed,
    21 Oct 2026 07:28:00 GMT"); a date in the past is 0, anything else is None (no advice)."""
    if value is None or not (text := value.strip()):
        return None
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # an HTTP-date is always GMT; a date without a zone is read as one
        moment = moment.replace(tzinfo=UTC)
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _outcome(result: "Receipt | ProviderError | BaseException") -> str:
    """How a call ended, for the call-time histogram."""
    if isinstance(result, Receipt):
        return "accepted"
    if isinstance(result, ProviderError):
        return "failed" if result.retryable else "refused"
    # as `unexpected` will judge it: a failure of the connection is worth another try, the rest is not
    return "refused" if isinstance(result, Exception) and not isinstance(result, _PASSING) else "failed"


class Provider(abc.ABC, Generic[RequestT]):
    channel: Channel
    name: str
    # how many deliveries one call can carry (FCM takes 500); one for providers without a batch API
    max_batch: int = 1

    async def send(self, request: RequestT) -> Receipt:
        """Hand one delivery to the provider, timing and logging the call."""
        started = time.perf_counter()
        try:
            receipt = await self._send(request)
        except BaseException as exc:
            self._timed(started, exc)
            if not isinstance(exc, ProviderError):
                raise
            log.info(
                "%s refused delivery %s after %.0f ms: %s",
                self.name,
                request.delivery_id,
                (time.perf_counter() - started) * 1000,
                exc.reason,
            )
            raise
        self._timed(started, receipt)
        log.debug(
            "%s took delivery %s in %.0f ms",
            self.name,
            request.delivery_id,
            (time.perf_counter() - started) * 1000,
        )
        return receipt

    async def send_many(self, requests: Sequence[RequestT]) -> list[Receipt | ProviderError]:
        """Hand several deliveries over in one call where the provider can; an outcome for each, in order,
        whatever the client library raises."""
        started = time.perf_counter()
        try:
            outcomes = await self._send_many(requests)
        except Exception as exc:  # every exception of a call is an outcome, never a stopped lane
            outcome = unexpected(exc, self.name)
            outcomes = [outcome] * len(requests)
        if len(outcomes) != len(requests):
            outcomes = [
                PermanentProviderError(f"{self.name} answered for {len(outcomes)} of {len(requests)}")
            ] * len(requests)
        refused = sum(isinstance(outcome, ProviderError) for outcome in outcomes)
        if self.max_batch > 1 and outcomes:  # one call (without a batch API, `send` timed each)
            # accepted if the provider took any of it, otherwise as its first refusal
            self._timed(started, next((o for o in outcomes if isinstance(o, Receipt)), outcomes[0]))
        log.debug(
            "%s took %d of %d deliveries in %.0f ms",
            self.name,
            len(outcomes) - refused,
            len(outcomes),
            (time.perf_counter() - started) * 1000,
        )
        return outcomes

    def _timed(self, started: float, result: "Receipt | ProviderError | BaseException") -> None:
        elapsed = time.perf_counter() - started
        metrics.CALL.labels(self.channel.value, self.name, _outcome(result)).observe(elapsed)

    async def attempt(self, request: RequestT) -> Receipt | ProviderError:
        """`send`, with the provider's refusal, or anything else the call raised, as the outcome."""
        try:
            return await self.send(request)
        except ProviderError as exc:
            return exc
        except Exception as exc:  # a client library's own error, a proxy's odd answer, a bad key
            return unexpected(exc, self.name)

    async def _send_many(self, requests: Sequence[RequestT]) -> list[Receipt | ProviderError]:
        """Without a batch API: one call per delivery, side by side."""
        return list(await asyncio.gather(*(self.attempt(request) for request in requests)))

    @abc.abstractmethod
    async def _send(self, request: RequestT) -> Receipt:
        """Call the provider; raise a ProviderError subclass for every vendor failure."""

    async def close(self) -> None:
        """Release connections."""
