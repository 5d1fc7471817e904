#pragma once
// What a change to a directory tree survives once the call returns.

namespace ringcri::sys {

enum class durability {
  // A crash of the process (the kernel has it), not a power cut: for
  // state on a tmpfs (/run), gone at reboot anyway.
  unsynced,
  // A power cut too: the file and the directory that names it are fsynced.
  synced,
  // The file is fsynced before it takes its name; the directory is left
  // to the caller, to fsync once after many files (until then a power cut
  // may leave the old name or the new, each whole).
  file_synced,
};

}  // namespace ringcri::sys
