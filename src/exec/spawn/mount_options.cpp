// The OCI mount option words, as runc reads them.

#include "exec/spawn/mount_options.hpp"

#include <sys/mount.h>

#include <string_view>

namespace ringcri::exec::spawn_detail {

namespace {
struct flag_word {
  std::string_view word;
  bool clear;
  unsigned long flag;
};

constexpr flag_word flag_words[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"suid", true, MS_NOSUID},
    {"nosuid", false, MS_NOSUID},
    {"dev", true, MS_NODEV},
    {"nodev", false, MS_NODEV},
    {"exec", true, MS_NOEXEC},
    {"noexec", false, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"bind", false, MS_BIND},
    {"rbind", false, MS_BIND | MS_REC},
};

struct propagation_word {
  std::string_view word;
  unsigned long flag;
};

constexpr propagation_word propagation_words[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};
}  // namespace

mount_options parse_mount_options(const std::vector<std::string>& options) {
  mount_options out;
  for (const std::string& word : options) {
    bool known = false;
    for (const auto& f : flag_words) {
      if (word != f.word) continue;
      if (f.clear)
        out.flags &= ~f.flag;
      else
        out.flags |= f.flag;
      known = true;
      break;
    }
    for (const auto& p : propagation_words) {
      if (known || word != p.word) continue;
      out.propagation = p.flag;
      known = true;
    }
    if (!known && word == "rro") {
      out.recursive_readonly = true;
      known = true;
    }
    if (known) continue;
    if (!out.data.empty()) out.data += ',';
    out.data += word;
  }
  return out;
}

}  // namespace ringcri::exec::spawn_detail
