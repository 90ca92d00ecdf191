#!/usr/bin/env bash
# Stops the redis-server and Postgres that `make run` started under .local/ (data is kept).
set -uo pipefail
cd "$(dirname "$0")/../.."
root="$PWD/.local"
[ -f "$root/redis/redis.pid" ] && kill "$(cat "$root/redis/redis.pid")" 2>/dev/null && echo "stopped redis-server"
if [ -d "$root/pg/data" ]; then
  pgbin=$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")")
  as_pg=()
  [ "$(id -u)" -eq 0 ] && as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$root/pg/data" -m fast stop >/dev/null 2>&1 && echo "stopped postgres"
fi
exit 0
