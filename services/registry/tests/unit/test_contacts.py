import csv
import json
from pathlib import Path

import pytest

from hlasatel_contracts import Channel
from hlasatel_registry.domain.contacts import InvalidContact, normalise


def _phone_vectors(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / "phone" / "cz_phone_vectors_generated.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


class TestPhones:
    def test_czech_mobiles_become_e164_however_they_are_written(self, shared_data: Path) -> None:
        mobiles = [
            v
            for v in _phone_vectors(shared_data)
            if v["is_valid"] == "True" and v["type"] in ("MOBILE", "FIXED_LINE_OR_MOBILE")
        ]
        assert mobiles, "the vectors hold mobile numbers"
        for vector in mobiles:
            assert normalise(Channel.SMS, vector["input"]) == vector["e164"], vector["input"]

    def test_numbers_that_cannot_receive_sms_are_refused(self, shared_data: Path) -> None:
        refused = [
            v
            for v in _phone_vectors(shared_data)
            if v["is_valid"] != "True" or v["type"] not in ("MOBILE", "FIXED_LINE_OR_MOBILE")
        ]
        assert refused
        for vector in refused:
            with pytest.raises(InvalidContact) as caught:
                normalise(Channel.SMS, vector["input"])
            digits = "".join(c for c in vector["input"] if c.isdigit())
            if len(digits) >= 6:
                assert digits not in str(caught.value), "the reason must not repeat the number"

    def test_czech_number_without_prefix_is_accepted(self) -> None:
        assert normalise(Channel.SMS, "777 123 456") == "+420777123456"


class TestEmails:
    def test_valid_addresses_are_normalised(self, shared_data: Path) -> None:
        vectors = json.loads(
            (shared_data / "email" / "email-validator_vectors.json").read_text(encoding="utf-8")
        )
        valid = (
            vectors["test_email_valid"]["vectors"] + vectors["test_email_valid_intl_local_part"]["vectors"]
        )
        plain = [(a, e) for a, e in valid if '"' not in a and "<" not in a]
        assert len(plain) >= 10
        for address, expected in plain:
            assert normalise(Channel.EMAIL, address) == expected["normalized"]

    @pytest.mark.parametrize("address", ['"quoted local part"@example.org', "My Name <me@example.org>"])
    def test_quoted_local_parts_and_display_names_are_refused(self, address: str) -> None:
        # RFC-valid, but few relays deliver quoted local parts, and a contact field holds an address only.
        with pytest.raises(InvalidContact, match=r"not allowed here|not permitted here"):
            normalise(Channel.EMAIL, address)

    def test_invalid_addresses_are_refused_with_the_reason(self, shared_data: Path) -> None:
        vectors = json.loads(
            (shared_data / "email" / "email-validator_vectors.json").read_text(encoding="utf-8")
        )
        for address, _message in vectors["test_email_invalid_syntax"]["vectors"]:
            with pytest.raises(InvalidContact, match=r"^not a valid e-mail address: .+"):
                normalise(Channel.EMAIL, address)


class TestPushTokens:
    @pytest.mark.parametrize("token", ["", "   ", "has space", "x" * 4097])
    def test_malformed_tokens_are_refused(self, token: str) -> None:
        with pytest.raises(InvalidContact):
            normalise(Channel.PUSH, token)
