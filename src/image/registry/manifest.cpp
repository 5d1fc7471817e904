#include "image/registry/manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "image/registry/content_digest.hpp"

namespace ringcri::image {

using nlohmann::json;

namespace {

tl::unexpected<error> invalid(std::string message) {
  return fail(error_kind::invalid_argument, std::move(message));
}

std::string_view base_media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view mt = content_type.substr(0, semi);
  while (!mt.empty() && mt.back() == ' ') mt.remove_suffix(1);
  while (!mt.empty() && mt.front() == ' ') mt.remove_prefix(1);
  return mt;
}

const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

result<std::string> string_member(const json& obj, const char* key, std::string_view where,
                                  bool required) {
  const json* v = member(obj, key);
  if (!v || v->is_null()) {
    if (required) return invalid(fmt::format("{}: no \"{}\"", where, key));
    return std::string();
  }
  if (!v->is_string()) return invalid(fmt::format("{}: \"{}\" is not a string", where, key));
  return v->get<std::string>();
}

result<std::vector<std::string>> strings_member(const json& obj, const char* key,
                                                std::string_view where) {
  std::vector<std::string> out;
  const json* v = member(obj, key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return invalid(fmt::format("{}: \"{}\" is not an array", where, key));
  for (const auto& s : *v) {
    if (!s.is_string()) return invalid(fmt::format("{}: \"{}\" holds a non-string", where, key));
    out.push_back(s.get<std::string>());
  }
  return out;
}

result<void> check_schema(const json& doc, std::string_view media_type, std::string_view where) {
  const json* v = member(doc, "schemaVersion");
  if (!v || !v->is_number_integer() || v->get<long long>() != 2) {
    return invalid(fmt::format("{}: schemaVersion is not 2", where));
  }
  auto mt = string_member(doc, "mediaType", where, false);
  if (!mt) return tl::unexpected(mt.error());
  if (!mt->empty() && *mt != media_type) {
    return invalid(fmt::format("{}: mediaType {} where {} was served", where, *mt, media_type));
  }
  return {};
}

result<json> parse_json(std::string_view bytes, std::string_view where) {
  json doc = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid(fmt::format("{}: not valid JSON", where));
  if (!doc.is_object()) return invalid(fmt::format("{}: not a JSON object", where));
  return doc;
}

result<descriptor> parse_descriptor(const json& j, std::string_view where) {
  if (!j.is_object()) return invalid(fmt::format("{}: not an object", where));
  descriptor d;
  auto mt = string_member(j, "mediaType", where, true);
  if (!mt) return tl::unexpected(mt.error());
  d.media_type = std::move(*mt);
  auto dg = string_member(j, "digest", where, true);
  if (!dg) return tl::unexpected(dg.error());
  if (!registry_detail::is_sha256_digest(*dg)) {
    return invalid(fmt::format("{}: digest \"{}\" is not sha256:<64 hex>", where, *dg));
  }
  d.digest = std::move(*dg);
  const json* size = member(j, "size");
  if (!size || !size->is_number_integer() || size->get<long long>() < 0) {
    return invalid(fmt::format("{}: size missing or negative", where));
  }
  d.size = size->get<std::int64_t>();
  auto urls = strings_member(j, "urls", where);
  if (!urls) return tl::unexpected(urls.error());
  d.urls = std::move(*urls);
  if (const json* ann = member(j, "annotations"); ann && ann->is_object()) {
    for (const auto& [k, v] : ann->items()) {
      if (v.is_string()) d.annotations.emplace(k, v.get<std::string>());
    }
  }
  if (const json* p = member(j, "platform"); p && !p->is_null()) {
    if (!p->is_object()) return invalid(fmt::format("{}: platform is not an object", where));
    platform pl;
    auto os = string_member(*p, "os", where, true);
    if (!os) return tl::unexpected(os.error());
    auto arch = string_member(*p, "architecture", where, true);
    if (!arch) return tl::unexpected(arch.error());
    auto variant = string_member(*p, "variant", where, false);
    if (!variant) return tl::unexpected(variant.error());
    auto os_version = string_member(*p, "os.version", where, false);
    if (!os_version) return tl::unexpected(os_version.error());
    auto features = strings_member(*p, "os.features", where);
    if (!features) return tl::unexpected(features.error());
    pl.os = std::move(*os);
    pl.architecture = std::move(*arch);
    pl.variant = std::move(*variant);
    pl.os_version = std::move(*os_version);
    pl.os_features = std::move(*features);
    d.platform = std::move(pl);
  }
  return d;
}

}  // namespace

result<std::string> manifest_media_type(std::string_view content_type, std::string_view bytes) {
  std::string ct(base_media_type(content_type));
  for (char& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto schema1 = [] {
    return fail(error_kind::unimplemented,
                "Docker schema 1 manifests are not supported; push the image again with a "
                "current client");
  };
  if (ct == media_types::docker_schema1 || ct == media_types::docker_schema1_signed) {
    return schema1();
  }
  if (media_types::is_index(ct) || media_types::is_manifest(ct)) return ct;
  // application/json, text/plain, or nothing: look inside.
  json doc = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(
        error_kind::failed_precondition,
        fmt::format("the registry sent {} that is not a manifest", ct.empty() ? "content" : ct));
  }
  if (const json* mt = member(doc, "mediaType"); mt && mt->is_string()) {
    std::string m = mt->get<std::string>();
    if (m == media_types::docker_schema1 || m == media_types::docker_schema1_signed) {
      return schema1();
    }
    if (media_types::is_index(m) || media_types::is_manifest(m)) return m;
    return fail(error_kind::failed_precondition,
                fmt::format("unsupported manifest media type {}", m));
  }
  if (const json* v = member(doc, "schemaVersion"); v && v->is_number_integer() && *v == 1) {
    return schema1();
  }
  if (member(doc, "manifests")) return std::string(media_types::oci_index);
  if (member(doc, "config")) return std::string(media_types::oci_manifest);
  return fail(error_kind::failed_precondition, "the registry sent JSON that is not a manifest");
}

result<image_index> parse_index(std::string_view bytes, std::string_view media_type) {
  if (!media_types::is_index(media_type)) {
    return invalid(fmt::format("{} is not an index media type", media_type));
  }
  auto doc = parse_json(bytes, "index");
  if (!doc) return tl::unexpected(doc.error());
  if (auto ok = check_schema(*doc, media_type, "index"); !ok) return tl::unexpected(ok.error());
  const json* list = member(*doc, "manifests");
  if (!list || !list->is_array()) return invalid("index: \"manifests\" is not an array");
  image_index idx;
  idx.media_type = std::string(media_type);
  idx.manifests.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto d = parse_descriptor((*list)[i], fmt::format("index: manifests[{}]", i));
    if (!d) return tl::unexpected(d.error());
    idx.manifests.push_back(std::move(*d));
  }
  return idx;
}

result<image_manifest> parse_manifest(std::string_view bytes, std::string_view media_type) {
  if (!media_types::is_manifest(media_type)) {
    return invalid(fmt::format("{} is not an image manifest media type", media_type));
  }
  auto doc = parse_json(bytes, "manifest");
  if (!doc) return tl::unexpected(doc.error());
  if (auto ok = check_schema(*doc, media_type, "manifest"); !ok) return tl::unexpected(ok.error());
  const json* config = member(*doc, "config");
  if (!config) return invalid("manifest: no \"config\"");
  auto cfg = parse_descriptor(*config, "manifest: config");
  if (!cfg) return tl::unexpected(cfg.error());
  if (!media_types::is_config(cfg->media_type)) {
    return fail(
        error_kind::failed_precondition,
        fmt::format("manifest is not a container image: its config is {}", cfg->media_type));
  }
  const json* layers = member(*doc, "layers");
  if (!layers || !layers->is_array()) return invalid("manifest: \"layers\" is not an array");
  image_manifest m;
  m.media_type = std::string(media_type);
  m.config = std::move(*cfg);
  m.layers.reserve(layers->size());
  for (std::size_t i = 0; i < layers->size(); ++i) {
    auto d = parse_descriptor((*layers)[i], fmt::format("manifest: layers[{}]", i));
    if (!d) return tl::unexpected(d.error());
    m.layers.push_back(std::move(*d));
  }
  return m;
}

result<descriptor> choose_manifest(const image_index& index, const platform& want) {
  const descriptor* best = nullptr;
  int best_score = -1;
  std::vector<std::string> seen;
  for (const auto& d : index.manifests) {
    if (!media_types::is_manifest(d.media_type)) continue;              // nested indexes, artifacts
    if (d.annotations.contains("vnd.docker.reference.type")) continue;  // attestations
    int score = 0;  // no platform: a last resort, as containerd keeps such entries
    if (d.platform) {
      seen.push_back(d.platform->string());
      score = platform_score(want, *d.platform);
    }
    if (score > best_score) {
      best = &d;
      best_score = score;
    }
  }
  if (!best) {
    std::string has =
        seen.empty() ? "no image manifests" : fmt::format("{}", fmt::join(seen, ", "));
    return fail(error_kind::not_found,
                fmt::format("no image for {} in the index (it has {})", want.string(), has));
  }
  return *best;
}

}  // namespace ringcri::image
