#pragma once
// Shared by the spawn engine's tests: a busybox rootfs in two layers, a
// Docker-like default spec, and blocking helpers that play the keeper's
// part (poll the report, release, reap with waitid on the pidfd).

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "exec/spawn/spawn.hpp"
#include "exec/spec.hpp"

namespace spawn_test {

// Exits 77 with the reason unless the tests can run here: root, overlayfs,
// a static busybox.
void skip_unless_able();

// A directory under /tmp removed with everything in it.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Two image layers: bottom has busybox, its applet links, /etc/passwd,
// /etc/group, /etc/layer ("bottom") and test files; top has /etc/layer
// ("top").
class image {
 public:
  image();
  const std::string& dir() const { return dir_.path(); }
  std::string top() const { return dir() + "/top"; }
  std::string bottom() const { return dir() + "/bottom"; }

  // A fresh upper/work/target for one container, named `name`.
  ringcri::exec::rootfs_spec rootfs(const std::string& name) const;

 private:
  temp_dir dir_;
};

// Docker's defaults: new mount/pid/net/ipc/uts/cgroup namespaces, /proc,
// /dev (tmpfs), /dev/pts, /dev/shm, /dev/mqueue, /sys, the usual devices
// and Docker's 14 default capabilities.
ringcri::exec::container_spec default_spec(const ringcri::exec::rootfs_spec& rootfs,
                                           std::vector<std::string> args);

std::vector<std::string> docker_default_caps();

// Polls until the report has something, then reads it.
ringcri::exec::report wait_report(int report_fd);

// For clone_exec: waits for the first child's pid report, reaps the first
// child and holds the process that execs by its own pidfd in `x`, as the
// keeper does; returns the report after that (exec_done or the error), or
// the first child's error.
ringcri::exec::report wait_exec(ringcri::exec::child& x);

struct exit_info {
  int code = -1;   // exit status, or -1 when killed
  int signal = 0;  // the signal that killed it
};
exit_info reap(int pidfd);

// A pipe whose read end the test keeps.
struct pipe_pair {
  ringcri::unique_fd read, write;
};
pipe_pair make_pipe();
std::string read_all(int fd);

// A whole container life: clone, wait for 'R', release, wait for the exec,
// read its stdout and stderr to EOF, reap it.
struct run_result {
  ringcri::exec::report created;  // ready, or the error
  ringcri::exec::report started;  // exec_done, or the error
  std::string out, err;
  exit_info exit;
};
// `rootfs_mount`, `mount_base`: see clone_container.
run_result run(const ringcri::exec::container_spec& spec, int rootfs_mount = -1,
               int mount_base = -1);

// Clones, releases and waits for the exec of a long-running container.
ringcri::exec::child start(const ringcri::exec::container_spec& spec,
                           const ringcri::exec::stdio_fds& io = {});
void kill_and_reap(ringcri::exec::child& c);

// readlink /proc/<pid>/ns/<kind>; pid 0 = self.
std::string ns_link(pid_t pid, const std::string& kind);

// A field of /proc/<pid>/status ("CapBnd").
std::string status_field(pid_t pid, const std::string& field);

// The lines of /proc/self/mountinfo that mention `path`. Only these are
// compared: other mounts on the host may come and go meanwhile.
std::vector<std::string> mounts_under(const std::string& path);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

}  // namespace spawn_test
