"""kill -9 of each dispatcher in the middle of its deliveries, through the real broker into its fake.

The three dispatchers run as their own processes on the embedded broker, each with 2,000 requests on its
bulk lane (`HLASATEL_CHAOS_RECIPIENTS` sets another number). Each is killed with SIGKILL once a quarter of
its deliveries has reached its fake, with calls in flight, and started again. The claims it held at the
kill are taken over once stale and sent again: the SMS gateway answers a repeated Idempotency-Key with the
message it already took, so it holds every SMS once; an SMTP relay and FCM cannot recognise a repeat, so
the calls in flight at the kill may arrive twice, with the same Message-ID or notification tag, which a
mailbox and a phone show as one message. Each dispatcher's ledger ends with every delivery handed over
once, under the provider's id for it.
"""

import asyncio
import logging
import signal
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from hlasatel_contracts import Channel, Lane, delivery_topic
from hlasatel_devstack.bus import publish_keyed
from hlasatel_devstack.chaos import REPEAT_KEY, chaos_recipients
from hlasatel_devstack.dispatching import sample_requests
from hlasatel_devstack.fakes.ledger import read_ledger
from hlasatel_devstack.stack import Stack
from hlasatel_devstack.testing import eventually, production_backend, stack_fixture
from hlasatel_runtime.database import build_engine

log = logging.getLogger(__name__)

DELIVERIES = chaos_recipients(2000)
STALE_AFTER_S = 20  # how long the killed process's claims wait; production keeps 30 s
CONCURRENCY = 20  # the dispatchers' default calls in flight per account
FCM_BATCH = 500  # notifications in one send_each_async call
# a quarter of the way, in the middle of a chunk (20 calls side by side; 500 notifications in one call),
# so that calls are in flight when the process dies
KILL_AT = {
    Channel.SMS: DELIVERIES // 4 + 10,
    Channel.EMAIL: DELIVERIES // 4 + 10,
    Channel.PUSH: DELIVERIES // 4 // 500 * 500 + 250,
}
DISPATCHERS = {channel: f"dispatch-{channel.value}" for channel in Channel}
# what the provider calls its copy of a delivery, and what a recipient's side recognises a repeat by
PROVIDER_ID = {Channel.SMS: "sid", Channel.EMAIL: "smtp_message_id", Channel.PUSH: "name"}


# a fresh broker, the fakes and the three dispatchers, with the rate limit of a large account
dispatchers = stack_fixture(
    "dispatchers",
    list(DISPATCHERS.values()),
    {
        f"{service.upper().replace('-', '_')}_{setting}": value
        for service in DISPATCHERS.values()
        for setting, value in (("RATE_PER_S", "5000"), ("STALE_AFTER_S", str(STALE_AFTER_S)))
    },
    backends=production_backend(),
)


def test_each_dispatcher_killed_mid_send_hands_every_delivery_over_once(dispatchers: Stack) -> None:
    stack = dispatchers
    bootstrap = stack.broker.bootstrap_servers
    ledgers = {channel: stack.config.ledger_dir / f"{channel.value}.jsonl" for channel in Channel}
    # the gateway's delivery reports would only repeat the acceptances this test counts
    httpx.post(f"{stack.url('sms_gateway')}/_fake/behaviour", json={"report": "none"}).raise_for_status()
    wanted = {channel: sample_requests(channel, DELIVERIES) for channel in Channel}
    for channel, requests in wanted.items():
        asyncio.run(
            publish_keyed(
                bootstrap,
                delivery_topic(channel, Lane.BULK),
                ((str(r.subscriber_id).encode(), r) for r in requests),
            )
        )

    at_kill: dict[Channel, int] = {}
    while len(at_kill) < len(Channel):
        for channel in Channel:
            reached = _lines(ledgers[channel])
            if channel not in at_kill and reached >= KILL_AT[channel]:
                stack.stop_service(DISPATCHERS[channel], signal.SIGKILL)
                at_kill[channel] = reached
                stack.start_service(DISPATCHERS[channel])
        time.sleep(0.05)
    for channel in Channel:
        stack.wait_ready(DISPATCHERS[channel])
        assert at_kill[channel] < DELIVERIES, f"dispatch-{channel.value} had finished before the kill"

    for channel in Channel:
        eventually(
            lambda channel=channel: _handed(stack, channel) == DELIVERIES,  # type: ignore[misc]
            timeout_s=300,
            interval_s=1,
            what=f"dispatch-{channel.value} handed every delivery over",
            detail=lambda channel=channel: _handed(stack, channel),  # type: ignore[misc]
        )

    for channel, requests in wanted.items():
        received = read_ledger(ledgers[channel])
        by_delivery: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in received:
            by_delivery[entry["delivery_id"]].append(entry)
        assert set(by_delivery) == {str(r.delivery_id) for r in requests}, "everyone, and nobody else"
        # what the recipient sees: one message per delivery
        assert all(len({e[REPEAT_KEY[channel]] for e in copies}) == 1 for copies in by_delivery.values())
        repeated = len(received) - DELIVERIES
        log.info("%s: killed at %d; %d calls in flight sent again", channel.value, at_kill[channel], repeated)
        if channel is Channel.SMS:
            assert repeated == 0, "the gateway holds each SMS once"
        else:
            assert repeated <= (CONCURRENCY if channel is Channel.EMAIL else FCM_BATCH)
        taken_ids = {entry[PROVIDER_ID[channel]] for entry in received}
        recorded = _provider_ids(stack, channel)
        assert len(recorded) == DELIVERIES and set(recorded.values()) <= taken_ids


def _lines(path: Path) -> int:
    """How many entries a fake's ledger has, without parsing them."""
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _ledger_rows(stack: Stack, channel: Channel, sql: str) -> list[Any]:
    async def query() -> list[Any]:
        engine = build_engine(stack.config.database_url(DISPATCHERS[channel]))
        try:
            async with engine.connect() as connection:
                return list(await connection.execute(text(sql)))
        finally:
            await engine.dispose()

    return asyncio.run(query())


def _handed(stack: Stack, channel: Channel) -> int:
    sql = "SELECT count(*) FROM dispatch_ledger WHERE state = 'handed'"
    (row,) = _ledger_rows(stack, channel, sql)
    count: int = row[0]
    return count


def _provider_ids(stack: Stack, channel: Channel) -> dict[str, str]:
    """Each handed delivery's id (SQLite keeps it as 32 hex digits) and the provider's id for it."""
    sql = "SELECT delivery_id, provider_message_id FROM dispatch_ledger WHERE state = 'handed'"
    return {str(uuid.UUID(str(row[0]))): row[1] for row in _ledger_rows(stack, channel, sql)}
