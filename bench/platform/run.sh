#!/usr/bin/env bash
# The platform benchmark: seeds miyabi_bench on the throwaway cluster (1,000,000
# executions, 5,000,000 log lines, 100 organizations; skipped when already seeded), starts
# the API on it, and prints p50/p99 per endpoint next to the same SQL run straight via pgx.
#   bench/platform/run.sh                 seed if needed, then measure
#   BENCH_RESEED=1 bench/platform/run.sh  seed again from scratch
# Knobs: BENCH_CONCURRENCY (4), BENCH_DURATION (5s), BENCH_POOL (8).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="/usr/local/go/bin:$PATH"

scripts/pg.sh start >/dev/null
port="${MIYABI_PG_PORT:-54329}"
admin="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:$port/miyabi_bench?sslmode=disable"
psql_admin() { "$(scripts/pg.sh bindir)/psql" -X -q -v ON_ERROR_STOP=1 "$admin" "$@"; }

if [ "${BENCH_RESEED:-}" = 1 ]; then psql_admin -c "DROP DATABASE IF EXISTS miyabi_bench WITH (FORCE)"; fi
psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'miyabi_bench'" | grep -q 1 \
  || psql_admin -c "CREATE DATABASE miyabi_bench"

bin="$root/.dev/bin"
mkdir -p "$bin"
go build -o "$bin/miyabi" ./app
go build -o "$bin/bench-seed" ./bench/platform/seed
go build -o "$bin/bench-drive" ./bench/platform/drive

APP_ENV=development DATABASE_URL="$BENCH_DATABASE_URL" "$bin/miyabi" migrate >/dev/null
"$bin/bench-seed"

addr="127.0.0.1:${BENCH_API_PORT:-18090}"
log="$root/.dev/bench-api.log"
RATE_LIMITS=off APP_ENV=development DATABASE_URL="$BENCH_DATABASE_URL" LISTEN_ADDR="$addr" PUBLIC_URL="http://$addr" \
  DB_POOL_MAX="${BENCH_POOL:-8}" LOG_FORMAT=json GITHUB_OAUTH_URL="http://127.0.0.1:9" GITHUB_API_URL="http://127.0.0.1:9" \
  "$bin/miyabi" serve >"$log" 2>&1 &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://$addr/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done

"$bin/bench-drive" -api "http://$addr" -db "$BENCH_DATABASE_URL" \
  -concurrency "${BENCH_CONCURRENCY:-4}" -duration "${BENCH_DURATION:-5s}" -pool "${BENCH_POOL:-8}"
