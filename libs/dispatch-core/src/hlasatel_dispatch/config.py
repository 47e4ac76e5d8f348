"""Settings every dispatcher has, under its own prefix (DISPATCH_SMS_, DISPATCH_EMAIL_, DISPATCH_PUSH_)."""

from pydantic import Field

from hlasatel_runtime.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    # per provider account: calls a second, and calls in flight at once
    rate_per_s: float = Field(default=50.0, gt=0)
    concurrency: int = Field(default=20, ge=1)
    # records taken from a lane at a time
    batch_size: int = Field(default=100, ge=1)
    # retryable failures: attempts in all, and the exponential backoff's base and cap
    retry_max_attempts: int = Field(default=6, ge=1)
    retry_base_s: float = Field(default=2.0, gt=0)
    retry_cap_s: float = Field(default=300.0, gt=0)
    retry_poll_s: float = Field(default=0.5, gt=0)
    # failover: retryable failures in a row that open an account's circuit, and how long it stays open
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=30.0, gt=0)
    # a live worker renews its claims every quarter of this, so a claim older than this was left by a
    # worker that died during its provider call: another takes it over and sends it again
    stale_after_s: float = Field(default=30.0, gt=0)
    # what the ledger knows of a finished delivery is deleted after this long (the delivery topics keep
    # records a week too); a request older than a day short of it is refused as expired
    ledger_retention_days: float = Field(default=7.0, ge=1.0)
    # a delivery-report callback's form is small
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
