#include "stream/spdy/decoder.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <utility>

#include "stream/spdy/wire.hpp"

namespace ringcri::stream::spdy {

namespace {

tl::unexpected<error> bad_length(std::string_view frame_name, std::size_t length) {
  return fail(error_kind::invalid_argument,
              fmt::format("spdy {} frame: length {} does not fit", frame_name, length));
}

std::uint32_t stream_id_at(std::string_view body, std::size_t offset) {
  return wire::get_u32(body.data() + offset) & wire::stream_id_mask;
}

}  // namespace

decoder::decoder() = default;
decoder::~decoder() = default;
decoder::decoder(decoder&&) noexcept = default;
decoder& decoder::operator=(decoder&&) noexcept = default;

void decoder::feed(std::string_view bytes) {
  // Drop the frames already returned first: what moves is at most one
  // partial frame.
  in_.erase(0, consumed_);
  consumed_ = 0;
  in_ += bytes;
}

result<std::optional<frame>> decoder::next() {
  if (failure_) return tl::unexpected(*failure_);
  for (;;) {
    const std::string_view rest = std::string_view(in_).substr(consumed_);
    if (rest.size() < wire::frame_header_size) return std::nullopt;
    const std::uint32_t first = wire::get_u32(rest.data());
    const std::uint32_t flags_length = wire::get_u32(rest.data() + 4);
    const bool control = (first & wire::control_bit) != 0;
    // Checked before the body arrives: a peer speaking another version is
    // dropped at once instead of after up to 16 MiB.
    if (const std::uint32_t version = first >> 16 & 0x7fff; control && version != wire::version) {
      failure_ = error(error_kind::invalid_argument,
                       fmt::format("spdy control frame of version {}, want 3", version));
      return tl::unexpected(*failure_);
    }
    const std::size_t length = flags_length & wire::max_length;
    if (rest.size() < wire::frame_header_size + length) return std::nullopt;
    const auto flags = static_cast<std::uint8_t>(flags_length >> 24);
    const std::string_view body = rest.substr(wire::frame_header_size, length);
    consumed_ += wire::frame_header_size + length;

    if (!control) {
      // The payload's one copy on the way in.
      return data{first & wire::stream_id_mask, (flags & wire::flag_fin) != 0, std::string(body)};
    }
    auto parsed = parse_control(static_cast<std::uint16_t>(first & 0xffff), flags, body);
    if (!parsed) {
      failure_ = std::move(parsed.error());
      return tl::unexpected(*failure_);
    }
    if (*parsed) return parsed;
    // A control frame type this version does not know: skipped.
  }
}

result<std::optional<frame>> decoder::parse_control(std::uint16_t type, std::uint8_t flags,
                                                    std::string_view body) {
  const bool fin = (flags & wire::flag_fin) != 0;
  auto inflate = [&](std::string_view name, std::size_t offset) {
    auto block = inflater_.decompress(body.substr(offset), max_frame_size);
    if (!block) block.error().context(fmt::format("spdy {} frame", name));
    return block;
  };
  switch (type) {
    case wire::type_syn_stream: {
      if (body.size() < 10) return bad_length("SYN_STREAM", body.size());
      syn_stream f{.stream_id = stream_id_at(body, 0),
                   .associated_to = stream_id_at(body, 4),
                   .priority = static_cast<std::uint8_t>(static_cast<std::uint8_t>(body[8]) >> 5),
                   .fin = fin,
                   .unidirectional = (flags & wire::flag_unidirectional) != 0,
                   .headers = {}};
      auto block = inflate("SYN_STREAM", 10);
      if (!block) return tl::unexpected(std::move(block.error()));
      f.headers = std::move(*block);
      return f;
    }
    case wire::type_syn_reply:
    case wire::type_headers: {
      const bool reply = type == wire::type_syn_reply;
      if (body.size() < 4) return bad_length(reply ? "SYN_REPLY" : "HEADERS", body.size());
      auto block = inflate(reply ? "SYN_REPLY" : "HEADERS", 4);
      if (!block) return tl::unexpected(std::move(block.error()));
      if (reply) return syn_reply{stream_id_at(body, 0), fin, std::move(*block)};
      return headers{stream_id_at(body, 0), fin, std::move(*block)};
    }
    case wire::type_rst_stream:
      if (body.size() != 8) return bad_length("RST_STREAM", body.size());
      return rst_stream{stream_id_at(body, 0), wire::get_u32(body.data() + 4)};
    case wire::type_settings: {
      if (body.size() < 4) return bad_length("SETTINGS", body.size());
      const std::uint32_t count = wire::get_u32(body.data());
      if ((body.size() - 4) / 8 != count || (body.size() - 4) % 8 != 0) {
        return bad_length("SETTINGS", body.size());
      }
      settings f{.clear = (flags & wire::flag_settings_clear) != 0, .entries = {}};
      f.entries.reserve(count);
      for (std::size_t at = 4; at < body.size(); at += 8) {
        const std::uint32_t flags_id = wire::get_u32(body.data() + at);
        f.entries.push_back({static_cast<std::uint8_t>(flags_id >> 24), flags_id & 0xffffff,
                             wire::get_u32(body.data() + at + 4)});
      }
      return f;
    }
    case wire::type_ping:
      if (body.size() != 4) return bad_length("PING", body.size());
      return ping{wire::get_u32(body.data())};
    case wire::type_goaway:
      if (body.size() != 8) return bad_length("GOAWAY", body.size());
      return goaway{stream_id_at(body, 0), wire::get_u32(body.data() + 4)};
    case wire::type_window_update:
      if (body.size() != 8) return bad_length("WINDOW_UPDATE", body.size());
      return window_update{stream_id_at(body, 0), stream_id_at(body, 4)};
    default:
      return std::nullopt;
  }
}

}  // namespace ringcri::stream::spdy
