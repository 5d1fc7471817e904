#include "support/registry_fixture.hpp"

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <stdexcept>

namespace ringcri::testing {

namespace fs = std::filesystem;

fs::path fixtures_dir() {
  const char* dir = std::getenv("RINGCRI_FIXTURES");
  if (!dir) throw std::runtime_error("RINGCRI_FIXTURES is not set (run the tests through meson test)");
  return dir;
}

int run_shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string registry_fixture::unavailable_reason() {
  for (const char* tool : {"/usr/bin/docker-registry", "/usr/bin/htpasswd", "/usr/bin/zstd", "/usr/bin/openssl"})
    if (!fs::exists(tool)) return std::string(tool) + " is missing (scripts/install-deps.sh installs it)";
  if (!fs::exists("/bin/busybox")) return "/bin/busybox (busybox-static) is missing";
  return "";
}

registry_fixture::registry_fixture(const std::string& kind, const std::string& images) : dir_("ringcri-registry") {
  auto fixtures = fixtures_dir().string();
  auto reg = dir_.path() / "registry";
  if (run_shell(fixtures + "/registry.sh start " + reg.string() + " " + kind + " >" + (dir_.path() / "start.log").string() +
                " 2>&1") != 0)
    throw std::runtime_error("registry.sh start " + kind + " failed; see " + (dir_.path() / "start.log").string());
  running_ = true;
  std::ifstream env_file(reg / "registry.env");
  for (std::string line; std::getline(env_file, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) env_[line.substr(0, eq)] = line.substr(eq + 1);
  }
  std::string cmd = (images.empty() ? "" : "IMAGES=" + images + " ") + fixtures + "/images.sh " +
                    (reg / "registry.env").string() + " " + (dir_.path() / "images").string() + " >" +
                    (dir_.path() / "images.log").string() + " 2>&1";
  if (run_shell(cmd) != 0) {
    // A constructor that throws runs no destructor: the registry is
    // stopped here, or it outlives the test. Its dir goes with the
    // members, so the log is in the message.
    stop();
    std::ifstream log(dir_.path() / "images.log");
    std::string text((std::istreambuf_iterator<char>(log)), {});
    if (text.size() > 4000) text = "..." + text.substr(text.size() - 4000);
    throw std::runtime_error("images.sh failed:\n" + text);
  }
  images_json_ = dir_.path() / "images" / "images.json";
  std::ifstream in(images_json_);
  images_ = nlohmann::json::parse(in);
}

void registry_fixture::stop() {
  if (!running_) return;
  run_shell(fixtures_dir().string() + "/registry.sh stop " + (dir_.path() / "registry").string() + " >/dev/null 2>&1");
  running_ = false;
}

registry_fixture::~registry_fixture() { stop(); }

}  // namespace ringcri::testing
