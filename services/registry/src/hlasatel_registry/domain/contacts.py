"""Normalising contact values: phones to E.164, e-mail addresses to their canonical form."""

from collections.abc import Sequence

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from hlasatel_contracts import Channel

MAX_PUSH_TOKEN_LENGTH = 4096


class InvalidContact(ValueError):
    """A contact value that cannot be used; the message never repeats the value."""


def normalise_phone(value: str, default_region: str = "CZ") -> str:
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidContact("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("not a valid phone number")
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidContact("not a mobile number, so it cannot receive SMS")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        # email-validator's messages describe the syntax problem without repeating the address.
        raise InvalidContact(f"not a valid e-mail address: {exc}") from None


def normalise_push_token(value: str) -> str:
    token = value.strip()
    if not token or len(token) > MAX_PUSH_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise InvalidContact("not a push token")
    return token


def normalise(channel: Channel, value: str) -> str:
    """The canonical form of a contact value for its channel."""
    return {Channel.SMS: normalise_phone, Channel.EMAIL: normalise_email, Channel.PUSH: normalise_push_token}[
        channel
    ](value)


def outside_regions(phone: str, allowed: Sequence[str]) -> str | None:
    """The country of an E.164 number when it is not among those allowed (ISO 3166 codes); None when it
    is, or when every country is (an empty list)."""
    if not allowed:
        return None
    region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None)) or "an unknown country"
    return None if region in allowed else region
