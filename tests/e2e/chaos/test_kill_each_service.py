"""kill -9 of each of the five services in turn while a whole-city emergency goes out.

All five services run as processes on the embedded broker. After the approval the registry is killed
(nothing on the sending path may need it), then the composer while the first tenth of the messages
reaches the fakes (it must take up its status consumer and its reconciliation where they were), then
each dispatcher once its channel is a third of the way through, with calls in flight (its claims are
taken over once stale). Each is started again at once. Checked from the fakes' ledgers: every targeted
contact got exactly one message as its owner sees it and nobody else got anything; only calls in flight
at a kill may reach an SMTP relay or FCM twice, under the same Message-ID or tag, and never before it.

`HLASATEL_CHAOS_RECIPIENTS` sets the size (500 subscribers in `make test`; the issue's 20,000 by hand).
"""

import logging
import random
import signal
import time
from collections import Counter
from datetime import UTC, datetime

from hlasatel_contracts import AddressPoint, Channel
from hlasatel_devstack.chaos import CityEmergency, chaos_recipients
from hlasatel_devstack.population import subscribers
from hlasatel_devstack.stack import SERVICES, Stack
from hlasatel_devstack.testing import production_backend, stack_fixture

log = logging.getLogger(__name__)

RECIPIENTS = chaos_recipients(500)
CONCURRENCY = 20  # the dispatchers' calls in flight per account
FCM_BATCH = 500  # notifications in one FCM call
STALE_AFTER_S = 20  # production keeps 30 s
# slow enough that each channel is still sending when its dispatcher dies, at any size
RATE_PER_S = max(20, RECIPIENTS // 50)

killed = stack_fixture(
    "killed",
    SERVICES,
    {
        f"DISPATCH_{c.value.upper()}_{setting}": value
        for c in Channel
        # how long the killed dispatcher's claims wait before they are taken over (a live one renews its
        # claims every quarter of this, however long its calls take)
        for setting, value in (("RATE_PER_S", str(RATE_PER_S)), ("STALE_AFTER_S", str(STALE_AFTER_S)))
    },
    backends=production_backend(),
)


def _kill_each_dispatcher_a_third_of_the_way(stack: Stack, city: CityEmergency) -> dict[str, datetime]:
    """Kill each dispatcher once a third of its channel's messages reached the fake, and check the channel
    was not done by then; returns when each was killed. The channels go at their own pace, so all three
    are watched at once: waiting for one after another, e-mail was done before SMS was a third through.
    """
    wanted: Counter[str] = Counter()
    for (channel, _), count in city.expected.items():
        wanted[channel] += count
    killed_at: dict[str, datetime] = {}
    deadline = time.monotonic() + 180
    while len(killed_at) < len(wanted):
        reached: Counter[str] = Counter()
        for (channel, _), count in city.received().items():
            reached[channel] += count
        for channel in [c for c in wanted if c not in killed_at and reached[c] >= wanted[c] // 3]:
            assert reached[channel] < wanted[channel], f"every {channel} message had gone out before the kill"
            killed_at[channel] = datetime.now(UTC)
            _kill(stack, f"dispatch-{channel}")
        assert time.monotonic() < deadline, f"not within 180 s: a third of each channel, {dict(reached)}"
        time.sleep(0.2)
    return killed_at


def _kill(stack: Stack, service: str) -> None:
    stack.stop_service(service, signal.SIGKILL)
    stack.start_service(service)


def test_each_service_killed_in_turn_loses_nothing_and_repeats_nothing(
    killed: Stack, liberec: list[AddressPoint]
) -> None:
    population = list(subscribers(liberec, RECIPIENTS, random.Random(13)))
    city = CityEmergency(killed, population)
    city.subscribe()
    city.approve()

    _kill(killed, "registry")
    city.wait_for_share(0.1)
    _kill(killed, "composer")
    killed_at = _kill_each_dispatcher_a_third_of_the_way(killed, city)
    for service in SERVICES:
        killed.wait_ready(service)

    city.wait_until_reported()
    repeats = city.check_everyone_got_one()
    log.info("calls taken twice after the kills: %s", dict(repeats))
    assert repeats[Channel.EMAIL.value] <= CONCURRENCY
    assert repeats[Channel.PUSH.value] <= FCM_BATCH
    for channel, copies in city.repeats_received_at().items():
        early = [copy for copy in copies if copy < killed_at[channel]]
        assert not early, f"{len(early)} {channel} messages sent twice by a live dispatcher, before its kill"
