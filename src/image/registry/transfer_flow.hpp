#pragma once
// transfer_flow: how a consumer on another thread throttles a download
// that runs on a reactor, without ever blocking that reactor.
//
// A streamed request hands each piece of the body to its sink on the
// reactor thread. The sink must not block: it takes the bytes (copies them
// into its own queue) and answers sink_flow::pause when that queue is full.
// The transfer then stops reading: the next bytes curl receives stay in
// curl (CURL_WRITEFUNC_PAUSE), the socket is no longer polled, TCP's window
// closes and the server waits. When the consumer has drained its queue, it
// calls resume() on the request's transfer_flow, from any thread: that
// posts to the reactor, which unpauses the transfer (curl_easy_pause) and
// the sink starts getting bytes again, first those curl held back. No byte
// is given to the sink twice or lost. blob_pipe packages the whole pattern.
//
// One transfer_flow may serve several requests one after the other (the
// retries of one blob download): it is bound to a request while that
// request runs, and resume() between requests does nothing (each request
// starts unpaused, and its sink pauses it again if the queue is still
// full). A paused transfer is exempt from the low-speed timeout.

#include <memory>
#include <mutex>

namespace ringcri::reactor {
class reactor;
}

namespace ringcri::image {

namespace registry_detail {
struct transfer_pause;
}

class transfer_flow : public std::enable_shared_from_this<transfer_flow> {
 public:
  static std::shared_ptr<transfer_flow> make() { return std::make_shared<transfer_flow>(); }

  // Thread-safe. Lets the bound request read again after its sink answered
  // pause; a no-op when it is not paused or no request is bound.
  void resume();

  // For http_client, on the reactor thread: binds and unbinds a request.
  void bind(reactor::reactor* r, registry_detail::transfer_pause* p);
  void unbind();

 private:
  void resume_here();  // on the reactor thread

  std::mutex mutex_;
  reactor::reactor* reactor_ = nullptr;                // guarded by mutex_
  registry_detail::transfer_pause* active_ = nullptr;  // reactor thread only
};

}  // namespace ringcri::image
