#include "cgroup_layout_for_crun.hpp"


#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cgroup_tree.hpp"

namespace ringcri::bench {

namespace fs = std::filesystem;

namespace {

const fs::path cgroup_root = "/sys/fs/cgroup";
const fs::path unified = "/sys/fs/cgroup/unified";

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string joined(const std::vector<std::string>& w) {
  std::string out;
  for (const auto& s : w) out += (out.empty() ? "" : " ") + s;
  return out;
}

// One write(2) of `text` to a cgroup file; "" or why it failed.
std::string write_control(const fs::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return std::strerror(errno);
  ssize_t n = ::write(fd, text.data(), text.size());
  std::string err = n < 0 ? std::strerror(errno) : "";
  ::close(fd);
  return err;
}

// The same, retried for up to 2 s while the kernel says EBUSY (a child
// cgroup that enabled the controller, just removed).
std::string write_control_retried(const fs::path& path, const std::string& text) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    auto err = write_control(path, text);
    if (err != std::strerror(EBUSY) || std::chrono::steady_clock::now() > deadline) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// The hierarchy id /proc/cgroups gives `controller` (0: on cgroup v2), or
// -1 if it is not listed.
int hierarchy_of(const std::string& controller) {
  std::ifstream in("/proc/cgroups");
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string name;
    int hierarchy = -1;
    if (f >> name >> hierarchy && name == controller) return hierarchy;
  }
  return -1;
}

// mount -t cgroup -o <controller> cgroup <point>; a controller just taken
// out of subtree_control may be busy for a moment (its v2 css dying).
std::string mount_v1(const std::string& controller, const fs::path& point) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    if (::mount("cgroup", point.c_str(), "cgroup", 0, controller.c_str()) == 0) return "";
    int err = errno;
    if (err != EBUSY || std::chrono::steady_clock::now() > deadline) return std::strerror(err);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string unmount(const fs::path& point) {
  for (int i = 0; i < 25; ++i) {
    if (::umount2(point.c_str(), 0) == 0) return "";
    if (errno != EBUSY) return std::strerror(errno);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return std::strerror(EBUSY);
}

// The cgroups right under the v2 root that enable `controller` for their
// own children: while one does, the root cannot let it go (EBUSY).
std::vector<std::string> holders_of(const std::string& controller) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& child : fs::directory_iterator(unified, ec)) {
    if (!child.is_directory(ec)) continue;
    auto enabled = words(read_text(child.path() / "cgroup.subtree_control"));
    if (std::find(enabled.begin(), enabled.end(), controller) != enabled.end())
      out.push_back(child.path().string());
  }
  return out;
}

}  // namespace

cgroup_layout_for_crun::cgroup_layout_for_crun() {
  // Hybrid: v2 at /sys/fs/cgroup/unified, not at /sys/fs/cgroup itself.
  if (fs::exists(cgroup_root / "cgroup.controllers") || !fs::exists(unified / "cgroup.controllers"))
    return;
  auto controllers = words(read_text(unified / "cgroup.controllers"));
  if (controllers.empty()) return;
  original_subtree_control_ = read_text(unified / "cgroup.subtree_control");
  auto enabled = words(original_subtree_control_);

  std::printf(
      "cgroups: crun 1.8 refuses this hybrid layout while the v2 hierarchy at %s holds "
      "controllers (%s); for the containerd+crun run (put back after it):\n",
      unified.c_str(), joined(controllers).c_str());
  for (const auto& name : controllers) {
    controller c{name, cgroup_root / name};
    c.was_enabled = std::find(enabled.begin(), enabled.end(), name) != enabled.end();
    if (c.was_enabled)
      std::printf("  echo -%s > %s\n", name.c_str(), (unified / "cgroup.subtree_control").c_str());
    if (!fs::exists(c.mount_point)) std::printf("  mkdir %s\n", c.mount_point.c_str());
    std::printf("  mount -t cgroup -o %s cgroup %s\n", name.c_str(), c.mount_point.c_str());
    moved_.push_back(c);
  }
  std::fflush(stdout);

  std::lock_guard lock(mutex_);
  try {
    for (auto& c : moved_)
      if (c.was_enabled)
        if (auto err = write_control_retried(unified / "cgroup.subtree_control", "-" + c.name);
            !err.empty()) {
          auto holders = holders_of(c.name);
          throw std::runtime_error("cannot take " + c.name + " out of " +
                                   (unified / "cgroup.subtree_control").string() + ": " + err +
                                   (holders.empty()
                                        ? ""
                                        : " (cgroups that enable it for their children, of another "
                                          "runtime still running: " +
                                              joined(holders) + ")"));
        }
    for (auto& c : moved_) {
      std::error_code ec;
      if (!fs::exists(c.mount_point)) {
        if (!fs::create_directory(c.mount_point, ec))
          throw std::runtime_error("cannot mkdir " + c.mount_point.string() + ": " + ec.message());
        c.made_dir = true;
      }
      if (auto err = mount_v1(c.name, c.mount_point); !err.empty())
        throw std::runtime_error("cannot mount the " + c.name + " v1 hierarchy on " +
                                 c.mount_point.string() + ": " + err);
      c.mounted = true;
    }
  } catch (...) {
    restore_locked();
    throw;
  }
}

cgroup_layout_for_crun::~cgroup_layout_for_crun() { restore(); }

bool cgroup_layout_for_crun::restore() {
  std::lock_guard lock(mutex_);
  return restore_locked();
}

bool cgroup_layout_for_crun::restore_locked() {
  if (moved_.empty() || restored_) return restored_ok_;
  restored_ = true;
  std::vector<std::string> problems;
  for (auto& c : moved_) {
    if (c.mounted) {
      if (auto err = unmount(c.mount_point); !err.empty())
        problems.push_back("umount " + c.mount_point.string() + ": " + err);
      else
        c.mounted = false;
    }
    // Back on v2 once the kernel lets the v1 hierarchy go. An umount with
    // a child cgroup left, even a dying one, keeps the hierarchy alive with
    // no mount: it has to be mounted again, once the children are gone
    // (rmdir of the ones left), and unmounted. An umount with none starts
    // the hierarchy's end, which takes RCU grace periods: seconds here (up
    // to 10 s with lazy RCU callbacks). A mount meanwhile waits for that
    // end and makes a new hierarchy, so each umount is given 15 s before
    // the next mount (mounting every 200 ms never let it go).
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::minutes(5);
    auto released_within = [&](std::chrono::steady_clock::duration patience) {
      auto until = std::min(std::chrono::steady_clock::now() + patience, deadline);
      for (;;) {
        if (hierarchy_of(c.name) <= 0) return true;
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    };
    int remounts = 0;
    std::vector<std::string> left;
    std::string last_error;
    while (!c.mounted && !released_within(std::chrono::seconds(15))) {
      if (std::chrono::steady_clock::now() >= deadline) {
        problems.push_back(c.name + " is still a v1 hierarchy (id " +
                           std::to_string(hierarchy_of(c.name)) +
                           " in /proc/cgroups) after 5 minutes and " + std::to_string(remounts) +
                           " remounts" + (left.empty() ? "" : "; cgroups left: " + joined(left)) +
                           (last_error.empty() ? "" : "; last error: " + last_error));
        break;
      }
      std::error_code ec;
      if (!fs::exists(c.mount_point)) fs::create_directory(c.mount_point, ec);
      if (auto err = mount_v1(c.name, c.mount_point); !err.empty()) {
        last_error = "mount: " + err;
        continue;
      }
      ++remounts;
      left = remove_cgroups_under(c.mount_point);
      if (auto err = unmount(c.mount_point); !err.empty()) {
        c.mounted = true;
        problems.push_back("umount " + c.mount_point.string() + " (again): " + err);
      }
    }
    if (hierarchy_of(c.name) == 0)
      std::printf("cgroups: the %s v1 hierarchy let go after %.1f s, %d remount%s\n",
                  c.name.c_str(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                  remounts, remounts == 1 ? "" : "s");
    if (c.was_enabled)
      if (auto err = write_control(unified / "cgroup.subtree_control", "+" + c.name); !err.empty())
        problems.push_back("cannot put " + c.name + " back into " +
                           (unified / "cgroup.subtree_control").string() + ": " + err);
    if (c.made_dir && !c.mounted) {
      if (::rmdir(c.mount_point.c_str()) != 0 && errno != ENOENT)
        problems.push_back("rmdir " + c.mount_point.string() + ": " + std::strerror(errno));
    }
  }
  auto now = read_text(unified / "cgroup.subtree_control");
  auto sorted = [](std::vector<std::string> w) {
    std::sort(w.begin(), w.end());
    return w;
  };
  if (sorted(words(now)) != sorted(words(original_subtree_control_)))
    problems.push_back((unified / "cgroup.subtree_control").string() + " is \"" +
                       joined(words(now)) + "\", was \"" +
                       joined(words(original_subtree_control_)) + "\"");
  restored_ok_ = problems.empty();
  if (restored_ok_) {
    std::printf("cgroups: put back (%s subtree_control \"%s\"; ", unified.c_str(),
                joined(words(now)).c_str());
    for (const auto& c : moved_)
      std::printf("%s%s on v2 again", &c == &moved_.front() ? "" : ", ", c.name.c_str());
    std::printf(")\n");
  } else {
    std::printf("WARNING: the node's cgroup layout could not all be put back:\n");
    for (const auto& p : problems) std::printf("WARNING:   %s\n", p.c_str());
    std::printf(
        "WARNING: by hand: umount /sys/fs/cgroup/<controller>, rmdir its child cgroups first "
        "if any, until /proc/cgroups shows hierarchy 0 for it; then echo +<controller> > %s\n",
        (unified / "cgroup.subtree_control").c_str());
  }
  std::fflush(stdout);
  return restored_ok_;
}

}  // namespace ringcri::bench
