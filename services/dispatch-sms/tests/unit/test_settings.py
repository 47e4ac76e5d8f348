"""The gateway accounts as an operator configures them."""

import pytest
from pydantic import ValidationError

from hlasatel_dispatch_sms.config import Settings


def test_a_second_account_left_at_the_fakes_values_stops_a_production_start_naming_its_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISPATCH_SMS_ACCOUNTS__0__GATEWAY_URL", "https://api.twilio.com")
    monkeypatch.setenv("DISPATCH_SMS_ACCOUNTS__0__AUTH_TOKEN", "a-real-token")
    monkeypatch.setenv("DISPATCH_SMS_ACCOUNTS__1__NAME", "o2")
    monkeypatch.setenv("DISPATCH_SMS_ACCOUNTS__1__GATEWAY_URL", "http://sms.o2.cz")
    monkeypatch.setenv("DISPATCH_SMS_KAFKA__SECURITY_PROTOCOL", "SSL")
    with pytest.raises(ValidationError) as refused:
        Settings(database_url="postgresql://db/sms")
    problems = str(refused.value)
    assert "ACCOUNTS__1__AUTH_TOKEN: the fake gateway's dev-token" in problems
    assert "ACCOUNTS__1__GATEWAY_URL: the gateway over http://" in problems
    assert "ACCOUNTS__0__" not in problems

    monkeypatch.setenv("DISPATCH_SMS_ACCOUNTS__1__GATEWAY_URL", "https://sms.o2.cz")
    monkeypatch.setenv("DISPATCH_SMS_ACCOUNTS__1__AUTH_TOKEN", "another-token")
    settings = Settings(database_url="postgresql://db/sms")
    assert [(a.name, a.gateway_url) for a in settings.accounts] == [
        ("twilio", "https://api.twilio.com"),
        ("o2", "https://sms.o2.cz"),
    ]


def test_the_settings_of_the_single_account_before_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_SMS_AUTH_TOKEN", "a-real-token")
    with pytest.raises(ValidationError, match="DISPATCH_SMS_AUTH_TOKEN: an account's settings are"):
        Settings()
