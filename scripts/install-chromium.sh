#!/usr/bin/env sh
# The console's browser tests drive Debian's Chromium through Playwright (Playwright's own browser download
# is not available here): installed with apt-get when it is missing, as root or through sudo.
set -eu
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing and this is not a Debian machine: install chromium and run again" >&2; exit 1
fi
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "Chromium is missing: run 'apt-get install chromium' as root, then again" >&2; exit 1
fi
echo "installing Debian's chromium for the browser tests…"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
