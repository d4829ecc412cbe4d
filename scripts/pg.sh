#!/usr/bin/env bash
# A throwaway PostgreSQL cluster under .dev/pg, on 127.0.0.1 at a fixed port.
#   scripts/pg.sh start   start it (initdb on first use; reused when already running)
#   scripts/pg.sh stop    stop it
#   scripts/pg.sh url     print the DATABASE_URL of the development database
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.dev/pg"
port="${MIYABI_PG_PORT:-54329}"
url="postgres://miyabi:miyabi@127.0.0.1:$port/miyabi?sslmode=disable"

find_bindir() {
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL is not installed; installing it with apt-get..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2
    bindir=$(find_bindir)
  else
    echo "error: PostgreSQL server binaries not found: install PostgreSQL 15 or 16 (Debian: apt-get install postgresql)" >&2
    exit 1
  fi
fi

# As root, PostgreSQL must run as an unprivileged user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() { as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

start() {
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres "$dir"
    # postgres must be able to reach the data directory through every parent
    p="$dir"; while [ "$p" != / ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  fi
  if ! running; then
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { tail -20 "$dir/server.log" >&2; exit 1; }
  fi
  # the application role and the development database (idempotent)
  psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname='miyabi'" | grep -q 1 \
    || psql_admin -c "CREATE ROLE miyabi LOGIN SUPERUSER PASSWORD 'miyabi'" >/dev/null
  psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname='miyabi'" | grep -q 1 \
    || psql_admin -c "CREATE DATABASE miyabi OWNER miyabi" >/dev/null
}

psql_admin() { "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"; }

case "${1:-}" in
  start) start; echo "$url" ;;
  stop) if [ -f "$dir/data/PG_VERSION" ] && running; then as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null; fi ;;
  url) echo "$url" ;;
  bindir) echo "$bindir" ;;
  *) echo "usage: $0 start|stop|url|bindir" >&2; exit 2 ;;
esac
