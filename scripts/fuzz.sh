#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each (default 5s: the short run of make test).
# Longer runs: FUZZTIME=10m scripts/fuzz.sh, or one target:
#   go test ./app/internal/auth -run '^$' -fuzz '^FuzzParseAccessToken$' -fuzztime 10m
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-5s}"
for pkg in $(go list ./app/...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz $pkg $target ($fuzztime)"
    go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" 2>&1 | grep -v '^fuzz: elapsed' | tail -3
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz target $target failed" >&2; exit 1; }
  done
done
