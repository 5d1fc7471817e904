#include "image/registry/blob_pipe.hpp"

#include <algorithm>
#include <cstring>

namespace ringcri::image {

blob_pipe::blob_pipe(limits l) : limits_(l), flow_(transfer_flow::make()) {}

body_sink blob_pipe::sink() {
  return [this](std::span<const std::byte> bytes) { return push(bytes); };
}

result<sink_flow> blob_pipe::push(std::span<const std::byte> bytes) {
  // The copy, outside the lock: the one copy a streamed byte costs here.
  std::vector<std::byte> chunk(bytes.begin(), bytes.end());
  std::lock_guard lock(mutex_);
  if (abandoned_) return tl::unexpected(*abandoned_);
  buffered_ += chunk.size();
  chunks_.push_back(std::move(chunk));
  readable_.notify_one();
  if (buffered_ >= limits_.high_water) {
    if (!producer_paused_) ++pauses_;
    producer_paused_ = true;
    return sink_flow::pause;
  }
  return sink_flow::more;
}

void blob_pipe::close(result<void> end) {
  std::lock_guard lock(mutex_);
  closed_ = true;
  if (!end) end_error_ = std::move(end.error());
  readable_.notify_all();
}

result<std::size_t> blob_pipe::read(std::span<std::byte> out) {
  if (out.empty()) return fail(error_kind::invalid_argument, "blob_pipe::read into no room");
  bool resume = false;
  std::size_t copied = 0;
  {
    std::unique_lock lock(mutex_);
    readable_.wait(lock, [this] { return buffered_ > 0 || closed_; });
    if (buffered_ == 0) {
      if (end_error_) return tl::unexpected(*end_error_);
      return std::size_t{0};
    }
    while (copied < out.size() && !chunks_.empty()) {
      auto& front = chunks_.front();
      std::size_t n = std::min(out.size() - copied, front.size() - front_used_);
      std::memcpy(out.data() + copied, front.data() + front_used_, n);
      copied += n;
      front_used_ += n;
      if (front_used_ == front.size()) {
        chunks_.pop_front();
        front_used_ = 0;
      }
    }
    buffered_ -= copied;
    if (producer_paused_ && buffered_ <= limits_.low_water) {
      producer_paused_ = false;
      resume = true;
    }
  }
  if (resume) flow_->resume();  // posts to the reactor; never waits for it
  return copied;
}

void blob_pipe::abandon(error why) {
  {
    std::lock_guard lock(mutex_);
    abandoned_ = std::move(why);
    chunks_.clear();
    buffered_ = 0;
    front_used_ = 0;
    producer_paused_ = false;
  }
  flow_->resume();  // a paused download must run into the failing sink
}

std::size_t blob_pipe::pauses() const {
  std::lock_guard lock(mutex_);
  return pauses_;
}

}  // namespace ringcri::image
