#pragma once
// OCI mount options ("ro", "nosuid", "rbind", "rslave", "mode=755", ...)
// turned into what mount(2) takes: flags, a propagation change made after
// the mount, and the words the file system gets as data.

#include <string>
#include <vector>

namespace ringcri::exec::spawn_detail {

struct mount_options {
  unsigned long flags = 0;  // MS_RDONLY, MS_NOSUID, ..., MS_BIND, MS_REC
  unsigned long propagation =
      0;             // MS_PRIVATE / MS_SHARED / MS_SLAVE / MS_UNBINDABLE, maybe | MS_REC
  std::string data;  // "mode=755,size=65536k"
  // "rro" (runc's word): the mount and every mount below it read-only,
  // through mount_setattr once mounted. "ro" alone is the top mount only.
  bool recursive_readonly = false;
};

mount_options parse_mount_options(const std::vector<std::string>& options);

}  // namespace ringcri::exec::spawn_detail
