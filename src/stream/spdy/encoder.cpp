#include "stream/spdy/encoder.hpp"

#include <cassert>
#include <cstdint>
#include <string_view>

#include "stream/spdy/wire.hpp"

namespace ringcri::stream::spdy {

namespace {

void put_control_header(std::string& out, wire::frame_type type, std::uint8_t flags,
                        std::uint32_t length) {
  wire::put_u32(out, wire::control_bit | std::uint32_t{wire::version} << 16 | type);
  wire::put_u32(out, std::uint32_t{flags} << 24 | length);
}

// Frames carrying a header block learn their length only after deflating
// it: write the header with length 0, then patch the three length bytes.
class length_patch {
 public:
  explicit length_patch(const std::string& out) : start_(out.size()) {}

  void apply(std::string& out) const {
    const std::size_t length = out.size() - start_ - wire::frame_header_size;
    assert(length <= wire::max_length);
    out[start_ + 5] = static_cast<char>(length >> 16);
    out[start_ + 6] = static_cast<char>(length >> 8);
    out[start_ + 7] = static_cast<char>(length);
  }

 private:
  std::size_t start_;
};

struct frame_writer {
  header_deflater& deflater;
  std::string& out;

  void operator()(const syn_stream& f) const {
    const length_patch patch(out);
    const auto flags = static_cast<std::uint8_t>(
        (f.fin ? wire::flag_fin : 0) | (f.unidirectional ? wire::flag_unidirectional : 0));
    put_control_header(out, wire::type_syn_stream, flags, 0);
    wire::put_u32(out, f.stream_id & wire::stream_id_mask);
    wire::put_u32(out, f.associated_to & wire::stream_id_mask);
    out += static_cast<char>((f.priority & 0x7) << 5);
    out += '\0';  // credential slot, unused since SPDY/3.1
    deflater.compress(f.headers, out);
    patch.apply(out);
  }

  void operator()(const syn_reply& f) const {
    write_stream_headers(wire::type_syn_reply, f.stream_id, f.fin, f.headers);
  }

  void operator()(const headers& f) const {
    write_stream_headers(wire::type_headers, f.stream_id, f.fin, f.headers);
  }

  void operator()(const rst_stream& f) const {
    put_control_header(out, wire::type_rst_stream, 0, 8);
    wire::put_u32(out, f.stream_id & wire::stream_id_mask);
    wire::put_u32(out, f.status);
  }

  void operator()(const settings& f) const {
    put_control_header(out, wire::type_settings, f.clear ? wire::flag_settings_clear : 0,
                       static_cast<std::uint32_t>(4 + 8 * f.entries.size()));
    wire::put_u32(out, static_cast<std::uint32_t>(f.entries.size()));
    for (const auto& entry : f.entries) {
      wire::put_u32(out, std::uint32_t{entry.flags} << 24 | (entry.id & 0xffffff));
      wire::put_u32(out, entry.value);
    }
  }

  void operator()(const ping& f) const {
    put_control_header(out, wire::type_ping, 0, 4);
    wire::put_u32(out, f.id);
  }

  void operator()(const goaway& f) const {
    put_control_header(out, wire::type_goaway, 0, 8);
    wire::put_u32(out, f.last_good_stream_id & wire::stream_id_mask);
    wire::put_u32(out, f.status);
  }

  void operator()(const window_update& f) const {
    put_control_header(out, wire::type_window_update, 0, 8);
    wire::put_u32(out, f.stream_id & wire::stream_id_mask);
    wire::put_u32(out, f.delta & wire::stream_id_mask);
  }

  void operator()(const data& f) const {
    std::string_view rest = f.payload;
    do {
      const std::string_view chunk = rest.substr(0, wire::max_length);
      rest.remove_prefix(chunk.size());
      const std::uint32_t flags = f.fin && rest.empty() ? wire::flag_fin : 0;
      wire::put_u32(out, f.stream_id & wire::stream_id_mask);
      wire::put_u32(out, flags << 24 | static_cast<std::uint32_t>(chunk.size()));
      out += chunk;  // the payload's one copy on the way out
    } while (!rest.empty());
  }

  void write_stream_headers(wire::frame_type type, std::uint32_t stream_id, bool fin,
                            const header_block& block) const {
    const length_patch patch(out);
    put_control_header(out, type, fin ? wire::flag_fin : 0, 0);
    wire::put_u32(out, stream_id & wire::stream_id_mask);
    deflater.compress(block, out);
    patch.apply(out);
  }
};

}  // namespace

encoder::encoder() = default;
encoder::~encoder() = default;
encoder::encoder(encoder&&) noexcept = default;
encoder& encoder::operator=(encoder&&) noexcept = default;

void encoder::encode(const frame& f, std::string& out) {
  std::visit(frame_writer{deflater_, out}, f);
}

}  // namespace ringcri::stream::spdy
