"""A whole-city emergency while every provider refuses a fifth of its calls and times out on more.

The fakes answer 20 % of the calls with a transient error (HTTP 503 from the SMS gateway and FCM, SMTP
451 from the relay) and take another 5 % but answer only after 1.5 s, past the dispatchers' 1 s timeout,
so that the dispatcher cannot know whether they were taken. The dispatchers retry both; the SMS gateway
recognises a repeated Idempotency-Key, and an e-mail or a notification taken twice carries the same
Message-ID or tag. Checked from the fakes' ledgers: every targeted contact got exactly one message as
its owner sees it, nobody else got anything, and the composer's report says every delivery was accepted.

`HLASATEL_CHAOS_RECIPIENTS` sets the size (500 subscribers in `make test`; the issue's 20,000 by hand).
"""

import logging
import random

from hlasatel_contracts import AddressPoint, Channel
from hlasatel_devstack.chaos import CityEmergency, chaos_recipients, metric
from hlasatel_devstack.fakes.server import Faults
from hlasatel_devstack.population import subscribers
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import production_backend, stack_fixture

log = logging.getLogger(__name__)

RECIPIENTS = chaos_recipients(500)
SERVICES = ["composer", "dispatch-sms", "dispatch-email", "dispatch-push"]
FAULTS = Faults(fail_rate=0.2, stall_rate=0.05, stall_ms=1500)


def _dispatcher_settings(channel: Channel) -> dict[str, str]:
    prefix = f"DISPATCH_{channel.value.upper()}_"
    return {
        prefix + "ACCOUNTS__0__TIMEOUT_S": "1",
        # a fifth of the attempts failing loses one delivery in 4,000 after the default six attempts;
        # a city would raise the attempts for an emergency the same way
        prefix + "RETRY_MAX_ATTEMPTS": "15",
        prefix + "RETRY_BASE_S": "0.2",
        prefix + "RETRY_CAP_S": "2",
        prefix + "BREAKER_RESET_S": "1",
        prefix + "RATE_PER_S": "500",
        # FCM multiplexes a batch over HTTP/2; the fake speaks HTTP/1.1 over 10 connections, where a call
        # answered late holds one of them: smaller batches keep the others' wait under the timeout
        **({prefix + "BATCH_SIZE": "100"} if channel is Channel.PUSH else {}),
    }


faulty = stack_fixture(
    "faulty",
    SERVICES,
    {key: value for channel in Channel for key, value in _dispatcher_settings(channel).items()},
    faults=FAULTS,
    backends=production_backend(),
)


def test_failing_and_slow_providers_lose_nothing_and_repeat_nothing(
    faulty: Stack, liberec: list[AddressPoint]
) -> None:
    population = list(subscribers(liberec, RECIPIENTS, random.Random(11)))
    city = CityEmergency(faulty, population)
    city.subscribe()
    city.approve()

    city.wait_until_reported()
    repeats = city.check_everyone_got_one()
    for channel in Channel:
        retried = metric(faulty, f"dispatch-{channel.value}", "hlasatel_dispatch_retried_total")
        log.info("%s: %d attempts retried, %d calls taken twice", channel.value, retried, repeats[channel])
        assert retried > 0, f"dispatch-{channel.value} met no failure: the faults did not happen"
