#include "cri/event_stream.hpp"

#include <spdlog/spdlog.h>

namespace ringcri::cri {

event_stream::event_stream(event_hub& hub) : hub_(hub) {
  subscription_ = hub_.subscribe([this](const ::runtime::v1::ContainerEventResponse& e) { return push(e); },
                                 [this] {
                                   std::lock_guard lock(mutex_);
                                   if (!ending_) end_locked(grpc::Status::OK);
                                 });
}

bool event_stream::push(const ::runtime::v1::ContainerEventResponse& e) {
  std::lock_guard lock(mutex_);
  if (ending_) return false;
  if (queue_.size() >= max_queued) {
    spdlog::warn("msg=\"container event stream too slow; ending it\" queued={}", queue_.size());
    end_locked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "GetContainerEvents: the client fell 1000 events behind; list again and reconnect"));
    return false;
  }
  queue_.push_back(e);
  if (!writing_) {
    writing_ = true;
    StartWrite(&queue_.front());
  }
  return true;
}

void event_stream::end_locked(grpc::Status status) {
  ending_ = true;
  end_status_ = std::move(status);
  if (!writing_ && !finished_) {
    finished_ = true;
    Finish(end_status_);
  }
}

void event_stream::OnWriteDone(bool ok) {
  std::lock_guard lock(mutex_);
  queue_.pop_front();
  writing_ = false;
  if (!ok && !ending_) end_locked(grpc::Status::CANCELLED);
  if (ending_) {
    if (!finished_) {
      finished_ = true;
      Finish(end_status_);
    }
    return;
  }
  if (!queue_.empty()) {
    writing_ = true;
    StartWrite(&queue_.front());
  }
}

void event_stream::OnCancel() {
  std::lock_guard lock(mutex_);
  if (!ending_) end_locked(grpc::Status::CANCELLED);
}

void event_stream::OnDone() {
  hub_.unsubscribe(subscription_);
  delete this;
}

}  // namespace ringcri::cri
