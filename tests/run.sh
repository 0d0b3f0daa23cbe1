#!/usr/bin/env bash
# The whole test suite, with every set-up step it needs:
#   1. installs Debian's chromium package when it is missing, for the browser tests (Playwright drives it),
#   2. installs the PostgreSQL server package when its binaries are missing (Debian),
#   3. starts a throwaway PostgreSQL on a free loopback port with its own data folder
#      (as the unprivileged 'postgres' user when run as root, because initdb refuses root),
#   4. restores the local dotnet tools (Kiota, which generates the tests' API client from the OpenAPI document),
#   5. runs every test, the cluster and browser tests included, and removes the PostgreSQL afterwards.
# Usage: bash tests/run.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/postgres.sh
source tests/chromium.sh

chromium_install
export VETRINA_TEST_CHROMIUM="$CHROMIUM_BIN"

# fsync off: these tests kill silos, never the database; it only makes the throwaway server faster.
postgres_start -c fsync=off

dotnet tool restore > /dev/null

export VETRINA_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=vetrina;Database=postgres"
dotnet test Vetrina.slnx --nologo "$@"
