#include "image/registry/http_client.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "image/registry/curl_loop.hpp"
#include "image/registry/tls_files.hpp"
#include "image/registry/url.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"

namespace ringcri::image {

namespace io = ringcri::reactor;
using namespace std::chrono_literals;
using registry_detail::curl_loop;
using registry_detail::transfer_pause;
using registry_detail::transfer_state;

namespace {

// How much of a non-2xx body is kept for the error message.
constexpr std::size_t error_body_cap = 64u << 10;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

// One request's easy handle, its callbacks and what they gather. Lives in
// the request coroutine's frame; curl's callbacks point here.
class transfer {
 public:
  transfer(curl_loop& loop, http_request& req) : loop_(loop), req_(req) {
    state.easy = curl_easy_init();
    pause.state = &state;
  }
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;
  ~transfer() {
    loop_.forget(state);
    if (state.easy) curl_easy_cleanup(state.easy);
    if (headers_) curl_slist_free_all(headers_);
  }

  result<void> configure(const http_options& opts, const registry_detail::tls_material& tls,
                         CURLSH* share);
  result<http_response> outcome(std::string_view what);

  transfer_state state;
  transfer_pause pause;

 private:
  static std::size_t on_write(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self);
  std::size_t write(std::span<const std::byte> bytes);

  curl_loop& loop_;
  http_request& req_;
  curl_slist* headers_ = nullptr;
  http_response resp_;
  bool response_seen_ = false;    // on_response was called
  std::optional<error> failure_;  // from a callback: the sink's error, a body too large
  char errbuf_[CURL_ERROR_SIZE] = {};
  std::chrono::seconds low_speed_time_{0};  // for the message of a stalled transfer
};

result<void> transfer::configure(const http_options& opts, const registry_detail::tls_material& tls,
                                 CURLSH* share) {
  CURL* e = state.easy;
  if (!e) return fail(error_kind::resource_exhausted, "curl_easy_init failed");
  curl_easy_setopt(e, CURLOPT_URL, req_.url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void*>(&state));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, share);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &transfer::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, static_cast<void*>(this));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &transfer::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, static_cast<void*>(this));
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(e, CURLOPT_USERAGENT, opts.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts.connect_timeout.count()));
  if (opts.low_speed_bytes > 0 && opts.low_speed_time.count() > 0) {
    low_speed_time_ = opts.low_speed_time;
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, opts.low_speed_bytes);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(opts.low_speed_time.count()));
  }
  if (req_.timeout.count() > 0) {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(req_.timeout.count()));
  }
  if (req_.follow_redirects) {
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, opts.max_redirects);
    // Left at 0: a custom Authorization header is dropped when a redirect
    // leaves the first host (name, port and scheme compared).
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
  }
  switch (req_.method) {
    case http_method::get:
      break;
    case http_method::head:
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
      break;
    case http_method::post:
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(req_.body.size()));
      curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req_.body.c_str());
      headers_ = curl_slist_append(headers_, "Expect:");
      break;
  }
  for (const auto& h : req_.headers) headers_ = curl_slist_append(headers_, h.c_str());
  if (headers_) curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);

  if (req_.tls.skip_verify) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!tls.cas.empty()) {
    // The extra CAs go into this connection's own store: no store from
    // curl's per-multi CA cache, which other hosts' connections share.
    curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, &registry_detail::add_ca_certs);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, const_cast<void*>(static_cast<const void*>(&tls)));
  }
  if (tls.client_cert && tls.client_key) {
    curl_blob cert{const_cast<char*>(tls.client_cert->data()), tls.client_cert->size(),
                   CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(tls.client_key->data()), tls.client_key->size(),
                  CURL_BLOB_COPY};
    curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
  }
  return {};
}

std::size_t transfer::on_write(char* data, std::size_t size, std::size_t n, void* self) {
  return static_cast<transfer*>(self)->write(
      std::span(reinterpret_cast<const std::byte*>(data), size * n));
}

std::size_t transfer::write(std::span<const std::byte> bytes) {
  long status = 0;
  curl_easy_getinfo(state.easy, CURLINFO_RESPONSE_CODE, &status);
  bool success = status >= 200 && status < 300;
  if (!success || !req_.sink) {
    std::string& body = resp_.body;
    if (success && body.size() + bytes.size() > req_.max_body) {
      failure_ = error(error_kind::failed_precondition,
                       fmt::format("response body larger than {} bytes", req_.max_body));
      return 0;  // CURLE_WRITE_ERROR
    }
    // Copies: collected bodies are small (manifests, tokens, error JSON).
    std::size_t room =
        success ? bytes.size()
                : std::min(bytes.size(), error_body_cap - std::min(error_body_cap, body.size()));
    body.append(reinterpret_cast<const char*>(bytes.data()), room);
    return bytes.size();
  }
  if (!response_seen_) {
    response_seen_ = true;
    if (req_.on_response) {
      resp_.status = status;
      if (auto ok = req_.on_response(resp_); !ok) {
        failure_ = std::move(ok.error());
        return 0;
      }
    }
  }
  if (pause.want_pause) {
    // curl keeps these bytes and gives them again after resume().
    pause.paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  auto taken = req_.sink(bytes);
  if (!taken) {
    failure_ = std::move(taken.error());
    return 0;
  }
  resp_.streamed += bytes.size();
  if (*taken == sink_flow::pause) pause.want_pause = true;
  return bytes.size();
}

std::size_t transfer::on_header(char* data, std::size_t size, std::size_t n, void* self) {
  auto& t = *static_cast<transfer*>(self);
  std::size_t len = size * n;
  std::string_view line = trim(std::string_view(data, len));
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or a 100 Continue): start over.
    t.resp_.headers.clear();
    t.resp_.reason.clear();
    auto sp1 = line.find(' ');
    if (sp1 != std::string_view::npos) {
      auto sp2 = line.find(' ', sp1 + 1);
      if (sp2 != std::string_view::npos) t.resp_.reason = std::string(trim(line.substr(sp2 + 1)));
    }
  } else if (auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
    t.resp_.headers.emplace_back(lower(trim(line.substr(0, colon))),
                                 std::string(trim(line.substr(colon + 1))));
  }
  return len;
}

// The error of a transfer that got no complete response. Its errno names
// the class of failure (see http_client.hpp), so that callers can tell a
// dropped connection from a refused one without knowing curl.
error transport_error(CURLcode code, std::string_view detail, std::string_view what,
                      std::string_view url, std::chrono::seconds low_speed_time) {
  std::string host(registry_detail::url_host(url));
  error_kind kind = error_kind::unavailable;
  int cause = 0;
  std::string said;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      kind = error_kind::deadline_exceeded;
      cause = ETIMEDOUT;
      // curl's low-speed abort says so in these words (lib/speedcheck.c),
      // and has no code of its own.
      if (detail.starts_with("Operation too slow")) {
        return error(
            kind, fmt::format("{}: no data from {} for {} s", what, host, low_speed_time.count()),
            cause);
      }
      said = fmt::format("timed out talking to {}", host);
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      cause = EHOSTUNREACH;
      said = fmt::format("cannot resolve {}", host);
      break;
    case CURLE_COULDNT_CONNECT:
      cause = ECONNREFUSED;
      said = fmt::format("cannot connect to {}", host);
      break;
    case CURLE_PARTIAL_FILE:  // closed before the body's end
    case CURLE_GOT_NOTHING:   // closed before any response
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      cause = ECONNRESET;
      said = fmt::format("connection to {} dropped", host);
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
      said = fmt::format("TLS certificate of {} not trusted", host);
      break;
    case CURLE_SSL_CONNECT_ERROR:
      cause = EPROTO;
      said = fmt::format("TLS handshake with {} failed", host);
      break;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      kind = error_kind::failed_precondition;
      said = fmt::format("TLS files for {} unusable", host);
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      kind = error_kind::invalid_argument;
      said = "bad URL";
      break;
    case CURLE_OUT_OF_MEMORY:
      kind = error_kind::resource_exhausted;
      said = "out of memory";
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      said = fmt::format("too many redirects from {}", host);
      break;
    default:
      said = fmt::format("connection to {} failed", host);
      break;
  }
  return error(
      kind,
      fmt::format("{}: {}: {}", what, said, detail.empty() ? curl_easy_strerror(code) : detail),
      cause);
}

result<http_response> transfer::outcome(std::string_view what) {
  if (state.aborted) return fail(error_kind::cancelled, fmt::format("{}: cancelled", what));
  if (failure_) return tl::unexpected(std::move(*failure_).context(what));
  char* effective = nullptr;
  curl_easy_getinfo(state.easy, CURLINFO_EFFECTIVE_URL, &effective);
  std::string url = effective ? effective : req_.url;
  if (state.code != CURLE_OK) {
    return tl::unexpected(transport_error(state.code, errbuf_, what, url, low_speed_time_));
  }
  curl_easy_getinfo(state.easy, CURLINFO_RESPONSE_CODE, &resp_.status);
  resp_.url = std::move(url);
  return std::move(resp_);
}

// Binds a request's flow for as long as the request runs.
class flow_binding {
 public:
  flow_binding(transfer_flow* flow, transfer_pause& p) : flow_(flow) {
    if (flow_) flow_->bind(io::reactor::current(), &p);
  }
  flow_binding(const flow_binding&) = delete;
  flow_binding& operator=(const flow_binding&) = delete;
  ~flow_binding() {
    if (flow_) flow_->unbind();
  }

 private:
  transfer_flow* flow_;
};

// Aborts `t` when `c` is cancelled; ends when the transfer does (its frame
// is destroyed, which takes back the sleep).
io::task<void> abort_on_cancel(curl_loop& loop, transfer_state& t, io::cancellation& c) {
  while (!t.done) {
    auto slept = co_await io::sleep_for(24h).with_cancel(c);
    if (!slept && slept.error().value() == ECANCELED) {
      loop.abort(t);
      co_return;
    }
  }
}

}  // namespace

std::string_view to_string(http_method m) {
  switch (m) {
    case http_method::get:
      return "GET";
    case http_method::head:
      return "HEAD";
    case http_method::post:
      return "POST";
  }
  return "?";
}

std::optional<std::string_view> http_response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::vector<std::string_view> http_response::headers_named(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : headers)
    if (k == name) out.emplace_back(v);
  return out;
}

error_kind http_status_kind(long status) {
  switch (status) {
    case 400:
      return error_kind::invalid_argument;
    case 401:
    case 403:
      return error_kind::permission_denied;
    case 404:
      return error_kind::not_found;
    case 408:
      return error_kind::deadline_exceeded;
    case 429:
      return error_kind::unavailable;
    default:
      return status >= 500 ? error_kind::unavailable : error_kind::failed_precondition;
  }
}

error http_status_error(const http_response& resp, std::string_view what) {
  std::string status = resp.reason.empty() ? fmt::format("HTTP {}", resp.status)
                                           : fmt::format("HTTP {} {}", resp.status, resp.reason);
  return error(http_status_kind(resp.status), fmt::format("{}: {}", what, status));
}

http_client::http_client(http_options options)
    : options_(std::move(options)),
      loop_(std::make_unique<curl_loop>(registry_detail::curl_loop_options{
          options_.max_host_connections, options_.max_cached_connections})),
      tls_files_(std::make_unique<registry_detail::tls_file_cache>()) {}

http_client::~http_client() = default;

io::task<result<http_response>> http_client::request(http_request req) {
  assert(io::reactor::current() && "http_client::request runs on its reactor thread");
  std::string what = fmt::format("{} {}", to_string(req.method), req.url);
  if (req.cancel && req.cancel->cancelled()) {
    co_return fail(error_kind::cancelled, fmt::format("{}: cancelled", what));
  }
  registry_detail::tls_material tls;
  if (!req.tls.ca_files.empty() || req.tls.client_cert) {
    auto loaded = co_await tls_files_->load(req.tls);
    if (!loaded) co_return tl::unexpected(std::move(loaded.error()).context(what));
    tls = std::move(*loaded);
  }

  transfer t(*loop_, req);
  if (auto ok = t.configure(options_, tls, loop_->share()); !ok) {
    co_return tl::unexpected(std::move(ok.error()).context(what));
  }
  io::cancellation woken;  // cancelled by the loop when the transfer is done
  t.state.wake = &woken;
  flow_binding bound(req.flow.get(), t.pause);
  if (CURLMcode rc = loop_->start(t.state); rc != CURLM_OK) {
    co_return fail(error_kind::internal,
                   fmt::format("{}: curl_multi_add_handle: {}", what, curl_multi_strerror(rc)));
  }
  io::task<void> canceller;
  if (req.cancel) {
    canceller = abort_on_cancel(*loop_, t.state, *req.cancel);
    canceller.handle().resume();
  }
  while (!t.state.done) {
    co_await io::sleep_for(24h).with_cancel(woken);
  }
  canceller = {};
  co_return t.outcome(what);
}

}  // namespace ringcri::image
