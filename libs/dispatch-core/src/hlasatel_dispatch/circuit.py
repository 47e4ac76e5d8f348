"""Failover between provider accounts: a circuit breaker per account. Pure; the clock is handed in."""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class CircuitState(StrEnum):
    CLOSED = "closed"  # healthy: traffic flows
    OPEN = "open"  # failing: no traffic until `reset_after_s` has passed
    HALF_OPEN = "half_open"  # on trial: one success closes it, one failure opens it again


@dataclass
class CircuitBreaker:
    """Opens after `failure_threshold` retryable failures in a row; lets a trial through after
    `reset_after_s`."""

    failure_threshold: int = 5
    reset_after_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None

    @property
    def state(self) -> CircuitState:
        if self.opened_at is None:
            return CircuitState.CLOSED
        if self.clock() - self.opened_at >= self.reset_after_s:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    def allows(self) -> bool:
        return self.state is not CircuitState.OPEN

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failed(self) -> None:
        self.failures += 1
        if self.state is CircuitState.HALF_OPEN or self.failures >= self.failure_threshold:
            self.opened_at = self.clock()


@dataclass
class Failover(Generic[T]):
    """The first account whose circuit allows traffic, in the configured order: the primary while it is
    healthy, the secondary while the primary's circuit is open, the primary again once a trial succeeds."""

    accounts: Sequence[T]
    breakers: list[CircuitBreaker] = field(default_factory=list)
    breaker: Callable[[], CircuitBreaker] = CircuitBreaker

    def __post_init__(self) -> None:
        if not self.accounts:
            raise ValueError("failover needs at least one account")
        self.breakers = [self.breaker() for _ in self.accounts]

    def choose(self) -> tuple[int, T]:
        """The account to use now; when every circuit is open, the one open longest (something must try)."""
        for index, account in enumerate(self.accounts):
            if self.breakers[index].allows():
                return index, account
        index = min(range(len(self.accounts)), key=lambda i: self.breakers[i].opened_at or 0.0)
        return index, self.accounts[index]

    def succeeded(self, index: int) -> None:
        self.breakers[index].succeeded()

    def failed(self, index: int) -> None:
        self.breakers[index].failed()
