#pragma once
// One GetContainerEvents call: a gRPC write reactor fed by the event hub.
// Events queue while a write is in flight; the stream ends when the client
// cancels, or with RESOURCE_EXHAUSTED when it falls 1000 events behind.

#include <grpcpp/grpcpp.h>

#include <deque>
#include <mutex>

#include "api.pb.h"
#include "cri/events.hpp"

namespace ringcri::cri {

class event_stream final : public grpc::ServerWriteReactor<::runtime::v1::ContainerEventResponse> {
 public:
  static constexpr std::size_t max_queued = 1000;

  explicit event_stream(event_hub& hub);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  bool push(const ::runtime::v1::ContainerEventResponse& e);
  // Finishes once no write is in flight. Called with mutex_ held.
  void end_locked(grpc::Status status);

  event_hub& hub_;
  std::uint64_t subscription_ = 0;
  std::mutex mutex_;
  std::deque<::runtime::v1::ContainerEventResponse> queue_;  // front: being written
  bool writing_ = false;
  bool ending_ = false;
  bool finished_ = false;
  grpc::Status end_status_;
};

}  // namespace ringcri::cri
