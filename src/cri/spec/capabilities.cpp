#include "cri/spec/capabilities.hpp"

#include <sys/prctl.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>

namespace ringcri::cri::spec {

namespace {

// Linux capabilities by number (include/uapi/linux/capability.h).
constexpr std::string_view known_capabilities[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

bool has_all(const google::protobuf::RepeatedPtrField<std::string>& names) {
  return std::any_of(names.begin(), names.end(),
                     [](const std::string& n) { return equals_ignoring_case(n, "ALL"); });
}

void add(std::vector<std::string>& set, const std::string& cap) {
  if (std::find(set.begin(), set.end(), cap) == set.end()) set.push_back(cap);
}

void drop(std::vector<std::string>& set, const std::string& cap) {
  set.erase(std::remove(set.begin(), set.end(), cap), set.end());
}

}  // namespace

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
  return caps;
}

const std::vector<std::string>& all_capabilities() {
  // Read once: neither the kernel nor our bounding set changes under us.
  // Only what the runtime itself holds can be given (containerd's
  // WithAllCurrentCapabilities): a node may withhold some, as this kind of
  // machine withholds CAP_SYS_RESOURCE, and capset refuses any beyond it.
  static const std::vector<std::string> caps = [] {
    std::size_t count = std::size(known_capabilities);
    std::ifstream f("/proc/sys/kernel/cap_last_cap");
    std::size_t last = 0;
    if (f >> last && last + 1 < count) count = last + 1;
    std::vector<std::string> held;
    for (std::size_t i = 0; i < count; ++i)
      if (::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(i), 0, 0, 0) == 1)
        held.emplace_back(known_capabilities[i]);
    return held;
  }();
  return caps;
}

result<std::string> capability_name(std::string_view name) {
  for (std::string_view known : known_capabilities) {
    if (equals_ignoring_case(name, known) || equals_ignoring_case(name, known.substr(4)))
      return std::string(known);
  }
  return fail(error_kind::invalid_argument, fmt::format("unknown capability \"{}\"", name));
}

result<exec::capabilities_spec> container_capabilities(
    const runtime::v1::LinuxContainerSecurityContext& sc) {
  std::vector<std::string> caps = default_capabilities();
  const auto& adds = sc.capabilities().add_capabilities();
  const auto& drops = sc.capabilities().drop_capabilities();
  // "ALL" first so that named entries still apply on top: add ALL + drop
  // CHOWN is everything but CHOWN, drop ALL + add CHOWN is CHOWN alone.
  if (has_all(adds)) caps = all_capabilities();
  if (has_all(drops)) caps.clear();
  for (const auto& n : adds) {
    if (equals_ignoring_case(n, "ALL")) continue;
    auto cap = capability_name(n);
    if (!cap) return tl::unexpected(std::move(cap.error()).context("add capability"));
    add(caps, *cap);
  }
  for (const auto& n : drops) {
    if (equals_ignoring_case(n, "ALL")) continue;
    auto cap = capability_name(n);
    if (!cap) return tl::unexpected(std::move(cap.error()).context("drop capability"));
    drop(caps, *cap);
  }
  if (sc.privileged()) caps = all_capabilities();

  exec::capabilities_spec out;
  out.bounding = caps;
  out.effective = caps;
  out.permitted = std::move(caps);
  // Ambient stays empty: containerd clears it (what non-root plus
  // capabilities should mean is open in kubernetes/kubernetes#56374).
  return out;
}

}  // namespace ringcri::cri::spec
