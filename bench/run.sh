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

postgres_start -c fsync=on -c synchronous_commit=on -c full_page_writes=on
export VETRINA_BENCH_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=vetrina;Database=postgres"
export VETRINA_BENCH_PGDATA="$PG_DIR/data"
export PATH="$PG_BIN:$PATH"

dotnet "$BENCH" "$@"
