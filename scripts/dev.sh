#!/usr/bin/env bash
# make dev: the throwaway database, migrations, the fake GitHub, the dashboard build and
# the API in development mode, all on 127.0.0.1. Ctrl-C stops what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_dir="$root/.dev/run"
mkdir -p "$run_dir"

stop_started() {
  for f in "$run_dir"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

if [ "${1:-}" = stop ]; then stop_started; exit 0; fi

command -v go >/dev/null || { echo "error: Go 1.26 is required (https://go.dev/dl/)" >&2; exit 1; }

db_url=$(scripts/pg.sh start)
api_addr="${LISTEN_ADDR:-127.0.0.1:8080}"
gh_addr="${FAKE_GITHUB_ADDR:-127.0.0.1:8081}"
sink_addr="${NOTIFY_SINK_ADDR:-127.0.0.1:8082}"
export APP_ENV=development DATABASE_URL="$db_url" LISTEN_ADDR="$api_addr" \
  GITHUB_OAUTH_URL="http://$gh_addr" GITHUB_API_URL="http://$gh_addr" PUBLIC_URL="http://$api_addr" \
  LINE_API_URL="http://$sink_addr"

stop_started
trap 'stop_started' EXIT INT TERM

mkdir -p .dev/bin
go build -o .dev/bin/miyabi ./app
go build -o .dev/bin/fakegithub ./app/fakegithub
go build -o .dev/bin/notifysink ./app/notifysink
.dev/bin/miyabi migrate

.dev/bin/fakegithub -addr "$gh_addr" -webhook-url "http://$api_addr/api/v1/github/webhook" >"$run_dir/fakegithub.log" 2>&1 &
echo $! >"$run_dir/fakegithub.pid"
# notifications land here and are printed (LINE and Slack fakes, webhook sink)
.dev/bin/notifysink -addr "$sink_addr" &
echo $! >"$run_dir/notifysink.pid"

if [ -f dashboard/package.json ]; then
  command -v npm >/dev/null || { echo "error: Node 20 with npm is required to build the dashboard" >&2; exit 1; }
  echo "building the dashboard..."
  (cd dashboard && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build >/dev/null)
fi

.dev/bin/miyabi seed-demo

.dev/bin/miyabi serve &
api_pid=$!
echo $api_pid >"$run_dir/api.pid"
for _ in $(seq 1 100); do
  curl -fsS "http://$api_addr/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.1
done

if [ -x scripts/dev-worker.sh ]; then scripts/dev-worker.sh "$run_dir" & echo $! >"$run_dir/worker-launcher.pid"; fi

cat <<MSG

  Miyabi is running:
    dashboard   http://$api_addr/
    API         http://$api_addr/api/v1  (docs: http://$api_addr/api/v1/docs)
    fake GitHub http://$gh_addr  (sign in as alice, bob or carol)
    GitHub loop http://$gh_addr/_fake/  (label an issue miyabi:codegen, watch the agent run and its comment)
                or: curl -d repo=miyabi-demo/agent-playground -d issue=1 -d label=miyabi:codegen -d login=alice http://$gh_addr/_fake/label
    notify sink http://$sink_addr/webhook/dev  (a webhook channel URL; deliveries print here as [notify])
    database    $db_url
  Ctrl-C stops the API and fake GitHub; 'make stop' also stops PostgreSQL.

MSG
wait $api_pid
