// A spawner's life (spawner.hpp): a request, a clone as the keeper's
// sibling, a reply, until the keeper hangs up.

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/crash_point.hpp"
#include "exec/keeper/fd_passing.hpp"
#include "exec/keeper/protocol.hpp"
#include "exec/keeper/spawner.hpp"

namespace ringcri::exec::keeper {

using nlohmann::json;

namespace {

// The request's fds by name; each stays in `fds`, owned there.
struct request_fds {
  stdio_fds io;
  int rootfs = -1;
  int container = -1;
};

result<request_fds> name_fds(const json& request, const std::vector<unique_fd>& fds) {
  auto names = request.find("fds");
  if (names == request.end() || !names->is_array() || names->size() != fds.size())
    return fail(error_kind::invalid_argument, "spawner request: its \"fds\" do not match the fds it carries");
  request_fds out;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    const json& name = (*names)[i];
    int fd = fds[i].get();
    if (name == "in")
      out.io.in = fd;
    else if (name == "out")
      out.io.out = fd;
    else if (name == "err")
      out.io.err = fd;
    else if (name == "rootfs")
      out.rootfs = fd;
    else if (name == "container")
      out.container = fd;
    else
      return fail(error_kind::invalid_argument, "spawner request: an fd named " + name.dump());
  }
  return out;
}

result<child> serve(const json& request, const std::vector<unique_fd>& fds,
                    const spawner_options& options) {
  auto named = name_fds(request, fds);
  if (!named) return tl::unexpected(std::move(named.error()));
  auto op = request.find("op");
  auto args = request.find("args");
  if (op == request.end() || !op->is_string() || args == request.end() || !args->is_object())
    return fail(error_kind::invalid_argument, "spawner request without an op and its args");
  if (*op == "create") {
    auto spec = protocol::create_request_from_json(*args);
    if (!spec) return tl::unexpected(std::move(spec.error()));
    return clone_container(*spec, named->io, named->rootfs, options.mount_base, clone_as::sibling);
  }
  if (*op == "exec") {
    auto exec = protocol::exec_request_from_json(*args);
    if (!exec) return tl::unexpected(std::move(exec.error()));
    if (named->container < 0)
      return fail(error_kind::invalid_argument, "spawner request: an exec without its container");
    return clone_exec(exec->spec, named->container, named->io, clone_as::sibling);
  }
  if (*op == "pod_init") {
    auto pod = protocol::string_arg(*args, "pod");
    if (!pod) return tl::unexpected(std::move(pod.error()));
    return clone_pod_init(*pod, options.empty_dir, options.mount_base, clone_as::sibling);
  }
  return fail(error_kind::invalid_argument, "spawner request: no op " + op->dump());
}

void reply(int sock, result<child>& c) {
  if (!c) {
    (void)send_packet_blocking(sock, protocol::encode(json{{"error", protocol::error_to_json(c.error())}}), {});
    return;
  }
  std::vector<int> fds{c->pidfd.get(), c->report.get()};
  if (c->release) fds.push_back(c->release.get());
  (void)send_packet_blocking(sock, protocol::encode(json{{"pid", c->pid}}), fds);
}

}  // namespace

[[noreturn]] void run_spawner(int sock, const spawner_options& options) {
  for (;;) {
    pollfd ready{sock, POLLIN, 0};
    if (::poll(&ready, 1, -1) < 0) {
      if (errno == EINTR) continue;
      ::_exit(1);
    }
    auto got = try_recv_packet(sock);
    if (!got) ::_exit(1);
    if (got->closed) ::_exit(0);
    if (!got->ready) continue;
    result<child> c = fail(error_kind::internal, "spawner: no clone");
    try {
      auto request = protocol::decode(got->ready->data);
      if (request)
        c = serve(*request, got->ready->fds, options);
      else
        c = tl::unexpected(std::move(request.error()));
    } catch (const std::exception& e) {
      c = fail(error_kind::internal, std::string("spawner: ") + e.what());
    }
    // The child holds its own copies of the request's fds.
    got->ready->fds.clear();
    crash_point(point("spawner.after_clone"));
    reply(sock, c);
  }
}

}  // namespace ringcri::exec::keeper
