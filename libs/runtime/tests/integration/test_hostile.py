"""What every service does the same way against hostile input: the production guard, the body limit, a
batch with one record that fails on its own, a database older than the code."""

import asyncio
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from faststream import Context
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Column, Integer, MetaData, Table, text

from hlasatel_contracts import DEAD_LETTER, DeadLetter
from hlasatel_devstack.bus import read_until
from hlasatel_devstack.testing import quick_kafka, serve_in_thread
from hlasatel_runtime.database import build_engine
from hlasatel_runtime.deadletter import apply_isolated, dead_letter_middleware, undecoded_batch, valid_pairs
from hlasatel_runtime.kafka import build_broker, consumer_options
from hlasatel_runtime.service import BodyLimit, SchemaOutdated, check_schema
from hlasatel_runtime.settings import ServiceSettings

pytestmark = pytest.mark.hostile


class Settings(ServiceSettings):
    model_config = {"env_prefix": "TESTSVC_", "env_nested_delimiter": "__"}  # type: ignore[assignment]
    port: int = 1
    database_url: str = "sqlite:///x.db"


class TestTheProductionGuard:
    def test_a_real_database_with_kafka_in_plaintext_refuses_to_start_and_says_how_to_allow_it(self) -> None:
        with pytest.raises(ValidationError) as refused:
            Settings(database_url="postgresql://h/db")
        reason = str(refused.value)
        assert (
            "TESTSVC_KAFKA__SECURITY_PROTOCOL" in reason
            and "TESTSVC_ALLOW_INSECURE=kafka_plaintext" in reason
        )

    def test_each_default_is_allowed_by_its_own_name(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TESTSVC_ALLOW_INSECURE", "kafka_plaintext")
        assert Settings(database_url="postgresql://h/db").production
        assert not Settings().production, "SQLite on a laptop needs no allowance"

    def test_an_allowance_that_does_not_exist_is_refused(self) -> None:
        with pytest.raises(ValidationError):
            Settings(allow_insecure=["everything"])  # type: ignore[list-item]


class TestTheBodyLimit:
    def test_a_route_reads_no_more_than_its_limit_declared_or_not(self) -> None:
        inner = FastAPI()

        @inner.post("/echo")
        async def echo(request: Request) -> dict[str, int]:
            return {"read": len(await request.body())}

        app = BodyLimit(inner, default=1000, routes={"/big": 10_000})
        with serve_in_thread(app) as url:
            assert httpx.post(f"{url}/echo", content=b"x" * 1000).json() == {"read": 1000}
            declared = httpx.post(f"{url}/echo", content=b"x" * 1001)
            streamed = httpx.post(f"{url}/echo", content=iter([b"x" * 600, b"x" * 600]))
        assert declared.status_code == 413 and "larger than 1000" in declared.json()["detail"]
        assert streamed.status_code == 413 and "larger than 1000" in streamed.json()["detail"]


class Reading(BaseModel):
    house: int


async def test_a_record_that_fails_on_its_own_goes_to_the_dead_letters_and_the_rest_of_its_batch_is_kept(
    kafka_bootstrap: str,
) -> None:
    settings = quick_kafka(kafka_bootstrap)
    topic = f"test.batch.{uuid.uuid4().hex[:8]}"
    broker = build_broker(settings, client_id="test", middlewares=[dead_letter_middleware("test-service")])
    applied: list[int] = []

    async def apply(batch: Sequence[Reading]) -> None:
        if any(reading.house == 13 for reading in batch):
            raise ValueError("house 13 breaks the store")  # as a record that violates a table's key would
        applied.extend(reading.house for reading in batch)

    @broker.subscriber(
        topic, batch=True, decoder=undecoded_batch, **consumer_options(settings, group_id="test-batch")
    )
    async def on_batch(values: list[bytes], message: Any = Context("message")) -> None:
        pairs = await valid_pairs(
            broker, service="test-service", records=message.raw_message, adapter=_READING
        )
        await apply_isolated(broker, service="test-service", items=pairs, apply=apply)

    async with broker:
        await broker.start()
        for house in (1, 13, 2):
            await broker.publish({"house": house}, topic, key=b"k", partition=0)
        async with asyncio.timeout(30):
            while sorted(applied) != [1, 2]:
                await asyncio.sleep(0.1)
        letters = await read_until(
            kafka_bootstrap,
            [DEAD_LETTER],
            lambda found: any(DeadLetter.model_validate_json(r.value).source_topic == topic for r in found),
        )
    (letter,) = [DeadLetter.model_validate_json(r.value) for r in letters if topic in r.value.decode()]
    assert letter.offset == 1 and letter.reason == "ValueError"


_READING: TypeAdapter[Reading] = TypeAdapter(Reading)


async def test_a_database_made_by_an_older_version_is_refused_with_what_is_missing(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'old.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE readings (id INTEGER PRIMARY KEY)"))
    newer = MetaData()
    Table("readings", newer, Column("id", Integer, primary_key=True), Column("house", Integer))
    async with engine.connect() as connection:
        with pytest.raises(SchemaOutdated, match=r"readings\.house.*make clean"):
            await connection.run_sync(check_schema, newer)
    await engine.dispose()
