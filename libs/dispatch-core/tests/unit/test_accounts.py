"""A dispatcher's provider accounts from its settings, the provider's Retry-After in both of its forms, and
the time of every provider call in the metrics."""

from datetime import UTC, datetime
from typing import ClassVar

import pytest
from prometheus_client import REGISTRY
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from hlasatel_contracts import Channel, Lane, SendSms
from hlasatel_dispatch.config import DispatchSettings, ProviderAccount
from hlasatel_dispatch.providers import (
    PermanentProviderError,
    Provider,
    Receipt,
    RetryableProviderError,
    retry_after,
)


class Gateway(ProviderAccount):
    url: str = "http://127.0.0.1:9101"
    token: SecretStr = SecretStr("dev")
    timeout_s: float = Field(default=10.0, gt=0)


class Settings(DispatchSettings[Gateway]):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_TEST_", env_nested_delimiter="__", extra="ignore")
    provider_name: ClassVar[str] = "gateway"
    port: int = 8009
    database_url: str = "sqlite:///var/dispatch-test.db"
    accounts: list[Gateway] = Field(default_factory=lambda: [Gateway()])


class TestAccounts:
    def test_one_variable_a_setting_and_an_account_an_index(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("DISPATCH_TEST_ACCOUNTS__0__URL", "https://sms.example")
        monkeypatch.setenv("DISPATCH_TEST_ACCOUNTS__0__TOKEN", "first")
        monkeypatch.setenv("DISPATCH_TEST_ACCOUNTS__1__URL", "https://backup.example")
        monkeypatch.setenv("DISPATCH_TEST_ACCOUNTS__1__NAME", "o2-backup")
        monkeypatch.setenv("DISPATCH_TEST_ACCOUNTS__1__TIMEOUT_S", "3")
        monkeypatch.setenv("DISPATCH_TEST_ACCOUNTS__1__RATE_PER_S", "5")
        settings = Settings()
        first, second = settings.accounts
        assert (first.name, first.url, first.token.get_secret_value(), first.timeout_s) == (
            "gateway",
            "https://sms.example",
            "first",
            10.0,
        )
        assert (second.name, second.url, second.timeout_s) == ("o2-backup", "https://backup.example", 3.0)
        assert settings.limits_of(first) == (50.0, 20) and settings.limits_of(second) == (5.0, 20)

    def test_ten_accounts_keep_their_order(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for index in range(10):
            monkeypatch.setenv(f"DISPATCH_TEST_ACCOUNTS__{index}__URL", f"https://{index}.example")
        names = [account.name for account in Settings().accounts]
        assert names == ["gateway", *(f"gateway-{n}" for n in range(2, 11))]
        assert [account.url for account in Settings().accounts][-1] == "https://9.example"

    def test_or_the_whole_list_as_json(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(
            "DISPATCH_TEST_ACCOUNTS", '[{"url": "https://a.example"}, {"url": "https://b.example"}]'
        )
        assert [(a.name, a.url) for a in Settings().accounts] == [
            ("gateway", "https://a.example"),
            ("gateway-2", "https://b.example"),
        ]

    def test_two_accounts_of_one_name_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="a name of its own"):
            Settings(accounts=[Gateway(name="o2"), Gateway(name="o2")])

    def test_no_account_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="at least one provider account"):
            Settings(accounts=[])

    @pytest.mark.parametrize("name", ["O2", "o2 backup", "-o2", "x" * 41])
    def test_a_name_that_cannot_label_a_metric_is_refused(self, name: str) -> None:
        with pytest.raises(ValidationError):
            Gateway(name=name)

    @pytest.mark.parametrize(
        "variable", ["DISPATCH_TEST_URL", "DISPATCH_TEST_TIMEOUT_S", "DISPATCH_TEST_SECONDARY__URL"]
    )
    def test_the_retired_one_account_variables_are_refused_by_name(
        self, monkeypatch: pytest.MonkeyPatch, variable: str
    ) -> None:
        """Ignoring them would send with the development defaults."""
        monkeypatch.setenv(variable, "https://sms.example")
        with pytest.raises(ValidationError, match=f"{variable}.*DISPATCH_TEST_ACCOUNTS__0__"):
            Settings()

    def test_the_dispatchers_own_settings_are_not_taken_for_an_account(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DISPATCH_TEST_RATE_PER_S", "7")
        assert Settings().rate_per_s == 7


NOW = datetime(2026, 12, 3, 7, 28, 0, tzinfo=UTC)


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("header", "seconds"),
        [
            ("120", 120.0),
            (" 5 ", 5.0),
            ("0", 0.0),
            ("Thu, 03 Dec 2026 07:30:00 GMT", 120.0),  # the HTTP-date form (RFC 9110, IMF-fixdate)
            ("Thursday, 03-Dec-26 07:29:00 GMT", 60.0),  # the obsolete RFC 850 form
            ("Thu Dec  3 07:28:30 2026", 30.0),  # asctime
            ("Thu, 03 Dec 2026 07:00:00 GMT", 0.0),  # already past: now
            (None, None),
            ("", None),
            ("soon", None),
            ("-5", None),
            ("1.5", None),  # delay-seconds is a whole number
        ],
    )
    def test_both_forms(self, header: str | None, seconds: float | None) -> None:
        assert retry_after(header, now=NOW) == seconds


class Scripted(Provider[SendSms]):
    channel = Channel.SMS

    def __init__(self, name: str, answers: list[Receipt | Exception]) -> None:
        self.name, self.answers = name, answers

    async def _send(self, request: SendSms) -> Receipt:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def calls(provider: str, outcome: str) -> float:
    labels = {"channel": "sms", "provider": provider, "outcome": outcome}
    return REGISTRY.get_sample_value("hlasatel_dispatch_provider_call_seconds_count", labels) or 0.0


async def test_every_call_is_timed_by_account_and_how_it_ended() -> None:
    request = SendSms(
        delivery_id="00000000-0000-0000-0000-000000000001",
        message_id="00000000-0000-0000-0000-000000000002",
        subscriber_id="00000000-0000-0000-0000-000000000003",
        contact_id="00000000-0000-0000-0000-000000000004",
        lane=Lane.BULK,
        category="water",
        requested_at=NOW,
        to="+420777000001",
        text="Voda",
    )
    answers: list[Receipt | Exception] = [
        Receipt("SM1"),
        Receipt("SM2"),
        RetryableProviderError("gateway error 503"),
        PermanentProviderError("gateway refused"),
        ValueError("not JSON"),  # outside the provider error tree: permanent, as `unexpected` judges it
        ConnectionResetError(),  # the connection failed: worth another try
    ]
    before = {outcome: calls("timed-account", outcome) for outcome in ("accepted", "failed", "refused")}
    provider = Scripted("timed-account", answers)
    for _ in range(6):
        await provider.attempt(request)
    after = {outcome: calls("timed-account", outcome) - before[outcome] for outcome in before}
    assert after == {"accepted": 2, "failed": 2, "refused": 2}
    assert calls("another-account", "accepted") == 0
