#!/usr/bin/env bash
# The load benchmark: a fresh miyabi_load database on the throwaway cluster, seeded with
# demo data at a realistic size (bench/load/seed.sql), the API built and started on it,
# 100 signed-in users driving a read/write mix (bench/load/main.go, vegeta), each read
# then alone through the API and its SQL alone through pgbench, and the table printed.
#   bench/load/run.sh
# Knobs: LOAD_USERS (100), LOAD_DURATION (20s), LOAD_SOLO (5s), LOAD_RATE (0: closed
# loop), LOAD_POOL (8, the API's DB_POOL_MAX), LOAD_API_PORT (18091), LOAD_LIVE (0: live-
# events WebSocket connections held open by the users during the run).
# The cluster stays running; the API is stopped by its PID on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="/usr/local/go/bin:$PATH"

scripts/pg.sh start >/dev/null
bindir=$(scripts/pg.sh bindir)
port="${MIYABI_PG_PORT:-54329}"
admin="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export LOAD_DATABASE_URL="postgres://postgres@127.0.0.1:$port/miyabi_load?sslmode=disable"
psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
t0=$(date +%s)

bin="$root/.dev/bin"
mkdir -p "$bin"
go build -o "$bin/miyabi" ./app
go build -o "$bin/bench-load" ./bench/load

echo "load: fresh miyabi_load database, migrated and seeded (~40 s)" >&2
psql "$admin" -c "DROP DATABASE IF EXISTS miyabi_load WITH (FORCE)" -c "CREATE DATABASE miyabi_load"
APP_ENV=development DATABASE_URL="$LOAD_DATABASE_URL" "$bin/miyabi" migrate >/dev/null 2>&1
psql "$LOAD_DATABASE_URL" -o /dev/null -f bench/load/seed.sql
# vacuumed, analyzed and checkpointed now, so neither autovacuum nor the checkpoint of
# the load runs during the measurement
psql "$LOAD_DATABASE_URL" -c "VACUUM (ANALYZE)" -c "CHECKPOINT"
psql "$LOAD_DATABASE_URL" -tA -F ' ' -c "SELECT 'seeded:', (SELECT count(*) FROM organizations WHERE slug LIKE 'load-org-%') || ' organizations,',
  (SELECT count(*) FROM agent_executions) || ' executions,', (SELECT count(*) FROM tasks) || ' tasks,',
  (SELECT count(*) FROM execution_logs) || ' log lines'" >&2

addr="127.0.0.1:${LOAD_API_PORT:-18091}"
log="$root/.dev/load-api.log"
RATE_LIMITS=off APP_ENV=development DATABASE_URL="$LOAD_DATABASE_URL" LISTEN_ADDR="$addr" PUBLIC_URL="http://$addr" \
  DB_POOL_MAX="${LOAD_POOL:-8}" LOG_FORMAT=json GITHUB_OAUTH_URL="http://127.0.0.1:9" GITHUB_API_URL="http://127.0.0.1:9" \
  "$bin/miyabi" serve >"$log" 2>&1 &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://$addr/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://$addr/api/v1/health" >/dev/null

"$bin/bench-load" -api "http://$addr" -db "$LOAD_DATABASE_URL" -users "${LOAD_USERS:-100}" \
  -duration "${LOAD_DURATION:-20s}" -solo "${LOAD_SOLO:-5s}" -rate "${LOAD_RATE:-0}" -live "${LOAD_LIVE:-0}" \
  -pgbench "$bindir/pgbench" -sql bench/load/sql
echo "load: done in $(( $(date +%s) - t0 )) s; the API's log is $log" >&2
