from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from hlasatel_composer.domain.deliveries import delivery_id, rank
from hlasatel_composer.domain.messages import Content, Severity, lane_for
from hlasatel_composer.domain.requests import Recipient, delivery_requests, required_category
from hlasatel_composer.domain.targeting import Target
from hlasatel_contracts import Channel, DeliveryState, Lane, Language, SendEmail, SendPush, SendSms

CONTENT = Content.model_validate(
    {
        "cs": {
            "sms": "Odstávka vody",
            "email": {"subject": "Odstávka", "text": "Zítra nepoteče voda."},
            "push": {"title": "Voda", "body": "Zítra"},
        },
        "en": {"sms": "Water off"},
    }
)


def _recipient(language: Language = Language.CS, **contacts: str) -> Recipient:
    return Recipient(
        subscriber_id=uuid4(),
        language=language,
        contacts={Channel(channel): (uuid4(), value) for channel, value in contacts.items()},
    )


class TestDeliveryIds:
    def test_the_same_message_to_the_same_contact_has_the_same_id(self) -> None:
        message = uuid4()
        first = delivery_id(message, Channel.SMS, "+420777000001", secret="s")
        assert first == delivery_id(message, Channel.SMS, "+420777000001", secret="s")

    def test_each_contact_channel_and_message_has_its_own_id(self) -> None:
        message = uuid4()
        ids = {delivery_id(message, channel, "+420777000001", secret="s") for channel in Channel}
        ids.add(delivery_id(uuid4(), Channel.SMS, "+420777000001", secret="s"))
        ids.add(delivery_id(message, Channel.SMS, "+420777000002", secret="s"))
        assert len(ids) == 5

    def test_an_id_cannot_be_traced_to_the_number_without_the_secret(self) -> None:
        message = uuid4()
        assert delivery_id(message, Channel.SMS, "+420777000001", secret="a") != delivery_id(
            message, Channel.SMS, "+420777000001", secret="b"
        )


class TestStatusOrder:
    def test_a_late_acceptance_does_not_undo_a_delivery(self) -> None:
        assert rank(DeliveryState.ACCEPTED, retryable=False) < rank(DeliveryState.DELIVERED, retryable=False)

    def test_a_retry_that_succeeds_replaces_a_temporary_failure(self) -> None:
        assert rank(DeliveryState.ACCEPTED, retryable=False) > rank(DeliveryState.FAILED, retryable=True)

    def test_a_permanent_failure_is_final(self) -> None:
        assert rank(DeliveryState.FAILED, retryable=False) > rank(DeliveryState.ACCEPTED, retryable=False)


class TestContent:
    def test_czech_content_is_required(self) -> None:
        with pytest.raises(ValidationError, match="cs"):
            Content.model_validate({"en": {"sms": "hi"}})

    def test_czech_needs_at_least_one_channel(self) -> None:
        with pytest.raises(ValidationError, match="at least one channel"):
            Content.model_validate({"cs": {}})

    def test_a_language_falls_back_to_czech_per_channel(self) -> None:
        assert CONTENT.for_language(Language.EN, Channel.SMS).sms == "Water off"
        assert CONTENT.for_language(Language.EN, Channel.EMAIL).email.subject == "Odstávka"  # type: ignore[union-attr]
        assert CONTENT.for_language(Language.DE, Channel.SMS).sms == "Odstávka vody"


class TestTarget:
    def test_an_empty_target_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="selects nothing"):
            Target.model_validate({})

    def test_lanes_follow_severity(self) -> None:
        assert lane_for(Severity.EMERGENCY) is Lane.EMERGENCY
        assert lane_for(Severity.INFO) is Lane.BULK


class TestDeliveryRequests:
    def _requests(self, recipient: Recipient, severity: Severity = Severity.WARNING) -> list:  # type: ignore[type-arg]
        return delivery_requests(
            message_id=uuid4(),
            content=CONTENT,
            severity=severity,
            category="water",
            recipient=recipient,
            requested_at=datetime.now(UTC),
            expires_at=None,
            contact_secret="s",
        )

    def test_emails_carry_the_registrys_unsubscribe_link_for_the_category_except_in_an_emergency(
        self,
    ) -> None:
        recipient = Recipient(
            subscriber_id=uuid4(),
            language=Language.CS,
            contacts={Channel.EMAIL: (uuid4(), "a@b.cz")},
            unsubscribe_token="signed.token",
        )

        def email(severity: Severity) -> SendEmail:
            (made,) = delivery_requests(
                message_id=uuid4(),
                content=CONTENT,
                severity=severity,
                category="water",
                recipient=recipient,
                requested_at=datetime.now(UTC),
                expires_at=None,
                contact_secret="s",
                unsubscribe_base_url="https://hlasatel.liberec.cz/",
            )
            assert isinstance(made, SendEmail)
            return made

        assert (
            email(Severity.INFO).unsubscribe_url
            == "https://hlasatel.liberec.cz/v1/unsubscribe/signed.token?category=water"
        )
        # an emergency reaches everyone at the address: no one-click link that could not stop it
        assert email(Severity.EMERGENCY).unsubscribe_url is None

    def test_an_sms_carries_a_short_unsubscribe_link_in_its_language_except_in_an_emergency(self) -> None:
        def text(language: Language, severity: Severity) -> str:
            recipient = Recipient(
                subscriber_id=uuid4(),
                language=language,
                contacts={Channel.SMS: (uuid4(), "+420777000001")},
                unsubscribe_token="Ab3dE9xQk2Lm",
            )
            (sms,) = delivery_requests(
                message_id=uuid4(),
                content=CONTENT,
                severity=severity,
                category="water",
                recipient=recipient,
                requested_at=datetime.now(UTC),
                expires_at=None,
                contact_secret="s",
                unsubscribe_base_url="https://hlasatel.liberec.cz",
            )
            assert isinstance(sms, SendSms)
            return sms.text

        assert (
            text(Language.CS, Severity.INFO)
            == "Odstávka vody\nOdhlásit: https://hlasatel.liberec.cz/u/Ab3dE9xQk2Lm"
        )
        assert text(Language.EN, Severity.INFO).startswith("Water off\nUnsubscribe: ")
        assert text(Language.DE, Severity.INFO).startswith(
            "Odstávka vody\nOdhlásit: "
        )  # Czech text, Czech footer
        assert text(Language.CS, Severity.EMERGENCY) == "Odstávka vody"

    def test_one_request_per_channel_the_subscriber_has(self) -> None:
        requests = self._requests(_recipient(sms="+420777000001", push="tok"))
        assert sorted(type(r).__name__ for r in requests) == ["SendPush", "SendSms"]

    def test_requests_carry_the_subscribers_language(self) -> None:
        (email, sms) = sorted(
            self._requests(_recipient(Language.EN, sms="+420777000001", email="a@b.cz")), key=lambda r: r.type
        )
        assert isinstance(sms, SendSms) and sms.text == "Water off"
        assert isinstance(email, SendEmail) and email.subject == "Odstávka"

    def test_emergency_goes_on_the_emergency_lane(self) -> None:
        (push,) = self._requests(_recipient(push="tok"), Severity.EMERGENCY)
        assert isinstance(push, SendPush) and push.lane is Lane.EMERGENCY

    def test_categories_choose_unless_it_is_an_emergency(self) -> None:
        assert required_category("water", Severity.WARNING) == "water"
        assert required_category("water", Severity.INFO) == "water"
        assert required_category("water", Severity.EMERGENCY) is None
        assert required_category(None, Severity.WARNING) is None
