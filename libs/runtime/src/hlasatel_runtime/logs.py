"""Logging set-up with a last line of defence against personal data in log lines and tracebacks."""

import logging
import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d ]{7,16}\d(?![\w-])")


def redact(text: str) -> str:
    """Mask anything shaped like an e-mail address or a phone number."""
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record, so tracebacks are covered as well as messages."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "httpx", "httpcore", "mail.log", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
