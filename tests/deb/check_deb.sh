#!/usr/bin/env bash
# The Debian package as an operator gets it: scripts/make-deb.sh builds it
# from the build dir, then it is read with dpkg-deb and installed with
# dpkg into a scratch root (dependencies not checked there: the root has
# no libraries), where its ringcri runs. etc/ringcri.toml itself is
# checked by the config unit test. Exit 77 (skipped) without the tools.
#
#   check_deb.sh <source dir> <build dir>
set -euo pipefail
src=$1 build=$2
for tool in dpkg dpkg-deb dpkg-shlibdeps help2man readelf; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: no $tool on this machine (make deps installs it)" >&2
    exit 77
  fi
done
export PATH=$PATH:/usr/sbin:/sbin  # dpkg wants ldconfig and start-stop-daemon on PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

deb=$(bash "$src/scripts/make-deb.sh" "$build" "$tmp/out" | tail -1)
[ -f "$deb" ] || fail "make-deb.sh made no .deb ($deb)"

field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = ringcri ] || fail "Package: $(field Package)"
arch=$(dpkg --print-architecture)
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture), not $arch"
project_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
version=$(field Version)
[[ $version == "$project_version" || $version == "$project_version+git"* ]] ||
  fail "Version: $version, not $project_version or a snapshot of it"
[ "$(basename "$deb")" = "ringcri_${version}_$arch.deb" ] || fail "file name $(basename "$deb")"
depends=$(field Depends)
for lib in 'liburing[0-9]' 'libgrpc\+\+[0-9.]+' 'libprotobuf[0-9]+' 'libseccomp[0-9]' 'libsystemd0' 'libc6'; do
  [[ ", $depends," =~ ,\ ${lib}[\ ,] ]] || fail "Depends names no $lib: $depends"
done
[[ $(field Recommends) == *containernetworking-plugins* ]] || fail "Recommends no CNI plugins"
for f in Maintainer Section Priority Description Installed-Size; do
  [ -n "$(field "$f")" ] || fail "no $f"
done

dpkg-deb --contents "$deb" > "$tmp/contents"
for path in ./usr/bin/ringcri ./usr/bin/ringcri-keeper ./lib/systemd/system/ringcri.service ./lib/systemd/system/ringcri.socket \
  ./etc/ringcri/ringcri.toml ./usr/share/doc/ringcri/copyright \
  ./usr/share/doc/ringcri/examples/crictl.yaml ./usr/share/doc/ringcri/examples/10-ringcri.conflist \
  ./usr/share/man/man8/ringcri.8.gz; do
  grep -q " $path\$" "$tmp/contents" || fail "the package has no $path"
done
! grep -q ' \./etc/crictl\.yaml$' "$tmp/contents" || fail "the package ships /etc/crictl.yaml (crictl's file)"
awk '$2 != "root/root" { bad = 1; print } END { exit bad }' "$tmp/contents" >&2 ||
  fail "files not owned by root"

dpkg-deb --control "$deb" "$tmp/control"
[ "$(cat "$tmp/control/conffiles")" = /etc/ringcri/ringcri.toml ] ||
  fail "conffiles: $(cat "$tmp/control/conffiles")"

# Installed into a scratch root. The maintainer scripts run outside it
# (chrootless: the root has no shell) and see DPKG_ROOT, so they leave
# the machine's systemd alone.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
: > "$root/var/lib/dpkg/status"
dpkg --root="$root" --log="$tmp/dpkg.log" --force-depends --force-not-root --force-script-chrootless \
  -i "$deb" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "dpkg -i"; }
dpkg --root="$root" -s ringcri | grep -qx 'Status: install ok installed' || fail "not installed"
dpkg --root="$root" --verify ringcri || fail "dpkg --verify: files differ from their md5sums"

want=$("$build/src/ringcri" --version)
got=$("$root/usr/bin/ringcri" --version) || fail "the installed ringcri --version failed"
[ "$got" = "$want" ] || fail "installed ringcri --version printed '$got', not '$want'"
for bin in ringcri ringcri-keeper; do
  [ -x "$root/usr/bin/$bin" ] || fail "/usr/bin/$bin is not executable"
  ! readelf -S "$root/usr/bin/$bin" | grep -q '\.symtab\|\.debug_' || fail "/usr/bin/$bin is not stripped"
done
grep -q '^ExecStart=/usr/bin/ringcri ' "$root/lib/systemd/system/ringcri.service" ||
  fail "the unit does not start /usr/bin/ringcri"
cmp "$root/etc/ringcri/ringcri.toml" "$src/etc/ringcri.toml" || fail "ringcri.toml differs from etc/ringcri.toml"
grep -qx 'runtime-endpoint: unix:///run/ringcri/ringcri.sock' "$root/usr/share/doc/ringcri/examples/crictl.yaml" ||
  fail "crictl.yaml names another endpoint"
zcat "$root/usr/share/man/man8/ringcri.8.gz" | grep -q -- 'config' || fail "the man page has no --config"
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes; Depends: $depends"
