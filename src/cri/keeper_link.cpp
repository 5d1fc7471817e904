#include "cri/keeper_link.hpp"

#include <future>

#include "reactor/reactor.hpp"

namespace ringcri::cri {

namespace {

// co_await resume_on(r): continue on reactor r (posted, so it also works
// when r is the current reactor).
struct resume_on {
  reactor::reactor* target;
  bool await_ready() const noexcept { return reactor::reactor::current() == target; }
  void await_suspend(std::coroutine_handle<> h) const { target->post([h] { h.resume(); }); }
  void await_resume() const noexcept {}
};

error no_keeper() { return error(error_kind::unavailable, "the keeper is not connected"); }

}  // namespace

result<void> keeper_link::connect(const keeper::options& opts,
                                  std::function<void(const keeper::exit_status&)> on_exit,
                                  std::function<void()> on_reconnect) {
  return pool_.wait_for<result<void>>(core_, [this, &opts, &on_exit, &on_reconnect] {
    return connect_here(opts, std::move(on_exit), std::move(on_reconnect));
  });
}

// On the keeper core: the client is made and kept there.
reactor::task<result<void>> keeper_link::connect_here(keeper::options opts,
                                                      std::function<void(const keeper::exit_status&)> on_exit,
                                                      std::function<void()> on_reconnect) {
  auto c = co_await keeper::client::connect(opts);
  if (!c) co_return tl::unexpected(c.error());
  client_ = std::move(*c);
  client_->on_exit(std::move(on_exit));
  if (on_reconnect) client_->on_reconnect(std::move(on_reconnect));
  co_return result<void>{};
}

void keeper_link::disconnect() {
  std::promise<void> done;
  auto answer = done.get_future();
  pool_.post(core_, [this, &done] {
    client_.reset();
    done.set_value();
  });
  answer.wait();
}

// (No co_await inside ?: here: g++ 12 destroys the temporary of such an
// expression twice, which closed the pidfds the keeper sent.)
#define RINGCRI_ON_KEEPER(call)                                 \
  reactor::reactor* home = reactor::reactor::current();        \
  co_await pool_.hop(core_);                                   \
  if (!client_) {                                              \
    co_await resume_on{home};                                  \
    co_return tl::unexpected(no_keeper());                     \
  }                                                            \
  auto out = co_await client_->call;                           \
  co_await resume_on{home};                                    \
  co_return out;

reactor::task<result<keeper::created>> keeper_link::create(const exec::container_spec& spec, int rootfs_mount) {
  RINGCRI_ON_KEEPER(create(spec, rootfs_mount))
}

reactor::task<result<keeper::started>> keeper_link::start(std::string id) {
  RINGCRI_ON_KEEPER(start(id))
}

reactor::task<result<keeper::created>> keeper_link::start_pod_init(std::string pod_id) {
  RINGCRI_ON_KEEPER(start_pod_init(pod_id))
}

reactor::task<result<keeper::exec_result>> keeper_link::exec(const exec::exec_spec& spec, exec::stdio_fds io,
                                                            std::chrono::milliseconds timeout, int hangup_fd) {
  RINGCRI_ON_KEEPER(exec(spec, io, timeout, hangup_fd))
}

reactor::task<result<keeper::attached>> keeper_link::attach(std::string id) {
  RINGCRI_ON_KEEPER(attach(id))
}

reactor::task<result<void>> keeper_link::close_stdin(std::string id) {
  RINGCRI_ON_KEEPER(close_stdin(id))
}

reactor::task<result<void>> keeper_link::reopen_log(std::string id) { RINGCRI_ON_KEEPER(reopen_log(id)) }

reactor::task<result<void>> keeper_link::remove(std::string id) { RINGCRI_ON_KEEPER(remove(id)) }

reactor::task<result<std::vector<keeper::held>>> keeper_link::list() { RINGCRI_ON_KEEPER(list()) }

#undef RINGCRI_ON_KEEPER

}  // namespace ringcri::cri
