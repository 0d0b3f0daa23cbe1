#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite and the benchmark; source this file, then:
#   postgres_start [-c name=value ...]   installs the server package when its binaries are missing (Debian),
#                                        starts a server on a free loopback port with its own data folder
#                                        (as the unprivileged 'postgres' user when run as root, because initdb
#                                        refuses root) and sets PG_BIN, PG_DIR, PG_PORT;
#   postgres_stop                        stops it and removes its folder (postgres_start registers it on EXIT).
# The extra arguments are server options, e.g. '-c fsync=off'.

postgres_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

postgres_as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres_stop() {
  if [ -n "${PG_DIR:-}" ]; then
    postgres_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

postgres_start() {
  if [ -z "$(postgres_bin)" ] || [ ! -x "$(postgres_bin)/initdb" ]; then
    echo "Installing the PostgreSQL server package..."
    local sudo=
    if [ "$(id -u)" != "0" ]; then sudo=sudo; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  PG_BIN=$(postgres_bin)

  PG_DIR=$(mktemp -d /tmp/vetrina-test-pg.XXXXXX)
  if [ "$(id -u)" = "0" ]; then chown postgres "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  trap postgres_stop EXIT
  postgres_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U vetrina --auth=trust --encoding=UTF8 --no-instructions >/dev/null

  # A port below the kernel's ephemeral range (from 32768), where outgoing connections never take one, and below the
  # ports the tests give silos (20000-32000); one nothing listens on (bash's /dev/tcp connects when something does).
  # Should another process take it first, the server does not start: try another.
  PG_PORT=
  for _ in $(seq 1 10); do
    candidate=$((15000 + RANDOM % 5000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then continue; fi
    if postgres_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-p $candidate -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=500 $*" >/dev/null; then
      PG_PORT=$candidate
      break
    fi
    echo "PostgreSQL did not start on port $candidate:" >&2
    tail -n 5 "$PG_DIR/server.log" >&2 || true
  done
  [ -n "$PG_PORT" ] || { echo "Could not start the throwaway PostgreSQL" >&2; exit 1; }
  echo "Throwaway PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}
