#!/usr/bin/env bash
# Runs the whole test suite: finds PostgreSQL on 127.0.0.1:5432 or starts a throwaway cluster, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin
export GRADIO_ANALYTICS_ENABLED=False
PG_STARTED=""
cleanup() {
  if [ -n "$PG_STARTED" ]; then
    su postgres -c "$PGBIN/pg_ctl -D $PGD/data -m fast stop" >/dev/null 2>&1 || true
    rm -rf "$PGD"
  fi
}
trap cleanup EXIT

pg_ok() { "$BIN/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}

if [ -z "${ARENA_TEST_PG_URL:-}" ]; then
  if pg_ok "postgresql://postgres@127.0.0.1:5432/postgres"; then
    export ARENA_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
  elif [ "$(id -u)" -eq 0 ]; then
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
      apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    fi
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PGD=$(mktemp -d /tmp/pg.XXXX); chown postgres "$PGD"
    su postgres -c "$PGBIN/initdb -D $PGD/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    su postgres -c "$PGBIN/pg_ctl -D $PGD/data -l $PGD/log -w -o '-c listen_addresses=127.0.0.1 -p 55432 -k $PGD' start" >/dev/null
    PG_STARTED=1
    export ARENA_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
  else
    echo "warning: no PostgreSQL on 127.0.0.1:5432 and not root to start one: PostgreSQL tests will be skipped" >&2
  fi
fi
[ -n "${ARENA_TEST_PG_URL:-}" ] && export ARENA_REQUIRE_PG=1
echo "PostgreSQL for tests: ${ARENA_TEST_PG_URL:-none}"
"$BIN/pytest" -q -p no:cacheprovider -n 2 --dist loadfile "$@"
