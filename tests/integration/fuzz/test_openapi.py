"""schemathesis against the registry's and the composer's OpenAPI documents, each service served on a real
socket on the embedded broker: whatever it is sent, no 5xx, and every answer is one its document
declares, in the declared shape."""

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from hlasatel_composer.adapters import access
from hlasatel_composer.adapters.orm import Base as ComposerBase
from hlasatel_composer.bootstrap import bootstrap as composer_app
from hlasatel_composer.config import Settings as ComposerSettings
from hlasatel_composer.domain.access import Role
from hlasatel_devstack.testing import quick_kafka, serve_in_thread, sessions_on
from hlasatel_registry.bootstrap import bootstrap as registry_app
from hlasatel_registry.config import Settings as RegistrySettings

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# A dozen cases an operation, the same ones every run so that CI is repeatable; HLASATEL_FUZZ_EXAMPLES
# asks for more, drawn afresh each run, to explore.
_EXPLORE = int(os.environ.get("HLASATEL_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_EXPLORE or 12,
    derandomize=not _EXPLORE,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


async def _admin_key(url: str) -> str:
    async with sessions_on(url, ComposerBase.metadata) as sessions, sessions() as session, session.begin():
        _, key = await access.create_key(session, name="fuzz", role=Role.ADMIN, created_by="test")
        return key


@pytest.fixture(scope="module")
def composer(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> Iterator[tuple[str, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'composer.db'}"
    key = asyncio.run(_admin_key(url))
    app = composer_app(ComposerSettings(database_url=url, kafka=quick_kafka(kafka_bootstrap)))
    with serve_in_thread(app) as base:
        yield base, key


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'registry.db'}"
    app = registry_app(RegistrySettings(database_url=url, kafka=quick_kafka(kafka_bootstrap)))
    with serve_in_thread(app) as base:
        yield base


def fuzz(base: str, headers: dict[str, str]) -> list[str]:
    """Every operation of the service's document; returns what went wrong, per operation."""
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        try:
            call()
        except Exception as problem:  # every operation is tried, then all are reported
            failures.append(f"{operation.label}: {str(problem)[:2000]}")
    return failures


def test_the_composer_answers_anything_as_documented(composer: tuple[str, str]) -> None:
    base, key = composer
    assert fuzz(base, {"Authorization": f"Bearer {key}"}) == []


def test_the_registry_answers_anything_as_documented(registry: str, liberec_csv: Path) -> None:
    assert fuzz(registry, {}) == []
