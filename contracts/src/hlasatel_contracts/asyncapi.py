"""The AsyncAPI 3.0 document of the bus, generated from the models and topics in this package.

``python -m hlasatel_contracts.asyncapi FILE`` writes it; a test fails when the committed copy is stale.
"""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hlasatel_contracts.events import (
    DELIVERY_REQUEST_BY_CHANNEL,
    AddressPointChanged,
    DeadLetter,
    DeliveryStatusChanged,
    MessageCancelled,
    SubscriberChanged,
    SubscriberErased,
)
from hlasatel_contracts.topics import (
    ADDRESS_POINTS,
    ALL_TOPICS,
    DEAD_LETTER,
    DELIVERY_STATUS,
    MESSAGE_CANCELLATIONS,
    SUBSCRIBERS,
    TopicSpec,
)

_KEYS = {
    SUBSCRIBERS: "subscriber id",
    ADDRESS_POINTS: "address point code (RÚIAN kód adresního místa, in decimal)",
    DELIVERY_STATUS: "delivery id",
    DEAD_LETTER: "the original record's key",
    MESSAGE_CANCELLATIONS: "message id",
}
_PRODUCERS = {
    SUBSCRIBERS: "registry",
    ADDRESS_POINTS: "registry",
    DELIVERY_STATUS: "dispatch-sms, dispatch-email, dispatch-push",
    DEAD_LETTER: "any consumer",
    MESSAGE_CANCELLATIONS: "composer",
}


def _models_of(topic: TopicSpec) -> list[type[BaseModel]]:
    if topic.name == SUBSCRIBERS:
        return [SubscriberChanged, SubscriberErased]
    if topic.name == ADDRESS_POINTS:
        return [AddressPointChanged]
    if topic.name == DELIVERY_STATUS:
        return [DeliveryStatusChanged]
    if topic.name == DEAD_LETTER:
        return [DeadLetter]
    if topic.name == MESSAGE_CANCELLATIONS:
        return [MessageCancelled]
    channel = topic.name.split(".")[1]
    return [model for ch, model in DELIVERY_REQUEST_BY_CHANNEL.items() if ch.value == channel]


def _delete_retention(topic: TopicSpec) -> dict[str, int]:
    """How long a tombstone stays, in the binding's own field."""
    kept = dict(topic.extra).get("delete.retention.ms")
    return {"delete.retention.ms": int(kept)} if kept else {}


def _channel_id(topic: TopicSpec) -> str:
    return topic.name.replace(".", "_").replace("-", "_")


def build_document() -> dict[str, Any]:
    """The whole AsyncAPI document as a JSON-ready dict."""
    models = sorted({m for t in ALL_TOPICS for m in _models_of(t)}, key=lambda m: m.__name__)
    _, schemas = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    messages = {
        m.__name__: {
            "name": m.__name__,
            "title": m.__name__,
            "summary": (m.__doc__ or m.__name__).strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{m.__name__}"},
        }
        for m in models
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        cid = _channel_id(topic)
        channels[cid] = {
            "address": topic.name,
            "description": topic.description,
            "messages": {
                m.__name__: {"$ref": f"#/components/messages/{m.__name__}"} for m in _models_of(topic)
            },
            "bindings": {
                "kafka": {
                    "topic": topic.name,
                    "partitions": topic.partitions,
                    "topicConfiguration": {
                        "cleanup.policy": ["compact" if topic.compacted else "delete"],
                        **({"retention.ms": topic.retention_ms} if topic.retention_ms else {}),
                        **_delete_retention(topic),
                    },
                    # settings the binding has no field for
                    **({"x-configs": dict(topic.extra)} if topic.extra else {}),
                    "bindingVersion": "0.5.0",
                }
            },
            "x-key": _KEYS.get(topic.name, "subscriber id"),
            "x-producer": _PRODUCERS.get(topic.name, "composer"),
        }
        operations[f"send_{cid}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "messages": [{"$ref": f"#/channels/{cid}/messages/{m.__name__}"} for m in _models_of(topic)],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Hlasatel bus",
            "version": "1",
            "description": "Events and commands that cross Hlasatel's Kafka bus. Generated; do not edit.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas.get("$defs", {}), "messages": messages},
    }


def render() -> str:
    """The document as the committed file holds it."""
    return json.dumps(build_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "asyncapi.json"
    target.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
