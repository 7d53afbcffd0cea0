#!/usr/bin/env bash
# The test command: lint, then every test (unit, integration, browser) with coverage.
# Integration tests start nx-27017 themselves; set MONGODB_URI to use a real MongoDB instead.
# Browser tests drive Debian's Chromium, which install-browser.sh installs when run as root.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh || exit 1
bash scripts/install-browser.sh
.venv/bin/ruff check src exporters replay tests examples benchmarks || exit 1
.venv/bin/python -m pytest --cov --cov-report=term:skip-covered "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
