#pragma once
// cgroup v2's device rules: an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup. The
// kernel runs it for every open and mknod of a device node by a process of
// that cgroup (and of the cgroups below it) with the node's type,
// major:minor and the access asked; the program returns 1 to allow, 0 to
// deny (EPERM).
//
// The program is compiled from the same allow list as v1's devices.allow
// (see devices.hpp) and means the same: deny unless one rule covers the
// type, the numbers and every access asked ('a' any type, -1 any number).
//
// Programs are attached with BPF_F_ALLOW_MULTI. The kernel then runs
// this cgroup's programs and those every ancestor attached with
// ALLOW_MULTI too, and all of them must allow: a container cgroup below a
// pod cgroup that has a program gets at most what both allow, whatever its
// own program says. So a pod-level program, if ever attached, must allow
// the union of its containers' devices; the container-level one is what
// confines each container. (An ancestor's single program attached with
// ALLOW_OVERRIDE yields to ours; one attached with neither flag forbids
// attaching below it: EPERM.)
//
// The attachment belongs to the cgroup, not to our fds: it lasts after
// they are closed and goes when the cgroup is removed.
//
// The raw bpf(2) syscall, not libbpf: the program is a few instructions
// per rule with no maps, BTF or ELF, so libbpf would bring only thin
// wrappers of three syscalls, and it has no instruction emitter for such
// hand-built programs (the kernel's BPF_* instruction macros live in a
// header that is not exported to user space).
//
// Blocking system calls: run on the blocking pool or in a spawned child,
// never on a reactor thread.

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/unique_fd.hpp"
#include "exec/cgroups/devices.hpp"

namespace ringcri::exec::cgroups {

// The program for `allowed`, in rule order; the first rule that covers a
// request allows it, none denies it. A rule that covers everything (a *:*
// rwm) ends the program there; one with no access is left out. An unknown
// type or access letter, or a number outside 0..2^32-1 other than -1, is
// INVALID_ARGUMENT naming the rule.
result<std::vector<bpf_insn>> compile_device_program(const std::vector<device_rule>& allowed);

// BPF_PROG_LOAD of `program` as a cgroup device program. The verifier's
// log is in the error when the kernel refuses it. The fd may be attached to
// any number of cgroups.
result<unique_fd> load_device_program(const std::vector<bpf_insn>& program);

// Attaches the loaded `program` to the cgroup v2 directory `cgroup_dir`
// (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) and then detaches every device
// program of ours attached there before it, so a second call replaces the
// rules as writing devices.deny and devices.allow again does in v1. Ours
// are known by their name; programs someone else attached stay. There is
// no moment with no program: the old ones go after the new one is in, and
// while both are there only what both allow is allowed. Errors name the
// directory.
result<void> attach_device_program(const std::string& cgroup_dir, const unique_fd& program);

// compile, load and attach in one: the rules `allowed` for the processes
// of cgroup v2 directory `cgroup_dir` (a pod's or container's directory in
// the unified hierarchy, on a pure v2 or a hybrid node). The same rules
// load once per process: later calls attach the program loaded first.
result<void> attach_device_program(const std::string& cgroup_dir,
                                   const std::vector<device_rule>& allowed);

// The name our device programs are loaded with (bpftool prog shows it).
inline constexpr char device_program_name[] = "ringcri_devices";

}  // namespace ringcri::exec::cgroups
