#!/usr/bin/env bash
# Organization A's task creation while organization B builds dependency chains (issue 14,
# finding 1): median and p90 in one run, on the throwaway PostgreSQL. Prints a table.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
scripts/pg.sh start >/dev/null
export MIYABI_TEST_DATABASE_URL="${MIYABI_TEST_DATABASE_URL:-$(scripts/pg.sh url)}"
echo "deplock ($(nproc) cores, $(date -u +%Y-%m-%d))"
go test -run "^$" -bench BenchmarkOtherTenantWhileChainsGrow -benchtime 1x -count 1 ./app/internal/httpapi | grep '^|'
