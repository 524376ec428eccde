#!/usr/bin/env bash
# Installs what the tests need (Debian packages, test extras), makes sure PostgreSQL and Redis
# run on 127.0.0.1, then runs ruff and every test (SQLite and PostgreSQL, Redis, Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/auditor-redis.log
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n 2 "$@"
