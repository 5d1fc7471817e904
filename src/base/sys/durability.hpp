#pragma once
// What a change to a directory tree survives once the call returns.

namespace ringcri::sys {

enum class durability {
  // A crash of the process (the kernel has it), not a power cut: for
  // state on a tmpfs (/run), gone at reboot anyway.
  unsynced,
  // A power cut too: the file and the directory that names it are fsynced.
  synced,
};

}  // namespace ringcri::sys
