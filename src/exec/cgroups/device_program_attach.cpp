// Loading a device program and attaching it to a cgroup with bpf(2).

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <string_view>

#include "exec/cgroups/device_program.hpp"

namespace ringcri::exec::cgroups {

namespace {

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof(attr)); }

std::uint64_t address_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// The verifier's log: large enough for any allow list we compile (a few
// lines per instruction); a longer one is cut by the kernel (ENOSPC).
constexpr std::size_t log_size = 64 * 1024;

long load(const std::vector<bpf_insn>& program, char* log, std::size_t log_capacity) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = address_of(program.data());
  attr.insn_cnt = static_cast<std::uint32_t>(program.size());
  attr.license = address_of("GPL");
  static_assert(sizeof(device_program_name) <= sizeof(attr.prog_name));
  std::memcpy(attr.prog_name, device_program_name, sizeof(device_program_name));
  if (log != nullptr) {
    attr.log_level = 1;
    attr.log_buf = address_of(log);
    attr.log_size = static_cast<std::uint32_t>(log_capacity);
  }
  // EAGAIN: the verifier was interrupted by a signal; libbpf tries 5 times.
  long fd = -1;
  for (int attempt = 0; attempt < 5; ++attempt) {
    fd = bpf(BPF_PROG_LOAD, attr);
    if (fd >= 0 || errno != EAGAIN) break;
  }
  return fd;
}

result<bpf_prog_info> info_of(int prog_fd) {
  bpf_prog_info info;
  std::memset(&info, 0, sizeof(info));
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.info.bpf_fd = static_cast<std::uint32_t>(prog_fd);
  attr.info.info_len = sizeof(info);
  attr.info.info = address_of(&info);
  if (bpf(BPF_OBJ_GET_INFO_BY_FD, attr) != 0) return fail_errno(errno, "read program info");
  return info;
}

// The ids of the device programs attached to the cgroup itself (not those
// it inherits).
result<std::vector<std::uint32_t>> attached_ids(int cgroup_fd) {
  std::vector<std::uint32_t> ids(8);
  for (;;) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = static_cast<std::uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = address_of(ids.data());
    attr.query.prog_cnt = static_cast<std::uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return ids;
    }
    // ENOSPC: more than fit; prog_cnt says how many there are.
    if (errno != ENOSPC || attr.query.prog_cnt <= ids.size())
      return fail_errno(errno, "list attached programs");
    ids.resize(attr.query.prog_cnt);
  }
}

// Detaches from the cgroup those of `ids` that are programs of ours but
// `keep_id`.
result<void> detach_older(int cgroup_fd, const std::vector<std::uint32_t>& ids,
                          std::uint32_t keep_id) {
  for (std::uint32_t id : ids) {
    if (id == keep_id) continue;
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    unique_fd prog(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, attr)));
    if (!prog) {
      if (errno == ENOENT) continue;  // freed meanwhile
      return fail_errno(errno, fmt::format("open attached program {}", id));
    }
    auto info = info_of(prog.get());
    if (!info)
      return tl::unexpected(
          std::move(info.error()).context(fmt::format("attached program {}", id)));
    if (std::string_view(info->name) != device_program_name) continue;  // not ours
    std::memset(&attr, 0, sizeof(attr));
    attr.target_fd = static_cast<std::uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<std::uint32_t>(prog.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (bpf(BPF_PROG_DETACH, attr) != 0 && errno != ENOENT)
      return fail_errno(errno, fmt::format("detach the earlier program {}", id));
  }
  return {};
}

}  // namespace

result<unique_fd> load_device_program(const std::vector<bpf_insn>& program) {
  // Without a log first: the verifier is faster when it writes none, and
  // it is wanted only to say why a load failed.
  unique_fd fd(static_cast<int>(load(program, nullptr, 0)));
  if (fd) return fd;
  const int load_errno = errno;
  std::string log(log_size, '\0');
  unique_fd again(static_cast<int>(load(program, log.data(), log.size())));
  if (again) return again;  // refused once, taken now: nothing to report
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n') log.pop_back();
  error failed = error::from_errno(
      load_errno, fmt::format("load device program ({} instructions)", program.size()));
  if (!log.empty())
    failed = error(failed.kind(), fmt::format("{}; verifier log:\n{}", failed.message(), log),
                   load_errno);
  return tl::unexpected(std::move(failed));
}

result<void> attach_device_program(const std::string& cgroup_dir, const unique_fd& program) {
  const std::string what = fmt::format("device program of cgroup {}", cgroup_dir);
  unique_fd dir(::open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return fail_errno(errno, fmt::format("{}: open", what));
  auto info = info_of(program.get());
  if (!info) return tl::unexpected(std::move(info.error()).context(what));

  // What is there before, to detach once the new one is in. (The kernel
  // refuses to attach one program twice to a cgroup: EINVAL.)
  auto before = attached_ids(dir.get());
  if (!before) return tl::unexpected(std::move(before.error()).context(what));
  if (std::find(before->begin(), before->end(), info->id) == before->end()) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.target_fd = static_cast<std::uint32_t>(dir.get());
    attr.attach_bpf_fd = static_cast<std::uint32_t>(program.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, attr) != 0) return fail_errno(errno, fmt::format("{}: attach", what));
  }
  if (auto older = detach_older(dir.get(), *before, info->id); !older)
    return tl::unexpected(std::move(older.error()).context(what));
  return {};
}

namespace {

// Programs loaded once and attached to every cgroup that wants the same
// rules: most containers want the defaults, and the verifier's pass over a
// program costs more than the rest of a container's device set-up. Held
// for the life of the process; a program is freed by the kernel once no
// fd and no cgroup holds it. Past `capacity` distinct rule sets (devices
// asked per container) the oldest fds are closed.
class loaded_programs {
 public:
  static constexpr std::size_t capacity = 32;

  result<std::shared_ptr<const unique_fd>> get(const std::vector<bpf_insn>& program) {
    std::string key(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(bpf_insn));
    {
      std::lock_guard lock(mutex_);
      for (const auto& [k, fd] : loaded_)
        if (k == key) return fd;
    }
    auto loaded = load_device_program(program);
    if (!loaded) return tl::unexpected(std::move(loaded.error()));
    auto fd = std::make_shared<const unique_fd>(std::move(*loaded));
    std::lock_guard lock(mutex_);
    if (loaded_.size() >= capacity) loaded_.erase(loaded_.begin());
    loaded_.emplace_back(std::move(key), fd);
    return fd;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::shared_ptr<const unique_fd>>> loaded_;
};

loaded_programs& programs() {
  static loaded_programs p;
  return p;
}

}  // namespace

result<void> attach_device_program(const std::string& cgroup_dir,
                                   const std::vector<device_rule>& allowed) {
  auto program = compile_device_program(allowed);
  if (!program)
    return tl::unexpected(std::move(program.error()).context(fmt::format("cgroup {}", cgroup_dir)));
  auto loaded = programs().get(*program);
  if (!loaded)
    return tl::unexpected(std::move(loaded.error()).context(fmt::format("cgroup {}", cgroup_dir)));
  return attach_device_program(cgroup_dir, **loaded);
}

}  // namespace ringcri::exec::cgroups
