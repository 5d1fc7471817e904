#include "image/registry/platform.hpp"

#include <sys/utsname.h>

#include <cctype>

namespace ringcri::image {

std::string platform::string() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

platform platform_for_machine(std::string_view machine) {
  platform p;
  p.os = "linux";
  if (machine == "x86_64" || machine == "amd64") {
    p.architecture = "amd64";
  } else if (machine == "aarch64" || machine == "arm64" || machine == "armv8l" ||
             machine == "aarch64_be") {
    p.architecture = "arm64";
    p.variant = "v8";
  } else if (machine.starts_with("armv7")) {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (machine.starts_with("armv6")) {
    p.architecture = "arm";
    p.variant = "v6";
  } else if (machine.starts_with("armv5")) {
    p.architecture = "arm";
    p.variant = "v5";
  } else if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686") {
    p.architecture = "386";
  } else {
    p.architecture = std::string(machine);  // ppc64le, s390x, riscv64, mips64 ... as GOARCH
  }
  return p;
}

const platform& host_platform() {
  static const platform host = [] {
    utsname u{};
    uname(&u);
    return platform_for_machine(u.machine);
  }();
  return host;
}

platform normalize(platform p) {
  for (char& c : p.os) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string& a = p.architecture;
  for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (a == "x86_64" || a == "x86-64") {
    a = "amd64";
  } else if (a == "aarch64") {
    a = "arm64";
  } else if (a == "armhf") {
    a = "arm";
    if (p.variant.empty()) p.variant = "v7";
  } else if (a == "armel") {
    a = "arm";
    if (p.variant.empty()) p.variant = "v6";
  } else if (a == "i386") {
    a = "386";
  }
  if (a == "arm64" && (p.variant.empty() || p.variant == "8")) p.variant = "v8";
  if (a == "arm" && p.variant.empty()) p.variant = "v7";
  if (a == "arm" && p.variant.size() == 1) p.variant = "v" + p.variant;
  if (a == "amd64" && p.variant == "v1") p.variant.clear();
  return p;
}

namespace {

// "v7" -> 7; -1 when not of that form.
int variant_level(std::string_view v) {
  if (v.size() < 2 || v[0] != 'v') return -1;
  int n = 0;
  for (char c : v.substr(1)) {
    if (c < '0' || c > '9') return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

int platform_score(const platform& want_in, const platform& candidate_in) {
  platform want = normalize(want_in);
  platform cand = normalize(candidate_in);
  if (want.os != cand.os || want.architecture != cand.architecture) return -1;
  if (cand.variant == want.variant) return 100;
  if (want.architecture == "arm") {
    // An arm v7 host runs v6 and v5 images too; prefer the newest.
    int w = variant_level(want.variant);
    int c = variant_level(cand.variant);
    if (w < 0 || c < 0 || c > w) return -1;
    return 50 + c;
  }
  // amd64 micro-architecture levels (v2, v3...) and other variants are not
  // probed: only the base variant is taken as runnable.
  return -1;
}

}  // namespace ringcri::image
