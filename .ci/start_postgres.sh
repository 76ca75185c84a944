#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1 for the store tests; print its URL.
# Usage: .ci/start_postgres.sh DATA_DIR [PORT]
set -euo pipefail
data_dir=${1:?data dir}
port=${2:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
mkdir -p "$data_dir"
chown -R postgres:postgres "$data_dir" 2>/dev/null || true
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if [ ! -f "$data_dir/PG_VERSION" ]; then
  as_pg "$bin/initdb -D '$data_dir' -U postgres --auth=trust -E UTF8" >/dev/null
fi
# PostgreSQL's default max_connections (100): the suite disposes its engines and peaks at
# about 10 connections (tests/conftest.py fails the run if more than 12 stay open after a test).
as_pg "$bin/pg_ctl -D '$data_dir' -o '-c listen_addresses=127.0.0.1 -p $port -k /tmp' -l '$data_dir/server.log' -w start" >/dev/null
as_pg "$bin/psql -h 127.0.0.1 -p $port -U postgres -tc \"SELECT 1 FROM pg_database WHERE datname='baton_test'\"" | grep -q 1 \
  || as_pg "$bin/createdb -h 127.0.0.1 -p $port -U postgres baton_test"
echo "postgresql+psycopg://postgres@127.0.0.1:$port/baton_test"
