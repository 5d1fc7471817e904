#pragma once
// The images on this node, found by id (or a unique prefix of its hex),
// by repo tag or by repo digest. A tag names one image: pulling a tag
// that moved takes it off the image it named before. Thread-safe.

#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "records.pb.h"

namespace ringcri::cri::state {

class image_index {
 public:
  // Adds the image or merges its tags and digests into the one with the
  // same id. Returns images the merge left without any name (a tag moved
  // off them), already removed from the index: the caller deletes their
  // records and unused layers.
  std::vector<records::image> put(records::image image);

  // `id` is "sha256:<hex>", "<hex>" or a unique prefix of the hex; `name`
  // is a normalised "repo:tag" or "repo@digest". Looks at ids first.
  std::optional<records::image> find(std::string_view id_or_name) const;

  std::optional<records::image> remove(const std::string& id);
  std::vector<records::image> list() const;
  // Diff ids of every layer some image uses.
  std::set<std::string> layers_in_use() const;
  std::size_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, records::image> by_id_;
  std::unordered_map<std::string, std::string> by_name_;  // tag or digest ref -> id
};

}  // namespace ringcri::cri::state
