#include "net/native/flannel.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "base/sys/atomic_file.hpp"
#include "base/sys/make_dirs.hpp"
#include "base/unique_fd.hpp"
#include "net/cni/network.hpp"
#include "net/native/bridge.hpp"
#include "net/native/bridge_config.hpp"
#include "net/native/nat_owner.hpp"
#include "net/nft/nat_table.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::net::native {

namespace {

using nlohmann::json;

// The whole of a small file; ENOENT when it is not there.
result<std::string> read_text(const std::string& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(errno, fmt::format("open {}", path));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(errno, fmt::format("read {}", path));
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

std::string saved_path(const flannel_config& config, const cni::attachment& pod) {
  return (std::filesystem::path(config.data_dir) / pod.container_id).string();
}

// subnet.env read and the delegate rendered and saved, as the plugin does
// before it runs the delegate. Blocking.
result<json> render_and_save(const flannel_config& config, const cni::attachment& pod) {
  auto text = read_text(config.subnet_file);
  auto env = text ? parse_subnet_env(*text, config.subnet_file)
                  : result<subnet_env>(tl::unexpected(std::move(text.error())));
  if (!env)
    return fail(error_kind::failed_precondition,
                fmt::format("failed to load flannel 'subnet.env' file: {}. Check the flannel pod "
                            "log for this node.",
                            env.error().message()));
  auto delegate = render_delegate(config, *env);
  if (!delegate) return tl::unexpected(std::move(delegate.error()));
  auto dirs = sys::make_dirs(config.data_dir, 0700, sys::durability::synced);
  if (!dirs) return tl::unexpected(std::move(dirs.error()));
  unique_fd dir(::open(config.data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return fail_errno(errno, fmt::format("open {}", config.data_dir));
  auto saved = sys::write_file_atomic(dir.get(), config.data_dir, pod.container_id,
                                      saved_form(*delegate), 0600, sys::durability::synced);
  if (!saved) return tl::unexpected(std::move(saved.error()));
  return delegate;
}

// The saved delegate config, or null when there is none to act on.
result<json> read_saved(const flannel_config& config, const cni::attachment& pod) {
  auto text = read_text(saved_path(config, pod));
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return json();  // DEL'd already
    return tl::unexpected(std::move(text.error()));
  }
  // One the plugin cannot read is left for reboot to clean, as it does.
  json d = json::parse(*text, nullptr, false);
  if (!d.is_object() || !d.contains("type") || !d["type"].is_string()) return json();
  return d;
}

}  // namespace

reactor::task<result<std::string>> flannel_add(const flannel_config& config,
                                               const cni::attachment& pod,
                                               const delegate_options& options) {
  auto delegate = co_await reactor::run_blocking([&] { return render_and_save(config, pod); });
  if (!delegate) co_return tl::unexpected(std::move(delegate.error()));
  auto bridge = choose_bridge(*delegate);
  if (bridge.config) {
    const std::string version = delegate->value("cniVersion", config.cni_version);
    co_return co_await bridge_add(*bridge.config, version, pod, options.host_netns_fd);
  }
  const std::string type = (*delegate)["type"].get<std::string>();
  std::string conf = saved_form(*delegate);
  auto out = co_await reactor::run_blocking([&] {
    return cni::run_delegate(cni::command::add, type, conf, pod, options.plugin_dirs,
                             options.timeout);
  });
  if (!out) co_return tl::unexpected(std::move(out.error()).context("failed to delegate add"));
  co_return out;
}

reactor::task<result<void>> flannel_del(const flannel_config& config, const cni::attachment& pod,
                                        const delegate_options& options) {
  auto delegate = co_await reactor::run_blocking([&] { return read_saved(config, pod); });
  if (!delegate) co_return tl::unexpected(std::move(delegate.error()));
  if (delegate->is_null()) co_return result<void>{};
  auto bridge = choose_bridge(*delegate);
  result<void> done;
  if (bridge.config) {
    done = co_await bridge_del(*bridge.config, pod, options.host_netns_fd);
    if (done && bridge.config->ip_masq) {
      auto nf = co_await nft::open(options.host_netns_fd);
      if (!nf) co_return tl::unexpected(std::move(nf.error()));
      const std::string owner = nat_owner(pod);
      done = co_await nft::remove(*nf, owner, nft::share::masquerade);
    }
  } else {
    const std::string type = (*delegate)["type"].get<std::string>();
    std::string conf = saved_form(*delegate);
    auto out = co_await reactor::run_blocking([&] {
      return cni::run_delegate(cni::command::del, type, conf, pod, options.plugin_dirs,
                               options.timeout);
    });
    if (!out) done = tl::unexpected(std::move(out.error()));
  }
  if (!done) co_return done;
  // Kept until the delegate's DEL succeeded, so a DEL done again (after a
  // restart) still has it.
  const std::string path = saved_path(config, pod);
  co_return co_await reactor::run_blocking([&]() -> result<void> {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return fail_errno(errno, fmt::format("remove {}", path));
    return {};
  });
}

}  // namespace ringcri::net::native
