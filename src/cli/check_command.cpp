// ringcri check: the kernel features this node has that ringcri uses, one
// line each, found with the daemon's own probes and code paths: ok, or
// what is missing and what ringcri does without it.
//
// Required: what the daemon refuses to start without (main.cpp logs it
// critical and exits 1: the ring, the cgroup hierarchies, the layer store
// image.layer_store names) and what every container needs (overlayfs,
// clone3 with pidfds, the opcodes the reactor submits, on cgroup2 the
// device program CreateContainer attaches, seccomp for the pod init).
// Optional: what the daemon starts without and only warns about or works
// around (user namespaces, EROFS layers, favordynmods, nftables).
//
// Nothing of the node changes: mounts are made detached and never
// attached, a BPF program is loaded and not attached, children exit at
// once, and the one scratch directory (under the root dir when it exists,
// else /tmp) is removed.

#include <fmt/format.h>
#include <linux/sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cri/spec/capabilities.hpp"
#include "cri/spec/seccomp.hpp"
#include "exec/cgroups/device_program.hpp"
#include "exec/cgroups/hierarchy.hpp"
#include "exec/sandbox/user_namespace_probe.hpp"
#include "exec/spawn/clone.hpp"
#include "exec/spawn/seccomp.hpp"
#include "exec/spawn/spawn.hpp"
#include "image/unpack/erofs_layer_store.hpp"
#include "net/nft/nat_table.hpp"
#include "reactor/reactor.hpp"
#include "reactor/ring_probe.hpp"

namespace ringcri::cli {

namespace fs = std::filesystem;

namespace {

enum class need { required, optional };

class report {
 public:
  void ok(std::string_view name, const std::string& detail) { line(name, "ok: " + detail); }
  void missing(std::string_view name, need n, const std::string& detail) {
    line(name, (n == need::required ? "missing (required): " : "missing (optional): ") + detail);
    if (n == need::required) failed_ = true;
  }
  void line(std::string_view name, const std::string& text) {
    std::printf("%-26.*s %s\n", static_cast<int>(name.size()), name.data(), text.c_str());
  }
  int exit_status() const { return failed_ ? 1 : 0; }

 private:
  bool failed_ = false;
};

// A directory for probes that need files, removed at the end.
class scratch_dir {
 public:
  explicit scratch_dir(const fs::path& root) {
    std::error_code ec;
    std::string tmpl =
        ((fs::is_directory(root, ec) ? root : fs::path("/tmp")) / ".ringcri-check-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct kernel_version {
  int major = 0;
  int minor = 0;
  std::string release;
  bool at_least(int ma, int mi) const { return major > ma || (major == ma && minor >= mi); }
};

kernel_version running_kernel() {
  kernel_version k;
  utsname u{};
  if (::uname(&u) == 0) {
    k.release = u.release;
    std::sscanf(u.release, "%d.%d", &k.major, &k.minor);
  }
  return k;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// Runs `in_child` in a clone3 child (pidfd, `flags`) and reaps it: its
// exit status, or the clone's error.
template <class F>
result<int> in_child(std::uint64_t flags, F in_child) {
  auto child = exec::spawn_detail::clone3_pidfd(flags);
  if (!child) return tl::unexpected(std::move(child.error()));
  if (child->pid == 0) ::_exit(in_child());
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(child->pidfd.get()), &info,
                  WEXITED) != 0) {
    if (errno != EINTR) return fail_errno(errno, "waitid");
  }
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

void check_ring(report& out) {
  auto ring = reactor::probe_ring();
  if (ring.opcodes.empty() && !ring.error.empty()) {
    out.missing("io_uring", need::required, ring.error + ": the daemon cannot start");
    out.missing("io_uring opcodes", need::required, "no ring to ask");
    return;
  }
  std::string flags = "a ring with " + reactor::setup_flags_text(ring.setup_flags);
  if (!ring.single_issuer) flags += " (no SINGLE_ISSUER|DEFER_TASKRUN, Linux 6.1+: a plain ring)";
  out.ok("io_uring", flags);
  std::vector<std::string> absent;
  for (const auto& op : ring.opcodes)
    if (!op.supported) absent.push_back(fmt::format("{} ({})", op.name, op.opcode));
  if (!ring.error.empty())
    out.missing("io_uring opcodes", need::required, ring.error);
  else if (absent.empty())
    out.ok("io_uring opcodes", fmt::format("all {} the reactor submits", ring.opcodes.size()));
  else
    out.missing("io_uring opcodes", need::required,
                fmt::format("{}: the operations that submit them fail", join(absent, ", ")));
}

std::string describe_layout(const exec::cgroups::hierarchy& cgroups) {
  std::vector<std::string> v1;
  std::string v2;
  for (const auto& m : cgroups.mounts()) {
    if (!m.unified) {
      v1.push_back(join(m.controllers, ","));
      continue;
    }
    std::ifstream in(m.mount_point + "/cgroup.controllers");
    std::string controllers;
    std::getline(in, controllers);
    v2 = fmt::format("cgroup2 at {} (controllers: {})", m.mount_point,
                     controllers.empty() ? "none" : controllers);
  }
  std::string out(exec::cgroups::to_string(cgroups.kind()));
  if (!v1.empty()) out += ": v1 " + join(v1, " ");
  if (!v2.empty()) out += (v1.empty() ? ": " : "; ") + v2;
  return out;
}

void check_favordynmods(report& out, const config::config& cfg,
                        const exec::cgroups::hierarchy& cgroups, const kernel_version& kernel) {
  const char* name = "cgroup favordynmods";
  const std::string cost = "moving a process into a cgroup waits for an RCU grace period";
  const auto* unified = cgroups.unified();
  if (unified == nullptr)
    return out.missing(name, need::optional, "no cgroup2 hierarchy to set it on: " + cost);
  const auto& opts = unified->options;
  if (std::find(opts.begin(), opts.end(), "favordynmods") != opts.end())
    return out.ok(name, "on (" + unified->mount_point + ")");
  if (!cfg.cgroup_favordynmods)
    return out.missing(name, need::optional,
                       "off, and cgroup_favordynmods = false leaves it so: " + cost);
  if (!kernel.at_least(6, 0)) return out.missing(name, need::optional, "needs Linux 6.0: " + cost);
  out.ok(name, "off now; the daemon switches it on at start (cgroup_favordynmods = true)");
}

void check_devices(report& out, const exec::cgroups::hierarchy& cgroups) {
  const char* name = "device rules";
  const auto* devices = cgroups.mount_of("devices");
  const bool v1 = devices != nullptr && !devices->unified;
  if (cgroups.unified() == nullptr) {
    if (v1) return out.ok(name, "the v1 devices controller (BPF device programs are cgroup v2's)");
    return out.missing(
        name, need::optional,
        "no v1 devices controller and no cgroup2: containers' device rules are not enforced");
  }
  auto program = exec::cgroups::compile_device_program(exec::cgroups::default_device_rules());
  auto loaded = program ? exec::cgroups::load_device_program(*program)
                        : result<unique_fd>(tl::unexpected(program.error()));
  if (!loaded)
    return out.missing(name, need::required,
                       loaded.error().message() +
                           ": CreateContainer fails (its cgroup2 device program cannot be loaded)");
  out.ok(name, std::string("a BPF device program on each container's cgroup2 directory") +
                   (v1 ? ", and the v1 devices controller" : ""));
}

void check_user_namespaces(report& out, const config::config& cfg) {
  auto userns = exec::sandbox::probe_user_namespaces(cfg.root_dir);
  if (userns.supported)
    out.ok("user namespaces",
           "user namespaces, and idmapped mounts on the root dir's file system and on tmpfs");
  else
    out.missing("user namespaces", need::optional,
                userns.reason + ": pods asking for hostUsers: false are refused");
}

void check_erofs(report& out, const config::config& cfg, const fs::path& scratch) {
  const char* name = "EROFS file-backed mounts";
  const std::string& kind = cfg.image.layer_store;
  auto supported = image::erofs_layer_store::supported(scratch);
  if (supported) {
    out.ok(name,
           kind == "dir"
               ? "the kernel mounts EROFS images from files (unused: image.layer_store = \"dir\")"
               : fmt::format("layers are EROFS images (image.layer_store = \"{}\")", kind));
  } else if (kind == "erofs") {
    out.missing(name, need::required,
                supported.error().message() +
                    ": the daemon cannot open its layer store (image.layer_store = \"erofs\")");
  } else {
    out.missing(name, need::optional,
                supported.error().message() +
                    (kind == "dir" ? " (unused: image.layer_store = \"dir\")"
                                   : ": layers are kept as directories (slower pulls)"));
  }
}

void check_overlay(report& out, const fs::path& scratch) {
  const char* name = "overlayfs";
  exec::rootfs_spec rootfs;
  for (const char* dir : {"lower", "upper", "work", "rootfs"}) {
    std::error_code ec;
    fs::create_directories(scratch / "overlay" / dir, ec);
  }
  rootfs.lowers = {(scratch / "overlay" / "lower").string()};
  rootfs.upper = (scratch / "overlay" / "upper").string();
  rootfs.work = (scratch / "overlay" / "work").string();
  rootfs.target = (scratch / "overlay" / "rootfs").string();
  auto mounted = exec::make_detached_overlay(rootfs);
  if (mounted) return out.ok(name, "made ahead of each container (fsmount, lowerdir+)");
  std::ifstream filesystems("/proc/filesystems");
  std::stringstream text;
  text << filesystems.rdbuf();
  if (text.str().find("\toverlay\n") != std::string::npos)
    return out.missing(name, need::optional,
                       mounted.error().message() +
                           " (lowerdir+ needs Linux 6.8): each container's set-up mounts it");
  out.missing(name, need::required,
              mounted.error().message() + ": no container can have its root file system");
}

void check_clone3(report& out) {
  const std::uint64_t namespaces =
      CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP;
  auto status = in_child(namespaces, [] { return 0; });
  if (!status)
    return out.missing("clone3 + pidfd", need::required,
                       status.error().message() + ": no container can start");
  if (*status != 0)
    return out.missing("clone3 + pidfd", need::required,
                       fmt::format("the child ended with status {}", *status));
  out.ok("clone3 + pidfd",
         "a child in new mount, pid, uts, ipc, net and cgroup namespaces, reaped by pidfd");
}

void check_nftables(report& out, const config::config& cfg) {
  const char* name = "nftables";
  reactor::reactor r;
  auto listed = r.block_on([]() -> reactor::task<result<std::size_t>> {
    auto nf = co_await net::nft::open(-1);
    if (!nf) co_return tl::unexpected(std::move(nf.error()));
    co_return co_await net::nft::count(*nf, "ringcri-check", net::nft::share::all);
  }());
  if (listed)
    return out.ok(name, "netlink nf_tables answers (the in-process bridge and portmap's NAT)");
  if (!cfg.cni.native)
    return out.missing(name, need::optional,
                       listed.error().message() + " (unused: cni.native = \"off\")");
  out.missing(name, need::optional,
              listed.error().message() +
                  ": pod networks with ipMasq or port mappings fail in-process; with "
                  "cni.native = \"off\" the plugins do them");
}

void check_seccomp(report& out) {
  const char* name = "seccomp";
  auto filter = exec::spawn_detail::compile_seccomp(
      cri::spec::runtime_default_profile(cri::spec::default_capabilities()));
  if (!filter) return out.missing(name, need::required, filter.error().message());
  auto status = in_child(0, [&] {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 100;
    auto loaded = exec::spawn_detail::load_seccomp(*filter);
    return loaded ? 0 : 101;
  });
  if (status && *status == 0) return out.ok(name, "the runtime/default filter loads");
  out.missing(
      name, need::required,
      (status ? fmt::format("loading a filter failed (child status {})", *status)
              : status.error().message()) +
          ": containers with a seccomp profile and pods sharing a pid namespace cannot start");
}

}  // namespace

int check_command(const effective_config& effective) {
  const auto& cfg = effective.cfg;
  report out;
  const auto kernel = running_kernel();
  out.line("kernel", kernel.release);
  scratch_dir scratch(cfg.root_dir);
  if (scratch.path().empty()) {
    std::fprintf(stderr, "ringcri: cannot make a scratch directory under %s or /tmp\n",
                 cfg.root_dir.c_str());
    return 1;
  }

  check_ring(out);
  auto cgroups = exec::cgroups::hierarchy::detect();
  if (!cgroups) {
    out.missing("cgroup layout", need::required,
                cgroups.error().message() + ": the daemon cannot start");
  } else {
    out.ok("cgroup layout", describe_layout(*cgroups));
    check_favordynmods(out, cfg, *cgroups, kernel);
  }
  check_user_namespaces(out, cfg);
  check_erofs(out, cfg, scratch.path());
  check_overlay(out, scratch.path());
  check_clone3(out);
  if (cgroups) check_devices(out, *cgroups);
  check_nftables(out, cfg);
  check_seccomp(out);
  return out.exit_status();
}

}  // namespace ringcri::cli
