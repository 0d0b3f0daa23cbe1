#!/usr/bin/env bash
# The whole test suite, with every set-up step it needs. Usage: bash tests/run.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet test Vetrina.slnx --nologo "$@"
