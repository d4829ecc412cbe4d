#!/usr/bin/env bash
# The dashboard's speed: the gzipped JavaScript the first route needs, and the time to the
# first render of the overview in headless Chromium against the real stack (a throwaway
# database, the API serving the built dashboard). Prints a Markdown table.
#   BENCH_RUNS=15 bench/dashboard/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/dashboard"
export PATH="/usr/local/go/bin:$PATH"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || { echo "error: needs Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium} (Debian: apt-get install chromium)" >&2; exit 1; }
npm run --silent build >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
BENCH_OUT="$out" npx vitest run --config vitest.bench.config.ts >/dev/null 2>"$out.err" || { cat "$out.err" >&2; rm -f "$out.err"; exit 1; }
rm -f "$out.err"
echo "dashboard ($(nproc) cores, $(/usr/bin/chromium --version 2>/dev/null || echo chromium), $(date -u +%Y-%m-%d))"
cat "$out"
