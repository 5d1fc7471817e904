// A layer's tar written as an EROFS image (image/unpack/erofs_writer):
// whatever the archive holds, the writer refuses it (INVALID_ARGUMENT,
// RESOURCE_EXHAUSTED, or an entry named with the errno a file system
// would give), or writes an image whose superblock and size
// agree: the magic, whole blocks, the metadata area inside the image and
// the root inode inside the metadata area. The image goes to a memfd.

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "base/unique_fd.hpp"
#include "fuzz_check.hpp"
#include "image/unpack/erofs_format.hpp"
#include "image/unpack/erofs_writer.hpp"
#include "image/unpack/tar_reader.hpp"

using namespace ringcri;
using namespace ringcri::image;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  unique_fd image(::memfd_create("erofs-fuzz", MFD_CLOEXEC));
  FUZZ_CHECK(image);
  erofs_writer writer(image.get());
  tar_reader reader(writer);
  result<void> status;
  for (auto piece : fuzz::pieces_of(fuzz::as_text(data, size))) {
    status = reader.feed(fuzz::as_bytes(reinterpret_cast<const std::uint8_t*>(piece.data()),
                                        piece.size()));
    if (!status) break;
  }
  if (status) status = reader.finish();
  if (status) status = writer.finish();
  if (!status) {
    // A malformed archive, a limit, or an entry refused as the extractor's
    // file system would refuse it (with its errno), naming the entry; never
    // the writer's own failure.
    const error_kind k = status.error().kind();
    const bool names_entry = status.error().message().starts_with("entry \"");
    if (k != error_kind::invalid_argument && k != error_kind::resource_exhausted && !names_entry)
      std::fprintf(stderr, "refused as: %s\n", status.error().message().c_str());
    FUZZ_CHECK(k == error_kind::invalid_argument || k == error_kind::resource_exhausted ||
               names_entry);
    return 0;
  }

  struct stat st {};
  FUZZ_CHECK(::fstat(image.get(), &st) == 0);
  const auto bytes = static_cast<std::uint64_t>(st.st_size);
  FUZZ_CHECK(bytes % erofs::block_size == 0);
  FUZZ_CHECK(bytes >= 2 * erofs::block_size);
  erofs::super_block sb{};
  FUZZ_CHECK(::pread(image.get(), &sb, sizeof sb, erofs::super_offset) == sizeof sb);
  FUZZ_CHECK(sb.magic == erofs::super_magic);
  FUZZ_CHECK(sb.blkszbits == erofs::block_bits);
  FUZZ_CHECK(std::uint64_t{sb.blocks} * erofs::block_size == bytes);
  FUZZ_CHECK(sb.meta_blkaddr >= 1 && sb.meta_blkaddr < sb.blocks);
  FUZZ_CHECK(sb.inos >= 1);
  const std::uint64_t root_at =
      std::uint64_t{sb.meta_blkaddr} * erofs::block_size + (std::uint64_t{sb.root_nid} << erofs::slot_bits);
  FUZZ_CHECK(root_at + 64 <= bytes);
  return 0;
}
