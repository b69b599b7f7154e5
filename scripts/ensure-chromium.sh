#!/usr/bin/env bash
# The browser tests drive Debian's chromium through Playwright (test tools may not download
# browsers here). `make test` calls this first, so a bare machine needs no extra step.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "installing Debian's chromium for the browser tests (once)"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "the browser tests need Debian's chromium at /usr/bin/chromium: run 'apt-get install chromium' as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
echo "chromium installed: $(/usr/bin/chromium --version)"
