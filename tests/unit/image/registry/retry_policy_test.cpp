// retry_policy: which failures are tried again, after how long, and when
// a server's Retry-After is taken or refused.

#include "image/registry/retry_policy.hpp"

#include <catch2/catch.hpp>
#include <cerrno>

using namespace ringcri;
using namespace ringcri::image;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

http_response status(long code, std::string retry_after = "") {
  http_response r;
  r.status = code;
  if (!retry_after.empty()) r.headers.emplace_back("retry-after", retry_after);
  return r;
}

std::chrono::system_clock::time_point at(std::time_t t) {
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace

TEST_CASE("dropped connections, failed TLS handshakes, 429 and 5xx are outages; the rest is not") {
  CHECK(is_transient(error(error_kind::unavailable, "dropped", ECONNRESET)));
  CHECK(is_transient(error(error_kind::unavailable, "TLS handshake failed", EPROTO)));
  CHECK_FALSE(is_transient(error(error_kind::unavailable, "refused", ECONNREFUSED)));
  CHECK_FALSE(is_transient(error(error_kind::unavailable, "unresolvable", EHOSTUNREACH)));
  CHECK_FALSE(is_transient(error(error_kind::unavailable, "certificate not trusted")));
  CHECK_FALSE(is_transient(error(error_kind::deadline_exceeded, "no data for 60 s", ETIMEDOUT)));
  CHECK_FALSE(is_transient(error(error_kind::failed_precondition, "digest mismatch")));
  for (long s : {429, 500, 502, 503, 504}) CHECK(is_transient_status(s));
  for (long s : {400, 401, 403, 404, 408, 416, 501}) CHECK_FALSE(is_transient_status(s));
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date") {
  auto now = at(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(parse_retry_after("120", now) == milliseconds(120'000));
  CHECK(parse_retry_after(" 0 ", now) == milliseconds(0));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now) == milliseconds(10'000));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now) == milliseconds(0));  // past
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("1.5", now));
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now));  // obsolete form
}

TEST_CASE("backoff doubles from its first wait, and the tries end at attempts") {
  retry_policy p;
  p.attempts = 4;
  p.backoff = 200ms;
  try_failure outage;
  outage.transient = true;
  CHECK(decide_retry(p, 1, outage).wait == milliseconds(200));
  CHECK(decide_retry(p, 2, outage).wait == milliseconds(400));
  CHECK(decide_retry(p, 3, outage).wait == milliseconds(800));
  auto last = decide_retry(p, 4, outage);
  CHECK_FALSE(last.wait);
  CHECK(last.note == " (4 tries)");

  auto refusal = decide_retry(p, 1, try_failure{});
  CHECK_FALSE(refusal.wait);
  CHECK(refusal.note.empty());
}

TEST_CASE(
    "a Retry-After within the cap replaces the backoff; a longer one ends the tries at once") {
  retry_policy p;
  p.max_retry_after = 10s;
  auto now = std::chrono::system_clock::now();
  auto soon = classify(status(429, "2"), now);
  REQUIRE(soon.transient);
  CHECK(decide_retry(p, 1, soon).wait == milliseconds(2000));

  auto later = decide_retry(p, 1, classify(status(503, "3600"), now));
  CHECK_FALSE(later.wait);
  CHECK(later.note == " (it asks to retry after 3600 s, longer than the 10 s waited for)");

  // Without the header: the backoff. A 404's Retry-After is not a reason to retry.
  CHECK(decide_retry(p, 1, classify(status(502), now)).wait == p.backoff);
  CHECK_FALSE(decide_retry(p, 1, classify(status(404, "1"), now)).wait);
}
