#include "cri/server.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <grpcpp/server_posix.h>

#include "cri/metrics/rpc_metrics.hpp"
#include "reactor/accept_loop.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::cri {

namespace fs = std::filesystem;

namespace {

// Holds <socket>.lock for the daemon's life; it names the holder's pid.
result<int> lock_socket(const fs::path& socket) {
  fs::path lock_path = socket.string() + ".lock";
  int fd = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return fail_errno(errno, fmt::format("open lock {}", lock_path.string()));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    [[maybe_unused]] auto n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    return fail(error_kind::already_exists,
                fmt::format("another ringcri (pid {}) is serving {}", std::string(pid), socket.string()));
  }
  std::string me = std::to_string(::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
    int e = errno;
    ::close(fd);
    return fail_errno(e, fmt::format("write lock {}", lock_path.string()));
  }
  return fd;
}

// Removes a socket file nobody listens on; refuses a live one or a non-socket.
result<void> clear_stale_socket(const fs::path& socket) {
  struct stat st;
  if (::lstat(socket.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return fail_errno(errno, fmt::format("stat {}", socket.string()));
  }
  if (!S_ISSOCK(st.st_mode))
    return fail(error_kind::already_exists, fmt::format("{} exists and is not a socket", socket.string()));

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::close(fd);
  if (rc == 0)
    return fail(error_kind::already_exists, fmt::format("a live server is listening on {}", socket.string()));
  if (::unlink(socket.c_str()) != 0 && errno != ENOENT)
    return fail_errno(errno, fmt::format("remove stale socket {}", socket.string()));
  spdlog::info("msg=\"removed stale socket\" socket={}", socket.string());
  return {};
}

}  // namespace

result<std::unique_ptr<server>> server::build(context& ctx, const fs::path& socket, bool listen) {
  if (socket.string().size() >= sizeof(sockaddr_un::sun_path))
    return fail(error_kind::invalid_argument,
                fmt::format("socket path {} is longer than {} bytes", socket.string(),
                            sizeof(sockaddr_un::sun_path) - 1));
  std::error_code ec;
  fs::create_directories(socket.parent_path(), ec);
  if (ec) return tl::unexpected(error::from_error_code(ec, "create " + socket.parent_path().string()));

  auto lock = lock_socket(socket);
  if (!lock) return tl::unexpected(lock.error());
  std::unique_ptr<server> s(new server(ctx, *lock));
  if (listen)
    if (auto ok = clear_stale_socket(socket); !ok) return tl::unexpected(ok.error());

  grpc::ServerBuilder builder;
  if (listen) builder.AddListeningPort("unix://" + socket.string(), grpc::InsecureServerCredentials());
  builder.SetMaxReceiveMessageSize(max_message_bytes);
  builder.SetMaxSendMessageSize(max_message_bytes);
  builder.RegisterService(&s->runtime_);
  builder.RegisterService(&s->images_);
  builder.experimental().SetInterceptorCreators(rpc_metrics_interceptors());
  s->grpc_ = builder.BuildAndStart();
  if (!s->grpc_) return fail(error_kind::internal, fmt::format("cannot serve gRPC on {}", socket.string()));
  return s;
}

result<std::unique_ptr<server>> server::start(context& ctx, const fs::path& socket) {
  auto s = build(ctx, socket, true);
  if (!s) return s;
  (*s)->socket_ = socket;  // ours from here on: removed when the server goes
  if (::chmod(socket.c_str(), 0660) != 0) return fail_errno(errno, fmt::format("chmod {}", socket.string()));
  return s;
}

result<std::unique_ptr<server>> server::start_activated(context& ctx, const fs::path& socket, unique_fd listener) {
  auto s = build(ctx, socket, false);
  if (!s) return s;
  (*s)->listener_ = std::move(listener);
  (*s)->accepting_.store(true);
  ctx.pool.spawn(0, [raw = s->get()] { return raw->accept_loop(); });
  return s;
}

reactor::task<void> server::accept_loop() {
  // Non-blocking, as gRPC's own accepted connections are; gRPC owns each
  // from here, as one it accepted itself.
  co_await reactor::accept_loop(listener_.get(), "CRI (socket activation)", SOCK_CLOEXEC | SOCK_NONBLOCK,
                                [this](int conn) {
                                  grpc::AddInsecureChannelFromFd(grpc_.get(), conn);
                                  return true;
                                });
  accepting_.store(false);
}

// gRPC's Shutdown(deadline) waits the whole deadline while any client
// stays connected (the kubelet always is), calls or not: so the wait for
// calls in flight is ours, and gRPC is told to stop at once.
void server::wait_for_calls(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (ctx_.calls_running.load(std::memory_order_acquire) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (int left = ctx_.calls_running.load(); left > 0)
    spdlog::warn("msg=\"calls still running when the grace expired: cancelled\" calls={}", left);
}

void server::shutdown() {
  // The accept loop hands connections to gRPC: it ends before gRPC does.
  if (listener_) ::shutdown(listener_.get(), SHUT_RDWR);
  for (int i = 0; accepting_.load() && i < 2000; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now());
    grpc_->Wait();
    grpc_.reset();
  }
}

server::~server() {
  shutdown();
  if (!socket_.empty()) ::unlink(socket_.c_str());
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace ringcri::cri
