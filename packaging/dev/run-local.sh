#!/usr/bin/env bash
# `make run`: jobd end to end on this machine. Without REDIS_URL / DATABASE_URL, starts a redis-server and a
# Postgres cluster of its own under .local/ (ports 16379 and 15432; kept running between runs, stopped with
# `make stop-local`), then runs the published binary in the foreground. Ctrl-C stops jobd gracefully.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD/.local"
mkdir -p "$root"
bin="$PWD/artifacts/jobd/jobd"

if [ -z "${REDIS_URL:-}" ]; then
  if ! redis-cli -p 16379 ping >/dev/null 2>&1; then
    mkdir -p "$root/redis"
    # appendfsync always: the setting under which "no job lost" holds (see README, Durability).
    redis-server --port 16379 --bind 127.0.0.1 --dir "$root/redis" --appendonly yes --appendfsync always \
      --daemonize yes --pidfile "$root/redis/redis.pid" --logfile "$root/redis/redis.log"
    for _ in $(seq 50); do redis-cli -p 16379 ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  export REDIS_URL=redis://127.0.0.1:16379/0
fi

if [ -z "${DATABASE_URL:-}" ]; then
  # The real folder: initdb may be a symlink on PATH, and psql/createdb are not always beside the link.
  pgbin=$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")
  as_pg=()
  if [ "$(id -u)" -eq 0 ]; then as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --); fi
  if [ ! -d "$root/pg/data" ]; then
    mkdir -p "$root/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$root/pg"
    "${as_pg[@]}" "$pgbin/initdb" -D "$root/pg/data" -U jobd -A trust -E UTF8 --no-locale >/dev/null
  fi
  if ! "${as_pg[@]}" "$pgbin/pg_ctl" -D "$root/pg/data" status >/dev/null 2>&1; then
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$root/pg/data" -l "$root/pg/postgres.log" -w \
      -o "-p 15432 -k $root/pg -c listen_addresses=127.0.0.1" start >/dev/null
    "${as_pg[@]}" "$pgbin/psql" -h 127.0.0.1 -p 15432 -U jobd -d postgres -qtc \
      "select 1 from pg_database where datname='jobd'" | grep -q 1 ||
      "${as_pg[@]}" "$pgbin/createdb" -h 127.0.0.1 -p 15432 -U jobd jobd
  fi
  export DATABASE_URL=postgres://jobd@127.0.0.1:15432/jobd
fi

echo "run-local: REDIS_URL=$REDIS_URL DATABASE_URL=${DATABASE_URL%%\?*}" >&2
exec "$bin" run
