#pragma once
// blob_pipe: carries a blob from the reactor thread that downloads it to a
// worker thread that consumes it (the layer unpacker), through a bounded
// buffer, so a slow consumer throttles the download instead of blocking
// the reactor or buffering the whole blob.
//
//   // reactor thread
//   auto pipe = std::make_shared<blob_pipe>();
//   worker.start([pipe] { while (auto n = pipe->read(buf)) ... });
//   auto got = co_await reg.fetch_blob(ref, creds, {.digest = d, .size = s,
//                                      .sink = pipe->sink(), .flow = pipe->flow()});
//   pipe->close(got ? result<void>{} : tl::unexpected(got.error()));
//
// The sink copies each piece into the buffer (one copy: curl's buffer is
// gone when the sink returns) and, once the buffer holds high_water bytes
// or more, answers pause: the transfer stops reading from its socket. The
// worker's read() takes bytes out; when it brings the buffer down to
// low_water while the download is paused, it calls transfer_flow::resume(),
// which posts the unpause to the reactor. Neither side ever waits for the
// other on the reactor thread; only read() blocks, on the worker.
//
// A worker that gives up calls abandon(): the next bytes to arrive make
// the sink fail, which aborts the download with that error.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "base/error.hpp"
#include "image/registry/http_client.hpp"
#include "image/registry/transfer_flow.hpp"

namespace ringcri::image {

class blob_pipe {
 public:
  struct limits {
    std::size_t high_water = 4u << 20;
    std::size_t low_water = 1u << 20;
  };

  blob_pipe() : blob_pipe(limits{}) {}
  explicit blob_pipe(limits l);
  blob_pipe(const blob_pipe&) = delete;
  blob_pipe& operator=(const blob_pipe&) = delete;

  // Producer side, on the reactor thread. The sink refers to this pipe,
  // which must outlive the download.
  body_sink sink();
  const std::shared_ptr<transfer_flow>& flow() const { return flow_; }
  // The download ended: cleanly, or with its error for the reader.
  void close(result<void> end);

  // Consumer side, on any other thread. Blocks until bytes or the end are
  // there; copies up to out.size() bytes. 0 at the end of a complete blob;
  // the download's error when it failed. `out` must not be empty.
  result<std::size_t> read(std::span<std::byte> out);
  // The consumer gives up: the download is aborted with `why`.
  void abandon(error why);

  // How often the sink paused the download (for tests and metrics).
  std::size_t pauses() const;

 private:
  result<sink_flow> push(std::span<const std::byte> bytes);

  const limits limits_;
  const std::shared_ptr<transfer_flow> flow_;
  mutable std::mutex mutex_;
  std::condition_variable readable_;
  std::deque<std::vector<std::byte>> chunks_;
  std::size_t front_used_ = 0;  // bytes of chunks_.front() already read
  std::size_t buffered_ = 0;
  bool producer_paused_ = false;
  bool closed_ = false;
  std::optional<error> end_error_;
  std::optional<error> abandoned_;
  std::size_t pauses_ = 0;
};

}  // namespace ringcri::image
