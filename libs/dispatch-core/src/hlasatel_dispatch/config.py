"""Settings every dispatcher has, under its own prefix (DISPATCH_SMS_, DISPATCH_EMAIL_, DISPATCH_PUSH_),
and its provider accounts: `accounts`, in order of preference, each with its name, timeout and limits."""

import os
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, Field, field_validator, model_validator

from hlasatel_runtime.settings import ServiceSettings

# an account's name labels its metrics and the statuses of what it sent: short, lower case, no spaces
ACCOUNT_NAME = r"^[a-z0-9][a-z0-9-]{0,39}$"


class ProviderAccount(BaseModel):
    """One provider account. A dispatcher's accounts are DISPATCH_<CHANNEL>_ACCOUNTS, either as one JSON
    list or one variable a field (DISPATCH_SMS_ACCOUNTS__0__AUTH_TOKEN, …__1__GATEWAY_URL): the first
    account while it works, the next while the one before keeps failing."""

    # unset: the channel's provider for the first account ("twilio"), then "twilio-2", "twilio-3"…
    name: str = Field(default="", pattern=f"{ACCOUNT_NAME}|^$")
    # a call the provider has not answered within this long is a retryable failure
    timeout_s: float = Field(default=30.0, gt=0)
    # calls a second and calls in flight at once; unset, the dispatcher's RATE_PER_S and CONCURRENCY
    rate_per_s: float | None = Field(default=None, gt=0)
    concurrency: int | None = Field(default=None, ge=1)


AccountT = TypeVar("AccountT", bound=ProviderAccount)


class DispatchSettings(ServiceSettings, Generic[AccountT]):
    # what an unnamed account is called: the first "twilio", the second "twilio-2"
    provider_name: ClassVar[str] = "provider"

    accounts: list[AccountT]
    # per provider account unless the account says otherwise: calls a second, and calls in flight at once
    rate_per_s: float = Field(default=50.0, gt=0)
    concurrency: int = Field(default=20, ge=1)
    # records taken from a lane at a time
    batch_size: int = Field(default=100, ge=1)
    # retryable failures: attempts in all, and the exponential backoff's base and cap (a provider's
    # Retry-After is honoured up to the cap)
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

    @field_validator("accounts", mode="before")
    @classmethod
    def _indexed(cls, value: Any) -> Any:
        """ACCOUNTS__0__…, ACCOUNTS__1__… arrive as {"0": {…}, "1": {…}}: the accounts in index order."""
        if isinstance(value, dict) and value and all(str(key).isdigit() for key in value):
            return [value[key] for key in sorted(value, key=int)]
        return value

    @model_validator(mode="after")
    def _named_once(self) -> "DispatchSettings[AccountT]":
        if not self.accounts:
            raise ValueError("accounts: at least one provider account")
        self._no_retired_variables()
        for index, account in enumerate(self.accounts):
            if not account.name:
                account.name = self.provider_name if index == 0 else f"{self.provider_name}-{index + 1}"
        names = [account.name for account in self.accounts]
        if len(set(names)) != len(names):
            raise ValueError(f"accounts: every account needs a name of its own, not {names}")
        return self

    def _no_retired_variables(self) -> None:
        """The variables of a single account and of a `SECONDARY__` one, which these settings once read,
        refused by name rather than ignored (which would leave the development defaults in use)."""
        prefix = str(self.model_config.get("env_prefix", "")).upper()
        own = {name.upper() for name in type(self).model_fields}
        account = {name.upper() for name in type(self.accounts[0]).model_fields} - {"NAME"} - own
        retired = sorted(
            variable
            for variable in map(str.upper, os.environ)
            if variable.startswith(prefix)
            and (variable[len(prefix) :] in account or variable.startswith(f"{prefix}SECONDARY__"))
        )
        if retired:
            raise ValueError(
                f"{', '.join(retired)}: an account's settings are {prefix}ACCOUNTS__0__<SETTING> now, "
                f"the second account's {prefix}ACCOUNTS__1__<SETTING>"
            )

    def limits_of(self, account: ProviderAccount) -> tuple[float, int]:
        """An account's calls a second and calls in flight: its own, or the dispatcher's."""
        return (account.rate_per_s or self.rate_per_s, account.concurrency or self.concurrency)
