#pragma once
// Big-endian fields of the SPDY framing layer, shared by encoder and decoder.

#include <cstdint>
#include <string>

namespace ringcri::stream::spdy::wire {

inline constexpr std::uint16_t version = 3;
inline constexpr std::uint32_t control_bit = 0x80000000u;
inline constexpr std::uint32_t stream_id_mask = 0x7fffffffu;
inline constexpr std::uint32_t max_length = 0xffffffu;  // 24-bit length field
inline constexpr std::size_t frame_header_size = 8;

enum frame_type : std::uint16_t {
  type_syn_stream = 1,
  type_syn_reply = 2,
  type_rst_stream = 3,
  type_settings = 4,
  type_ping = 6,
  type_goaway = 7,
  type_headers = 8,
  type_window_update = 9,
};

inline constexpr std::uint8_t flag_fin = 0x01;
inline constexpr std::uint8_t flag_unidirectional = 0x02;
inline constexpr std::uint8_t flag_settings_clear = 0x01;

inline void put_u32(std::string& out, std::uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, 4);
}

inline std::uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} << 24 | std::uint32_t{u[1]} << 16 | std::uint32_t{u[2]} << 8 | u[3];
}

}  // namespace ringcri::stream::spdy::wire
