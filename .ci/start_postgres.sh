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
# 200 connections: the suite's engines cached by the dashboard tests and module fixtures hold
# idle pooled connections until the process ends; at the default 100 the run on 2026-12-08
# peaked at the limit (a leak to fix in the tests; this keeps CI from failing on it meanwhile).
as_pg "$bin/pg_ctl -D '$data_dir' -o '-c listen_addresses=127.0.0.1 -p $port -k /tmp -c max_connections=200' -l '$data_dir/server.log' -w start" >/dev/null
as_pg "$bin/psql -h 127.0.0.1 -p $port -U postgres -tc \"SELECT 1 FROM pg_database WHERE datname='baton_test'\"" | grep -q 1 \
  || as_pg "$bin/createdb -h 127.0.0.1 -p $port -U postgres baton_test"
echo "postgresql+psycopg://postgres@127.0.0.1:$port/baton_test"
