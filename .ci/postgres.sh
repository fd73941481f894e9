#!/usr/bin/env bash
# Install (if missing) and start a private PostgreSQL cluster on loopback for the integration tests.
# Prints the SQLAlchemy URL on its last line. The cluster lives under $1 (default: a temp dir).
set -euo pipefail
root="${1:-$(mktemp -d /tmp/backfill-pg.XXXXXX)}"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$root"
chown postgres "$root"
runas() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
runas "'$bin/initdb' -D '$root/data' -U postgres --auth=trust -E UTF8 >/dev/null"
runas "'$bin/pg_ctl' -D '$root/data' -l '$root/log' -w -o \"-p $port -k '$root' -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off\" start >/dev/null"
runas "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres airflow_test"
echo "postgresql+psycopg2://postgres@127.0.0.1:$port/airflow_test"
