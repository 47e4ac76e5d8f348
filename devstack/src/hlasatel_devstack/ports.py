"""Loopback ports: the defaults of `make run`, or free ones for a test session."""

import socket
import time
from dataclasses import dataclass, fields


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout_s: float = 20.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s:.0f} s") from None
            time.sleep(0.05)


@dataclass(frozen=True)
class Ports:
    broker: int = 9092
    composer: int = 8000
    registry: int = 8001
    dispatch_sms: int = 8002
    dispatch_email: int = 8003
    dispatch_push: int = 8004
    console: int = 8005
    public_web: int = 8006
    sms_gateway: int = 9101
    fcm: int = 9102
    smtp: int = 2525

    @classmethod
    def free(cls) -> "Ports":
        return cls(**{f.name: free_port() for f in fields(cls)})
