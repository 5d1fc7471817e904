// Pod networking through the real CNI plugins of Debian's
// containernetworking-plugins (bridge, host-local, portmap): a bridge of
// the test's own (its name and subnet used by nothing else), with the IP
// reservations in the test's own dir, so all traffic stays between the
// namespaces the test made and nothing is left on the node.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>


#include "support/node_network.hpp"
#include "support/test_network.hpp"
#include "support/runtime_fixture.hpp"

using namespace ringcri::testing;

namespace {

std::string eth0_of(const std::string& pid) {
  return shell_output("nsenter -t " + pid + " -n ip -4 -o addr show dev eth0 2>&1");
}

// A pod whose container serves `body` over HTTP on port 8080.
v1::ContainerConfig web_server(runtime_fixture& f, const std::string& name, const std::string& body) {
  return f.container_config(name, {"sh", "-c", "mkdir -p /www && echo " + body +
                                                   " > /www/index.html && echo serving && httpd -f -p 8080 -h /www"});
}

// GET / from 127.0.0.1:port with a plain socket; the response, or "".
std::string http_get_localhost(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    (void)!::write(s, req.data(), req.size());
    char buf[4096];
    for (ssize_t n; (n = ::read(s, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(s);
  return out;
}

}  // namespace

TEST_CASE("network: pods on the bridge get an IP in their netns and reach each other") {
  test_network net;
  runtime_fixture f(net.daemon_flags());

  v1::StatusResponse status;
  REQUIRE(f.client.runtime_call(&S::Status, v1::StatusRequest{}, &status).ok());
  bool network_ready = false;
  for (const auto& c : status.status().conditions())
    if (c.type() == "NetworkReady") network_ready = c.status();
  CHECK(network_ready);

  auto a_config = f.pod_config("net-a");
  std::string a;
  auto st = f.run_pod(a_config, &a);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto server = f.create_and_start(a, a_config, web_server(f, "server", "hello-from-a"));
  f.wait_log(fs::path(a_config.log_directory()) / "server.log", "serving");

  auto b_config = f.pod_config("net-b");
  std::string b;
  REQUIRE(f.run_pod(b_config, &b).ok());
  auto client = f.create_and_start(b, b_config, f.container_config("client", {"sleep", "300"}));

  auto a_ip = f.pod_status(a).network().ip();
  auto b_ip = f.pod_status(b).network().ip();
  CHECK_THAT(a_ip, Catch::StartsWith(net.subnet_prefix));
  CHECK_THAT(b_ip, Catch::StartsWith(net.subnet_prefix));
  CHECK(a_ip != b_ip);
  // The address is on eth0 inside the pod's own namespace, not the host's.
  CHECK_THAT(eth0_of(f.pid_of(server)), Catch::Contains("inet " + a_ip + "/24"));
  CHECK_THAT(eth0_of(f.pid_of(client)), Catch::Contains("inet " + b_ip + "/24"));
  CHECK(shell_output("ip -4 -o addr show").find(a_ip + "/") == std::string::npos);
  CHECK(net.reservations().size() == 2);
  CHECK(net.veths() == 2);
  // With cni.native at its default the bridge and portmap ran in-process,
  // and the verbose status says so.
  {
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(a);
    req.set_verbose(true);
    v1::PodSandboxStatusResponse resp;
    REQUIRE(f.client.runtime_call(&S::PodSandboxStatus, req, &resp).ok());
    auto info = nlohmann::json::parse(resp.info().at("info"));
    CHECK(info.value("cniPlugins", "") == "bridge=native portmap=native");
  }

  // B fetches from A over the bridge.
  grpc::Status exec_st;
  auto got = f.exec(client, {"wget", "-q", "-O", "-", "http://" + a_ip + ":8080/index.html"}, &exec_st, 10);
  INFO(got.stderr());
  REQUIRE(exec_st.ok());
  CHECK(got.exit_code() == 0);
  CHECK(got.stdout() == "hello-from-a\n");

  // The traffic shows in A's network stats.
  v1::PodSandboxStatsRequest stats_req;
  stats_req.set_pod_sandbox_id(a);
  v1::PodSandboxStatsResponse stats;
  REQUIRE(f.client.runtime_call(&S::PodSandboxStats, stats_req, &stats).ok());
  const auto& iface = stats.stats().linux().network().default_interface();
  CHECK(iface.name() == "eth0");
  CHECK(iface.rx_bytes().value() > 0);
  CHECK(iface.tx_bytes().value() > 0);

  // Stopping detaches (twice is fine); the reservations and veths go.
  REQUIRE(f.stop_pod(a).ok());
  REQUIRE(f.stop_pod(a).ok());
  CHECK(net.reservations().size() == 1);
  CHECK(net.veths_settled(1) == 1);
  f.remove_pod(a);
  f.remove_pod(b);
  CHECK(net.reservations().empty());
  CHECK(net.veths_settled(0) == 0);
  f.check_nothing_left();
}

TEST_CASE("network: a host port on 127.0.0.1 reaches the pod through portmap") {
  test_network net;
  runtime_fixture f(net.daemon_flags());
  const int host_port = 20000 + ::getpid() % 20000;
  auto config = f.pod_config("published");
  auto* mapping = config.add_port_mappings();
  mapping->set_protocol(v1::TCP);
  mapping->set_container_port(8080);
  mapping->set_host_port(host_port);
  mapping->set_host_ip("127.0.0.1");
  std::string pod;
  auto st = f.run_pod(config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  f.create_and_start(pod, config, web_server(f, "web", "hello-through-portmap"));
  f.wait_log(fs::path(config.log_directory()) / "web.log", "serving");

  std::string response;
  for (int i = 0; i < 50 && response.find("hello-through-portmap") == std::string::npos; ++i) {
    response = http_get_localhost(host_port);
    if (response.empty()) std::this_thread::sleep_for(100ms);
  }
  CHECK_THAT(response, Catch::Contains("hello-through-portmap"));

  f.remove_pod(pod);
  // The mapping is gone with the pod.
  CHECK(http_get_localhost(host_port).empty());
  CHECK(shell_output("iptables-save -t nat 2>/dev/null").find(std::to_string(host_port)) == std::string::npos);
  f.check_nothing_left();
}

TEST_CASE("network: a config or plugin that fails fails RunPodSandbox with its words, leaving nothing") {
  test_network net;
  runtime_fixture f(net.daemon_flags());

  // host-local refuses the range: its own message comes back.
  net.write_conflist(net.conflist("10.252.300.0/24"));
  std::string id;
  auto st = f.run_pod(f.pod_config("bad-range"), &id);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.error_message(), Catch::Contains("CNI ADD") && Catch::Contains("10.252.300.0/24"));
  // A config that does not parse is named.
  net.write_conflist("{ \"cniVersion\": ");
  st = f.run_pod(f.pod_config("bad-json"), &id);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("10-test.conflist"));
  // Nothing of either attempt is left: no pod, no netns mount, no address.
  v1::ListPodSandboxResponse pods;
  REQUIRE(f.client.runtime_call(&S::ListPodSandbox, v1::ListPodSandboxRequest{}, &pods).ok());
  CHECK(pods.items_size() == 0);
  CHECK(net.reservations().empty());
  CHECK(net.veths_settled(0) == 0);
  f.check_nothing_left();
}

TEST_CASE("network: a DEL that failed is done again after a restart") {
  test_network net;
  // Every plugin exec'd: the node below loses all of them at once, which
  // a native bridge would not notice.
  net.write_config({"/usr/lib/cni"}, "off");
  runtime_fixture f(net.daemon_flags());
  auto config = f.pod_config("retried");
  std::string pod;
  REQUIRE(f.run_pod(config, &pod).ok());
  auto ip = f.pod_status(pod).network().ip();
  REQUIRE(net.reservations().size() == 1);

  // The plugins are gone (a broken node): StopPodSandbox fails, saying
  // why, and the pod keeps its network.
  net.write_config({(net.dir.path() / "empty-plugins").string()}, "off");
  f.daemon.restart();
  f.client.reconnect();
  // The restart's CHECK of the pod's network says so too.
  CHECK(f.daemon.wait_for_log("msg=\"pod networks checked\" pods=1 failed=1"));
  auto st = f.stop_pod(pod);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.error_message(), Catch::Contains("CNI DEL") && Catch::Contains("not found"));
  CHECK(net.reservations().size() == 1);

  // Mended and restarted, the next StopPodSandbox detaches it.
  net.write_config({"/usr/lib/cni"}, "off");
  f.daemon.kill();
  f.daemon.restart();
  f.client.reconnect();
  CHECK(f.daemon.wait_for_log("msg=\"pod networks checked\" pods=1 failed=0"));
  CHECK(f.pod_status(pod).network().ip() == ip);
  st = f.stop_pod(pod);
  INFO(st.error_message());
  CHECK(st.ok());
  CHECK(net.reservations().empty());
  CHECK(net.veths_settled(0) == 0);
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("network: DEL uses the config kept from ADD after the conflist on disk changed") {
  test_network net;
  runtime_fixture f(net.daemon_flags());
  auto config = f.pod_config("kept");
  std::string pod;
  REQUIRE(f.run_pod(config, &pod).ok());
  CHECK_THAT(f.pod_status(pod).network().ip(), Catch::StartsWith(net.subnet_prefix));
  REQUIRE(net.reservations().size() == 1);
  REQUIRE(net.veths() == 1);

  // Another bridge and subnet, with the reservations in another dir: a
  // DEL made with this config would free nothing of the pod's.
  const fs::path new_ipam = net.dir.path() / "ipam-new";
  const std::string new_prefix = "10.252.18.";
  struct other_bridge {
    std::string name = "rcrn" + std::to_string(::getpid() % 100000);
    ~other_bridge() { (void)run_shell("ip link del " + name + " 2>/dev/null"); }
  } new_bridge;
  auto changed = net.conflist(new_prefix + "0/24");
  auto replace = [&](const std::string& from, const std::string& to) {
    REQUIRE(changed.find(from) != std::string::npos);
    changed.replace(changed.find(from), from.size(), to);
  };
  replace("\"dataDir\":\"" + net.ipam_dir().string() + "\"",
          "\"dataDir\":\"" + new_ipam.string() + "\"");
  replace("\"bridge\":\"" + net.bridge + "\"", "\"bridge\":\"" + new_bridge.name + "\"");
  net.write_conflist(changed);

  // A new pod gets the new config: the daemon reads what is on disk.
  auto fresh_config = f.pod_config("fresh");
  std::string fresh;
  auto st = f.run_pod(fresh_config, &fresh);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK_THAT(f.pod_status(fresh).network().ip(), Catch::StartsWith(new_prefix));
  CHECK(net.veths_settled(1) == 1);

  // The old pod's DEL frees its own address and veth.
  st = f.stop_pod(pod);
  INFO(st.error_message());
  CHECK(st.ok());
  CHECK(net.reservations().empty());
  CHECK(net.veths_settled(0) == 0);
  f.remove_pod(pod);
  f.remove_pod(fresh);
  std::error_code ec;
  std::size_t new_reservations = 0;
  for (auto it = fs::recursive_directory_iterator(new_ipam, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->path().filename().string().rfind(new_prefix, 0) == 0) ++new_reservations;
  CHECK(new_reservations == 0);
  f.check_nothing_left();
}

TEST_CASE("network: the CNI plugins run on the blocking pool, never on a reactor thread") {
  test_network net;
  // Each plugin the daemon runs is a script first: it finds the thread of
  // its parent that has it as a child (children are per thread) and
  // records that thread's name, then becomes the real plugin.
  const fs::path wrappers = net.dir.path() / "wrappers";
  const fs::path record = net.dir.path() / "spawned-by";
  fs::create_directories(wrappers);
  for (const char* plugin : {"bridge", "portmap"}) {
    std::ofstream(wrappers / plugin)
        << "#!/bin/sh\n"
           "name=unknown\n"
           "for task in /proc/$PPID/task/*; do\n"
           "  if grep -qw $$ \"$task/children\" 2>/dev/null; then name=$(cat \"$task/comm\"); fi\n"
           "done\n"
           "echo \"$CNI_COMMAND "
        << plugin << " $name\" >> " << record.string()
        << "\n"
           "exec /usr/lib/cni/"
        << plugin << "\n";
    fs::permissions(wrappers / plugin, fs::perms::owner_all | fs::perms::group_read |
                                           fs::perms::group_exec | fs::perms::others_read |
                                           fs::perms::others_exec);
  }
  // With the native path off, every plugin is exec'd.
  net.write_config({wrappers.string(), "/usr/lib/cni"}, "off");
  runtime_fixture f(net.daemon_flags());
  // The daemon's threads have the names looked for.
  auto names = shell_output("cat /proc/" + std::to_string(f.daemon.pid()) + "/task/*/comm");
  REQUIRE_THAT(names, Catch::Contains("reactor-0\n") && Catch::Contains("blocking\n"));

  auto config = f.pod_config("pooled");
  std::string pod;
  auto st = f.run_pod(config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  f.remove_pod(pod);
  CHECK(net.reservations().empty());

  auto lines = lines_of(read_file(record));
  INFO(read_file(record));
  CHECK(lines == std::set<std::string>{"ADD bridge blocking", "ADD portmap blocking", "DEL portmap blocking",
                                       "DEL bridge blocking"});
  f.check_nothing_left();
}

TEST_CASE("network: a native pod's network outlives a SIGKILL of the daemon and is DELeted whole after") {
  test_network net;
  auto masqueraded = net.conflist();
  const std::string no_masq = "\"ipMasq\":false";
  REQUIRE(masqueraded.find(no_masq) != std::string::npos);
  masqueraded.replace(masqueraded.find(no_masq), no_masq.size(), "\"ipMasq\":true");
  net.write_conflist(masqueraded);
  runtime_fixture f(net.daemon_flags());
  const int host_port = 20000 + (::getpid() + 7) % 20000;
  auto config = f.pod_config("survivor");
  auto* mapping = config.add_port_mappings();
  mapping->set_protocol(v1::TCP);
  mapping->set_container_port(8080);
  mapping->set_host_port(host_port);
  mapping->set_host_ip("127.0.0.1");
  std::string pod;
  auto st = f.run_pod(config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  const auto ip = f.pod_status(pod).network().ip();
  // The pod's masquerade and host port are elements of the nftables table.
  auto table = [] { return shell_output("nft list table ip ringcri 2>&1"); };
  CHECK_THAT(table(), Catch::Contains("jump masq-") && Catch::Contains(ip + " comment") &&
                          Catch::Contains(std::to_string(host_port)));

  f.daemon.kill();
  f.daemon.restart();
  f.client.reconnect();
  CHECK(f.daemon.wait_for_log("msg=\"pod networks checked\" pods=1 failed=0"));
  CHECK(f.pod_status(pod).network().ip() == ip);
  st = f.stop_pod(pod);
  INFO(st.error_message());
  CHECK(st.ok());
  CHECK(net.reservations().empty());
  CHECK(net.veths_settled(0) == 0);
  CHECK(table().find(ip + " ") == std::string::npos);
  CHECK(table().find(std::to_string(host_port)) == std::string::npos);
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("network: a full /30 fails RunPodSandbox with RESOURCE_EXHAUSTED naming the range") {
  test_network net;
  net.write_conflist(net.conflist(net.subnet_prefix + "0/30"));
  runtime_fixture f(net.daemon_flags());
  std::string first, second;
  REQUIRE(f.run_pod(f.pod_config("first"), &first).ok());
  auto st = f.run_pod(f.pod_config("second"), &second);
  CHECK(st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(st.error_message(), Catch::Contains(net.subnet_prefix + "1-" + net.subnet_prefix + "2"));
  // The second pod is not there and left nothing.
  v1::ListPodSandboxResponse pods;
  REQUIRE(f.client.runtime_call(&S::ListPodSandbox, v1::ListPodSandboxRequest{}, &pods).ok());
  CHECK(pods.items_size() == 1);
  CHECK(net.reservations().size() == 1);
  CHECK(net.veths_settled(1) == 1);
  f.remove_pod(first);
  CHECK(net.reservations().empty());
  f.check_nothing_left();
}

TEST_CASE("network: the kubelet's bandwidth annotations reach the bandwidth plugin") {
  test_network net;
  auto conf = nlohmann::json::parse(net.conflist());
  conf["plugins"][1] = {{"type", "bandwidth"}, {"capabilities", {{"bandwidth", true}}}};
  net.write_conflist(conf.dump());
  runtime_fixture f(net.daemon_flags());

  // A limit: the plugin shapes the pod's host veth (ingress) and an ifb
  // device (egress).
  auto config = f.pod_config("shaped");
  (*config.mutable_annotations())["kubernetes.io/ingress-bandwidth"] = "1M";
  (*config.mutable_annotations())["kubernetes.io/egress-bandwidth"] = "2M";
  std::string pod;
  auto st = f.run_pod(config, &pod);
  INFO(st.error_message());
  REQUIRE(st.ok());
  {
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod);
    req.set_verbose(true);
    v1::PodSandboxStatusResponse resp;
    REQUIRE(f.client.runtime_call(&S::PodSandboxStatus, req, &resp).ok());
    CHECK(nlohmann::json::parse(resp.info().at("info")).value("cniPlugins", "") ==
          "bridge=native bandwidth=exec (a bandwidth limit)");
  }
  auto veth = shell_output("ip -o link show master " + net.bridge + " | awk -F': ' '{print $2}' | cut -d@ -f1");
  while (!veth.empty() && veth.back() == '\n') veth.pop_back();
  REQUIRE_FALSE(veth.empty());
  CHECK_THAT(shell_output("tc qdisc show dev " + veth), Catch::Contains("tbf") && Catch::Contains("1Mbit"));
  CHECK_THAT(shell_output("ip -o link show type ifb"), Catch::Contains("bwp"));

  // No annotation: the bandwidth plugin has nothing to do and is native.
  std::string plain;
  REQUIRE(f.run_pod(f.pod_config("plain"), &plain).ok());

  // An annotation the kubelet would refuse is named.
  auto bad = f.pod_config("bad-bandwidth");
  (*bad.mutable_annotations())["kubernetes.io/egress-bandwidth"] = "10 megabits";
  std::string refused;
  st = f.run_pod(bad, &refused);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("kubernetes.io/egress-bandwidth"));

  f.remove_pod(pod);
  f.remove_pod(plain);
  CHECK(shell_output("ip -o link show type ifb").find("bwp") == std::string::npos);
  CHECK(net.reservations().empty());
  f.check_nothing_left();
}
