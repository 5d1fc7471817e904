#include "cri/streaming/request_cache.hpp"

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/sys/random.hpp"

namespace ringcri::cri::streaming {

namespace {

// 16 random bytes, URL-safe base64 without padding: unguessable and fine
// in a path.
std::string random_token() {
  std::array<std::byte, 16> bytes;
  sys::random_bytes(bytes);
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::byte b : bytes) {
    acc = (acc << 8) | static_cast<std::uint32_t>(b);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  return out;
}

}  // namespace

void request_cache::drop_expired(clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires <= now) it = entries_.erase(it);
    else ++it;
  }
}

result<std::string> request_cache::insert(stream_request req, clock::time_point now) {
  std::string token = random_token();
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_pending) drop_expired(now);
  if (entries_.size() >= max_pending)
    return fail(error_kind::resource_exhausted,
                "too many streaming requests waiting for their client (1000); try again later");
  entries_.emplace(token, entry{std::move(req), now + ttl});
  return token;
}

std::optional<stream_request> request_cache::take(const std::string& token, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return std::nullopt;
  auto e = std::move(it->second);
  entries_.erase(it);
  if (e.expires <= now) return std::nullopt;
  return std::move(e.req);
}

}  // namespace ringcri::cri::streaming
