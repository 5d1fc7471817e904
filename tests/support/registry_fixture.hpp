#pragma once
// A real registry (Debian's docker-registry) on 127.0.0.1 with the test
// images pushed, started by tests/fixtures/registry.sh and images.sh.

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "support/ringcri_process.hpp"

namespace ringcri::testing {

class registry_fixture {
 public:
  // kind: plain, tls, basic, tls-basic, token, tls-token. `images`: a
  // comma list for images.sh's IMAGES (empty: all but the big ones).
  registry_fixture(const std::string& kind, const std::string& images = "");
  ~registry_fixture();
  registry_fixture(const registry_fixture&) = delete;
  registry_fixture& operator=(const registry_fixture&) = delete;

  // Why the fixture could not start (a missing package): the test skips.
  static std::string unavailable_reason();

  const std::string& env(const std::string& key) const { return env_.at(key); }
  std::string host() const { return env("REGISTRY_HOST"); }
  const nlohmann::json& image(const std::string& name) const { return images_.at("images").at(name); }
  const std::filesystem::path& images_json() const { return images_json_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  void stop();

 private:
  temp_dir dir_;
  std::map<std::string, std::string> env_;
  nlohmann::json images_;
  std::filesystem::path images_json_;
  bool running_ = false;
};

// The fixtures folder (from $RINGCRI_FIXTURES, set by meson).
std::filesystem::path fixtures_dir();

// Runs a shell command; returns its exit status (the shell's $?).
int run_shell(const std::string& command);

}  // namespace ringcri::testing
