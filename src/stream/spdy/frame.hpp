#pragma once
// The frames of SPDY/3.1 as the streaming server and its clients see them
// (kubelet and crictl speak it through moby/spdystream). Plain values: the
// encoder and decoder translate them to and from the wire.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ringcri::stream::spdy {

// Name/value pairs of SYN_STREAM, SYN_REPLY and HEADERS. Names travel in
// lowercase; a value holding several values keeps their NUL separators.
using header_block = std::vector<std::pair<std::string, std::string>>;

struct syn_stream {
  std::uint32_t stream_id = 0;
  std::uint32_t associated_to = 0;
  std::uint8_t priority = 0;  // 0 (highest) to 7
  bool fin = false;
  bool unidirectional = false;
  header_block headers;

  bool operator==(const syn_stream&) const = default;
};

struct syn_reply {
  std::uint32_t stream_id = 0;
  bool fin = false;
  header_block headers;

  bool operator==(const syn_reply&) const = default;
};

struct rst_stream {
  std::uint32_t stream_id = 0;
  std::uint32_t status = 0;  // one of rst_status

  bool operator==(const rst_stream&) const = default;
};

struct settings {
  struct entry {
    std::uint8_t flags = 0;
    std::uint32_t id = 0;  // 24 bits, one of settings_id
    std::uint32_t value = 0;

    bool operator==(const entry&) const = default;
  };
  bool clear = false;
  std::vector<entry> entries;

  bool operator==(const settings&) const = default;
};

struct ping {
  std::uint32_t id = 0;

  bool operator==(const ping&) const = default;
};

struct goaway {
  std::uint32_t last_good_stream_id = 0;
  std::uint32_t status = 0;  // one of goaway_status

  bool operator==(const goaway&) const = default;
};

struct headers {
  std::uint32_t stream_id = 0;
  bool fin = false;
  header_block headers;

  // "struct": inside the class, plain `headers` names the member.
  bool operator==(const struct headers&) const = default;
};

struct window_update {
  std::uint32_t stream_id = 0;
  std::uint32_t delta = 0;

  bool operator==(const window_update&) const = default;
};

struct data {
  std::uint32_t stream_id = 0;
  bool fin = false;
  std::string payload;

  bool operator==(const data&) const = default;
};

using frame = std::variant<syn_stream, syn_reply, rst_stream, settings, ping, goaway, headers,
                           window_update, data>;

namespace rst_status {
inline constexpr std::uint32_t protocol_error = 1;
inline constexpr std::uint32_t invalid_stream = 2;
inline constexpr std::uint32_t refused_stream = 3;
inline constexpr std::uint32_t unsupported_version = 4;
inline constexpr std::uint32_t cancel = 5;
inline constexpr std::uint32_t internal_error = 6;
inline constexpr std::uint32_t flow_control_error = 7;
inline constexpr std::uint32_t stream_in_use = 8;
inline constexpr std::uint32_t stream_already_closed = 9;
inline constexpr std::uint32_t frame_too_large = 11;
}  // namespace rst_status

namespace goaway_status {
inline constexpr std::uint32_t ok = 0;
inline constexpr std::uint32_t protocol_error = 1;
inline constexpr std::uint32_t internal_error = 2;
}  // namespace goaway_status

namespace settings_id {
inline constexpr std::uint32_t max_concurrent_streams = 4;
inline constexpr std::uint32_t initial_window_size = 7;
}  // namespace settings_id

// The value of the first header called `name` (ASCII case ignored), or
// nullptr when the block has none.
const std::string* find_header(const header_block& block, std::string_view name);

}  // namespace ringcri::stream::spdy
