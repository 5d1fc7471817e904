#include "cri/views/image_view.hpp"

#include <charconv>

#include <nlohmann/json.hpp>

namespace ringcri::cri {

namespace v1 = ::runtime::v1;

v1::Image image_of(const records::image& img) {
  v1::Image out;
  out.set_id(img.id());
  *out.mutable_repo_tags() = img.repo_tags();
  *out.mutable_repo_digests() = img.repo_digests();
  out.set_size(img.size());
  out.mutable_spec()->set_image(img.id());
  out.set_pinned(img.pinned());
  // The config's User: "uid", "uid:gid", "name" or "name:group".
  auto config = nlohmann::json::parse(img.config(), nullptr, false);
  if (!config.is_discarded() && config.contains("config") && config["config"].is_object()) {
    std::string user = config["config"].value("User", "");
    std::string who = user.substr(0, user.find(':'));
    std::int64_t uid = 0;
    auto [end, ec] = std::from_chars(who.data(), who.data() + who.size(), uid);
    if (!who.empty() && ec == std::errc() && end == who.data() + who.size()) out.mutable_uid()->set_value(uid);
    else out.set_username(who);
  }
  return out;
}

std::string image_info(const records::image& img) {
  nlohmann::json info = {
      {"id", img.id()},
      {"repoTags", std::vector<std::string>(img.repo_tags().begin(), img.repo_tags().end())},
      {"repoDigests", std::vector<std::string>(img.repo_digests().begin(), img.repo_digests().end())},
      {"diffIDs", std::vector<std::string>(img.diff_ids().begin(), img.diff_ids().end())},
      {"size", img.size()},
  };
  auto config = nlohmann::json::parse(img.config(), nullptr, false);
  info["imageSpec"] = config.is_discarded() ? nlohmann::json(nullptr) : config;
  return info.dump();
}

}  // namespace ringcri::cri
