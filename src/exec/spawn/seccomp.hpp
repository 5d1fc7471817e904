#pragma once
// seccomp: the filter is compiled with libseccomp in the parent (the child
// only loads a finished BPF program, which needs no allocation or library
// state after clone3).

#include <linux/filter.h>

#include <vector>

#include "base/error.hpp"
#include "exec/spec.hpp"

namespace ringcri::exec::spawn_detail {

using bpf_program = std::vector<sock_filter>;

// Compiles the OCI-style profile for the native architecture. Syscall
// names this libseccomp does not know are skipped.
result<bpf_program> compile_seccomp(const seccomp_spec& spec);

// seccomp(SECCOMP_SET_MODE_FILTER). Needs no_new_privs or CAP_SYS_ADMIN.
result<void> load_seccomp(const bpf_program& program);

}  // namespace ringcri::exec::spawn_detail
