#pragma once
// A container as ringcri runs it: what the spawn engine needs to know and
// nothing about where it came from. Shaped after the OCI runtime spec so
// anyone who has read a config.json finds their way, but plain C++: the
// CRI layer (cri/spec/) fills it from a CreateContainerRequest, the sandbox
// config and the image config; the keeper receives it as JSON
// (spec_json.hpp) and the spawn engine (spawn/) carries it out.
//
// Paths are absolute host paths unless the field says "in the container".

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/sys/user_namespace.hpp"

namespace ringcri::exec {

// One mount, made in the container's mount namespace after the rootfs and
// in list order. `options` are OCI's mount options: "ro", "rw", "nosuid",
// "nodev", "noexec", "bind", "rbind", "private", "rprivate", "slave",
// "rslave", "shared", "rshared", "mode=755", "size=65536k", ... Unknown
// words are passed to the file system as data.
struct mount_spec {
  std::string destination;  // in the container
  std::string type;         // "bind", "proc", "tmpfs", "sysfs", "devpts", "mqueue", ...
  std::string source;       // host path for binds, else the fs name
  std::vector<std::string> options;
};

// A device node made in the container's /dev (a tmpfs).
struct device_spec {
  std::string path;  // in the container, "/dev/null"
  char type = 'c';   // 'c' or 'b'
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::uint32_t mode = 0666;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

// A namespace of the container. Kinds: "pid", "network", "ipc", "uts",
// "mount", "cgroup", "user". `path` empty: a new one. `path` set: join that one
// (a held namespace file such as <state>/pods/<id>/ns/net, or
// /proc/<pid>/ns/pid of a pod's init). A kind absent from the list is the
// host's. "user" is only joined (the pod's <pod_dir>/ns/user), and last:
// the container is set up with the host's powers, its rootfs layers and
// bind mounts idmapped through that namespace, and enters it just before
// it is confined (child_container.cpp).
struct namespace_spec {
  std::string type;
  std::string path;
};

struct user_spec {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> additional_gids;
};

// Capability names as "CAP_CHOWN".
struct capabilities_spec {
  std::vector<std::string> bounding;
  std::vector<std::string> effective;
  std::vector<std::string> permitted;
  std::vector<std::string> inheritable;
  std::vector<std::string> ambient;
};

struct rlimit_spec {
  std::string type;  // "RLIMIT_NOFILE"
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

// A seccomp filter in OCI's terms, built with libseccomp before the clone
// and loaded by the child just before execve. Actions: "SCMP_ACT_ALLOW",
// "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_LOG".
// A condition on one argument; every condition of a rule must hold. Ops:
// "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
// "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ" ((arg & value) == value_two).
struct seccomp_arg {
  unsigned index = 0;
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;
  std::string op;
};
struct seccomp_rule {
  std::vector<std::string> names;
  std::string action;
  std::uint32_t errno_ret = 1;  // EPERM, for SCMP_ACT_ERRNO
  std::vector<seccomp_arg> args;
};
struct seccomp_spec {
  std::string default_action;
  std::uint32_t default_errno_ret = 1;
  std::vector<seccomp_rule> syscalls;
};

// What is exec'd: the container's process, or a command run in it (ExecSync).
struct process_spec {
  std::vector<std::string> args;  // args[0] is looked up in PATH (of env) inside the rootfs
  std::vector<std::string> env;   // "KEY=value"
  std::string cwd = "/";          // in the container
  user_spec user;
  capabilities_spec capabilities;
  bool no_new_privileges = false;
  std::vector<rlimit_spec> rlimits;
  std::optional<int> oom_score_adj;  // clamped to what may be set
  std::optional<seccomp_spec> seccomp;
  bool terminal = false;
};

// One cgroup hierarchy of the node as the container's /sys/fs/cgroup shows
// it: mounted inside the container's cgroup namespace, so its root is the
// container's own cgroup (what the JVM and the Go runtime size themselves
// from). Made for a mount of type "cgroup" in `mounts`.
struct cgroup_hierarchy_spec {
  std::string name;     // its directory under /sys/fs/cgroup ("memory", "cpu,cpuacct",
                        // "unified"); "" for a pure v2 node's one hierarchy, mounted there
  std::string type;     // "cgroup" (v1) or "cgroup2"
  std::string options;  // v1: which hierarchy, by controllers ("cpu,cpuacct", "none,name=systemd")
  // v1: where the node mounts it and the mount's root in the hierarchy
  // ("/" unless the node itself runs in a cgroup namespace): the child
  // bind-mounts its own cgroup's directory from there. Empty: it mounts
  // the hierarchy anew, in its cgroup namespace.
  std::string mount_point;
  std::string root;
};

struct rootfs_spec {
  std::vector<std::string> lowers;  // layer dirs, top first
  std::string upper;                // per container, on the same fs as work
  std::string work;
  std::string target;               // an empty dir the overlay is mounted on
  bool readonly = false;
};

struct container_spec {
  std::string id;                   // the container id (64 hex)
  process_spec process;
  rootfs_spec rootfs;
  std::string hostname;             // set only when the container has its own UTS namespace
  std::vector<mount_spec> mounts;   // in order; defaults (/proc, /dev, ...) first
  std::vector<device_spec> devices; // made in /dev after the mounts
  std::vector<std::string> masked_paths;    // in the container
  std::vector<std::string> readonly_paths;  // in the container
  std::vector<namespace_spec> namespaces;
  // The maps of the "user" namespace, when there is one: device nodes and
  // the terminal are owned by the host ids of the spec's ids.
  std::vector<sys::id_mapping> uid_mappings;
  std::vector<sys::id_mapping> gid_mappings;
  // cgroup.procs files the process joins before anything else, one per
  // hierarchy (v1 controllers and/or the unified one). Made by the caller.
  std::vector<std::string> cgroup_procs;
  std::string cgroup_path;          // as the CRI sees it ("/kubepods/pod<uid>/<id>"), for status
  std::vector<cgroup_hierarchy_spec> cgroup_hierarchies;  // for a mount of type "cgroup"
  std::vector<std::pair<std::string, std::string>> sysctls;

  // For the keeper: where the container's output goes (CRI log format) and
  // where its exit is recorded.
  std::string log_path;
  std::string exit_path;
  bool stdin_open = false;          // keep a stdin pipe (attach, [5/7])
};

// A command run inside a running container (ExecSync, Exec): it joins the
// container's namespaces and cgroup and runs as `process` says.
struct exec_spec {
  std::string container_id;
  process_spec process;
  std::vector<std::string> cgroup_procs;
};

}  // namespace ringcri::exec
