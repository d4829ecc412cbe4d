#!/usr/bin/env bash
# Worker queue throughput through the real API: builds and starts the API on a fresh
# database of the throwaway cluster, then N workers (1, 4, 16) claim and complete no-op
# tasks over HTTP. Prints tasks/s and claim/complete latency. Usage:
#   bench/workers/run.sh [-batch 4] [-tasks-per-worker 250] [-workers 1,4,16]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
scripts/pg.sh start >/dev/null
port="${MIYABI_PG_PORT:-54329}"
addr="${BENCH_API_ADDR:-127.0.0.1:18181}"
db="miyabi_bench_workers"
admin="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
url="postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
psql_bin=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -n1 || command -v psql)
"$psql_bin" -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null

tmp=$(mktemp -d)
api_pid=""
cleanup() { [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; "$psql_bin" -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
go build -o "$tmp/miyabi" ./app
go build -o "$tmp/bench" ./bench/workers

export RATE_LIMITS=off APP_ENV=development DATABASE_URL="$url" LISTEN_ADDR="$addr" LOG_FORMAT=json \
  GITHUB_OAUTH_URL="http://127.0.0.1:9" GITHUB_API_URL="http://127.0.0.1:9" DB_POOL_MAX="${DB_POOL_MAX:-8}"
"$tmp/miyabi" migrate >/dev/null 2>&1
"$tmp/miyabi" serve >"$tmp/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://$addr/api/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done

echo "worker queue through the API ($(nproc) cores, pool ${DB_POOL_MAX:-8}, $(date -u +%Y-%m-%d))"
"$tmp/bench" -api "http://$addr/api/v1" -db "$url" "$@"
