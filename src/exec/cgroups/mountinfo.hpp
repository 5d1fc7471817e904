#pragma once
// The cgroup hierarchies mounted on this node, read from
// /proc/self/mountinfo: each v1 hierarchy (one or more controllers, or a
// named one like name=systemd) and the v2 (unified) one.

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace ringcri::exec::cgroups {

struct cgroup_mount {
  std::string mount_point;               // e.g. /sys/fs/cgroup/cpu,cpuacct
  std::string root;                      // the mount's root inside the hierarchy
  bool unified = false;                  // cgroup2
  std::vector<std::string> controllers;  // v1: "cpu", "cpuacct", "name=systemd"...; v2: empty
  std::string device;                    // major:minor, the same for two mounts of one hierarchy
  std::vector<std::string> options;      // the hierarchy's own (super) options: "rw", "nsdelegate"...
};

// One line of mountinfo: where a mount is and what it is.
struct mount_entry {
  std::string device;         // major:minor
  std::string root;           // the mount's root inside its file system
  std::string mount_point;
  std::string fstype;         // "cgroup", "nsfs", "overlay"...
  std::string super_options;  // "rw,cpu,cpuacct"
};

// Parses mountinfo text (the format of /proc/self/mountinfo), a line a
// mount, octal escapes undone. Errors name the line that does not parse.
result<std::vector<mount_entry>> parse_mountinfo(std::string_view mountinfo_text);

// The mounts of the caller's mount namespace (/proc/self/mountinfo).
result<std::vector<mount_entry>> read_mountinfo();

// Parses mountinfo text into its
// cgroup mounts, one per hierarchy: a hierarchy mounted twice is listed
// once, at its mount under /sys/fs/cgroup when there is one. Errors name
// the line that does not parse.
result<std::vector<cgroup_mount>> parse_cgroup_mounts(std::string_view mountinfo_text);

// Undoes mountinfo's octal escapes ("\040" is a space).
std::string unescape_mountinfo(std::string_view field);

}  // namespace ringcri::exec::cgroups
