// The Prometheus endpoint (metrics_address): a scrape after a pull, a pod
// start and a failed call parses with the Prometheus client library's own
// parsers, in both text formats, and shows the counters and histograms
// moved and the gauges reading the node.

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/loopback_http.hpp"
#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;
using json = nlohmann::json;

namespace {

// Writes a config that serves metrics on a free port of 127.0.0.1.
std::string metrics_config(const temp_dir& dir) {
  auto file = dir.path() / "ringcri.toml";
  std::ofstream out(file);
  out << "metrics_address = \"127.0.0.1:0\"\n[cni]\nconf_dir = \"" << (dir.path() / "net.d").string() << "\"\n";
  return file.string();
}

int metrics_port(const ringcri_process& daemon) {
  std::smatch m;
  std::string log = daemon.log();
  static const std::regex url(R"(msg="metrics endpoint listening" url=http://127\.0\.0\.1:(\d+)/metrics)");
  REQUIRE(std::regex_search(log, m, url));
  return std::stoi(m[1]);
}

std::string get(int port, const std::string& path, const std::string& accept = "") {
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!accept.empty()) req += "Accept: " + accept + "\r\n";
  req += "\r\n";
  return loopback_http(port, req, "nothing listens on the metrics port");
}

std::string body_of(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  REQUIRE(at != std::string::npos);
  return response.substr(at + 4);
}

// The samples of a scrape as the Prometheus client library parses them:
// [[name, {labels}, value], ...].
json parse(const std::string& text, const std::string& format) {
  temp_dir dir("ringcri-metrics");
  auto in = dir.path() / "scrape.txt", out = dir.path() / "samples.json";
  std::ofstream(in) << text;
  std::string cmd = "/usr/bin/python3 " + (fixtures_dir() / "parse_metrics.py").string() + " " + format + " " +
                    in.string() + " > " + out.string();
  int status = std::system(cmd.c_str());
  INFO(text.substr(0, 2000));
  REQUIRE(status == 0);
  return json::parse(std::ifstream(out));
}

// The value of the sample `name` whose labels include `labels`; -1 when
// there is none.
double value(const json& samples, const std::string& name, const json& labels = json::object()) {
  for (const auto& s : samples) {
    if (s[0] != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels.items())
      if (!s[1].contains(k) || s[1][k] != v) match = false;
    if (match) return s[2].get<double>();
  }
  return -1;
}

}  // namespace

TEST_CASE("a scrape of /metrics parses and shows what the daemon did") {
  skip_unless_ready();
  if (std::system("/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null") != 0)
    skip_binary("python3-prometheus-client is not installed (scripts/install-deps.sh installs it)");
  temp_dir config_dir("ringcri-metrics-config");
  runtime_fixture f({"--config", metrics_config(config_dir)});  // pulls two images
  const int port = metrics_port(f.daemon);
  const std::string openmetrics = "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5";

  auto before_response = get(port, "/metrics", openmetrics);
  INFO(before_response.substr(0, 300));
  REQUIRE(before_response.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(before_response.find("Content-Type: application/openmetrics-text; version=1.0.0") != std::string::npos);
  auto before = parse(body_of(before_response), "openmetrics");

  // The pulls the fixture made.
  CHECK(value(before, "ringcri_image_pulls_total", {{"result", "success"}}) >= 2);
  CHECK(value(before, "ringcri_image_pull_bytes_total") > 0);
  CHECK(value(before, "ringcri_image_pull_phase_duration_seconds_count", {{"phase", "resolve"}}) >= 2);
  CHECK(value(before, "ringcri_image_pull_phase_duration_seconds_count", {{"phase", "fetch"}}) >= 2);
  CHECK(value(before, "ringcri_image_pull_phase_duration_seconds_count", {{"phase", "commit"}}) >= 2);
  CHECK(value(before, "ringcri_cri_requests_total",
              {{"service", "ImageService"}, {"method", "PullImage"}, {"code", "OK"}}) >= 2);
  CHECK(value(before, "ringcri_images") >= 2);
  CHECK(value(before, "ringcri_layers") >= 2);
  CHECK(value(before, "ringcri_layer_store_bytes") > 0);
  CHECK(value(before, "ringcri_pods", {{"state", "ready"}}) == 0);
  CHECK(value(before, "ringcri_keeper_up") == 1);
  CHECK(value(before, "process_resident_memory_bytes") > 0);
  CHECK(value(before, "process_open_fds") > 0);
  CHECK(value(before, "ringcri_keeper_open_fds") > 0);

  // A pod with a running container, and a call that fails.
  auto pc = f.run_pod_with("metrics", {"sleep", "29981"});
  v1::ContainerStatusRequest unknown;
  unknown.set_container_id("no-such-container");
  v1::ContainerStatusResponse unknown_resp;
  CHECK(f.client.runtime_call(&S::ContainerStatus, unknown, &unknown_resp).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  auto after = parse(body_of(get(port, "/metrics", openmetrics)), "openmetrics");
  const json run_pod = {{"service", "RuntimeService"}, {"method", "RunPodSandbox"}};
  CHECK(value(after, "ringcri_cri_request_duration_seconds_count", run_pod) == 1);
  CHECK(value(after, "ringcri_cri_request_duration_seconds_bucket",
              {{"method", "RunPodSandbox"}, {"le", "+Inf"}}) == 1);
  CHECK(value(after, "ringcri_cri_request_duration_seconds_sum", run_pod) > 0);
  CHECK(value(after, "ringcri_cri_requests_total",
              {{"method", "RunPodSandbox"}, {"code", "OK"}}) == 1);
  CHECK(value(after, "ringcri_cri_requests_total",
              {{"method", "ContainerStatus"}, {"code", "NOT_FOUND"}}) == 1);
  // A pod network of its own (loopback only: the config dir has no CNI
  // network, so no CNI ADD ran), and no init (no shared PID namespace).
  for (const char* phase : {"intent", "namespaces", "cgroup", "network", "record"})
    CHECK(value(after, "ringcri_pod_start_phase_duration_seconds_count", {{"phase", phase}}) == 1);
  CHECK(value(after, "ringcri_pod_start_phase_duration_seconds_count", {{"phase", "init"}}) == 0);
  CHECK(value(after, "ringcri_cni_duration_seconds_count", {{"operation", "add"}}) == 0);
  CHECK(value(after, "ringcri_pods", {{"state", "ready"}}) == 1);
  CHECK(value(after, "ringcri_containers", {{"state", "running"}}) == 1);
  CHECK(value(after, "ringcri_keeper_held_processes", {{"state", "running"}}) >= 1);

  // Without OpenMetrics in Accept: Prometheus' text format, which parses too.
  auto plain = get(port, "/metrics");
  CHECK(plain.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
  CHECK(plain.find("# EOF") == std::string::npos);
  auto samples = parse(body_of(plain), "prometheus");
  CHECK(value(samples, "ringcri_pods", {{"state", "ready"}}) == 1);

  // Anything else is not served.
  CHECK(get(port, "/").rfind("HTTP/1.1 404", 0) == 0);
  CHECK(get(port, "/metrics/x").rfind("HTTP/1.1 404", 0) == 0);
  CHECK(loopback_http(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "no metrics port")
            .rfind("HTTP/1.1 405", 0) == 0);
  CHECK(loopback_http(port, "GARBAGE\r\n\r\n", "no metrics port").rfind("HTTP/1.1 400", 0) == 0);
}

TEST_CASE("a metrics_address that is not host:port keeps the daemon from starting, naming the key") {
  temp_dir dir("ringcri-metrics-config");
  auto file = dir.path() / "ringcri.toml";
  std::ofstream(file) << "metrics_address = \"localhost\"\n";
  auto [status, output] = run_ringcri({"--config", file.string(), "--root", (dir.path() / "root").string(),
                                       "--state", (dir.path() / "state").string()});
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK(output.find("metrics_address \"localhost\" is not host:port") != std::string::npos);
}
