#!/usr/bin/env bash
# Runs a command with TEST_DATABASE_URL pointing at a PostgreSQL server.
#
# If TEST_DATABASE_URL is already set and answers, it is used as it is. Otherwise a
# throw-away cluster is created in a temporary directory on a free loopback port
# (installing Debian's postgresql when no server binaries are found), and stopped and
# deleted when the command ends, whatever its outcome.
set -euo pipefail

if [ -n "${TEST_DATABASE_URL:-}" ] && psql "$TEST_DATABASE_URL" -qAtc 'select 1' >/dev/null 2>&1; then
  exec "$@"
fi

find_bin() {
  command -v "$1" 2>/dev/null && return
  ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}

initdb=$(find_bin initdb || true)
if [ -z "$initdb" ]; then
  echo "PostgreSQL server binaries not found: installing Debian's postgresql" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
  initdb=$(find_bin initdb)
fi
pg_ctl="$(dirname "$initdb")/pg_ctl"
[ -x "$pg_ctl" ] || pg_ctl=$(find_bin pg_ctl)

dir=$(mktemp -d /tmp/portico-pg.XXXXXX)
port=$("$(dirname "$0")/free-port.sh")

# initdb refuses to run as root: run the server as the postgres user then.
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_owner() { runuser -u postgres -- "$@"; }
fi

stop() {
  as_owner "$pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

as_owner "$initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
# Tests trade durability for speed; benchmarks (PORTICO_PG_DURABLE=1) keep PostgreSQL's
# defaults, as production runs it, so their figures include real commits.
settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${PORTICO_PG_DURABLE:-}" = 1 ] && settings=""
as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $settings -c max_connections=300" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }

export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "test PostgreSQL at $TEST_DATABASE_URL" >&2
"$@"
