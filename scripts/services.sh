#!/usr/bin/env bash
# Start the local services the tests use when they are not running (PostgreSQL on 127.0.0.1:5432).
# Tests that need a service skip when it cannot be reached; this makes CI run them.
set -uo pipefail
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | head -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || \
      echo "services: could not start PostgreSQL $version; its tests will skip" >&2
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
fi
exit 0
