#!/usr/bin/env bash
# make test-dashboard: install (npm ci when node_modules is missing or stale), type-check,
# check the generated API types against the server's OpenAPI document, unit tests, build,
# then the end-to-end run in Debian's Chromium against the real stack.
#   SKIP_E2E=1 scripts/dashboard-test.sh   everything but the browser run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/dashboard"
export PATH="/usr/local/go/bin:$PATH"

step() { printf '\n== dashboard: %s (at %ss)\n' "$*" "$((SECONDS - started))"; }
started=$SECONDS

command -v node >/dev/null || { echo "error: Node.js 20.19+ with npm is required for the dashboard (Debian: apt-get install nodejs npm, or nodejs.org)" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "error: Node.js 20.19 or newer is required (found $(node -v))" >&2; exit 1; }
command -v go >/dev/null || { echo "error: Go is required (the API types are generated from 'go run ./app openapi')" >&2; exit 1; }

# npm ci when node_modules is missing or was installed from another lock file.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.miyabi-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$stamp"
fi

step "type-check"
npm run --silent typecheck

step "API types up to date with the server's OpenAPI document"
node scripts/gen-api.mjs --check

step "unit tests (vitest)"
npx vitest run

step "build"
npm run --silent build

if [ "${SKIP_E2E:-}" = 1 ]; then
  echo "SKIP_E2E=1: end-to-end run skipped"
else
  chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
  if [ ! -x "$chromium" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      step "installing Debian's chromium (needed by the end-to-end run)"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
    else
      echo "error: the end-to-end run needs Chromium at $chromium: as root, 'apt-get install chromium' (Debian), or set CHROMIUM_PATH" >&2
      exit 1
    fi
  fi
  # Japanese screenshots need a CJK font (without one they show boxes; the tests pass either way).
  if ! fc-list 2>/dev/null | grep -qiE 'ipa|noto sans cjk'; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      step "installing a Japanese font for the screenshots"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipafont-gothic >/dev/null || echo "warning: no Japanese font: Japanese screenshots show boxes" >&2
    fi
  fi
  step "end-to-end (playwright-core + $chromium against the real stack)"
  npx vitest run --config vitest.e2e.config.ts
fi
printf '\n== dashboard: all passed in %ss\n' "$((SECONDS - started))"
