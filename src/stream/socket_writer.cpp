#include "stream/socket_writer.hpp"

#include "stream/http_request.hpp"
#include "stream/output_pump.hpp"

namespace ringcri::stream {

reactor::task<result<void>> socket_writer::send(std::string bytes) {
  if (failed_) co_return tl::unexpected(*failed_);
  queued_ += bytes;
  if (writing_) {
    // Another send() is writing and will take these bytes too.
    while (writing_ && !failed_ && queued_.size() > high_water) co_await progress_.wait();
    if (failed_) co_return tl::unexpected(*failed_);
    co_return result<void>{};
  }
  writing_ = true;
  while (!queued_.empty() && !failed_) {
    std::string chunk;
    chunk.swap(queued_);
    auto written = co_await write_all(fd_, chunk);
    if (!written) failed_ = written.error();
    progress_.notify_all();
  }
  writing_ = false;
  progress_.notify_all();
  if (failed_) co_return tl::unexpected(*failed_);
  co_return result<void>{};
}

reactor::task<result<void>> socket_writer::flush() {
  while (writing_ && !failed_) co_await progress_.wait();
  if (failed_) co_return tl::unexpected(*failed_);
  co_return result<void>{};
}

}  // namespace ringcri::stream
