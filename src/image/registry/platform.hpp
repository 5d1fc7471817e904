#pragma once
// Platforms as OCI image indexes name them, this host's platform, and the
// choice of one manifest from an index, as containerd's default matcher
// makes it: same OS and architecture; for arm and arm64 the variant must be
// one the host runs (arm v7 runs v7, v6 and v5 images, preferring the
// newest); an entry without a variant stands for the architecture's base.

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::image {

struct platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64"
  std::string variant;       // "v7", "v8", or empty
  std::string os_version;
  std::vector<std::string> os_features;

  // "linux/arm64/v8", "linux/amd64".
  std::string string() const;
  friend bool operator==(const platform&, const platform&) = default;
};

// GOARCH names for uname machines: x86_64 -> amd64, aarch64 -> arm64 (v8),
// armv7l -> arm/v7, i686 -> 386... Unknown names are returned as given.
platform platform_for_machine(std::string_view machine);

// This host: linux, and the architecture of uname(2).
const platform& host_platform();

// Normalises spellings images use (x86_64, aarch64, armhf, arm64 without
// variant = v8, arm without variant = v7) so two platforms compare.
platform normalize(platform p);

// How well `candidate` fits a host of platform `want`: -1 when it cannot
// run there, else higher is better.
int platform_score(const platform& want, const platform& candidate);

}  // namespace ringcri::image
