#include "stream/spdy/header_compression.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <new>

#include "stream/spdy/header_dictionary.hpp"
#include "stream/spdy/wire.hpp"

namespace ringcri::stream::spdy {

namespace {

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

void serialize(const header_block& block, std::string& out) {
  wire::put_u32(out, static_cast<std::uint32_t>(block.size()));
  for (const auto& [name, value] : block) {
    wire::put_u32(out, static_cast<std::uint32_t>(name.size()));
    std::ranges::transform(name, std::back_inserter(out), ascii_lower);
    wire::put_u32(out, static_cast<std::uint32_t>(value.size()));
    out += value;
  }
}

// Reads the fields of an inflated block, never past its end.
struct block_cursor {
  std::string_view rest;

  bool u32(std::uint32_t& v) {
    if (rest.size() < 4) return false;
    v = wire::get_u32(rest.data());
    rest.remove_prefix(4);
    return true;
  }
  bool bytes(std::string_view& v) {
    std::uint32_t n = 0;
    if (!u32(n) || rest.size() < n) return false;
    v = rest.substr(0, n);
    rest.remove_prefix(n);
    return true;
  }
};

result<header_block> parse(std::string_view plain) {
  block_cursor cursor{plain};
  std::uint32_t count = 0;
  // Each pair takes at least its two length fields: a count beyond that is
  // a lie, caught before it sizes an allocation.
  if (!cursor.u32(count) || count > cursor.rest.size() / 8) {
    return fail(error_kind::invalid_argument, "header block: bad pair count");
  }
  header_block block;
  block.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view name;
    std::string_view value;
    if (!cursor.bytes(name) || !cursor.bytes(value)) {
      return fail(error_kind::invalid_argument, "header block: pair overruns the block");
    }
    std::string lowered;
    std::ranges::transform(name, std::back_inserter(lowered), ascii_lower);
    block.emplace_back(std::move(lowered), std::string(value));
  }
  if (!cursor.rest.empty()) {
    return fail(error_kind::invalid_argument, "header block: bytes after the last pair");
  }
  return block;
}

}  // namespace

void header_deflater::stream_end::operator()(z_stream_s* stream) const {
  deflateEnd(stream);
  delete stream;
}

void header_inflater::stream_end::operator()(z_stream_s* stream) const {
  inflateEnd(stream);
  delete stream;
}

header_deflater::header_deflater() : stream_(new z_stream{}) {
  const auto dictionary = header_dictionary();
  // Only memory can run out here; the parameters are fixed and valid.
  if (deflateInit(stream_.get(), Z_DEFAULT_COMPRESSION) != Z_OK ||
      deflateSetDictionary(stream_.get(), dictionary.data(),
                           static_cast<uInt>(dictionary.size())) != Z_OK) {
    throw std::bad_alloc();
  }
}

void header_deflater::compress(const header_block& block, std::string& out) {
  plain_.clear();
  serialize(block, plain_);
  z_stream* stream = stream_.get();
  stream->next_in = reinterpret_cast<Bytef*>(plain_.data());
  stream->avail_in = static_cast<uInt>(plain_.size());
  // A sync flush needs a few bytes past the input's size at worst; zlib
  // asks for another round when the room runs out.
  const std::size_t room = plain_.size() + 64;
  do {
    const std::size_t old = out.size();
    out.resize(old + room);
    stream->next_out = reinterpret_cast<Bytef*>(out.data() + old);
    stream->avail_out = static_cast<uInt>(room);
    [[maybe_unused]] const int rc = deflate(stream, Z_SYNC_FLUSH);
    assert(rc == Z_OK || rc == Z_BUF_ERROR);
    out.resize(old + room - stream->avail_out);
  } while (stream->avail_out == 0);
}

header_inflater::header_inflater() : stream_(new z_stream{}) {
  if (inflateInit(stream_.get()) != Z_OK) throw std::bad_alloc();
}

result<header_block> header_inflater::decompress(std::string_view compressed,
                                                 std::size_t max_size) {
  z_stream* stream = stream_.get();
  stream->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream->avail_in = static_cast<uInt>(compressed.size());
  plain_.clear();
  for (;;) {
    const std::size_t old = plain_.size();
    if (old > max_size) {
      return fail(error_kind::invalid_argument,
                  fmt::format("header block inflates past {} bytes", max_size));
    }
    // Never more than one byte past the limit, so a small block that
    // inflates to gigabytes costs no more than the limit.
    const std::size_t room =
        std::min(std::max<std::size_t>(compressed.size() * 4, 1024), max_size + 1 - old);
    plain_.resize(old + room);
    stream->next_out = reinterpret_cast<Bytef*>(plain_.data() + old);
    stream->avail_out = static_cast<uInt>(room);
    int rc = inflate(stream, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      const auto dictionary = header_dictionary();
      rc = inflateSetDictionary(stream, dictionary.data(), static_cast<uInt>(dictionary.size()));
    }
    plain_.resize(old + room - stream->avail_out);
    if (rc == Z_BUF_ERROR && stream->avail_in == 0) break;  // all out already
    if (rc != Z_OK) {
      // Z_STREAM_END too: the peer closed its stream, no later block can follow.
      return fail(error_kind::invalid_argument,
                  fmt::format("header block does not inflate: {}",
                              stream->msg != nullptr ? stream->msg : zError(rc)));
    }
    if (stream->avail_in == 0 && stream->avail_out != 0) break;
  }
  return parse(plain_);
}

}  // namespace ringcri::stream::spdy
