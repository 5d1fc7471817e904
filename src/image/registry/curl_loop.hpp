#pragma once
// curl_loop: one libcurl multi handle driven by the calling thread's
// reactor through curl's multi-socket API. Internal to http_client.
//
// curl says which sockets it wants watched (CURLMOPT_SOCKETFUNCTION) and
// when it next needs a timeout (CURLMOPT_TIMERFUNCTION); the loop answers
// with reactor ops: one coroutine per socket awaiting io::poll (one-shot,
// re-armed after each curl_multi_socket_action) and one coroutine for the
// timer awaiting io::sleep_until. curl's callbacks never call back into
// curl: they only record what curl wants and cancel the op that no longer
// matches, and the coroutines act on it when they resume.
//
// Every coroutine here wakes only through an io_uring op, never through a
// handle parked in the reactor's ready queue: destroying the loop (or a
// transfer's frame) destroys ops, whose destructors take them back from the
// kernel, so nothing ever resumes a frame that is gone.
//
// A multi handle is single-threaded: the loop must be created, used and
// destroyed on one reactor thread, before that reactor is destroyed.

#include <curl/curl.h>

#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>

#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::image::registry_detail {

// One easy handle in flight. Lives in the frame of the coroutine that
// awaits it (http_client::request); CURLOPT_PRIVATE points back here.
struct transfer_state {
  CURL* easy = nullptr;
  bool added = false;    // in the multi handle
  bool done = false;     // finished, failed or aborted
  bool aborted = false;  // done by abort(): the caller's cancellation
  CURLcode code = CURLE_OK;
  reactor::cancellation* wake = nullptr;  // cancelled when done: wakes the waiter
};

// Backpressure state of a streamed transfer (see transfer_flow.hpp).
struct transfer_pause {
  transfer_state* state = nullptr;
  bool want_pause = false;  // the sink answered pause: hold back the next bytes
  bool paused = false;      // curl holds bytes back (the write callback paused it)

  // On the reactor thread, never inside a curl callback. curl may hand the
  // held bytes to the write callback before this returns.
  void resume() {
    want_pause = false;
    if (!paused || !state || state->done) return;
    paused = false;
    curl_easy_pause(state->easy, CURLPAUSE_CONT);
  }
};

struct curl_loop_options {
  long max_host_connections = 6;
  long max_cached_connections = 64;
};

class curl_loop {
 public:
  explicit curl_loop(const curl_loop_options& options);
  curl_loop(const curl_loop&) = delete;
  curl_loop& operator=(const curl_loop&) = delete;
  ~curl_loop();

  CURLM* multi() const noexcept { return multi_; }
  CURLSH* share() const noexcept { return share_; }

  // Adds the transfer to the multi handle; curl starts it from the loop.
  CURLMcode start(transfer_state& t);
  // Takes the transfer out of the multi handle (it stops where it is) and
  // marks it done. Safe to call more than once; never from a curl callback.
  void abort(transfer_state& t);
  // Takes a transfer out without waking anyone: its frame is going away.
  void forget(transfer_state& t) noexcept;

 private:
  struct socket_watch;

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* loop, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* loop);

  // curl_multi_socket_action, then finishes every transfer curl reports done.
  void act(curl_socket_t fd, int mask);
  void finish(transfer_state& t, CURLcode code);
  void watch(curl_socket_t fd, int what);
  void unwatch(curl_socket_t fd);
  void reap_watches();

  reactor::task<void> watch_loop(std::shared_ptr<socket_watch> w);
  reactor::task<void> timer_loop();

  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;
  bool closing_ = false;

  std::unordered_map<curl_socket_t, std::shared_ptr<socket_watch>> watches_;
  // Watch coroutines, running or finished; finished ones are freed on the
  // next watch().
  std::list<reactor::task<void>> watch_tasks_;

  // The timer: curl's next deadline, bumped generation on every change.
  std::optional<reactor::clock::time_point> deadline_;
  unsigned long timer_generation_ = 0;
  reactor::cancellation* timer_wait_ = nullptr;  // the timer coroutine's current sleep
  reactor::task<void> timer_task_;
};

}  // namespace ringcri::image::registry_detail
