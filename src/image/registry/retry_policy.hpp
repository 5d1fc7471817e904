#pragma once
// retry_policy: when a registry request that failed is tried again, and
// after how long. One policy serves manifests, blobs and token requests.
//
// Tried again: what an outage looks like, and may clear by itself: a
// connection that dropped (reset, or closed before the response or its
// body was whole), a TLS handshake that failed, HTTP 429, 500, 502, 503
// and 504. Not tried again: what a retry would only repeat: refused
// connections and unknown names (the next endpoint is tried at once), a
// certificate not trusted, a refusal of access, content that does not
// match its digest or size, a transfer that made no progress for the
// progress timeout (the pull is given up, as the kubelet's deadline does).
//
// Waits: `backoff` before the second try, doubling after each; a
// Retry-After header (seconds, or an HTTP date) replaces the backoff when
// it asks for no more than max_retry_after, and ends the tries at once
// when it asks for more (the wait would outlast any caller's patience).
//
//   for (unsigned tries = 1;; ++tries) {
//     auto resp = co_await http.request(req);
//     if (it worked) return it;
//     auto next = decide_retry(policy, tries, classify(resp ? *resp : resp.error()));
//     if (!next.wait) return the error + next.note;
//     co_await sleep_before_retry(*next.wait, cancel, what);
//   }

#include <chrono>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "image/registry/http_client.hpp"
#include "reactor/op.hpp"
#include "reactor/task.hpp"

namespace ringcri::image {

struct retry_policy {
  unsigned attempts = 3;  // tries of one request at one endpoint, the first included
  std::chrono::milliseconds backoff{200};
  std::chrono::milliseconds max_retry_after{10'000};
};

// Why a try failed, as far as trying again goes.
struct try_failure {
  bool transient = false;
  // What the server asked for (Retry-After), if anything.
  std::optional<std::chrono::milliseconds> retry_after;
};

struct retry_decision {
  // Set: try again after this long. Unset: give up.
  std::optional<std::chrono::milliseconds> wait;
  // When giving up on a transient failure, what to add to its message:
  // " (3 tries)", or why the server's Retry-After was not waited for.
  std::string note;
};

// A transport error worth another try: a dropped connection or a failed
// TLS handshake (by its errno, see http_client.hpp).
bool is_transient(const error& e);
// An HTTP status worth another try: 429, 500, 502, 503, 504.
bool is_transient_status(long status);

// How a failed request (an error, or a response with a status that is not
// what was wanted) stands for retrying.
try_failure classify(const error& e);
try_failure classify(const http_response& resp,
                     std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// A Retry-After value: delta-seconds, or an HTTP date (IMF-fixdate) taken
// relative to `now` (a date past gives 0). nullopt when it is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// Whether to try again after `tries` tries failed, the last with `f`.
retry_decision decide_retry(const retry_policy& policy, unsigned tries, const try_failure& f);

// Sleeps `wait` on the reactor; CANCELLED (naming `what`) when `cancel`
// fires first.
reactor::task<result<void>> sleep_before_retry(std::chrono::milliseconds wait,
                                               reactor::cancellation* cancel, std::string what);

}  // namespace ringcri::image
