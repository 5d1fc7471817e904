// SIGHUP: the daemon reads its config file again while it serves. A new
// mirror and new credentials take effect for the next pull; a broken file
// changes nothing and the error names the line; a key only a restart
// takes is named in a warning.

#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "support/cri_client.hpp"
#include "support/registry_fixture.hpp"
#include "support/ringcri_process.hpp"
#include "support/skip.hpp"

using namespace ringcri::testing;
namespace v1 = runtime::v1;
namespace fs = std::filesystem;

namespace {

void skip_without_fixtures() {
  auto why = registry_fixture::unavailable_reason();
  if (!why.empty()) skip_binary(why);
}

grpc::Status pull(cri_client& c, const std::string& image) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image);
  v1::PullImageResponse resp;
  return c.image_call(&v1::ImageService::Stub::PullImage, req, &resp);
}

// Rewrites the config file, sends SIGHUP and waits for the daemon to say
// what it did with it (a line after `from`).
void reload(ringcri_process& d, const fs::path& config, const std::string& text, const std::string& expect) {
  std::size_t from = d.log().size();
  std::ofstream(config, std::ios::trunc) << text;
  REQUIRE(::kill(d.pid(), SIGHUP) == 0);
  bool said = d.wait_for_log(expect, std::chrono::seconds(10), from);
  INFO(d.log().substr(from));
  REQUIRE(said);
}

std::string status_config(cri_client& c) {
  v1::StatusRequest req;
  req.set_verbose(true);
  v1::StatusResponse resp;
  REQUIRE(c.runtime_call(&v1::RuntimeService::Stub::Status, req, &resp).ok());
  return resp.info().at("config");
}

}  // namespace

TEST_CASE("SIGHUP: a mirror added to the config serves the next pull; a broken file keeps the old config") {
  skip_without_fixtures();
  registry_fixture reg("plain", "busybox");
  temp_dir conf;
  // Nothing listens on 127.0.0.1:1: the image is reachable only through a
  // mirror, which only the second certs.d names.
  const std::string image = "127.0.0.1:1/busybox:1";
  fs::create_directories(conf.path() / "certs.empty");
  auto mirrored = conf.path() / "certs.mirror" / "127.0.0.1:1";
  fs::create_directories(mirrored);
  std::ofstream(mirrored / "hosts.toml") << "server = \"http://127.0.0.1:1\"\n"
                                         << "[host.\"http://" << reg.host() << "\"]\n"
                                         << "capabilities = [\"pull\", \"resolve\"]\n";
  auto config = conf.path() / "ringcri.toml";
  auto config_with = [&](const std::string& certs, const std::string& level, const std::string& more = "") {
    return "log_level = \"" + level + "\"\n" + more + "[registry]\nconfig_path = \"" +
           (conf.path() / certs).string() + "\"\n[cni]\nconf_dir = \"" + (conf.path() / "net.d").string() +
           "\"\n";
  };
  std::ofstream(config) << config_with("certs.empty", "info");

  ringcri_process d({"--config", config.string()});
  cri_client c(d.socket());
  auto before = pull(c, image);
  CHECK(before.error_code() == grpc::StatusCode::UNAVAILABLE);

  reload(d, config, config_with("certs.mirror", "debug"),
         "msg=\"config reloaded\" changed=\"log_level,registry.config_path\"");
  auto after = pull(c, image);
  INFO(after.error_message());
  CHECK(after.ok());
  CHECK_THAT(status_config(c), Catch::Contains("\"logLevel\":\"debug\""));

  // A broken file: the error names the file and the line, and the daemon
  // keeps the config it had (the mirror still serves).
  reload(d, config, "log_level = \"info\"\n[registry]\nconfig_path = 42\n", "msg=\"config not reloaded");
  CHECK_THAT(d.log(), Catch::Contains(config.string() + ":3"));
  CHECK_THAT(d.log(), Catch::Contains("registry.config_path"));
  auto still = pull(c, image);
  INFO(still.error_message());
  CHECK(still.ok());
  CHECK_THAT(status_config(c), Catch::Contains("\"logLevel\":\"debug\""));

  // A key that only a restart takes is named, and the rest is taken.
  reload(d, config, config_with("certs.mirror", "info", "pids_limit = 7\n"), "keys=\"pids_limit\"");
  CHECK_THAT(d.log(), Catch::Contains("only a restart takes"));
  CHECK_THAT(status_config(c), Catch::Contains("\"logLevel\":\"info\""));
  CHECK_THAT(status_config(c), Catch::Contains("\"pidsLimit\":0"));
  // The daemon still serves.
  CHECK(pull(c, image).ok());
}

TEST_CASE("SIGHUP: credentials added to the config serve the next pull") {
  skip_without_fixtures();
  registry_fixture reg("tls-basic", "busybox");
  const auto image = reg.image("busybox:1").at("reference");
  temp_dir conf;
  auto host_dir = conf.path() / "certs.d" / reg.host();
  fs::create_directories(host_dir);
  std::ofstream(host_dir / "hosts.toml") << "server = \"https://" << reg.host() << "\"\n"
                                         << "ca = \"" << reg.env("REGISTRY_CA") << "\"\n";
  auto config = conf.path() / "ringcri.toml";
  const std::string base = "[registry]\nconfig_path = \"" + (conf.path() / "certs.d").string() + "\"\n";
  std::ofstream(config) << base;

  ringcri_process d({"--config", config.string()});
  cri_client c(d.socket());
  CHECK(pull(c, image).error_code() == grpc::StatusCode::PERMISSION_DENIED);

  reload(d, config,
         base + "[registry.auths.\"" + reg.host() + "\"]\nusername = \"" + reg.env("REGISTRY_USER") +
             "\"\npassword = \"" + reg.env("REGISTRY_PASSWORD") + "\"\n",
         "changed=\"registry.auths\"");
  auto st = pull(c, image);
  INFO(st.error_message());
  CHECK(st.ok());
}
