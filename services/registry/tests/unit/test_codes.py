"""Signed links: whatever someone types into one, the answer is 'not valid', never a crash."""

import pytest

from hlasatel_registry.domain.codes import BadSignature, sign, unsign


class TestSignedLinks:
    @pytest.mark.parametrize("signature", ["ž", "", "x" * 43, "\u0000"])
    def test_a_forged_signature_of_any_characters_is_not_valid(self, signature: str) -> None:
        body = sign("secret", "verify-email", {"c": "1"}).split(".")[0]
        with pytest.raises(BadSignature, match="the link is not valid"):
            unsign("secret", "verify-email", f"{body}.{signature}")

    def test_a_link_signed_by_us_reads_back(self) -> None:
        assert unsign("secret", "verify-email", sign("secret", "verify-email", {"c": "1"})) == {"c": "1"}
