#!/usr/bin/env bash
# The demo: record a small app's requests against an embedded nx-27017, then list and show them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python examples/demo/run_demo.py "$@"
