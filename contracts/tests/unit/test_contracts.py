from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import TypeAdapter, ValidationError

import hlasatel_contracts
from hlasatel_contracts import (
    ALL_TOPICS,
    Channel,
    Lane,
    SubscriberChanged,
    SubscriberErased,
    SubscriberEvent,
    delivery_topic,
)
from hlasatel_contracts.asyncapi import build_document, render

COMMITTED = Path(__file__).resolve().parents[2] / "asyncapi.json"


class TestAsyncApi:
    def test_committed_document_matches_the_code(self) -> None:
        assert COMMITTED.read_text(encoding="utf-8") == render(), (
            "contracts/asyncapi.json is stale: run `make asyncapi`"
        )

    def test_every_topic_is_a_channel_with_its_partitions(self) -> None:
        channels = {c["address"]: c for c in build_document()["channels"].values()}
        assert set(channels) == {t.name for t in ALL_TOPICS}
        for topic in ALL_TOPICS:
            assert channels[topic.name]["bindings"]["kafka"]["partitions"] == topic.partitions


class TestTopics:
    def test_each_channel_has_one_topic_per_lane(self) -> None:
        names = {t.name for t in ALL_TOPICS}
        for channel in Channel:
            for lane in Lane:
                assert delivery_topic(channel, lane) in names

    def test_topic_names_are_unique(self) -> None:
        names = [t.name for t in ALL_TOPICS]
        assert len(names) == len(set(names))


class TestSubscriberEvents:
    adapter: TypeAdapter[SubscriberChanged | SubscriberErased] = TypeAdapter(SubscriberEvent)

    def test_tombstone_is_told_apart_from_a_change_by_its_type(self) -> None:
        erased = SubscriberErased(subscriber_id=uuid4(), version=3, occurred_at=datetime.now(UTC))
        parsed = self.adapter.validate_json(erased.model_dump_json())
        assert isinstance(parsed, SubscriberErased)
        assert parsed.schema_version == 1

    def test_unknown_fields_are_ignored_so_fields_can_be_added(self) -> None:
        payload = SubscriberErased(subscriber_id=uuid4(), version=1, occurred_at=datetime.now(UTC))
        raw = payload.model_dump(mode="json") | {"added_later": 1}
        assert self.adapter.validate_python(raw) == payload

    def test_other_schema_version_is_refused(self) -> None:
        raw = SubscriberErased(subscriber_id=uuid4(), version=1, occurred_at=datetime.now(UTC)).model_dump(
            mode="json"
        )
        with pytest.raises(ValidationError):
            self.adapter.validate_python(raw | {"schema_version": 2})


def test_public_api_is_what_all_says() -> None:
    import types

    exported = {
        name
        for name in dir(hlasatel_contracts)
        if not name.startswith("_") and not isinstance(getattr(hlasatel_contracts, name), types.ModuleType)
    }
    assert set(hlasatel_contracts.__all__) == exported
