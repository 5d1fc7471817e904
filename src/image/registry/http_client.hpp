#pragma once
// http_client: HTTP/1.1 and HTTPS on the reactor, through libcurl's
// multi-socket API (see curl_loop.hpp). One client per reactor thread: it
// owns one curl multi handle, whose connection cache gives keep-alive and
// connection reuse to every request made through it, with several
// connections per host.
//
//   http_request req{.url = "https://registry.example/v2/"};
//   auto resp = co_await http.request(std::move(req));
//   if (!resp) return tl::unexpected(resp.error());
//   if (resp->status != 200) return tl::unexpected(http_status_error(*resp, "GET ..."));
//
// Bodies are collected (small: manifests, tokens; capped) or streamed to a
// sink on the reactor thread (blobs), with backpressure through
// transfer_flow. Redirects are followed; an Authorization header goes only
// to the host it was meant for (curl drops it when a redirect changes
// host, port or scheme). Only the final response's body reaches the sink,
// and only when its status is 2xx; other bodies are collected (up to
// 64 KiB) for error messages.
//
// request() fails only when no HTTP response was had: CANCELLED,
// UNAVAILABLE (refused, reset, DNS, TLS) or DEADLINE_EXCEEDED (connect or
// request timeout, low-speed abort), naming the method, URL and host, or
// with the sink's own error. An HTTP error status is a response; turn it
// into an error with http_status_error.
//
// A transport failure's errno says what kind it was, for a caller that
// decides whether to try again: ECONNRESET the connection dropped (reset,
// or closed before the response or its body was whole), EPROTO the TLS
// handshake failed, ECONNREFUSED nobody listens, EHOSTUNREACH the name
// does not resolve, ETIMEDOUT a timeout or no data for low_speed_time.
//
// The client must be created, used and destroyed on one reactor thread,
// while that reactor exists, and outlive every request made through it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "image/registry/transfer_flow.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::image {

namespace registry_detail {
class curl_loop;
struct tls_file_cache;
}  // namespace registry_detail

// What a sink answers for the bytes it was given: it has taken them all,
// and wants more now (more) or not before transfer_flow::resume() (pause).
enum class sink_flow { more, pause };

// Receives a streamed body on the reactor thread, in order. It must not
// block; an error aborts the transfer and becomes the request's error.
using body_sink = std::function<result<sink_flow>(std::span<const std::byte>)>;

enum class http_method { get, head, post };

// TLS settings of one endpoint (see registry_endpoint).
struct tls_options {
  bool skip_verify = false;
  // PEM files whose certificates are trusted in addition to the system
  // store.
  std::vector<std::filesystem::path> ca_files;
  // A client certificate and its key (PEM), for endpoints that ask for one.
  std::optional<std::pair<std::filesystem::path, std::filesystem::path>> client_cert;
};

struct http_response {
  long status = 0;
  std::string reason;  // "Not Found", from the status line
  std::string url;     // after redirects
  // The final response's headers in order, names in lower case.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;            // collected, or the error body of a streamed request
  std::uint64_t streamed = 0;  // bytes given to the sink

  // The first header of that (lower-case) name.
  std::optional<std::string_view> header(std::string_view name) const;
  std::vector<std::string_view> headers_named(std::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

struct http_request {
  http_method method = http_method::get;
  std::string url;
  // Extra headers, "Name: value" each.
  std::vector<std::string> headers;
  std::string body;  // sent with post
  tls_options tls;

  // Empty: the body is collected into http_response::body, up to
  // max_body bytes (more fails the request). Set: a 2xx body is streamed.
  body_sink sink;
  std::size_t max_body = 8u << 20;
  // Lets another thread resume the transfer after the sink paused it.
  std::shared_ptr<transfer_flow> flow;
  // Called once, before the sink's first bytes, with the 2xx response's
  // status and headers (body empty): a 206's Content-Range can be checked
  // here. An error aborts the transfer.
  std::function<result<void>(const http_response&)> on_response;

  // Aborts the transfer; the request fails with CANCELLED.
  reactor::cancellation* cancel = nullptr;
  // The whole request, 0 for none (streamed downloads rely on the
  // client's low-speed limit instead).
  std::chrono::milliseconds timeout{0};
  bool follow_redirects = true;
};

struct http_options {
  long max_host_connections = 6;
  long max_cached_connections = 64;
  std::chrono::milliseconds connect_timeout{30'000};
  // Abort a transfer that moves fewer than low_speed_bytes per second
  // (averaged over curl's window of a few seconds) for low_speed_time.
  // With 1, only a transfer that makes no progress at all (a stalled
  // server) is aborted, as the kubelet's image pull progress deadline
  // does; a slow but moving one goes on. A transfer its sink paused is
  // exempt. 0 in either disables.
  long low_speed_bytes = 1;
  std::chrono::seconds low_speed_time{60};
  long max_redirects = 10;
  std::string user_agent = "ringcri";
};

class http_client {
 public:
  explicit http_client(http_options options = {});
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;
  ~http_client();

  reactor::task<result<http_response>> request(http_request req);

  const http_options& options() const { return options_; }

 private:
  http_options options_;
  std::unique_ptr<registry_detail::curl_loop> loop_;
  std::unique_ptr<registry_detail::tls_file_cache> tls_files_;
};

// An error for a response whose status is not what was wanted, carrying
// the status: "<what>: HTTP 404 Not Found". 401 and 403 give
// PERMISSION_DENIED, 404 NOT_FOUND, 408 DEADLINE_EXCEEDED, 429 and 5xx
// UNAVAILABLE, 400 INVALID_ARGUMENT, any other FAILED_PRECONDITION.
error http_status_error(const http_response& resp, std::string_view what);
error_kind http_status_kind(long status);

// "GET", "HEAD", "POST".
std::string_view to_string(http_method m);

}  // namespace ringcri::image
