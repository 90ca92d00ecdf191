#!/usr/bin/env bash
# Installs, on Debian/Ubuntu, what building, running and testing jobd need and is missing: redis-server and the
# Postgres server (Debian keeps its programs in /usr/lib/postgresql/VERSION/bin, off PATH). Idempotent.
set -euo pipefail
need=()
command -v make >/dev/null 2>&1 || need+=(make)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
# The outcome tests run jobd behind a real pgbouncer in transaction mode.
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The protocol tests run PROTOCOL.md's Python example with Debian's interpreter and plain redis-py.
/usr/bin/python3 -c "import redis" >/dev/null 2>&1 || need+=(python3-redis)
# Native AOT links with clang and zlib.
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || need+=(clang)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
if [ ${#need[@]} -eq 0 ]; then
  echo "deps: redis-server, postgres, pgbouncer, openssl, python3-redis and the AOT toolchain are present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts a system-wide redis and Postgres cluster on install; jobd's tests and `make run` use their own.
echo "deps: installed ${need[*]}"
