#!/usr/bin/env bash
# The Lambda artifact's size and speed: zip size (linux/arm64, what ships), cold init
# (process start to ready for the first invoke), first-request and warm latency, with
# the secret fetch and the database connect reported apart. Needs the throwaway
# PostgreSQL (make db). Copy the table into bench/lambda/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/local/go/bin:$PATH
scripts/pg.sh start >/dev/null
exec timeout 900 go run ./app/internal/lambdafn/lambdabench "$@"
