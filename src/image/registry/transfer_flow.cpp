#include "image/registry/transfer_flow.hpp"

#include "image/registry/curl_loop.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::image {

void transfer_flow::resume() {
  std::lock_guard lock(mutex_);
  // Posting under the lock: unbind() waits for it, so no post can reach a
  // reactor after the request that bound it has ended.
  if (reactor_) reactor_->post([self = shared_from_this()] { self->resume_here(); });
}

void transfer_flow::resume_here() {
  if (active_) active_->resume();
}

void transfer_flow::bind(reactor::reactor* r, registry_detail::transfer_pause* p) {
  std::lock_guard lock(mutex_);
  reactor_ = r;
  active_ = p;
}

void transfer_flow::unbind() {
  std::lock_guard lock(mutex_);
  reactor_ = nullptr;
  active_ = nullptr;
}

}  // namespace ringcri::image
