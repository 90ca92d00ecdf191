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
# The clock-skew tests (cron, fault suite C1) preload libfaketime.
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] || need+=(faketime)
# The fault suite's CPU-starvation scenario (O4) runs stress-ng beside the workers (skipped without it).
command -v stress-ng >/dev/null 2>&1 || need+=(stress-ng)
# The protocol tests run PROTOCOL.md's Python example with Debian's interpreter and plain redis-py.
/usr/bin/python3 -c "import redis" >/dev/null 2>&1 || need+=(python3-redis)
# docs/handlers.md's signature receivers are run as written: Python (above) and Node.
command -v node >/dev/null 2>&1 || need+=(nodejs)
# Native AOT links with clang and zlib.
command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || need+=(clang)
[ -e /usr/include/zlib.h ] || need+=(zlib1g-dev)
# Packaging tests: dpkg-deb builds the .deb, python3-yaml parses the Render blueprint, systemd-analyze verifies the unit.
command -v dpkg-deb >/dev/null 2>&1 || need+=(dpkg)
/usr/bin/python3 -c "import yaml" >/dev/null 2>&1 || need+=(python3-yaml)
# systemd-analyze is optional (its two tests skip with a reason without it): installed apart, so a container
# where the systemd package cannot be set up does not fail the rest.
optional=()
command -v systemd-analyze >/dev/null 2>&1 || optional+=(systemd)
if [ ${#need[@]} -eq 0 ] && [ ${#optional[@]} -eq 0 ]; then
  echo "deps: redis-server, postgres, pgbouncer, openssl, python3-redis, the AOT toolchain and the packaging tools (dpkg-deb, python3-yaml, systemd-analyze) are present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "deps: installing ${need[*]} ${optional[*]}"
$sudo apt-get update -qq
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ${#optional[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null \
    || echo "deps: could not install ${optional[*]}; the tests that need it are skipped"
fi
# Debian starts a system-wide redis and Postgres cluster on install; jobd's tests and `make run` use their own.
echo "deps: done (${need[*]} ${optional[*]})"
