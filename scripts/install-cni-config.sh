#!/usr/bin/env bash
# Gives the node a pod network when it has none: the bridge network of
# etc/cni/10-ringcri.conflist (bridge ringcri0, pods in 10.87.0.0/16,
# host ports through portmap). A node that already has a CNI config
# (any .conflist, .conf or .json in the directory) is left as it is.
set -euo pipefail

conf_dir=${CNI_CONF_DIR:-/etc/cni/net.d}
here=$(cd "$(dirname "$0")/.." && pwd)

shopt -s nullglob
existing=("$conf_dir"/*.conflist "$conf_dir"/*.conf "$conf_dir"/*.json)
if ((${#existing[@]} > 0)); then
  echo "CNI: using ${existing[0]}"
  exit 0
fi
install -d -m 0755 "$conf_dir"
install -m 0644 "$here/etc/cni/10-ringcri.conflist" "$conf_dir/10-ringcri.conflist"
echo "CNI: installed $conf_dir/10-ringcri.conflist (bridge ringcri0, 10.87.0.0/16)"
