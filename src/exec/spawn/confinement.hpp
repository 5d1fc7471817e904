#pragma once
// What a spawned process may do: its user and groups, its capabilities,
// no_new_privs and its seccomp filter. The parent prepares what needs
// allocation or libraries (capability masks from names, the compiled
// filter); the child applies it, in runc's order, as the last step of its
// set-up: a container waiting for StartContainer, a command exec'd in one
// and a pod's init all wait or exec with exactly these powers.

#include <cstdint>
#include <optional>

#include "base/error.hpp"
#include "exec/spawn/seccomp.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

// Each capability set as a bit mask over capability numbers.
struct capability_masks {
  std::uint64_t bounding = 0;
  std::uint64_t effective = 0;
  std::uint64_t permitted = 0;
  std::uint64_t inheritable = 0;
  std::uint64_t ambient = 0;
};

// Names ("CAP_CHOWN") to masks. Names the kernel or libcap does not know
// are skipped, as runc does for a profile newer than the node.
capability_masks parse_capabilities(const capabilities_spec& spec);

struct prepared_confinement {
  capability_masks caps;
  std::optional<bpf_program> seccomp;
};

// In the parent, before the clone: the masks and the compiled filter.
result<prepared_confinement> prepare_confinement(const process_spec& process);

// In the child, after every step that needs privilege, in this order:
//   every fd from 3 up close-on-exec, before either filter, so that a
//     profile without close_range cannot fail the start;
//   seccomp, when no_new_privs is off (loading a filter then needs
//     CAP_SYS_ADMIN, which the steps below may drop);
//   the bounding set;
//   groups, gid and uid, keeping the permitted set across setresuid;
//   effective, permitted, inheritable and ambient sets;
//   no_new_privs;
//   seccomp, last, when no_new_privs allows it.
// After it the process may only read, write, wait and execve, which every
// profile that lets a program start allows.
result<void> confine(const process_spec& process, const prepared_confinement& prepared);

// Every capability out of every set (bounding, effective, permitted,
// inheritable, ambient): for a process of ours that only waits.
result<void> drop_all_capabilities();

}  // namespace ringcri::exec::spawn_detail
