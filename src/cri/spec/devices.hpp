#pragma once
// The device nodes made in the container's /dev: the standard set every
// container has (/dev/null, zero, full, random, urandom, tty), and the
// request's devices, each with the type, numbers, mode and owner of its
// host node. A request's host path that is a directory brings every device
// node under it, at the same place under the container path (containerd's
// oci.WithDevices). A request's device on a standard one's path replaces
// it. A privileged container gets every device node of the host's /dev
// (but /dev/pts, shm, mqueue and console, which are its own).

#include <vector>

#include "api.pb.h"
#include "base/error.hpp"
#include "exec/cgroups/devices.hpp"
#include "exec/spec.hpp"

namespace ringcri::cri::spec {

std::vector<exec::device_spec> default_devices();

result<std::vector<exec::device_spec>> container_devices(
    const runtime::v1::ContainerConfig& config, bool privileged);

// The cgroup's device allow list for a container with `devices` (as
// container_devices gives them): the defaults every container has, and
// read, write and mknod of each of its own.
std::vector<exec::cgroups::device_rule> device_rules(const std::vector<exec::device_spec>& devices);

}  // namespace ringcri::cri::spec
