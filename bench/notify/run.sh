#!/usr/bin/env bash
# Notification delivery throughput: 10,000 queued signed webhooks drained into a local
# sink by one deliverer, then by two at once (each delivery must arrive exactly once).
# A fresh database on the throwaway cluster, dropped afterwards. Prints a table.
#   bench/notify/run.sh [-n 10000]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export PATH="/usr/local/go/bin:$PATH"
scripts/pg.sh start >/dev/null
port="${MIYABI_PG_PORT:-54329}"
db=miyabi_bench_notify
admin="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
url="postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
psql_bin=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | head -n1 || command -v psql)
"$psql_bin" -q "$admin" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
trap '"$psql_bin" -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
APP_ENV=development DATABASE_URL="$url" go run ./app migrate >/dev/null 2>&1
go run ./app/internal/notify/notifybench -db "$url" "$@"
