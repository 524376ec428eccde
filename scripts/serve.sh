#!/usr/bin/env bash
# Installs Auditor and starts it on SQLite at http://127.0.0.1:8000 (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/auditor serve "$@"
