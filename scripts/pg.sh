# shellcheck shell=bash
# Source this file, then call `pg_start`: a throwaway PostgreSQL on a free loopback port,
# stopped (and its data removed) when the calling shell exits. Exports FTM_TEST_PG_DSN, a
# name that no libpq client reads by itself (PGPORT/PGHOST would redirect every client).

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

pg_install() {
  # Debian's PostgreSQL server, for a fresh machine that lacks it.
  if ! pg_bindir >/dev/null; then
    echo "pg: installing postgresql from Debian packages" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

pg_start() {
  local bindir port dir
  bindir=$(pg_bindir) || { echo "pg: no PostgreSQL server binaries found" >&2; return 1; }
  id -u postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent postgres
  dir=$(mktemp -d /tmp/ftm-pg.XXXXXX)
  chown postgres: "$dir"
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  runuser -u postgres -- "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
  runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null
  FTM_PG_DIR=$dir
  FTM_PG_BIN=$bindir
  export FTM_TEST_PG_DSN="postgresql://postgres:postgres@127.0.0.1:$port/postgres"
  trap pg_stop EXIT
  echo "pg: PostgreSQL running on 127.0.0.1:$port (data in $dir)" >&2
}

pg_stop() {
  if [ -n "${FTM_PG_DIR:-}" ]; then
    runuser -u postgres -- "$FTM_PG_BIN/pg_ctl" -D "$FTM_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$FTM_PG_DIR"
    FTM_PG_DIR=""
  fi
}
