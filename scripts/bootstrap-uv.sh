#!/usr/bin/env sh
# Installs uv into .tools/ using nothing but the machine's python3 (and apt-get for python3-venv on a bare
# Debian): the pinned version from PyPI, refused unless its wheel has a hash in scripts/uv-requirements.txt.
set -eu
UV_VERSION="0.13.9"
if [ -x .tools/bin/uv ]; then exit 0; fi
if ! grep -q "^uv==${UV_VERSION} " scripts/uv-requirements.txt; then
  echo "scripts/uv-requirements.txt does not pin uv ${UV_VERSION}" >&2; exit 1
fi
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Hlasatel needs Python 3.11 or newer as python3" >&2; exit 1
fi
if ! python3 -m venv .tools >/dev/null 2>&1; then
  rm -rf .tools
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing python3-venv (Debian splits venv from python3)…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .tools
  else
    echo "python3 -m venv failed: install python3-venv (Debian/Ubuntu) and run again" >&2; exit 1
  fi
fi
.tools/bin/pip install --quiet --disable-pip-version-check --only-binary uv --require-hashes \
  -r scripts/uv-requirements.txt
