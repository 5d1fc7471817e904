// The mount namespace containers are cloned from (see mount_base.hpp).

#include "exec/spawn/mount_base.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "exec/cgroups/mountinfo.hpp"
#include "exec/spawn/child.hpp"
#include "exec/spawn/clone.hpp"
#include "exec/spawn/report.hpp"
#include "exec/spawn/spawn.hpp"

namespace ringcri::exec {

using namespace spawn_detail;

namespace {

// The child's part: its new namespace made private, the holds and the
// image layers unmounted.
result<void> trim_namespace() {
  if (::mount("", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    return fail_errno(errno, "make \"/\" rprivate");
  auto mounts = cgroups::read_mountinfo();
  if (!mounts) return tl::unexpected(std::move(mounts.error()));
  // The namespace holds: file system type nsfs. The layers mounted as
  // EROFS images: a container takes its lowers in the host's namespace
  // (the overlay made by the daemon, idmapped lowers opened before the
  // child joins the base), and a layer removed later must not stay in
  // use here, its image's space held, until the keeper ends.
  std::vector<std::string> holds;
  for (auto& m : *mounts)
    if (m.fstype == "nsfs" || (m.fstype == "erofs" && m.mount_point != "/"))
      holds.push_back(std::move(m.mount_point));
  // Last mounted first: one stacked on another goes before it.
  for (auto it = holds.rbegin(); it != holds.rend(); ++it)
    if (::umount2(it->c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
      return fail_errno(errno, fmt::format("unmount the namespace held on \"{}\"", *it));
  return {};
}

}  // namespace

result<unique_fd> make_mount_base() {
  auto report = make_report_pipe();
  if (!report) return tl::unexpected(report.error());
  unique_fd report_read = std::move(report->read), report_write = std::move(report->write);

  auto cloned = clone3_pidfd(CLONE_NEWNS);
  if (cloned && cloned->pid == 0)
    run_child(report_write.get(), [&] {
      enter_child("ringcri-mount-base", {report_write.get()});
      if (auto r = trim_namespace(); !r) report_failure(report_write.get(), r.error());
      report_ready(report_write.get());
      for (;;) ::pause();  // until the parent has opened the namespace and kills us
    });
  if (!cloned) return tl::unexpected(std::move(cloned.error()).context("make the mount base"));
  report_write.reset();
  unique_fd pidfd = std::move(cloned->pidfd);

  pollfd p{report_read.get(), POLLIN, 0};
  while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  auto said = read_report(report_read.get());
  result<unique_fd> base = tl::unexpected(error(error_kind::internal, ""));
  if (!said) {
    base = tl::unexpected(said.error());
  } else if (said->kind != report_kind::ready) {
    base = fail(error_kind::internal, "make the mount base: " +
                                        (said->message.empty() ? "its child exited" : said->message));
  } else {
    unique_fd fd(::open(fmt::format("/proc/{}/ns/mnt", cloned->pid).c_str(), O_RDONLY | O_CLOEXEC));
    if (fd)
      base = std::move(fd);
    else
      base = fail_errno(errno, "make the mount base: open its namespace");
  }
  kill_and_reap(pidfd.get());
  return base;
}

namespace spawn_detail {

result<void> enter_mount_base(int base_fd) {
  unique_fd base(base_fd);
  if (::setns(base_fd, CLONE_NEWNS) < 0) return fail_errno(errno, "join the mount base");
  if (::unshare(CLONE_NEWNS) < 0) return fail_errno(errno, "copy the mount base");
  return {};
}

}  // namespace spawn_detail

}  // namespace ringcri::exec
