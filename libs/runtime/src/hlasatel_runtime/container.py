"""How a service runs in its container image (the Dockerfile's `ARG SERVICE`, kept as `SERVICE`):
`hlasatel-container serve` starts it listening on every interface of the container unless its `<PREFIX>_HOST`
says otherwise, and `hlasatel-container healthcheck` asks its `/healthz`, for the image's HEALTHCHECK."""

import os
import shutil
import sys
import urllib.error
import urllib.request

# each service's default port, as its settings have it
PORTS = {
    "composer": 8000,
    "registry": 8001,
    "dispatch-sms": 8002,
    "dispatch-email": 8003,
    "dispatch-push": 8004,
    "console": 8005,
    "public-web": 8006,
}


def prefix(service: str) -> str:
    """The service's environment prefix: `dispatch-sms` reads `DISPATCH_SMS_…`."""
    return service.upper().replace("-", "_") + "_"


def serve(service: str) -> None:
    """Replace this process with the service's own `serve` command (it gets the signals: a graceful drain)."""
    os.environ.setdefault(f"{prefix(service)}HOST", "0.0.0.0")
    command = shutil.which(service)
    if command is None:
        sys.exit(f"this image holds no service called {service!r}")
    os.execv(command, [command, "serve"])


def healthy(service: str) -> bool:
    port = os.environ.get(f"{prefix(service)}PORT") or str(PORTS[service])
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    service = os.environ.get("SERVICE", "")
    if service not in PORTS or args not in (["serve"], ["healthcheck"]):
        sys.exit(f"usage: SERVICE=<{'|'.join(PORTS)}> hlasatel-container serve|healthcheck")
    if args == ["serve"]:
        serve(service)
    sys.exit(0 if healthy(service) else 1)
