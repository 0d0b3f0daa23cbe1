#!/usr/bin/env bash
# The whole test suite, with every set-up step it needs:
#   1. installs the PostgreSQL server package when its binaries are missing (Debian),
#   2. starts a throwaway PostgreSQL on a free loopback port with its own data folder
#      (as the unprivileged 'postgres' user when run as root, because initdb refuses root),
#   3. restores the local dotnet tools (Kiota, which generates the tests' API client from the OpenAPI document),
#   4. runs every test, the cluster tests included, against that PostgreSQL, and removes it afterwards.
# Usage: bash tests/run.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/postgres.sh

# fsync off: these tests kill silos, never the database; it only makes the throwaway server faster.
postgres_start -c fsync=off

dotnet tool restore > /dev/null

export VETRINA_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=vetrina;Database=postgres"
dotnet test Vetrina.slnx --nologo "$@"
