#!/usr/bin/env bash
# The whole test suite, with every set-up step it needs:
#   1. installs the PostgreSQL server package when its binaries are missing (Debian),
#   2. starts a throwaway PostgreSQL on a free loopback port with its own data folder
#      (as the unprivileged 'postgres' user when run as root, because initdb refuses root),
#   3. runs every test, the cluster tests included, against it, and removes it afterwards.
# Usage: bash tests/run.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

postgres_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(postgres_bin)" ] || [ ! -x "$(postgres_bin)/initdb" ]; then
  echo "Installing the PostgreSQL server package..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN=$(postgres_bin)

PG_DIR=$(mktemp -d /tmp/vetrina-test-pg.XXXXXX)
# A port nothing listens on (bash's /dev/tcp connects when something does).
PG_PORT=
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 30000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then PG_PORT=$candidate; break; fi
done
[ -n "$PG_PORT" ] || { echo "No free port for PostgreSQL" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" = "0" ]; then chown postgres "$PG_DIR"; fi
chmod 700 "$PG_DIR"

stop_postgres() {
  as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap stop_postgres EXIT

as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U vetrina --auth=trust --encoding=UTF8 --no-instructions >/dev/null
# fsync off: these tests kill silos, never the database; it only makes the throwaway server faster.
as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off" >/dev/null
echo "Throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"

export VETRINA_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=vetrina;Database=postgres"
dotnet test Vetrina.slnx --nologo "$@"
