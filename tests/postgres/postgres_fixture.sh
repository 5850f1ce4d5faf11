#!/bin/bash
# A private PostgreSQL server for the tests, from Debian's packages, on
# loopback: never the distribution's default cluster, never systemd or
# pg_ctlcluster.
#
#   postgres_fixture.sh start DIR   initdb into DIR/run/data, start on a free
#                                   port of 127.0.0.1 (TCP only), create the
#                                   role and database qlik_reload
#   postgres_fixture.sh stop DIR    stop the server, delete its files
#
# After `start`, DIR holds (readable by the user running the tests only):
#   connection     libpq keyword=value pairs for the role qlik_reload, without
#                  the password: host=127.0.0.1 port=P dbname=qlik_reload
#                  user=qlik_reload
#   password.pass  its password, generated for this run (never committed);
#                  it holds a quote, a backslash and '=' on purpose, so the
#                  escaping of the connection string is exercised end to end
#   server.log     the server's log
# When no PostgreSQL server is installed, `start` fails, unless
# QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1: then it writes DIR/unavailable and
# succeeds, and the tests that need the server say they were skipped.
#
# PostgreSQL refuses to run as root: as root the server programs run as the
# `postgres` system user (runuser), in folders owned by it; otherwise as the
# current user. Readiness is pg_ctl's wait for the server's "ready" state
# and a bounded pg_isready loop, never a sleep standing in for it.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
run=$dir/run

# The newest installed server version's programs ("" when none).
server_bin() {
  local candidate
  for candidate in /usr/lib/postgresql/*/bin; do
    [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ] && echo "$candidate"
  done | sort -t/ -k5,5V | tail -n 1
}

as_server_user() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop_server() {
  local bin
  bin=$(server_bin)
  if [ -n "$bin" ] && [ -f "$run/data/postmaster.pid" ]; then
    as_server_user "$bin/pg_ctl" stop -D "$run/data" -m fast -w -t 60 >/dev/null 2>&1 ||
      as_server_user "$bin/pg_ctl" stop -D "$run/data" -m immediate -w -t 30 >/dev/null 2>&1 || true
  fi
  rm -rf "$run"
}

free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start() {
  stop_server  # a server an interrupted run left behind
  rm -f "$dir/connection" "$dir/password.pass" "$dir/admin.pass" "$dir/unavailable" "$dir/server.log"

  local bin
  bin=$(server_bin)
  if [ -z "$bin" ]; then
    if [ "${QLIK_RELOAD_TESTS_WITHOUT_POSTGRES:-}" = 1 ]; then
      echo "no PostgreSQL server installed; QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1: the PostgreSQL tests are skipped"
      touch "$dir/unavailable"
      exit 0
    fi
    echo "no PostgreSQL server in /usr/lib/postgresql/*/bin: install the Debian package postgresql" \
         "(make deps-test does), or set QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1 to skip these tests" >&2
    exit 1
  fi
  echo "PostgreSQL server programs: $bin"

  umask 077
  mkdir -p "$run"
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "running as root, but there is no postgres system user to run the server as" >&2
      exit 1
    fi
    chown postgres: "$run"
    # The server user must reach its folder through the build tree.
    if ! runuser -u postgres -- test -x "$run"; then
      echo "the postgres user cannot reach $run (a folder above it is not searchable by others)" >&2
      exit 1
    fi
  fi

  # Passwords for this run only. The server's superuser has one as well, so
  # that nothing on this host connects without a password.
  local admin_password password
  admin_password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')'q\\b=s"
  printf '%s\n' "$admin_password" > "$dir/admin.pass"
  printf '%s\n' "$password" > "$dir/password.pass"
  printf '%s\n' "$admin_password" > "$run/initdb.pass"
  [ "$(id -u)" = 0 ] && chown postgres: "$run/initdb.pass"

  as_server_user "$bin/initdb" -D "$run/data" -U postgres --pwfile="$run/initdb.pass" -E UTF8 --locale=C \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 --no-instructions --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  rm -f "$run/initdb.pass"
  # A throwaway cluster: durability is not what these tests are about.
  cat >> "$run/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF

  local port="" attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_server_user "$bin/pg_ctl" start -D "$run/data" -l "$run/server.log" -w -t 60 -o "-p $port" >/dev/null; then
      break
    fi
    # Someone took the port between our probe and the server's bind: again.
    echo "the server did not start on port $port (attempt $attempt):" >&2
    tail -n 5 "$run/server.log" >&2 || true
    port=""
  done
  [ -n "$port" ] || exit 1

  local ready=""
  for attempt in $(seq 1 100); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; then
      ready=1
      break
    fi
    sleep 0.1  # polling a readiness signal, bounded
  done
  if [ -z "$ready" ]; then
    echo "the server on port $port does not accept connections:" >&2
    tail -n 20 "$run/server.log" >&2 || true
    exit 1
  fi

  # psql's variables quote the password as a SQL literal.
  PGPASSWORD=$admin_password "$bin/psql" -X -q -v ON_ERROR_STOP=1 -v "password=$password" \
    "host=127.0.0.1 port=$port dbname=postgres user=postgres" <<'SQL'
CREATE ROLE qlik_reload LOGIN PASSWORD :'password';
CREATE DATABASE qlik_reload OWNER qlik_reload;
SQL
  echo "host=127.0.0.1 port=$port dbname=qlik_reload user=qlik_reload" > "$dir/connection"
  ln -sf "$run/server.log" "$dir/server.log"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') listens on 127.0.0.1:$port (data in $run/data)"
}

case "$action" in
  start) start ;;
  stop)
    stop_server
    rm -f "$dir/connection" "$dir/password.pass" "$dir/admin.pass" "$dir/server.log"
    echo "PostgreSQL stopped"
    ;;
  *) usage ;;
esac
