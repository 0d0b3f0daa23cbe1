#!/usr/bin/env bash
# The benchmark of issue 4, with every set-up step it needs:
#   1. builds everything in Release,
#   2. starts a throwaway PostgreSQL (tests/postgres.sh) WITH fsync on: durability is what is measured,
#   3. runs bench/Vetrina.Bench, which starts each engine (and the hot-row and JSON ceiling baselines) as its own
#      process on loopback, drives it, checks the invariants and writes bench/results/latest.md and throughput.png;
#      the pgbench baseline uses the pgbench of that same PostgreSQL (its bin folder first on PATH), skipped without one,
#   4. removes PostgreSQL.
# Usage: bash bench/run.sh [--duration 10] [--concurrency 8,32,128] [--scenarios ...] (--help lists all)
# Exits non-zero when any invariant is broken, whatever the speed.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/postgres.sh

BENCH=bench/Vetrina.Bench/bin/Release/net10.0/Vetrina.Bench.dll
dotnet build Vetrina.slnx -c Release --nologo -v quiet
for argument in "$@"; do
  if [ "$argument" = "--help" ]; then exec dotnet "$BENCH" --help; fi
done

# live-streams holds one socket per event stream in the driver and another in the engine (both inherit this shell's
# limits): the soft limit of open files must leave room for --streams of them. Raised here when it is lower (up to the
# hard limit, or beyond it as root); a clear stop when it cannot be.
scenarios="" streams=10000 previous=""
for argument in "$@"; do
  case "$previous" in
    --scenarios) scenarios="$argument" ;;
    --streams) streams="$argument" ;;
  esac
  previous="$argument"
done
if [[ ",$scenarios," == *",live-streams,"* && "$streams" =~ ^[0-9]+$ ]]; then
  needed=$((streams + 4096))
  soft=$(ulimit -Sn)
  if [ "$soft" != unlimited ] && [ "$soft" -lt "$needed" ]; then
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$needed" ]; then
      ulimit -Hn "$needed" 2>/dev/null || true
    fi
    if ! ulimit -Sn "$needed" 2>/dev/null; then
      echo "bench/run.sh: live-streams with --streams $streams needs $needed open files per process, but the soft limit is $soft and the hard limit $(ulimit -Hn) cannot be raised here: raise it (e.g. LimitNOFILE, /etc/security/limits.conf, or ulimit -Hn as root) or pass a smaller --streams." >&2
      exit 2
    fi
    echo "bench/run.sh: open files limit raised from $soft to $needed for $streams event streams"
  fi
fi

postgres_start -c fsync=on -c synchronous_commit=on -c full_page_writes=on
export VETRINA_BENCH_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=vetrina;Database=postgres"
export VETRINA_BENCH_PGDATA="$PG_DIR/data"
export PATH="$PG_BIN:$PATH"

dotnet "$BENCH" "$@"
