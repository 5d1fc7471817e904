#include "image/registry/image_config.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "image/registry/content_digest.hpp"

namespace ringcri::image {

using nlohmann::json;

namespace {

tl::unexpected<error> invalid(std::string message) {
  return fail(error_kind::invalid_argument, "image config: " + std::move(message));
}

result<std::string> get_string(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return invalid(fmt::format("\"{}\" is not a string", key));
  return it->get<std::string>();
}

result<std::vector<std::string>> get_strings(const json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return invalid(fmt::format("\"{}\" is not an array", key));
  for (const auto& s : *it) {
    if (!s.is_string()) return invalid(fmt::format("\"{}\" holds a non-string", key));
    out.push_back(s.get<std::string>());
  }
  return out;
}

}  // namespace

result<image_config> parse_image_config(std::string_view bytes) {
  json doc = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return invalid("not a JSON object");
  image_config c;
  for (auto [field, key] : {std::pair{&c.os, "os"}, std::pair{&c.architecture, "architecture"},
                            std::pair{&c.variant, "variant"}}) {
    auto v = get_string(doc, key);
    if (!v) return tl::unexpected(v.error());
    *field = std::move(*v);
  }

  auto rootfs = doc.find("rootfs");
  if (rootfs == doc.end() || !rootfs->is_object()) return invalid("no \"rootfs\"");
  auto type = get_string(*rootfs, "type");
  if (!type) return tl::unexpected(type.error());
  if (*type != "layers")
    return invalid(fmt::format("rootfs.type is \"{}\", not \"layers\"", *type));
  auto diff_ids = get_strings(*rootfs, "diff_ids");
  if (!diff_ids) return tl::unexpected(diff_ids.error());
  for (const auto& d : *diff_ids) {
    if (!registry_detail::is_sha256_digest(d)) {
      return invalid(fmt::format("diff id \"{}\" is not sha256:<64 hex>", d));
    }
  }
  c.diff_ids = std::move(*diff_ids);

  auto cfg = doc.find("config");
  if (cfg == doc.end() || cfg->is_null()) return c;  // no run settings: all defaults
  if (!cfg->is_object()) return invalid("\"config\" is not an object");
  for (auto [field, key] : {std::pair{&c.env, "Env"}, std::pair{&c.entrypoint, "Entrypoint"},
                            std::pair{&c.cmd, "Cmd"}}) {
    auto v = get_strings(*cfg, key);
    if (!v) return tl::unexpected(v.error());
    *field = std::move(*v);
  }
  for (auto [field, key] : {std::pair{&c.working_dir, "WorkingDir"}, std::pair{&c.user, "User"},
                            std::pair{&c.stop_signal, "StopSignal"}}) {
    auto v = get_string(*cfg, key);
    if (!v) return tl::unexpected(v.error());
    *field = std::move(*v);
  }
  if (auto vols = cfg->find("Volumes"); vols != cfg->end() && !vols->is_null()) {
    if (!vols->is_object()) return invalid("\"Volumes\" is not an object");
    for (const auto& [path, _] : vols->items())
      c.volumes.push_back(path);  // json objects are sorted
  }
  if (auto labels = cfg->find("Labels"); labels != cfg->end() && !labels->is_null()) {
    if (!labels->is_object()) return invalid("\"Labels\" is not an object");
    for (const auto& [k, v] : labels->items()) {
      if (!v.is_string()) return invalid(fmt::format("label \"{}\" is not a string", k));
      c.labels.emplace(k, v.get<std::string>());
    }
  }
  return c;
}

}  // namespace ringcri::image
