#pragma once
// Replacing a file whole: write a temp file beside it, (fsync,) rename it
// over the file, (fsync the directory). A reader, or the file after a
// crash at any moment, has the old content or the new, never a mix.
//
// The temp name is "." + the file's name + ".tmp-" + 16 random hex digits:
// two writers never share one, even in two processes, and a start-up
// sweep knows a leftover by is_atomic_temp_name(). What a failed write
// made is unlinked before it returns.
//
// This is the blocking form; reactor/atomic_file.hpp has the same steps
// through the ring for reactor threads.

#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/sys/durability.hpp"

namespace ringcri::sys {

// A fresh temp name for `name` (see above), cut to fit in NAME_MAX.
std::string atomic_temp_name(std::string_view name);

// Whether `name` has the shape of a temp name: a leading '.' and ".tmp-".
bool is_atomic_temp_name(std::string_view name);

// Makes `data` the content of `name` in `dir_fd`, with mode `mode` (set
// with fchmod after the create, so the umask takes nothing away).
// `dir_path` names the directory in error messages only. With
// durability::synced, `dir_fd` must be open for reading (not O_PATH): it
// is fsynced.
result<void> write_file_atomic(int dir_fd, std::string_view dir_path, std::string_view name,
                               std::string_view data, mode_t mode, durability how);

struct named_bytes {
  std::string_view name;
  std::string_view bytes;
};

// Replaces many files of one directory, each as write_file_atomic does,
// durably (durability::synced), with one fsync of the directory for all:
// every temp file is written and its writeback started before the first
// fsync. On failure the temps not yet renamed are unlinked; the files
// renamed before it keep their new content.
result<void> write_files_atomic(int dir_fd, std::string_view dir_path, std::span<const named_bytes> files,
                                mode_t mode);

}  // namespace ringcri::sys
