"""Every service builds from its settings alone and documents its HTTP API."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from jsonschema_rs import Draft202012Validator

from hlasatel_composer.bootstrap import bootstrap as composer
from hlasatel_composer.config import Settings as ComposerSettings
from hlasatel_devstack.fakes.fcm import write_service_account
from hlasatel_dispatch_email.bootstrap import bootstrap as dispatch_email
from hlasatel_dispatch_email.config import Settings as EmailSettings
from hlasatel_dispatch_push.bootstrap import bootstrap as dispatch_push
from hlasatel_dispatch_push.config import FirebaseProject
from hlasatel_dispatch_push.config import Settings as PushSettings
from hlasatel_dispatch_sms.bootstrap import bootstrap as dispatch_sms
from hlasatel_dispatch_sms.config import Settings as SmsSettings
from hlasatel_registry.bootstrap import bootstrap as registry
from hlasatel_registry.config import Settings as RegistrySettings


def apps(tmp_path: Path) -> dict[str, FastAPI]:
    credentials = tmp_path / "sa.json"
    write_service_account(credentials, token_uri="http://127.0.0.1:1/token")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    return {
        "registry": registry(RegistrySettings(database_url=db)),
        "composer": composer(ComposerSettings(database_url=db)),
        "dispatch-sms": dispatch_sms(SmsSettings(database_url=db)),
        "dispatch-email": dispatch_email(EmailSettings(database_url=db)),
        "dispatch-push": dispatch_push(
            PushSettings(database_url=db, accounts=[FirebaseProject(credentials_file=str(credentials))])
        ),
    }


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return {name: app.openapi() for name, app in apps(tmp_path_factory.mktemp("apps")).items()}


def test_every_service_has_health_readiness_and_metrics(openapi: dict[str, dict[str, Any]]) -> None:
    for name, document in openapi.items():
        assert {"/healthz", "/readyz", "/metrics"} <= set(document["paths"]), name


def test_every_api_operation_says_what_it_does(openapi: dict[str, dict[str, Any]]) -> None:
    for name in ("registry", "composer"):
        for path, operations in openapi[name]["paths"].items():
            for method, operation in operations.items():
                assert operation.get("description") or operation.get("summary"), f"{name} {method} {path}"


def _has_example(document: dict[str, Any], media: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = media.get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    elif schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        schema = document["components"]["schemas"][schema["items"]["$ref"].rsplit("/", 1)[1]]
    return "examples" in schema or "example" in schema


def test_every_registry_endpoint_has_examples(openapi: dict[str, dict[str, Any]]) -> None:
    document = openapi["registry"]
    missing = []
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and not _has_example(document, body):
                missing.append(f"{method.upper()} {path} request")
            success = next((r for code, r in operation["responses"].items() if code.startswith("2")), {})
            for media in success.get("content", {}).values():
                if not _has_example(document, media):
                    missing.append(f"{method.upper()} {path} response")
    assert missing == []


def _examples(node: Any, schema_path: str = "") -> Iterator[tuple[str, dict[str, Any], Any]]:
    """Every example the document gives, with the schema it is an example of: a schema's `examples`, a
    parameter's or a media type's `example` and `examples`."""
    if isinstance(node, dict):
        if "schema" in node and isinstance(node["schema"], dict):
            if "example" in node:
                yield schema_path, node["schema"], node["example"]
            for name, example in (node.get("examples") or {}).items():
                if isinstance(example, dict) and "value" in example:
                    yield f"{schema_path}/examples/{name}", node["schema"], example["value"]
        elif isinstance(node.get("examples"), list) and node is not None:
            for n, example in enumerate(node["examples"]):
                yield f"{schema_path}/examples/{n}", node, example
        for key, child in node.items():
            yield from _examples(child, f"{schema_path}/{key}")
    elif isinstance(node, list):
        for n, child in enumerate(node):
            yield from _examples(child, f"{schema_path}/{n}")


def test_every_example_in_both_documents_is_valid_against_its_schema(
    openapi: dict[str, dict[str, Any]],
) -> None:
    """A generated client, a reader of the docs and the fuzzer take the examples at their word."""
    for name in ("registry", "composer"):
        document = openapi[name]
        wrong = []
        found = 0
        for where, schema, example in _examples(document):
            found += 1
            # the example's schema with the document's components beside it, so that its $refs resolve
            validator = Draft202012Validator({**schema, "components": document["components"]})
            errors = [str(error) for error in validator.iter_errors(example)]
            if errors:
                wrong.append(f"{where}: {errors[0][:200]}")
        assert found >= 10 and wrong == [], (name, found, wrong)


def test_the_keys_and_tokens_are_declared_as_http_bearer_security(openapi: dict[str, dict[str, Any]]) -> None:
    """So that a generated client sends them: an `authorization` header parameter is ignored by OpenAPI."""
    for name, scheme in (
        ("registry", "access_token"),
        ("registry", "operator_key"),
        ("composer", "HTTPBearer"),
    ):
        document = openapi[name]
        declared = document["components"]["securitySchemes"][scheme]
        assert (declared["type"], declared["scheme"]) == ("http", "bearer"), name
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                names = [p["name"].lower() for p in operation.get("parameters", [])]
                assert "authorization" not in names, f"{name} {method} {path}"
    subscriber = openapi["registry"]["paths"]["/v1/subscribers/{subscriber_id}"]["get"]
    assert subscriber["security"] == [{"access_token": []}]
    lookup = openapi["registry"]["paths"]["/v1/operator/lookup"]["post"]
    assert lookup["security"] == [{"operator_key": []}]
