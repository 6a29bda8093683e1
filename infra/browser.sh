#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the console's browser tests (from the distribution's
# packages; nothing downloads a browser build).
#   infra/browser.sh install   install both unless present (apt-get update once, then install)
#   infra/browser.sh check     say whether both are there and print their versions
set -euo pipefail

CHROMIUM=/usr/bin/chromium
DRIVER=/usr/bin/chromedriver

present() { [[ -x "$CHROMIUM" && -x "$DRIVER" ]]; }

install() {
  if present; then return; fi
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null; then
    echo "browser: $CHROMIUM or $DRIVER is missing; install them as root: apt-get update && apt-get install -y chromium chromium-driver" >&2
    exit 1
  fi
  local as_root=()
  [[ $(id -u) -ne 0 ]] && as_root=(sudo)
  echo "browser: installing Debian's chromium and chromium-driver" >&2
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
  present || { echo "browser: the packages did not provide $CHROMIUM and $DRIVER" >&2; exit 1; }
}

check() {
  if present; then
    "$CHROMIUM" --version 2>/dev/null || true
    "$DRIVER" --version
  else
    echo "browser: missing; run infra/browser.sh install" >&2
    exit 1
  fi
}

case "${1:-}" in
  install) install ;;
  check) check ;;
  *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac
