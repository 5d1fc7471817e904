#pragma once
// A ringcri daemon started for a test: its own root, state and socket under
// a fresh temporary directory, stderr captured, stopped at the end. The
// same directories survive restart() and kill_and_restart().

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace ringcri::testing {

// The ringcri binary, from $RINGCRI_BIN (set by meson).
std::string ringcri_binary();

class ringcri_process {
 public:
  // Starts ringcri with `extra` flags (besides --root and --state, and
  // --config /dev/null unless `extra` names a config) and waits until it
  // serves the socket.
  // `env`: "NAME=value" entries added to the daemon's environment (and so
  // to a keeper it starts), e.g. RINGCRI_CRASH_AT.
  // `listen_fd`: the CRI socket, listening, passed as systemd's socket
  // activation passes it (the daemon then serves it instead of making one).
  explicit ringcri_process(std::vector<std::string> extra = {}, std::vector<std::string> env = {},
                           int listen_fd = -1);
  ~ringcri_process();

  const std::filesystem::path& dir() const { return dir_.path(); }
  std::filesystem::path socket() const { return dir_.path() / "state" / "ringcri.sock"; }
  std::filesystem::path root() const { return dir_.path() / "root"; }
  std::filesystem::path state() const { return dir_.path() / "state"; }
  pid_t pid() const { return pid_; }
  // What the daemon logged since it was last started.
  std::string log() const;
  // The layer store the daemon opened, as its log says ("erofs" or "dir"),
  // its directory (ImageFsInfo's mount point), where it keeps a committed
  // layer (by "sha256:..." diff id) and where the layers being written are.
  std::string layer_store() const;
  std::filesystem::path layers_dir() const;
  std::filesystem::path layer_path(const std::string& diff_id) const;
  std::filesystem::path layers_tmp() const { return layers_dir() / "tmp"; }

  // SIGTERM, wait; returns the wait status.
  int stop();
  // SIGKILL, wait.
  void kill();
  void restart();
  // The environment entries of the next start.
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }
  // Waits for the daemon to end by itself (a crash point); its wait status,
  // or -1 when it still runs after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout);

  // Reads stderr until `needle` appears at or after byte `from` of the
  // log; false after `timeout`.
  bool wait_for_log(const std::string& needle,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30), std::size_t from = 0);

 private:
  void start();
  temp_dir dir_;
  std::vector<std::string> extra_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  int listen_fd_ = -1;
  std::size_t log_start_ = 0;  // where the current run's log begins in <dir>/ringcri.log
};

// The AddressSanitizer, LeakSanitizer and UBSan reports in a log, with the
// lines that follow each; empty when there are none.
std::string sanitizer_reports(const std::filesystem::path& log);

// Runs ringcri with `args` to completion; returns {wait status, its output
// (stdout and stderr)}.
std::pair<int, std::string> run_ringcri(const std::vector<std::string>& args);

}  // namespace ringcri::testing
