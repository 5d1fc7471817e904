#include "cri/state/image_index.hpp"

#include <algorithm>
#include <mutex>

namespace ringcri::cri::state {

namespace {

void add_unique(google::protobuf::RepeatedPtrField<std::string>* list, const std::string& v) {
  if (std::find(list->begin(), list->end(), v) == list->end()) *list->Add() = v;
}

void erase_value(google::protobuf::RepeatedPtrField<std::string>* list, const std::string& v) {
  auto it = std::find(list->begin(), list->end(), v);
  if (it != list->end()) list->erase(it);
}

}  // namespace

std::vector<records::image> image_index::put(records::image image) {
  std::unique_lock lock(mutex_);
  std::vector<records::image> orphaned;
  auto& held = by_id_[image.id()];
  if (held.id().empty()) {
    held = image;
    held.clear_repo_tags();
    held.clear_repo_digests();
  }
  held.set_pinned(held.pinned() || image.pinned());
  auto claim = [&](const std::string& name, bool is_tag) {
    auto [it, inserted] = by_name_.try_emplace(name, image.id());
    if (!inserted && it->second != image.id()) {
      // The name moves: off the image that had it.
      auto old = by_id_.find(it->second);
      if (old != by_id_.end()) {
        erase_value(is_tag ? old->second.mutable_repo_tags() : old->second.mutable_repo_digests(), name);
        if (old->second.repo_tags().empty() && old->second.repo_digests().empty()) {
          orphaned.push_back(std::move(old->second));
          by_id_.erase(old);
        }
      }
      it->second = image.id();
    }
    add_unique(is_tag ? held.mutable_repo_tags() : held.mutable_repo_digests(), name);
  };
  for (const auto& t : image.repo_tags()) claim(t, true);
  for (const auto& d : image.repo_digests()) claim(d, false);
  return orphaned;
}

std::optional<records::image> image_index::find(std::string_view ref) const {
  std::shared_lock lock(mutex_);
  std::string_view hex = ref;
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  bool hexish = !hex.empty() && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  if (hexish) {
    const records::image* match = nullptr;
    for (const auto& [id, img] : by_id_) {
      if (std::string_view(id).substr(7).starts_with(hex)) {
        if (match) return std::nullopt;  // ambiguous: not an id, maybe a name below
        match = &img;
      }
    }
    if (match) return *match;
  }
  auto it = by_name_.find(std::string(ref));
  if (it == by_name_.end()) return std::nullopt;
  auto img = by_id_.find(it->second);
  if (img == by_id_.end()) return std::nullopt;
  return img->second;
}

std::optional<records::image> image_index::remove(const std::string& id) {
  std::unique_lock lock(mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  records::image gone = std::move(it->second);
  by_id_.erase(it);
  for (auto n = by_name_.begin(); n != by_name_.end();) {
    if (n->second == id) n = by_name_.erase(n);
    else ++n;
  }
  return gone;
}

std::vector<records::image> image_index::list() const {
  std::shared_lock lock(mutex_);
  std::vector<records::image> out;
  out.reserve(by_id_.size());
  for (const auto& [id, img] : by_id_) out.push_back(img);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id() < b.id(); });
  return out;
}

std::set<std::string> image_index::layers_in_use() const {
  std::shared_lock lock(mutex_);
  std::set<std::string> used;
  for (const auto& [id, img] : by_id_) used.insert(img.diff_ids().begin(), img.diff_ids().end());
  return used;
}

std::size_t image_index::size() const {
  std::shared_lock lock(mutex_);
  return by_id_.size();
}

}  // namespace ringcri::cri::state
