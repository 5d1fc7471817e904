#include "image/registry/curl_loop.hpp"

#include <poll.h>

#include <cassert>
#include <mutex>

#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::image::registry_detail {

namespace io = ringcri::reactor;
using namespace std::chrono_literals;

namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct curl_loop::socket_watch {
  curl_socket_t fd;
  int what;                           // CURL_POLL_IN, _OUT or _INOUT
  bool removed = false;               // curl no longer wants it watched
  io::cancellation* rearm = nullptr;  // cancels the poll in flight
};

curl_loop::curl_loop(const curl_loop_options& options) {
  assert(io::reactor::current() && "a curl_loop lives on a reactor thread");
  global_init_once();
  multi_ = curl_multi_init();
  share_ = curl_share_init();
  // One thread uses the share: no lock callbacks needed. TLS sessions are
  // resumed across requests; the multi handle already shares connections
  // and the DNS cache among its transfers.
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);

  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &curl_loop::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &curl_loop::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options.max_cached_connections);

  timer_task_ = timer_loop();
  timer_task_.handle().resume();  // runs to its first sleep
}

curl_loop::~curl_loop() {
  closing_ = true;
  // Destroying the coroutines destroys their ops, which takes each back
  // from the kernel before the frame goes.
  timer_task_ = {};
  watch_tasks_.clear();
  watches_.clear();
  // Callbacks that cleanup makes (closing cached connections) are ignored.
  curl_multi_cleanup(multi_);
  curl_share_cleanup(share_);
}

CURLMcode curl_loop::start(transfer_state& t) {
  CURLMcode rc = curl_multi_add_handle(multi_, t.easy);
  if (rc == CURLM_OK) t.added = true;
  return rc;
}

void curl_loop::abort(transfer_state& t) {
  if (t.done) return;
  if (t.added) curl_multi_remove_handle(multi_, t.easy);
  t.added = false;
  t.done = true;
  t.aborted = true;
  if (t.wake) t.wake->cancel();
}

void curl_loop::forget(transfer_state& t) noexcept {
  if (t.added) curl_multi_remove_handle(multi_, t.easy);
  t.added = false;
}

void curl_loop::finish(transfer_state& t, CURLcode code) {
  // Out of the multi handle at once: its connection goes back to the cache.
  if (t.added) curl_multi_remove_handle(multi_, t.easy);
  t.added = false;
  t.done = true;
  t.code = code;
  if (t.wake) t.wake->cancel();
}

void curl_loop::act(curl_socket_t fd, int mask) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, mask, &running);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    // The message dies with curl_multi_remove_handle: copy it first.
    CURL* easy = msg->easy_handle;
    CURLcode code = msg->data.result;
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    if (priv) finish(*reinterpret_cast<transfer_state*>(priv), code);
  }
}

// --- sockets -------------------------------------------------------------------

int curl_loop::on_socket(CURL*, curl_socket_t fd, int what, void* loop, void*) {
  auto* self = static_cast<curl_loop*>(loop);
  if (self->closing_) return 0;
  if (what == CURL_POLL_REMOVE) {
    self->unwatch(fd);
  } else {
    self->watch(fd, what);
  }
  return 0;
}

void curl_loop::watch(curl_socket_t fd, int what) {
  if (auto it = watches_.find(fd); it != watches_.end()) {
    socket_watch& w = *it->second;
    if (w.what != what) {
      w.what = what;
      if (w.rearm) w.rearm->cancel();  // its coroutine re-arms with the new events
    }
    return;
  }
  reap_watches();
  auto w = std::make_shared<socket_watch>(socket_watch{fd, what});
  watches_.emplace(fd, w);
  watch_tasks_.push_back(watch_loop(std::move(w)));
  // Runs up to its first poll, which submits and suspends: no curl call
  // happens inside this callback.
  watch_tasks_.back().handle().resume();
}

void curl_loop::unwatch(curl_socket_t fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  it->second->removed = true;
  if (it->second->rearm) it->second->rearm->cancel();
  watches_.erase(it);
}

void curl_loop::reap_watches() {
  watch_tasks_.remove_if([](const io::task<void>& t) { return t.done(); });
}

io::task<void> curl_loop::watch_loop(std::shared_ptr<socket_watch> w) {
  while (!w->removed && !closing_) {
    unsigned events = 0;
    if (w->what & CURL_POLL_IN) events |= POLLIN;
    if (w->what & CURL_POLL_OUT) events |= POLLOUT;
    io::cancellation rearm;
    w->rearm = &rearm;
    auto ready = co_await io::poll(w->fd, events).with_cancel(rearm);
    w->rearm = nullptr;
    if (w->removed || closing_) break;
    if (!ready) {
      int e = ready.error().value();
      if (e == ECANCELED) continue;  // curl changed what it waits for
      act(w->fd, CURL_CSELECT_ERR);
      if (e == EBADF) break;
      continue;
    }
    int mask = 0;
    unsigned got = static_cast<unsigned>(*ready);
    if (got & POLLIN) mask |= CURL_CSELECT_IN;
    if (got & POLLOUT) mask |= CURL_CSELECT_OUT;
    // An error or hang-up: let curl do the read or write it waited for, so
    // it meets the real errno (ECONNREFUSED, ECONNRESET, EOF) and says so.
    if (got & (POLLERR | POLLHUP)) {
      if (events & POLLIN) mask |= CURL_CSELECT_IN;
      if (events & POLLOUT) mask |= CURL_CSELECT_OUT;
    }
    act(w->fd, mask);
  }
}

// --- timer ---------------------------------------------------------------------

int curl_loop::on_timer(CURLM*, long timeout_ms, void* loop) {
  auto* self = static_cast<curl_loop*>(loop);
  if (self->closing_) return 0;
  if (timeout_ms < 0) {
    self->deadline_.reset();
  } else {
    self->deadline_ = io::clock::now() + std::chrono::milliseconds(timeout_ms);
  }
  ++self->timer_generation_;
  if (self->timer_wait_) self->timer_wait_->cancel();
  return 0;
}

io::task<void> curl_loop::timer_loop() {
  while (!closing_) {
    unsigned long generation = timer_generation_;
    // With no deadline the loop still sleeps on an op (an hour, re-armed),
    // so that on_timer wakes it by cancelling an op, never by a handle.
    auto when = deadline_ ? *deadline_ : io::clock::now() + 1h;
    io::cancellation changed;
    timer_wait_ = &changed;
    auto slept = co_await io::sleep_until(when).with_cancel(changed);
    timer_wait_ = nullptr;
    if (closing_) break;
    if (generation != timer_generation_) continue;  // curl moved the deadline
    if (!slept || !deadline_) continue;
    deadline_.reset();
    act(CURL_SOCKET_TIMEOUT, 0);
    if (!deadline_) {
      // curl reports a timeout only when it changes; ask it directly in
      // case the one it still holds is the one that just fired.
      long ms = -1;
      curl_multi_timeout(multi_, &ms);
      if (ms >= 0) deadline_ = io::clock::now() + std::chrono::milliseconds(ms);
    }
  }
}

}  // namespace ringcri::image::registry_detail
