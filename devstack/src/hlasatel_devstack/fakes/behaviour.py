"""What a fake can be told to do instead of taking a message: wait, fail, throttle, time out."""

import asyncio
import random
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

T = TypeVar("T")


class Countdown(BaseModel):
    """A failure a fake answers with for the next `fail_times` messages, and after them for a random
    `fail_rate` of the messages; a random `stall_rate` of the messages it takes it answers `stall_ms` late,
    past a client's timeout, so that the client cannot tell whether it was taken (the hardest failure to
    send exactly once through)."""

    fail_times: int = Field(default=0, ge=-1, description="-1: every message until told otherwise")
    fail_rate: float = Field(default=0.0, ge=0, le=1, description="then this share of messages, at random")
    stall_rate: float = Field(default=0.0, ge=0, le=1, description="share of taken messages answered late")
    stall_ms: int = Field(default=0, ge=0, le=600_000, description="how late a stalled answer comes")

    def counted(self, failure: T | None) -> T | None:
        """`failure` for the next message while failures remain, counting it, or when the dice say so; None
        when it is to be taken."""
        if failure is None:
            return None
        if self.fail_times != 0:
            if self.fail_times > 0:
                self.fail_times -= 1
            return failure
        return failure if self.fail_rate and random.random() < self.fail_rate else None

    async def stall(self) -> None:
        """After taking a message: wait `stall_ms` before answering, for a `stall_rate` share of them."""
        if self.stall_rate and random.random() < self.stall_rate:
            await asyncio.sleep(self.stall_ms / 1000)


class Misbehaviour(Countdown):
    """How the fake answers from now on; posting it to `/_fake/behaviour` replaces what was set before."""

    delay_ms: int = Field(default=0, ge=0, le=60_000, description="answer this much later (congestion)")
    fail_status: int | None = Field(
        default=None, description="answer the next `fail_times` messages with this status instead"
    )
    retry_after_s: int | None = Field(default=None, ge=0, description="the Retry-After of a 429")

    def failure(self, answer: JSONResponse) -> JSONResponse:
        """`answer` for a failure, with the Retry-After asked for when it is a 429."""
        if answer.status_code == 429 and self.retry_after_s is not None:
            answer.headers["Retry-After"] = str(self.retry_after_s)
        return answer

    def next_failure(self) -> int | None:
        """The status to refuse the next message with, counting it; None when it is to be taken."""
        return self.counted(self.fail_status)


B = TypeVar("B", bound=Misbehaviour)


def told(app: FastAPI, behaviour: B) -> B:
    """Serve `POST /_fake/behaviour` on the fake: what is posted replaces `behaviour`'s settings, in place,
    so that the fake's handlers keep reading the one object. Returns it."""
    model = type(behaviour)

    async def set_behaviour(request: Request) -> JSONResponse:
        try:
            wanted = model.model_validate(await request.json())
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False, include_input=False)
            return JSONResponse({"detail": errors}, status_code=422)
        for name in model.model_fields:
            setattr(behaviour, name, getattr(wanted, name))
        return JSONResponse(behaviour.model_dump())

    app.add_api_route("/_fake/behaviour", set_behaviour, methods=["POST"], include_in_schema=False)
    return behaviour
