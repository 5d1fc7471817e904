#include "cri/streaming/request_cache.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>

namespace ringcri::cri::streaming {

namespace {

// 16 random bytes, URL-safe base64 without padding: unguessable and fine
// in a path.
result<std::string> random_token() {
  std::array<unsigned char, 16> bytes;
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno(errno, "getrandom for a streaming token");
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
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
  auto token = random_token();
  if (!token) return token;
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_pending) drop_expired(now);
  if (entries_.size() >= max_pending)
    return fail(error_kind::resource_exhausted,
                "too many streaming requests waiting for their client (1000); try again later");
  entries_.emplace(*token, entry{std::move(req), now + ttl});
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
