"""The broker restarted in the middle of a whole-city emergency, with every service running.

The embedded broker keeps its log in memory, so the restart loses every delivery request and status that
was on it. The composer notices the deliveries that never got a status and publishes them again with the
same ids (reconciliation, `COMPOSER_REDRIVE_AFTER_S`); the dispatchers' ledgers send only what they had
not sent. Checked from the fakes' ledgers: every targeted contact got exactly one message, nobody else
got anything, and the composer's report accounts for every delivery.

`HLASATEL_CHAOS_RECIPIENTS` sets the size: 1,000 subscribers in `make test` (at 500 the dispatchers had
fetched every request before the restart and nothing was lost), the issue's 20,000 by hand.
"""

import random

from hlasatel_contracts import AddressPoint, Channel
from hlasatel_devstack.chaos import CityEmergency, chaos_recipients, metric
from hlasatel_devstack.population import subscribers
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import production_backend, stack_fixture

RECIPIENTS = chaos_recipients(1000)
SERVICES = ["composer", "dispatch-sms", "dispatch-email", "dispatch-push"]

# dispatchers slow enough that much is still on the bus when it restarts; a quick reconciliation
restarted = stack_fixture(
    "restarted",
    SERVICES,
    {
        # above the time the lanes take to drain, or a delivery still waiting its turn is re-driven until
        # it is given up on: 16 s at 1,000 subscribers, 333 s at 20,000
        "COMPOSER_REDRIVE_AFTER_S": str(max(15, RECIPIENTS // 60)),
        "COMPOSER_REDRIVE_POLL_S": "2",
        **{f"DISPATCH_{c.value.upper()}_RATE_PER_S": str(max(40, RECIPIENTS // 25)) for c in Channel},
    },
    backends=production_backend(),
)


def test_a_broker_restart_loses_nothing_and_repeats_nothing(
    restarted: Stack, liberec: list[AddressPoint]
) -> None:
    population = list(subscribers(liberec, RECIPIENTS, random.Random(7)))
    city = CityEmergency(restarted, population)
    city.subscribe()
    city.approve()

    city.wait_for_share(0.25)
    restarted.broker.stop()
    restarted.broker.start()

    city.wait_until_reported()
    repeats = city.check_everyone_got_one()
    assert not repeats, "no call was in doubt, so nothing may arrive twice"
    # what the restart lost came back through reconciliation, not by luck
    assert metric(restarted, "composer", "hlasatel_composer_redriven_total") > 0
