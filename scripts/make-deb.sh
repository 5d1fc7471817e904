#!/usr/bin/env bash
# Packs an already-built tree into ringcri_<version>_<arch>.deb: the two
# binaries (stripped), the systemd unit, /etc/ringcri/ringcri.toml (a
# conffile, every key commented out at its default), a man page from
# --help, and the crictl and CNI examples. Depends comes from what the
# binaries link (dpkg-shlibdeps). No debhelper: a staging tree and
# dpkg-deb.
#
#   make-deb.sh <build dir> [<output dir>, default <build dir>/deb]
#
# Prints the path of the .deb on its last line.
set -euo pipefail

build=$(realpath "${1:?usage: make-deb.sh <build dir> [<output dir>]}")
out=${2:-$build/deb}
src=$(realpath "$(dirname "$0")/..")
daemon=$build/src/ringcri
keeper=$build/src/ringcri-keeper

for tool in dpkg-deb dpkg-shlibdeps help2man strip; do
  command -v "$tool" >/dev/null || { echo "make-deb: no $tool (make deps installs it)" >&2; exit 1; }
done
for bin in "$daemon" "$keeper"; do
  [ -x "$bin" ] || { echo "make-deb: $bin is not built (make build)" >&2; exit 1; }
done

# The Debian version: the project's version, and for a build that is not
# that release the commit it was built from (what --version prints,
# git describe: "5b611fa", "v0.1.0-3-g5b611fa-dirty") after a "+git".
project_version=$(sed -n "s/^ *version: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
[ -n "$project_version" ] || { echo "make-deb: no version: in $src/meson.build" >&2; exit 1; }
built=$("$daemon" --version)
built=${built#v}
if [ "$built" = "$project_version" ]; then
  version=$project_version
else
  version=$project_version+git${built#"$project_version"-}
  version=${version//-/.}
fi
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || { echo "make-deb: '$version' is no Debian version" >&2; exit 1; }
arch=$(dpkg --print-architecture)

# The unit names where the package puts the binary.
unit=$src/etc/systemd/ringcri.service
grep -q '^ExecStart=/usr/bin/ringcri ' "$unit" || { echo "make-deb: $unit does not start /usr/bin/ringcri" >&2; exit 1; }

mkdir -p "$out"
out=$(realpath "$out")
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"

install -d -m 0755 "$stage"/{DEBIAN,usr/bin,lib/systemd/system,etc/ringcri,usr/share/man/man8} \
  "$stage"/usr/share/doc/ringcri/examples
# As dh_strip does: symbols and debug info out, the build id kept.
for bin in "$daemon" "$keeper"; do
  install -m 0755 "$bin" "$stage/usr/bin/"
  strip --remove-section=.comment --remove-section=.note --strip-unneeded "$stage/usr/bin/$(basename "$bin")"
done
install -m 0644 "$unit" "$stage/lib/systemd/system/ringcri.service"
install -m 0644 "$src/etc/systemd/ringcri.socket" "$stage/lib/systemd/system/ringcri.socket"
install -m 0644 "$src/etc/ringcri.toml" "$stage/etc/ringcri/ringcri.toml"
# Not /etc/crictl.yaml: that file is crictl's, and a package of its own may ship it.
install -m 0644 "$src/etc/crictl.yaml" "$src/etc/cni/10-ringcri.conflist" "$stage/usr/share/doc/ringcri/examples/"
cat > "$stage/usr/share/doc/ringcri/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ringcri

Files: *
Copyright: the ringcri authors
License: none-stated
 The ringcri source tree states no license.
EOF
chmod 0644 "$stage/usr/share/doc/ringcri/copyright"

# The man page: --help and --version of the staged binary, found on PATH
# so that its usage line reads "ringcri", not a build path.
PATH="$stage/usr/bin:$PATH" help2man --no-info --section=8 \
  --name="a Kubernetes container runtime (CRI) on io_uring" ringcri \
  | gzip -9n > "$stage/usr/share/man/man8/ringcri.8.gz"
chmod 0644 "$stage/usr/share/man/man8/ringcri.8.gz"

# dpkg-shlibdeps reads debian/control for the package's name: a stub one.
shlib_dir=$(mktemp -d)
trap 'rm -rf "$stage" "$shlib_dir"' EXIT
mkdir "$shlib_dir/debian"
printf 'Source: ringcri\n\nPackage: ringcri\nArchitecture: any\n' > "$shlib_dir/debian/control"
depends=$(cd "$shlib_dir" && dpkg-shlibdeps -O --warnings=0 \
  "-e$stage/usr/bin/ringcri" "-e$stage/usr/bin/ringcri-keeper")
depends=${depends#shlibs:Depends=}
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<EOF
Package: ringcri
Version: $version
Architecture: $arch
Maintainer: ringcri developers <dev@ringcri.invalid>
Installed-Size: $installed_size
Depends: $depends
Recommends: containernetworking-plugins
Section: admin
Priority: optional
Description: Kubernetes container runtime (CRI) on io_uring
 ringcri is one daemon that serves the Kubernetes Container Runtime
 Interface on a unix socket (/run/ringcri/ringcri.sock), pulls OCI images
 and starts containers itself with clone3 and pidfds: no runc, no shim per
 pod, no pause container. It runs one io_uring reactor per core.
 .
 The systemd units ringcri.service and ringcri.socket are installed, not
 enabled. The CNI plugins are needed for the network plugins the daemon
 does not run in-process.
EOF
echo /etc/ringcri/ringcri.toml > "$stage/DEBIAN/conffiles"
# Tells systemd about the unit; enabling and starting it is the
# operator's call. Nothing when installing into another root (DPKG_ROOT).
cat > "$stage/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
EOF
cat > "$stage/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
EOF
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"
# For dpkg --verify; conffiles have their own sums in dpkg's database.
(cd "$stage" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage"/DEBIAN/{control,conffiles,md5sums}

deb=$out/ringcri_${version}_${arch}.deb
dpkg-deb --build --root-owner-group "$stage" "$deb" >/dev/null
echo "$deb"
