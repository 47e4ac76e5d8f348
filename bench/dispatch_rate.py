"""Each dispatcher as a process on the embedded broker, sending into its fake (another process): deliveries
per second from publishing the requests to the last provider acceptance, and the time from request to
acceptance; beside it, the same client library driving the same fake in a tight loop in the same run."""

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx

from hlasatel_contracts import (
    DELIVERY_STATUS,
    Channel,
    DeliveryRequest,
    DeliveryState,
    DeliveryStatusChanged,
    Lane,
    SendEmail,
    SendPush,
    SendSms,
    delivery_topic,
)
from hlasatel_devstack.bus import publish_keyed, reader
from hlasatel_devstack.dispatching import sample_requests
from hlasatel_devstack.fakes.server import SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, credentials_path
from hlasatel_devstack.ports import Ports
from hlasatel_devstack.stack import Stack, StackConfig
from hlasatel_dispatch_push.provider import FcmPushProvider

CONCURRENCY = 20  # the dispatchers' default calls in flight per account


def requests_for(channel: Channel, count: int) -> list[DeliveryRequest]:
    return sample_requests(channel, count, Lane.EMERGENCY)


async def through_the_dispatcher(
    bootstrap: str, channel: Channel, requests: list[DeliveryRequest], note: str = ""
) -> None:
    """Publish the requests and wait for an acceptance of each; prints the rate and the latencies."""
    consumer = reader(bootstrap, DELIVERY_STATUS)
    await consumer.start()
    wanted = {request.delivery_id for request in requests}
    latencies: list[float] = []
    try:
        started = time.perf_counter()
        await publish_keyed(
            bootstrap,
            delivery_topic(channel, Lane.EMERGENCY),
            ((str(request.subscriber_id).encode(), request) for request in requests),
        )
        published = time.perf_counter() - started
        while wanted:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                for record in records:
                    status = DeliveryStatusChanged.model_validate_json(record.value or b"{}")
                    if status.state is DeliveryState.ACCEPTED and status.delivery_id in wanted:
                        wanted.discard(status.delivery_id)
                        latencies.append((status.occurred_at - requests[0].requested_at).total_seconds())
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    q = statistics.quantiles(latencies, n=100)
    name = f"{channel.value:<5} through dispatch-{channel.value}{note}"
    timing = f"{elapsed:.1f} s; publishing {published:.1f} s"
    latency = f"request → acceptance p50 {q[49]:.2f} s, p95 {q[94]:.2f} s, p99 {q[98]:.2f} s"
    print(f"  {name:<44} {len(requests) / elapsed:>8,.0f} deliveries/s ({timing}; {latency})", flush=True)


async def sms_reports(ports: Ports, report: str) -> None:
    """Whether the fake gateway sends a delivery report to dispatch-sms for each message it takes."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports.sms_gateway}") as client:
        (await client.post("/_fake/behaviour", json={"report": report})).raise_for_status()


async def tight_loop(name: str, count: int, send: Callable[[], Awaitable[None]]) -> float:
    """Prints and returns the deliveries a second."""
    started = time.perf_counter()
    await send()
    elapsed = time.perf_counter() - started
    print(f"  {name:<44} {count / elapsed:>8,.0f} deliveries/s ({elapsed:.1f} s)", flush=True)
    return round(count / elapsed)


async def sms_ceiling(ports: Ports, requests: list[DeliveryRequest]) -> float:
    limit = asyncio.Semaphore(CONCURRENCY)
    path = f"/2010-04-01/Accounts/{SMS_ACCOUNT_SID}/Messages.json"
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{ports.sms_gateway}", auth=(SMS_ACCOUNT_SID, SMS_AUTH_TOKEN)
    ) as client:

        async def one(request: SendSms) -> None:
            async with limit:
                form = {"To": request.to, "From": "Liberec", "Body": request.text}
                headers = {"Idempotency-Key": str(request.delivery_id)}
                (await client.post(path, data=form, headers=headers)).raise_for_status()

        async def run() -> None:
            await asyncio.gather(*(one(r) for r in requests if isinstance(r, SendSms)))

        return await tight_loop(f"sms   httpx, {CONCURRENCY} in flight", len(requests), run)


async def email_ceiling(ports: Ports, requests: list[DeliveryRequest], connections: int = 4) -> float:
    emails = [r for r in requests if isinstance(r, SendEmail)]

    async def over_one_connection(share: list[SendEmail]) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=ports.smtp)
        await client.connect()
        for request in share:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = (
                "hlasatel@liberec.cz",
                request.to,
                request.subject,
            )
            message.set_content(request.text)
            await client.send_message(message)
        await client.quit()

    async def run() -> None:
        await asyncio.gather(*(over_one_connection(emails[i::connections]) for i in range(connections)))

    return await tight_loop(f"email aiosmtplib, {connections} connections", len(emails), run)


async def push_ceiling(ports: Ports, var_dir: Path, requests: list[DeliveryRequest]) -> float:
    pushes = [r for r in requests if isinstance(r, SendPush)]
    provider = FcmPushProvider(
        credentials_file=str(credentials_path(var_dir / "fakes")), endpoint=f"http://127.0.0.1:{ports.fcm}"
    )

    async def run() -> None:
        for start in range(0, len(pushes), 500):
            await provider.send_many(pushes[start : start + 500])

    try:
        return await tight_loop("push  firebase-admin send_each_async, 500 a call", len(pushes), run)
    finally:
        await provider.close()


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp)
        environment = {
            f"DISPATCH_{channel.value.upper()}_RATE_PER_S": "1000000" for channel in Channel
        }  # the rate limit off: what the dispatcher itself can do
        stack = Stack(StackConfig(var_dir=var_dir, ports=Ports.free(), environment=environment))
        stack.start(services=["dispatch-sms", "dispatch-email", "dispatch-push"])
        try:
            print(
                f"{count:,} deliveries a channel, emergency lane; broker, fakes and dispatchers as processes"
            )
            print(f"on {platform.machine()} with {len(os.sched_getaffinity(0))} cores, SQLite ledgers")
            bootstrap = stack.broker.bootstrap_servers

            async def run() -> None:
                # the tight loop asks for no delivery reports: neither does the fake gateway send any at first
                await sms_reports(stack.config.ports, "none")
                for channel in Channel:
                    await through_the_dispatcher(bootstrap, channel, requests_for(channel, count))
                await sms_reports(stack.config.ports, "delivered")
                sms = requests_for(Channel.SMS, count)
                await through_the_dispatcher(bootstrap, Channel.SMS, sms, note=" + reports")
                await sms_ceiling(stack.config.ports, requests_for(Channel.SMS, count))
                await email_ceiling(stack.config.ports, requests_for(Channel.EMAIL, count))
                await push_ceiling(stack.config.ports, var_dir, requests_for(Channel.PUSH, count))

            asyncio.run(run())
        finally:
            stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=2000, help="per channel")
    main(parser.parse_args().deliveries)
