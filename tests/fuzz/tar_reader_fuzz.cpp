// tar headers, GNU long names and PAX records (image/unpack/tar_reader):
// the visitor sees entries in order with exactly their data, and the parse
// is the same whether the archive comes whole or in pieces.

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "image/unpack/tar_reader.hpp"

using namespace ringcri;
using namespace ringcri::image;

namespace {

class recorder final : public tar_visitor {
 public:
  result<void> on_entry(const tar_entry& e) override {
    FUZZ_CHECK(!open_);
    FUZZ_CHECK(!e.path.empty());
    FUZZ_CHECK(e.type == tar_entry_type::regular || e.size == 0);
    FUZZ_CHECK(e.mode <= 07777);
    FUZZ_CHECK(e.mtime_nsec < 1'000'000'000u);
    std::size_t xattr_bytes = 0;
    for (const auto& [name, value] : e.xattrs) xattr_bytes += name.size() + value.size();
    FUZZ_CHECK(xattr_bytes <= (1u << 20));
    open_ = true;
    left_ = e.size;
    log_ += std::string(to_string(e.type)) + '|' + e.path + '|' + e.link_target + '|' +
            std::to_string(e.mode) + '|' + std::to_string(e.uid) + ':' + std::to_string(e.gid) +
            '|' + std::to_string(e.mtime_sec) + '.' + std::to_string(e.mtime_nsec) + '|' +
            std::to_string(e.dev_major) + ',' + std::to_string(e.dev_minor) + '|' +
            std::to_string(e.size);
    for (const auto& [name, value] : e.xattrs) log_ += '|' + name + '=' + value;
    log_ += '\n';
    return {};
  }
  result<void> on_data(std::span<const std::byte> piece) override {
    FUZZ_CHECK(open_);
    FUZZ_CHECK(!piece.empty());
    FUZZ_CHECK(piece.size() <= left_);
    left_ -= piece.size();
    log_.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    return {};
  }
  result<void> on_entry_end() override {
    FUZZ_CHECK(open_);
    FUZZ_CHECK(left_ == 0);
    open_ = false;
    log_ += "|end\n";
    return {};
  }
  const std::string& log() const { return log_; }

 private:
  bool open_ = false;
  std::uint64_t left_ = 0;
  std::string log_;
};

struct outcome {
  std::string log;
  std::string error;  // empty: the archive parsed
  std::uint64_t entries = 0;
};

outcome parse(const std::vector<std::string_view>& pieces) {
  recorder r;
  tar_reader reader(r);
  outcome out;
  result<void> status;
  for (auto piece : pieces) {
    status = reader.feed(
        fuzz::as_bytes(reinterpret_cast<const std::uint8_t*>(piece.data()), piece.size()));
    if (!status) break;
  }
  if (status) status = reader.finish();
  if (!status) {
    FUZZ_CHECK(status.error().kind() == error_kind::invalid_argument);
    out.error = status.error().message();
  }
  out.log = r.log();
  out.entries = reader.entries();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  outcome whole = parse({input});
  outcome pieces = parse(fuzz::pieces_of(input));
  FUZZ_CHECK(whole.error == pieces.error);
  FUZZ_CHECK(whole.log == pieces.log);
  FUZZ_CHECK(whole.entries == pieces.entries);
  return 0;
}
