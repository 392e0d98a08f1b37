#!/usr/bin/env bash
# Makes sure a Chromium for the browser tests of the web console (apps/console, driven by
# playwright-core from the server's tests) is installed, and prints where it is as a shell
# assignment on stdout:
#
#   eval "$(tools/browser/ensure-chromium.sh)"   # exports HARNESS_TEST_CHROMIUM=/usr/bin/chromium
#
# - Uses $HARNESS_TEST_CHROMIUM when it names a working browser, else `chromium` or
#   `chromium-browser` on the PATH.
# - Otherwise installs Debian's `chromium` package with apt-get (CI runs as root; `apt-get update`
#   runs only when the package is not known yet). Playwright's own browser download is not used:
#   only package registries are reachable.
# - Checks that the browser starts (`--version`). Exits non-zero when no Chromium can be had.
#
# Everything but the final assignment goes to stderr, so the output can be eval'd.
set -euo pipefail

log() { printf 'ensure-chromium: %s\n' "$*" >&2; }

# shellcheck source=../apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/../apt-install.sh"

works() { [ -n "$1" ] && [ -x "$1" ] && timeout 30 "$1" --version >/dev/null 2>&1; }

find_chromium() {
  if [ -n "${HARNESS_TEST_CHROMIUM:-}" ] && works "$HARNESS_TEST_CHROMIUM"; then
    printf '%s\n' "$HARNESS_TEST_CHROMIUM"
    return 0
  fi
  local name path
  for name in chromium chromium-browser; do
    path="$(command -v "$name" 2>/dev/null || true)"
    if works "$path"; then
      printf '%s\n' "$path"
      return 0
    fi
  done
  return 1
}


if ! browser="$(find_chromium)"; then
  apt_install chromium 'install Chromium and set HARNESS_TEST_CHROMIUM'
  if ! browser="$(find_chromium)"; then
    log "chromium was installed but does not start"
    exit 1
  fi
fi
log "using $browser ($(timeout 30 "$browser" --version 2>/dev/null || echo 'version unknown'))"
printf 'export HARNESS_TEST_CHROMIUM=%q\n' "$browser"
