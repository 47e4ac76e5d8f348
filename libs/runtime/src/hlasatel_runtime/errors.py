"""Exceptions whose text may be shown: they never carry a phone number, e-mail address or token."""


class SafeError(Exception):
    """Base of every Hlasatel exception; its message is free of personal data by construction."""


def describe(exc: BaseException) -> str:
    """A reason fit for a log line or a dead-letter record: the message only where it is known safe."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        problems = exc.errors(include_input=False, include_url=False, include_context=False)
        return "invalid record: " + "; ".join(
            f"{'.'.join(str(part) for part in p['loc']) or 'value'}: {p['msg']}" for p in problems
        )
    if isinstance(exc, SafeError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__
