#!/usr/bin/env bash
# Install Debian's Chromium and its WebDriver (packages chromium, chromium-driver) for the
# dashboard's browser tests, when they are missing. Nothing else is downloaded: the tests use
# /usr/bin/chromium and /usr/bin/chromedriver and keep Selenium Manager offline.
#
# Installing needs root and apt-get. Without them this says what to do and exits 0: the
# browser tests then skip on a developer machine, and fail under CI (CI=true), where they
# must run.
set -uo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
me="scripts/install-browser.sh"
if [ "$(id -u)" -ne 0 ]; then
  echo "$me: Chromium is missing and this is not root; run: sudo apt-get install chromium chromium-driver" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$me: Chromium is missing and there is no apt-get; install chromium and its chromedriver at /usr/bin" >&2
  exit 0
fi
echo "$me: installing chromium and chromium-driver" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
  echo "$me: apt-get could not install chromium and chromium-driver" >&2
fi
exit 0
