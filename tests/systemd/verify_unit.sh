#!/usr/bin/env bash
# systemd-analyze verify on etc/systemd/ringcri.service, with ExecStart
# pointing at the binary just built (the unit names where a package
# installs it). Exit 77 (skipped) without systemd-analyze.
#
#   verify_unit.sh <unit file> <ringcri binary>
set -euo pipefail
unit=$1 bin=$2
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: no systemd-analyze on this machine" >&2
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
grep -q '^ExecStart=/usr/bin/ringcri ' "$unit" || { echo "ExecStart does not start /usr/bin/ringcri" >&2; exit 1; }
sed "s|^ExecStart=/usr/bin/ringcri |ExecStart=$bin |" "$unit" > "$dir/ringcri.service"
# The socket unit beside it (socket activation of the CRI socket).
cp "$(dirname "$unit")/ringcri.socket" "$dir/ringcri.socket"
out=$(systemd-analyze verify --man=no "$dir/ringcri.service" "$dir/ringcri.socket" 2>&1) || { echo "$out" >&2; exit 1; }
# verify exits 0 on some warnings: any line about the unit fails the test.
if [ -n "$out" ]; then echo "$out" >&2; exit 1; fi
# What keeps containers across a restart of the unit, and what a CRI
# runtime needs of systemd.
for line in Type=notify KillMode=process Delegate=yes OOMScoreAdjust=-999 'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qx "$line" "$unit" || { echo "missing: $line" >&2; exit 1; }
done
echo "ringcri.service: systemd-analyze verify passed"
