#include "image/registry/retry_policy.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <ctime>
#include <string>

#include "reactor/ops.hpp"

namespace ringcri::image {

namespace io = ringcri::reactor;
using std::chrono::milliseconds;

bool is_transient(const error& e) {
  return e.kind() == error_kind::unavailable &&
         (e.sys_errno() == ECONNRESET || e.sys_errno() == EPROTO);
}

bool is_transient_status(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

try_failure classify(const error& e) {
  try_failure f;
  f.transient = is_transient(e);
  return f;
}

try_failure classify(const http_response& resp, std::chrono::system_clock::time_point now) {
  try_failure f;
  f.transient = is_transient_status(resp.status);
  if (f.transient) {
    if (auto value = resp.header("retry-after")) f.retry_after = parse_retry_after(*value, now);
  }
  return f;
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    std::uint32_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    return milliseconds(std::int64_t{seconds} * 1000);
  }
  // "Sun, 06 Nov 1994 08:49:37 GMT": the only date form RFC 9110 lets a
  // sender use. strptime reads English names in the C locale, which the
  // daemon keeps.
  std::string text(value);
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  std::time_t at = ::timegm(&tm);
  if (at == static_cast<std::time_t>(-1)) return std::nullopt;
  auto when = std::chrono::system_clock::from_time_t(at);
  if (when <= now) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(when - now);
}

retry_decision decide_retry(const retry_policy& policy, unsigned tries, const try_failure& f) {
  if (!f.transient) return {};
  std::string note = tries > 1 ? fmt::format(" ({} tries)", tries) : std::string();
  if (tries >= policy.attempts) return {std::nullopt, std::move(note)};
  if (f.retry_after) {
    if (*f.retry_after > policy.max_retry_after) {
      return {std::nullopt,
              fmt::format(" (it asks to retry after {} s, longer than the {} s waited for){}",
                          (f.retry_after->count() + 999) / 1000,
                          (policy.max_retry_after.count() + 999) / 1000, note)};
    }
    return {*f.retry_after, {}};
  }
  // backoff, 2 x backoff, 4 x backoff...
  unsigned doublings = std::min(tries - 1, 16u);
  return {policy.backoff * (1u << doublings), {}};
}

io::task<result<void>> sleep_before_retry(milliseconds wait, io::cancellation* cancel,
                                          std::string what) {
  if (!cancel) {
    co_await io::sleep_for(wait);
    co_return result<void>{};
  }
  auto slept = co_await io::sleep_for(wait).with_cancel(*cancel);
  if (!slept && slept.error().value() == ECANCELED) {
    co_return fail(error_kind::cancelled, what + ": cancelled");
  }
  co_return result<void>{};
}

}  // namespace ringcri::image
