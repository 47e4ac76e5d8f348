"""Delivery reports: Twilio's signature and what each reported status means."""

from hlasatel_contracts import DeliveryState
from hlasatel_devstack.fakes.sms_gateway import twilio_signature as fake_gateways_signature
from hlasatel_dispatch_sms.reports import reported_state, signed_by, twilio_signature

# Twilio's own example from its webhook security documentation
TOKEN, URL = "12345", "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675310",
    "Digits": "1234",
    "From": "+14158675310",
    "To": "+18005551212",
}
SIGNATURE = "GvWf1cFY/Q7PnoempGyD5oXAezc="


class TestSignature:
    def test_matches_twilios_documented_example_as_does_the_fake_gateways(self) -> None:
        assert twilio_signature(TOKEN, URL, PARAMS) == SIGNATURE
        assert fake_gateways_signature(TOKEN, URL, PARAMS) == SIGNATURE

    def test_a_changed_parameter_url_or_token_or_no_signature_is_refused(self) -> None:
        assert signed_by(TOKEN, URL, PARAMS, SIGNATURE)
        assert not signed_by(TOKEN, URL, {**PARAMS, "Digits": "1235"}, SIGNATURE)
        assert not signed_by(TOKEN, URL + "&baz=3", PARAMS, SIGNATURE)
        assert not signed_by("54321", URL, PARAMS, SIGNATURE)
        assert not signed_by(TOKEN, URL, PARAMS, None)


class TestReportedState:
    def test_delivered_failed_and_unreachable_numbers(self) -> None:
        assert reported_state({"MessageStatus": "delivered"}) == (DeliveryState.DELIVERED, None)
        assert reported_state({"MessageStatus": "undelivered", "ErrorCode": "30008"}) == (
            DeliveryState.FAILED,
            "gateway reported undelivered, code 30008",
        )
        assert reported_state({"MessageStatus": "failed", "ErrorCode": "30005"}) == (
            DeliveryState.CONTACT_INVALID,
            "gateway reported failed, code 30005",
        )

    def test_the_steps_before_the_handset_say_nothing_new(self) -> None:
        for step in ("queued", "sending", "sent", "accepted", ""):
            assert reported_state({"MessageStatus": step}) is None
