#!/usr/bin/env bash
# Installs the Debian 12 packages ringcri builds, runs and tests with.
# Idempotent: a package already present is not fetched again.
# --bench adds what `make bench` compares against and draws with:
# containerd, runc, crun and gnuplot. --fuzz adds clang and its runtime
# libraries (libFuzzer, ASan, UBSan) for `make fuzz`.
set -euo pipefail

packages=(
  # build
  build-essential pkg-config meson ninja-build cmake
  # libraries
  liburing-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libseccomp-dev libmimalloc-dev catch2 libexpected-dev libconcurrentqueue-dev
  libfmt-dev libspdlog-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libcap-dev libssl-dev zlib1g-dev libzstd-dev libisal-dev libdeflate-dev
  libcurl4-openssl-dev libwslay-dev libhttp-parser-dev libmnl-dev libnftnl-dev
  # sd_notify: the daemon tells systemd when it serves and when it stops
  libsystemd-dev
  # pod networking: the CNI plugins (bridge, host-local, portmap...) and
  # what they call
  containernetworking-plugins iproute2 iptables
  # nft: tests read the daemon's nftables table from outside
  nftables
  # tests
  util-linux procps python3
  # fsck.erofs checks every EROFS layer image the tests write
  erofs-utils
  # test fixtures (tests/fixtures: registries on loopback, test images)
  docker-registry skopeo umoci busybox-static zstd openssl apache2-utils curl
  python3-jwt python3-cryptography
  # tests parse /metrics with the Prometheus client library's parsers
  python3-prometheus-client
  # make deb: dpkg-shlibdeps computes the package's Depends, help2man its
  # man page from --help
  dpkg-dev help2man
)
case "${1:-}" in
  --bench) packages+=(containerd runc crun gnuplot-nox) ;;
  --fuzz) packages+=(clang libclang-rt-14-dev) ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
