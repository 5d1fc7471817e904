// Backpressure: a slow consumer on another thread throttles a blob
// download through blob_pipe, and the reactor stays free meanwhile.

#include "image/registry/blob_pipe.hpp"

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "base/sys/sha256.hpp"
#include "image/registry/registry_client.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "registry_test_util.hpp"

using namespace ringcri;
using namespace ringcri::image;
namespace io = ringcri::reactor;
using namespace std::chrono_literals;
using namespace registry_test;

namespace {

// What a worker thread got out of a pipe.
struct drained {
  std::string digest;
  std::uint64_t bytes = 0;
  std::optional<error> failure;
};

drained drain(blob_pipe& pipe, std::chrono::microseconds per_read = 0us) {
  drained out;
  sys::sha256 hash;
  std::array<std::byte, 32768> buf;
  for (;;) {
    auto n = pipe.read(buf);
    if (!n) {
      out.failure = n.error();
      return out;
    }
    if (*n == 0) break;
    hash.update(std::span(buf).first(*n));
    out.bytes += *n;
    if (per_read.count() > 0) std::this_thread::sleep_for(per_read);
  }
  out.digest = "sha256:" + hash.finish();
  return out;
}

blob_fetch into_pipe(const fake_registry& reg, const std::string& name, blob_pipe& pipe) {
  blob_fetch b;
  b.digest = reg.blob_digest(name);
  b.size = reg.blob_size(name);
  b.sink = pipe.sink();
  b.flow = pipe.flow();
  return b;
}

// Downloads into the pipe and closes it with the outcome.
io::task<result<std::uint64_t>> download(registry_client& client, reference ref, blob_fetch b,
                                         blob_pipe& pipe) {
  // A named credentials, never `credentials{}` in a co_await expression:
  // g++ 12 frees a brace-initialised aggregate temporary there twice.
  credentials anonymous;
  auto got = co_await client.fetch_blob(ref, anonymous, std::move(b));
  pipe.close(got ? result<void>{} : tl::unexpected(got.error()));
  co_return got;
}

}  // namespace

TEST_CASE("a full pipe pauses the download; the reactor serves other requests meanwhile") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  auto ref = ref_of(reg, "test/repo");
  blob_pipe pipe(blob_pipe::limits{256u << 10, 64u << 10});

  // The worker reads nothing until the reactor has shown it is free while
  // the download is paused.
  std::promise<void> go;
  auto worker = std::async(std::launch::async, [&pipe, started = go.get_future()]() mutable {
    started.wait();
    return drain(pipe, 200us);
  });

  auto [blob, side] =
      r.block_on([](registry_client& client, reference ref, blob_fetch b, blob_pipe& pipe,
                    std::promise<void>& go) -> io::task<std::tuple<result<std::uint64_t>, bool>> {
        auto other = [](registry_client& client, reference ref, blob_pipe& pipe,
                        std::promise<void>& go) -> io::task<bool> {
          while (pipe.pauses() == 0) co_await io::sleep_for(5ms);
          // Paused: the reactor still resolves a tag for someone else.
          credentials anonymous;  // not credentials{}: see download()
          auto resolved = co_await client.resolve(ref, anonymous);
          go.set_value();
          co_return bool(resolved);
        };
        co_return co_await io::when_all(download(client, ref, std::move(b), pipe),
                                        other(client, ref, pipe, go));
      }(client, ref, into_pipe(reg, "big", pipe), pipe, go));

  drained d = worker.get();
  REQUIRE(blob);
  CHECK(*blob == static_cast<std::uint64_t>(reg.blob_size("big")));
  CHECK(side);
  CHECK_FALSE(d.failure);
  CHECK(d.bytes == static_cast<std::uint64_t>(reg.blob_size("big")));
  CHECK(d.digest == reg.blob_digest("big"));
  CHECK(pipe.pauses() >= 1);
}

TEST_CASE("a paused download is not aborted by the low-speed limit") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_options options;
  options.low_speed_bytes = 1000;
  options.low_speed_time = 1s;
  http_client http(options);
  registry_client client(http, fixed({reg.endpoint()}));
  blob_pipe pipe(blob_pipe::limits{128u << 10, 32u << 10});
  auto worker = std::async(std::launch::async, [&pipe] {
    std::this_thread::sleep_for(2500ms);  // longer than low_speed_time, paused all along
    return drain(pipe);
  });
  auto blob =
      r.block_on(download(client, ref_of(reg, "test/repo"), into_pipe(reg, "layer2", pipe), pipe));
  drained d = worker.get();
  REQUIRE(blob);
  CHECK(d.digest == reg.blob_digest("layer2"));
  CHECK(pipe.pauses() >= 1);
}

TEST_CASE("a consumer that gives up aborts the download with its error") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  blob_pipe pipe(blob_pipe::limits{128u << 10, 32u << 10});
  auto worker = std::async(std::launch::async, [&pipe] {
    std::array<std::byte, 4096> buf;
    auto n = pipe.read(buf);
    pipe.abandon(error(error_kind::resource_exhausted, "unpack: disk full"));
    return n.has_value();
  });
  auto blob =
      r.block_on(download(client, ref_of(reg, "test/repo"), into_pipe(reg, "big", pipe), pipe));
  CHECK(worker.get());
  REQUIRE_FALSE(blob);
  CHECK(blob.error().kind() == error_kind::resource_exhausted);
  CHECK(contains(blob.error().message(), "unpack: disk full"));
}

TEST_CASE("the reader gets the download's error after the bytes that came") {
  auto& reg = fake_registry::shared();
  io::reactor r;
  http_client http;
  registry_client client(http, fixed({reg.endpoint()}));
  blob_pipe pipe;
  auto worker = std::async(std::launch::async, [&pipe] { return drain(pipe); });
  auto blob =
      r.block_on(download(client, ref_of(reg, "test/repo"), into_pipe(reg, "wrong", pipe), pipe));
  drained d = worker.get();
  REQUIRE_FALSE(blob);
  REQUIRE(d.failure);
  CHECK(d.failure->kind() == error_kind::failed_precondition);
  CHECK(d.bytes == static_cast<std::uint64_t>(reg.blob_size("wrong")));
}
