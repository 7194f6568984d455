#!/usr/bin/env bash
# The system parts the tests use for real: a PostgreSQL server on
# 127.0.0.1:5432 (database `test`) and Debian's headless Chromium for the page
# tests. Installs the Debian packages when they are missing and we are root,
# and starts the cluster when it is down. Never downloads anything but Debian
# packages (Playwright drives /usr/bin/chromium; it never fetches a browser).
set -euo pipefail

have_pg_server() { ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; }

if ! have_pg_server; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing PostgreSQL server packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries are missing and this is not root; install the postgresql package" >&2
  fi
fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "${missing[*]} missing and this is not root; the page tests fail under CI=true" >&2
  fi
fi

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "starting the PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
fi

if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  # The tests connect as postgres to database `test` with trust auth.
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1 \
    || createdb -h 127.0.0.1 -U postgres test 2>/dev/null || true
  echo "PostgreSQL ready on 127.0.0.1:5432"
else
  echo "PostgreSQL is not reachable on 127.0.0.1:5432; tests that need it fail under CI=true" >&2
fi
