#pragma once
// Helpers shared by the registry client's tests.

#include <string>
#include <vector>

#include "fake_registry.hpp"
#include "image/registry/content_digest.hpp"
#include "image/registry/registry_client.hpp"

namespace registry_test {

inline ringcri::image::endpoint_lookup fixed(std::vector<ringcri::image::registry_endpoint> eps) {
  return [eps = std::move(eps)](
             std::string_view) -> ringcri::result<std::vector<ringcri::image::registry_endpoint>> {
    return eps;
  };
}

inline ringcri::image::reference ref_of(const fake_registry& reg, std::string repository,
                                        std::string tag = "latest", std::string digest = "") {
  ringcri::image::reference r;
  r.registry = reg.host();
  r.repository = std::move(repository);
  r.tag = std::move(tag);
  r.digest = std::move(digest);
  return r;
}

inline ringcri::image::credentials alice(std::string password = "secret") {
  ringcri::image::credentials c;
  c.username = "alice";
  c.password = std::move(password);
  return c;
}

inline bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The requests the server logged whose path contains `part`.
inline std::vector<nlohmann::json> requests_to(const fake_registry& reg, const std::string& part) {
  std::vector<nlohmann::json> out;
  nlohmann::json stats = reg.stats();  // named: a temporary's member would dangle in the loop
  for (const auto& e : stats["log"]) {
    if (contains(e["path"].get<std::string>(), part)) out.push_back(e);
  }
  return out;
}

}  // namespace registry_test
