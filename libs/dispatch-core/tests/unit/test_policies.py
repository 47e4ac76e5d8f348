"""Retry delays, circuit breakers, account limits and lane priority: pure, with the clock in our hands."""

import asyncio
import random

import pytest

from hlasatel_contracts import Lane
from hlasatel_dispatch.circuit import CircuitBreaker, CircuitState, Failover
from hlasatel_dispatch.limits import AccountLimits
from hlasatel_dispatch.priority import LanePriority
from hlasatel_dispatch.retry import RetryPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class TestRetryPolicy:
    def test_delays_grow_exponentially_with_jitter_up_to_the_cap(self) -> None:
        policy = RetryPolicy(max_attempts=10, base_s=2, cap_s=30, rng=random.Random(1))
        for attempts in range(1, 10):
            ceiling = min(30, 2 * 2 ** (attempts - 1))
            delays = [policy.delay(attempts=attempts) for _ in range(200)]
            assert all(d is not None and 0 <= d <= ceiling for d in delays)
            assert max(d for d in delays if d is not None) > ceiling * 0.9  # jitter spreads over the range

    def test_retry_after_is_a_floor_and_the_attempts_are_bounded(self) -> None:
        policy = RetryPolicy(max_attempts=3, base_s=1, rng=random.Random(2))
        assert policy.delay(attempts=1, retry_after=45) == 45
        assert policy.delay(attempts=2) is not None
        assert policy.delay(attempts=3) is None


class TestCircuitBreaker:
    def test_opens_after_failures_in_a_row_and_lets_a_trial_through_after_the_reset_time(self) -> None:
        clock = Clock()
        breaker = CircuitBreaker(failure_threshold=3, reset_after_s=10, clock=clock)
        breaker.failed()
        breaker.failed()
        breaker.succeeded()  # a success in between starts the count again
        breaker.failed()
        breaker.failed()
        assert breaker.state is CircuitState.CLOSED
        breaker.failed()
        assert breaker.state is CircuitState.OPEN and not breaker.allows()
        clock.now = 10
        assert breaker.state is CircuitState.HALF_OPEN and breaker.allows()
        breaker.failed()  # the trial failed: open again at once
        assert breaker.state is CircuitState.OPEN
        clock.now = 20
        breaker.succeeded()
        assert breaker.state is CircuitState.CLOSED

    def test_failover_prefers_the_first_healthy_account_and_tries_the_oldest_when_all_are_down(self) -> None:
        clock = Clock()
        failover = Failover(["a", "b"], breaker=lambda: CircuitBreaker(failure_threshold=1, clock=clock))
        assert failover.choose() == (0, "a")
        failover.failed(0)
        assert failover.choose() == (1, "b")
        clock.now = 1
        failover.failed(1)
        assert failover.choose() == (0, "a")  # both open: the one open longest gets tried
        with pytest.raises(ValueError, match="at least one account"):
            Failover([])


class TestAccountLimits:
    async def test_calls_are_spaced_to_the_rate(self) -> None:
        clock = Clock()
        limits = AccountLimits(rate_per_s=10, concurrency=5, burst=1, clock=clock, sleep=clock.sleep)
        for _ in range(5):
            async with limits.slot():
                await limits.token()
        assert clock.now == pytest.approx(0.4)  # the first at once, then one every 0.1 s

    async def test_retry_after_pauses_every_call_to_the_account(self) -> None:
        clock = Clock()
        limits = AccountLimits(rate_per_s=1000, concurrency=5, clock=clock, sleep=clock.sleep)
        limits.pause(30)
        limits.pause(5)  # a shorter pause does not shorten a longer one
        async with limits.slot():
            await limits.token()
            assert clock.now == pytest.approx(30)

    async def test_no_more_calls_in_flight_than_the_concurrency(self) -> None:
        limits = AccountLimits(rate_per_s=1_000_000, concurrency=3)
        in_flight, most = 0, 0

        async def call() -> None:
            nonlocal in_flight, most
            async with limits.slot():
                await limits.token()
                in_flight += 1
                most = max(most, in_flight)
                await asyncio.sleep(0.001)
                in_flight -= 1

        await asyncio.gather(*(call() for _ in range(20)))
        assert most == 3


class TestLanePriority:
    async def test_bulk_waits_while_an_emergency_batch_is_in_hand(self) -> None:
        priority = LanePriority()
        order: list[str] = []
        emergency_in_hand = asyncio.Event()
        release = asyncio.Event()

        async def emergency() -> None:
            async with priority.working(Lane.EMERGENCY):
                emergency_in_hand.set()
                await priority.turn(Lane.EMERGENCY)
                order.append("emergency")
                await release.wait()
                order.append("emergency done")

        async def bulk() -> None:
            await emergency_in_hand.wait()
            async with priority.working(Lane.BULK):
                await priority.turn(Lane.BULK)
                order.append("bulk")

        tasks = [asyncio.create_task(emergency()), asyncio.create_task(bulk())]
        await asyncio.sleep(0.01)
        assert order == ["emergency"]
        release.set()
        await asyncio.gather(*tasks)
        assert order == ["emergency", "emergency done", "bulk"]
