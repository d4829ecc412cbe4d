#!/usr/bin/env bash
# make dev, after the API is healthy: local workers running the demo agent, so an
# execution launched in development goes pending -> running -> completed with real logs.
#   scripts/dev-worker.sh RUN_DIR   (writes RUN_DIR/worker-*.pid and RUN_DIR/worker-*.log)
# Development only: it signs in as the demo user alice through the dev login and
# registers one worker in her personal organization and one in the demo organization
# (tokens are kept in .dev/ and reused while they stay valid).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
run_dir="${1:?usage: scripts/dev-worker.sh RUN_DIR}"
api="http://${LISTEN_ADDR:-127.0.0.1:8080}/api/v1"
login="${MIYABI_DEV_WORKER_USER:-alice}"

# json_field NAME: the first "NAME":"value" string of the JSON on stdin
json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n1; }

mkdir -p .dev/bin
go build -o .dev/bin/worker ./app/worker
go build -o .dev/bin/demoagent ./app/demoagent

session=$(curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"login\":\"$login\"}" "$api/auth/dev-login")
access=$(printf '%s' "$session" | json_field access_token)
[ -n "$access" ] || { echo "dev-worker: the dev login as $login failed" >&2; exit 1; }

# start_worker NAME [ORGANIZATION_ID]: a worker in the organization (the active one if none)
start_worker() {
  local name=$1 org=${2:-} token_file="$root/.dev/worker-token-$1" token="" bearer=$access
  if [ -n "$org" ]; then
    bearer=$(curl -fsS -X POST -H "Authorization: Bearer $access" -H 'Content-Type: application/json' \
      -d "{\"organization_id\":\"$org\"}" "$api/auth/switch-organization" | json_field access_token)
  fi
  if [ -s "$token_file" ]; then
    token=$(cat "$token_file")
    # still valid (not revoked, database not reset)?
    curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d '{}' "$api/worker/heartbeat" 2>/dev/null || token=""
  fi
  if [ -z "$token" ]; then
    token=$(curl -fsS -X POST -H "Authorization: Bearer $bearer" -H 'Content-Type: application/json' \
      -d "{\"name\":\"dev-worker-$name\",\"max_concurrency\":2}" "$api/workers" | json_field token)
    [ -n "$token" ] || { echo "dev-worker: could not register a worker (POST /workers)" >&2; return 1; }
    (umask 077; printf '%s\n' "$token" >"$token_file")
  fi
  MIYABI_WORKER_TOKEN="$token" MIYABI_API_URL="$api" \
    .dev/bin/worker --concurrency 2 --lease 30s --poll 1s \
    --command "$root/.dev/bin/demoagent {agent_type} --issue {issue_number} --repository {repository}" \
    >"$run_dir/worker-$name.log" 2>&1 &
  echo $! >"$run_dir/worker-$name.pid"
}

start_worker personal
demo_org=$(curl -fsS -H "Authorization: Bearer $access" "$api/organizations?limit=100" |
  tr '{' '\n' | grep '"slug":"miyabi-demo"' | json_field id || true)
[ -n "$demo_org" ] && start_worker demo "$demo_org"
echo "dev-worker: local workers (demo agent) run for $login's personal organization${demo_org:+ and miyabi-demo}; logs: $run_dir/worker-*.log"
