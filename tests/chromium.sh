#!/usr/bin/env bash
# Headless Chromium for the browser tests; source this file, then:
#   chromium_install   installs Debian's chromium package when its executable is missing
#                      (as root, or through sudo) and sets CHROMIUM_BIN to the executable.
# The tests drive it with Playwright's driver, which ships inside its NuGet package; no browser is downloaded
# from anywhere but Debian's archive.

chromium_install() {
  if ! command -v chromium >/dev/null 2>&1; then
    echo "Installing the chromium package..."
    local sudo=
    if [ "$(id -u)" != "0" ]; then sudo=sudo; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
  fi
  CHROMIUM_BIN=$(command -v chromium)
  echo "Chromium: $("$CHROMIUM_BIN" --version 2>/dev/null | head -n 1)"
}
