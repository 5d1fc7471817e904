// The daemon's allocator against Debian's real host-local plugin
// (/usr/lib/cni/host-local), each on a scratch dataDir: one sequence of
// ADDs and DELs is played by the plugin alone, by the daemon alone, and by
// the two taking turns (each releasing what the other allocated); after
// every step the three stores hold the same files with the same contents
// and every ADD got the same address. Covers round robin, wrap-around
// after exhaustion, IPv6 file names, two range sets and two ranges in a
// set. Then a /30 that runs out, a duplicate ADD, and the lock. Runs the
// plugin only against files; needs no root.

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "net/ipam/allocator.hpp"
#include "reactor/reactor.hpp"
#include "support/node_network.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"

namespace ipam = ringcri::net::ipam;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* plugin = "/usr/lib/cni/host-local";

void need_plugin() {
  static bool checked = false;
  if (checked) return;
  if (::access(plugin, X_OK) != 0)
    ringcri::testing::skip_binary(std::string("no ") + plugin +
                                  " (Debian package containernetworking-plugins)");
  checked = true;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

// One network config, as a plugin reads it and as the daemon parses it.
struct network {
  json conf;
  ipam::ipam_config config;

  network(const std::string& name, const fs::path& data_dir, json ranges) {
    conf = {{"cniVersion", "1.0.0"},
            {"name", name},
            {"type", "bridge"},
            {"ipam", {{"type", "host-local"}, {"dataDir", data_dir.string()}, {"ranges", ranges}}}};
    auto parsed = ipam::parse_ipam_config(conf);
    REQUIRE(parsed);
    config = *parsed;
  }
  fs::path store() const { return fs::path(config.data_dir) / config.network; }
};

struct outcome {
  bool ok = false;
  std::vector<std::string> addresses;  // "10.250.0.2/29"
  std::string error;
};

outcome run_plugin(const network& net, const char* command, const std::string& id,
                   const std::string& ifname) {
  ringcri::testing::temp_dir scratch("ringcri-ipam-conf");
  auto conf = scratch.write("conf.json", net.conf.dump());
  std::string cmd = std::string("CNI_COMMAND=") + command + " CNI_CONTAINERID=" + shell_quote(id) +
                    " CNI_NETNS=/proc/self/ns/net CNI_IFNAME=" + shell_quote(ifname) +
                    " CNI_PATH=/usr/lib/cni " + plugin + " < " + conf.string() + " 2>&1";
  int status = 0;
  std::string out = ringcri::testing::shell_output(cmd, &status);
  outcome o;
  o.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!o.ok) {
    o.error = out;
    return o;
  }
  if (std::string(command) == "ADD") {
    json result = json::parse(out);
    for (const auto& i : result.at("ips"))
      o.addresses.push_back(i.at("address").get<std::string>());
  }
  return o;
}

outcome run_ours(const network& net, const char* command, const std::string& id,
                 const std::string& ifname) {
  outcome o;
  if (std::string(command) == "ADD") {
    auto got = ipam::allocate(net.config, id, ifname);
    o.ok = bool(got);
    if (got)
      for (const auto& a : *got) o.addresses.push_back(a.address.to_string());
    else
      o.error = got.error().message();
  } else {
    auto done = ipam::release(net.config, id, ifname);
    o.ok = bool(done);
    if (!done) o.error = done.error().message();
  }
  return o;
}

// The store's files and what they hold.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    files[e.path().filename().string()] = text.str();
  }
  return files;
}

struct step {
  const char* command;
  std::string id;
};

enum class who { plugin, ours, turns };

// Plays `steps` on a store of its own; returns each step's outcome and the
// store after each step.
std::vector<std::pair<outcome, std::map<std::string, std::string>>> play(
    who player, const json& ranges, const std::vector<step>& steps) {
  ringcri::testing::temp_dir dir("ringcri-ipam");
  network net("ipamtest", dir.path(), ranges);
  std::vector<std::pair<outcome, std::map<std::string, std::string>>> log;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    bool by_plugin = player == who::plugin || (player == who::turns && i % 2 == 0);
    auto o = by_plugin ? run_plugin(net, steps[i].command, steps[i].id, "eth0")
                       : run_ours(net, steps[i].command, steps[i].id, "eth0");
    log.emplace_back(o, snapshot(net.store()));
  }
  return log;
}

void same_as_plugin(const json& ranges, const std::vector<step>& steps) {
  need_plugin();
  auto reference = play(who::plugin, ranges, steps);
  for (who player : {who::ours, who::turns}) {
    auto log = play(player, ranges, steps);
    for (std::size_t i = 0; i < steps.size(); ++i) {
      INFO("step " << i << ": " << steps[i].command << " " << steps[i].id << " by "
                   << (player == who::ours ? "the daemon" : "turns"));
      INFO("plugin said: " << reference[i].first.error << " / daemon said: " << log[i].first.error);
      CHECK(log[i].first.ok == reference[i].first.ok);
      CHECK(log[i].first.addresses == reference[i].first.addresses);
      CHECK(log[i].second == reference[i].second);
    }
  }
}

}  // namespace

TEST_CASE(
    "round robin, exhaustion and wrap-around match host-local, whoever allocates and releases") {
  // .1 is the gateway: .2-.6 to hand out.
  json ranges = json::parse(R"([[{"subnet": "10.250.0.0/29"}]])");
  same_as_plugin(ranges, {{"ADD", "c1"},
                          {"ADD", "c2"},
                          {"ADD", "c3"},
                          {"DEL", "c2"},
                          {"ADD", "c4"},
                          {"ADD", "c5"},
                          {"ADD", "c6"},
                          {"ADD", "c7"},  // full
                          {"DEL", "c1"},
                          {"DEL", "c4"},
                          {"ADD", "c8"},
                          {"ADD", "c9"},
                          {"DEL", "c9"},
                          {"DEL", "c9"},  // twice: nothing to do, still fine
                          {"ADD", "c10"}});
}

TEST_CASE("dual stack, a set of two ranges and a gateway inside the range match host-local") {
  json ranges = json::parse(R"([
    [{"subnet": "10.250.1.0/29", "rangeStart": "10.250.1.4"},
     {"subnet": "10.250.2.0/30", "gateway": "10.250.2.2"}],
    [{"subnet": "fd00:250::/125", "rangeStart": "fd00:250::2", "gateway": "fd00:250::3"}]])");
  same_as_plugin(ranges, {{"ADD", "a"},
                          {"ADD", "b"},
                          {"ADD", "c"},
                          {"ADD", "d"},
                          {"DEL", "a"},
                          {"ADD", "e"},
                          {"ADD", "f"},
                          {"ADD", "g"},
                          {"DEL", "c"},
                          {"ADD", "h"}});
}

TEST_CASE("a /30 runs out with resource_exhausted naming the range, as the plugin refuses too") {
  need_plugin();
  ringcri::testing::temp_dir dir("ringcri-ipam");
  network net("small", dir.path(), json::parse(R"([[{"subnet": "10.250.3.0/30"}]])"));
  auto first = ipam::allocate(net.config, "pod-a", "eth0");
  REQUIRE(first);
  REQUIRE(first->size() == 1);
  CHECK((*first)[0].address.to_string() == "10.250.3.2/30");
  CHECK((*first)[0].gateway.to_string() == "10.250.3.1");

  auto second = ipam::allocate(net.config, "pod-b", "eth0");
  REQUIRE_FALSE(second);
  CHECK(second.error().kind() == ringcri::error_kind::resource_exhausted);
  CHECK_THAT(second.error().message(), Catch::Contains("10.250.3.1-10.250.3.2"));
  CHECK_THAT(second.error().message(), Catch::Contains("small"));
  CHECK_FALSE(fs::exists(net.store() / "10.250.3.3"));

  auto plugin_says = run_plugin(net, "ADD", "pod-b", "eth0");
  CHECK_FALSE(plugin_says.ok);
  CHECK_THAT(plugin_says.error,
             Catch::Contains("no IP addresses available in range set: 10.250.3.1-10.250.3.2"));

  // Freed by the plugin, the address is ours to hand out again.
  REQUIRE(run_plugin(net, "DEL", "pod-a", "eth0").ok);
  auto again = ipam::allocate(net.config, "pod-b", "eth0");
  REQUIRE(again);
  CHECK((*again)[0].address.to_string() == "10.250.3.2/30");
}

TEST_CASE("a second ADD for the same container and interface is refused, by both") {
  need_plugin();
  ringcri::testing::temp_dir dir("ringcri-ipam");
  network net("dup", dir.path(), json::parse(R"([[{"subnet": "10.250.4.0/24"}]])"));
  REQUIRE(run_plugin(net, "ADD", "pod-a", "eth0").ok);
  auto ours = ipam::allocate(net.config, "pod-a", "eth0");
  REQUIRE_FALSE(ours);
  CHECK_THAT(ours.error().message(), Catch::Contains("10.250.4.2 has been allocated to pod-a"));
  CHECK_FALSE(run_plugin(net, "ADD", "pod-a", "eth0").ok);
  // Another interface of the same container is another allocation.
  auto eth1 = ipam::allocate(net.config, "pod-a", "eth1");
  REQUIRE(eth1);
  CHECK((*eth1)[0].address.to_string() == "10.250.4.3/24");
  CHECK(snapshot(net.store())["10.250.4.3"] == "pod-a\r\neth1");
  // Release by id and interface leaves the other interface's address.
  REQUIRE(ipam::release(net.config, "pod-a", "eth0"));
  CHECK_FALSE(fs::exists(net.store() / "10.250.4.2"));
  CHECK(fs::exists(net.store() / "10.250.4.3"));
}

// Whether /proc/locks shows someone blocked on the flock of `inode`.
bool waiter_on(ino_t inode) {
  std::ifstream locks("/proc/locks");
  std::string line;
  std::string tail = ":" + std::to_string(inode) + " ";
  while (std::getline(locks, line))
    if (line.find("->") != std::string::npos && line.find(tail) != std::string::npos) return true;
  return false;
}

TEST_CASE("the daemon waits for the plugin's lock, off the reactor") {
  ringcri::testing::temp_dir dir("ringcri-ipam");
  network net("locked", dir.path(), json::parse(R"([[{"subnet": "10.250.5.0/24"}]])"));
  fs::create_directories(net.store());
  auto lock_path = net.store() / "lock";
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0750);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);
  struct stat st;
  REQUIRE(::fstat(fd, &st) == 0);

  ringcri::net::ipam::allocation got_first;
  bool allocated = false;
  std::thread daemon([&] {
    ringcri::reactor::reactor r;
    auto got = r.block_on(ipam::allocate_async(net.config, "pod-a", "eth0"));
    if (got && got->size() == 1) {
      got_first = (*got)[0];
      allocated = true;
    }
  });
  while (!waiter_on(st.st_ino)) std::this_thread::yield();
  // Blocked on the lock: nothing written yet.
  CHECK_FALSE(fs::exists(net.store() / "10.250.5.2"));
  ::flock(fd, LOCK_UN);
  daemon.join();
  ::close(fd);
  REQUIRE(allocated);
  CHECK(got_first.address.to_string() == "10.250.5.2/24");
  CHECK(snapshot(net.store())["10.250.5.2"] == "pod-a\r\neth0");
}
