// Making, removing and listing cgroups in every hierarchy (see hierarchy.hpp).

#include "exec/cgroups/hierarchy.hpp"

#include <cstdlib>

#include <dirent.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <thread>

#include "exec/cgroups/cgroup_files.hpp"

namespace ringcri::exec::cgroups {

namespace {

bool has_controller(const cgroup_mount& m, std::string_view controller) {
  return std::find(m.controllers.begin(), m.controllers.end(), controller) != m.controllers.end();
}

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

// Removes what a failed create made.
class create_undo {
 public:
  create_undo() = default;
  create_undo(const create_undo&) = delete;
  create_undo& operator=(const create_undo&) = delete;
  ~create_undo() {
    if (dismissed_) return;
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) ::rmdir(it->c_str());
  }
  void made(std::string dir) { dirs_.push_back(std::move(dir)); }
  void dismiss() { dismissed_ = true; }

 private:
  std::vector<std::string> dirs_;
  bool dismissed_ = false;
};

struct dir_closer {
  void operator()(DIR* d) const { ::closedir(d); }
};

// rmdir, retried while the cgroup is busy: processes that were just
// killed leave it a moment after their exit is seen.
result<void> rmdir_cgroup(const std::string& dir) {
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    if (errno != EBUSY || attempt == 10)
      return fail_errno(errno, fmt::format("remove cgroup {}", dir));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Removes `dir` and the cgroups below it, deepest first.
result<void> remove_tree(const std::string& dir) {
  std::vector<std::string> children;
  {
    std::unique_ptr<DIR, dir_closer> d(::opendir(dir.c_str()));
    if (!d) {
      if (errno == ENOENT) return {};
      return fail_errno(errno, fmt::format("list cgroup {}", dir));
    }
    while (struct dirent* e = ::readdir(d.get())) {
      std::string_view name = e->d_name;
      if (e->d_type != DT_DIR || name == "." || name == "..") continue;
      children.push_back(fmt::format("{}/{}", dir, name));
    }
  }
  for (const auto& child : children)
    if (auto r = remove_tree(child); !r) return r;
  return rmdir_cgroup(dir);
}

result<void> read_pids(const std::string& procs, std::vector<pid_t>& out) {
  auto text = detail::read_control(procs);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return {};
    return tl::unexpected<error>(text.error());
  }
  const char* p = text->data();
  const char* end = p + text->size();
  while (p < end) {
    pid_t pid = 0;
    auto [next, ec] = std::from_chars(p, end, pid);
    if (ec == std::errc()) out.push_back(pid);
    p = next;
    while (p < end && (*p < '0' || *p > '9')) ++p;
  }
  return {};
}

}  // namespace

std::string_view to_string(layout kind) {
  switch (kind) {
    case layout::v1:
      return "v1";
    case layout::hybrid:
      return "hybrid";
    case layout::v2:
      return "v2";
  }
  return "unknown";
}

result<hierarchy> hierarchy::detect() {
  auto text = detail::read_control("/proc/self/mountinfo");
  if (!text) return tl::unexpected<error>(text.error());
  return detect_from(*text);
}

result<hierarchy> hierarchy::detect_from(std::string_view mountinfo_text) {
  auto mounts = parse_cgroup_mounts(mountinfo_text);
  if (!mounts) return tl::unexpected<error>(mounts.error());
  std::stable_partition(mounts->begin(), mounts->end(),
                        [](const cgroup_mount& m) { return !m.unified; });
  const bool v2 = !mounts->empty() && mounts->back().unified;
  const bool v1 = !mounts->empty() && !mounts->front().unified;
  if (!v1 && !v2)
    return fail(error_kind::failed_precondition,
                "no cgroup hierarchy is mounted (no cgroup or cgroup2 mount in mountinfo)");
  if (std::count_if(mounts->begin(), mounts->end(), [](auto& m) { return m.unified; }) > 1)
    return fail(error_kind::failed_precondition, "two cgroup2 hierarchies are mounted");
  return hierarchy(v1 && v2 ? layout::hybrid : v1 ? layout::v1 : layout::v2, std::move(*mounts));
}

const cgroup_mount* hierarchy::unified() const {
  if (!mounts_.empty() && mounts_.back().unified) return &mounts_.back();
  return nullptr;
}

const cgroup_mount* hierarchy::mount_of(std::string_view controller) const {
  for (const auto& m : mounts_)
    if (!m.unified && has_controller(m, controller)) return &m;
  const cgroup_mount* u = unified();
  if (u == nullptr) return nullptr;
  auto listed = detail::read_control(dir_of(*u, "/") + "/cgroup.controllers");
  if (!listed) return nullptr;
  for (const auto& c : detail::words(*listed))
    if (c == controller) return u;
  return nullptr;
}

bool hierarchy::exists(std::string_view path) const {
  struct stat st;
  for (const auto& m : mounts_)
    if (::stat(dir_of(m, path).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
  return false;
}

std::string hierarchy::dir_of(const cgroup_mount& mount, std::string_view path) {
  std::string_view base = mount.mount_point;
  while (base.size() > 1 && base.back() == '/') base.remove_suffix(1);
  if (path == "/" || path.empty()) return std::string(base);
  if (base == "/") return std::string(path);
  return fmt::format("{}{}", base, path);
}

std::vector<std::string> hierarchy::procs_files(std::string_view path) const {
  std::vector<std::string> out;
  out.reserve(mounts_.size());
  for (const auto& m : mounts_) out.push_back(dir_of(m, path) + "/cgroup.procs");
  return out;
}

std::string hierarchy::describe(std::string_view path) const {
  std::string out = fmt::format("cgroup {} ({}:", path, to_string(kind_));
  for (const auto& m : mounts_) out += fmt::format(" {}", dir_of(m, path));
  out += ")";
  return out;
}

result<std::vector<std::string>> hierarchy::create(std::string_view path, bool with_cpuset) const {
  auto context = [&](error e) {
    return tl::unexpected<error>(std::move(e).context(fmt::format("create cgroup {}", path)));
  };
  if (auto r = validate_cgroupfs_path(path); !r) return context(r.error());
  const auto parts = components(path);

  create_undo undo;
  std::vector<std::string> procs;
  procs.reserve(mounts_.size());
  for (const auto& m : mounts_) {
    const bool cpuset = !m.unified && has_controller(m, "cpuset");
    if (cpuset && !with_cpuset) continue;
    std::string dir = dir_of(m, "/");
    for (auto part : parts) {
      std::string parent = dir;
      if (m.unified) detail::enable_subtree_controllers(parent);
      dir = fmt::format("{}/{}", dir == "/" ? "" : dir, part);
      if (::mkdir(dir.c_str(), 0755) == 0)
        undo.made(dir);
      else if (errno != EEXIST)
        return context(error::from_errno(errno, fmt::format("make directory {}", dir)));
      if (cpuset)
        if (auto r = detail::inherit_cpuset(parent, dir); !r) return context(r.error());
    }
    procs.push_back(dir + "/cgroup.procs");
  }
  undo.dismiss();
  return procs;
}

result<void> hierarchy::remove(std::string_view path) const {
  if (auto r = validate_cgroupfs_path(path); !r) return r;
  if (path == "/") return fail(error_kind::invalid_argument, "refusing to remove the root cgroup");
  result<void> first = {};
  for (const auto& m : mounts_) {
    auto r = remove_tree(dir_of(m, path));
    if (!r && first) first = std::move(r);
  }
  return first;
}

result<std::vector<pid_t>> hierarchy::pids(std::string_view path) const {
  if (auto r = validate_cgroupfs_path(path); !r) return tl::unexpected<error>(r.error());
  std::vector<pid_t> out;
  for (const auto& m : mounts_)
    if (auto r = read_pids(dir_of(m, path) + "/cgroup.procs", out); !r)
      return tl::unexpected<error>(r.error());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// SIGKILL to each of `pids`; a process gone meanwhile is fine.
result<void> kill_each(const std::vector<pid_t>& pids, std::string_view path) {
  for (pid_t pid : pids)
    if (::kill(pid, SIGKILL) != 0 && errno != ESRCH)
      return fail_errno(errno, fmt::format("kill process {} of cgroup {}", pid, path));
  return {};
}

}  // namespace

result<void> hierarchy::kill_all(std::string_view path) const {
  if (auto r = validate_cgroupfs_path(path); !r) return r;
  if (path == "/") return fail(error_kind::invalid_argument, "refusing to kill the root cgroup");
  // cgroup.kill (Linux 5.14): the kernel kills every process of the cgroup
  // and its descendants, forks in flight included. On a hybrid node every
  // process of ours is in the unified hierarchy too.
  if (const auto* u = unified()) {
    const std::string dir = dir_of(*u, path);
    if (detail::exists(dir + "/cgroup.kill")) {
      if (auto r = detail::write_control(dir + "/cgroup.kill", "1"); !r) return r;
      auto left = pids(path);
      if (!left) return tl::unexpected<error>(left.error());
      return kill_each(*left, path);
    }
  }
  // v1: frozen, a process cannot fork between the listing and the kill.
  const cgroup_mount* freezer = mount_of("freezer");
  const std::string state =
      freezer && !freezer->unified ? dir_of(*freezer, path) + "/freezer.state" : std::string();
  if (!state.empty() && detail::exists(state)) {
    if (auto r = detail::write_control(state, "FROZEN"); !r) return r;
    // FREEZING until every task stopped; a task in an uninterruptible
    // sleep can hold it there, so the wait is bounded and the kill goes on.
    for (int i = 0; i < 100; ++i) {
      auto now = detail::read_control(state);
      if (!now || now->rfind("FROZEN", 0) == 0) break;
      ::usleep(1000);
    }
    auto listed = pids(path);
    result<void> killed = listed ? kill_each(*listed, path) : tl::unexpected<error>(listed.error());
    // A killed task dies only once it runs again.
    auto thawed = detail::write_control(state, "THAWED");
    if (!killed) return killed;
    return thawed;
  }
  // Neither: kill what is listed until nothing is.
  for (int round = 0; round < 10; ++round) {
    auto listed = pids(path);
    if (!listed) return tl::unexpected<error>(listed.error());
    if (listed->empty()) break;
    if (auto r = kill_each(*listed, path); !r) return r;
  }
  return {};
}

std::uint64_t hierarchy::oom_kills(std::string_view path) const {
  for (const auto& m : mounts_) {
    const bool memory = m.unified ? false : has_controller(m, "memory");
    std::string file;
    if (memory) {
      file = dir_of(m, path) + "/memory.oom_control";
    } else if (m.unified) {
      file = dir_of(m, path) + "/memory.events";
    } else {
      continue;
    }
    auto text = detail::read_control(file);
    if (!text) continue;  // v2 without the memory controller, or gone
    auto at = text->find("oom_kill ");
    if (at == std::string::npos) continue;
    return std::strtoull(text->c_str() + at + 9, nullptr, 10);
  }
  return 0;
}

}  // namespace ringcri::exec::cgroups
