#!/usr/bin/env bash
# Builds artifacts/jobd_<version>_amd64.deb from the published binary (make publish), the systemd unit and the
# example environment file. Usage: packaging/deb/build-deb.sh [output-dir]   (run `make deb` for both steps)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/artifacts}"
bin="${JOBD_BIN:-$root/artifacts/jobd/jobd}"
[ -x "$bin" ] || { echo "build-deb: $bin is missing; run \`make publish\` first" >&2; exit 1; }
command -v dpkg-deb >/dev/null 2>&1 || { echo "build-deb: dpkg-deb not found (Debian package dpkg)" >&2; exit 1; }

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -n1)"
[ -n "$version" ] || { echo "build-deb: no <Version> in Directory.Build.props" >&2; exit 1; }

# umask 022 plus explicit modes: the package's contents do not depend on the caller's umask.
umask 022
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/jobd"
install -d -m 0755 "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/lib/systemd/system" "$pkg/etc/jobd" "$pkg/usr/share/doc/jobd"
install -m 0755 "$bin" "$pkg/usr/bin/jobd"
install -m 0644 "$root/systemd/jobd.service" "$pkg/lib/systemd/system/jobd.service"
# 0640: the file may hold DATABASE_URL's password; systemd (root) reads EnvironmentFile= before dropping to the
# dynamic user, so the service itself needs no read access.
install -m 0640 "$root/systemd/jobd.env.example" "$pkg/etc/jobd/jobd.env"
install -m 0644 "$here/debian/copyright" "$pkg/usr/share/doc/jobd/copyright"
install -m 0644 "$root/packaging/README.md" "$pkg/usr/share/doc/jobd/README.md"
install -m 0644 "$here/debian/conffiles" "$pkg/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "$here/debian/$s" "$pkg/DEBIAN/$s"; done

# md5sums lets `dpkg --verify` and debsums check the installed files; conffiles are tracked by dpkg itself.
(cd "$pkg" && find usr lib -type f -exec md5sum {} + | LC_ALL=C sort -k2) > "$pkg/DEBIAN/md5sums"
chmod 0644 "$pkg/DEBIAN/md5sums"

size_kb="$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)"
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size_kb/" "$here/debian/control.in" > "$pkg/DEBIAN/control"
chmod 0644 "$pkg/DEBIAN/control"

mkdir -p "$out"
deb="$out/jobd_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
