// Exec, Attach and PortForward through the streaming server, driven as
// kubelet's clients drive it: the RPC gives a URL, the client upgrades to
// SPDY/3.1 or WebSocket and speaks the remotecommand or portforward
// protocol. Checked from outside: what the client receives, the status on
// the error stream, the container's log, processes on the host.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/runtime_fixture.hpp"
#include "support/stream_client.hpp"

using namespace ringcri::testing;

namespace {

const std::vector<std::string> remotecommand_protocols = {"v4.channel.k8s.io", "v3.channel.k8s.io",
                                                          "v2.channel.k8s.io", "channel.k8s.io"};

struct io_flags {
  bool stdin = false;
  bool stdout = true;
  bool stderr = true;
  bool tty = false;
};

std::string exec_url(runtime_fixture& f, const std::string& id, std::vector<std::string> cmd, io_flags io,
                     grpc::Status* st = nullptr) {
  v1::ExecRequest req;
  req.set_container_id(id);
  for (auto& a : cmd) req.add_cmd(a);
  req.set_stdin(io.stdin);
  req.set_stdout(io.stdout);
  req.set_stderr(io.stderr);
  req.set_tty(io.tty);
  v1::ExecResponse resp;
  auto status = f.client.runtime_call(&S::Exec, req, &resp);
  if (st) *st = status;
  else {
    INFO(status.error_message());
    REQUIRE(status.ok());
  }
  return resp.url();
}

std::string attach_url(runtime_fixture& f, const std::string& id, io_flags io) {
  v1::AttachRequest req;
  req.set_container_id(id);
  req.set_stdin(io.stdin);
  req.set_stdout(io.stdout);
  req.set_stderr(io.stderr);
  req.set_tty(io.tty);
  v1::AttachResponse resp;
  auto st = f.client.runtime_call(&S::Attach, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return resp.url();
}

// A remotecommand session over SPDY: the streams kubectl opens.
struct spdy_command {
  spdy_client c;
  std::uint32_t error = 0, in = 0, out = 0, err = 0, resize = 0;

  spdy_command(const std::string& url, io_flags io) : c(url, remotecommand_protocols) {
    REQUIRE(c.response().status == 101);
    CHECK(c.response().headers.at("x-stream-protocol-version") == "v4.channel.k8s.io");
    error = c.open_stream({{"streamtype", "error"}});
    if (io.stdin) in = c.open_stream({{"streamtype", "stdin"}});
    if (io.stdout) out = c.open_stream({{"streamtype", "stdout"}});
    if (io.stderr && !io.tty) err = c.open_stream({{"streamtype", "stderr"}});
    if (io.tty) resize = c.open_stream({{"streamtype", "resize"}});
  }
  bool wait_done(std::chrono::seconds timeout = 20s) {
    return c.wait([&] { return c.finished.count(error) > 0; }, timeout);
  }
  nlohmann::json status() { return nlohmann::json::parse(c.data[error]); }
};

// Waits until the host has a process whose command line is `cmdline`
// (arguments joined by spaces); returns its pid or 0.
pid_t find_process(const std::string& cmdline, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
      auto name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      auto text = read_file(entry.path() / "cmdline");
      std::replace(text.begin(), text.end(), '\0', ' ');
      if (!text.empty() && text.back() == ' ') text.pop_back();
      if (text == cmdline) return std::stoi(name);
    }
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return 0;
}

bool process_gone(pid_t pid, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    // A zombie is gone too: its parent (the keeper) has not reaped it yet.
    auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty() || stat.find(") Z ") != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

TEST_CASE("exec over SPDY: output, exit codes, stdin to EOF, a terminal, errors") {
  runtime_fixture f;
  auto [pod_config, pod, id] = f.run_pod_with("exec-spdy", {"sleep", "300"});

  SECTION("separate stdout and stderr, and the exit code in a v4 status") {
    spdy_command s(exec_url(f, id, {"sh", "-c", "echo out; echo err >&2; exit 3"}, {}), {});
    REQUIRE(s.wait_done());
    CHECK(s.c.data[s.out] == "out\n");
    CHECK(s.c.data[s.err] == "err\n");
    CHECK(s.c.finished.count(s.out));
    CHECK(s.c.finished.count(s.err));
    auto status = s.status();
    CHECK(status["status"] == "Failure");
    CHECK(status["reason"] == "NonZeroExitCode");
    CHECK(status["details"]["causes"][0]["reason"] == "ExitCode");
    CHECK(status["details"]["causes"][0]["message"] == "3");
  }

  SECTION("stdin reaches the command, and its end ends cat") {
    io_flags io{true, true, false, false};
    spdy_command s(exec_url(f, id, {"cat"}, io), io);
    s.c.send_data(s.in, "hello\n");
    s.c.send_data(s.in, "world\n", true);
    REQUIRE(s.wait_done());
    CHECK(s.c.data[s.out] == "hello\nworld\n");
    CHECK(s.status()["status"] == "Success");
  }

  SECTION("a terminal: one output, the size the client set, isatty") {
    io_flags io{true, true, false, true};
    spdy_command s(exec_url(f, id, {"sh", "-c", "sleep 0.5; stty size; test -t 0 && test -t 1 && echo isatty"}, io),
                   io);
    s.c.send_data(s.resize, R"({"Width":123,"Height":45})");
    REQUIRE(s.wait_done());
    INFO(s.c.data[s.out]);
    CHECK(s.c.data[s.out].find("45 123") != std::string::npos);
    CHECK(s.c.data[s.out].find("isatty") != std::string::npos);
    CHECK(s.status()["status"] == "Success");
  }

  SECTION("a command that cannot start is an error on the error stream") {
    spdy_command s(exec_url(f, id, {"/no/such/command"}, {}), {});
    REQUIRE(s.wait_done());
    auto status = s.status();
    CHECK(status["status"] == "Failure");
    INFO(status.dump());
    CHECK(status["message"].get<std::string>().find("/no/such/command") != std::string::npos);
  }

  SECTION("a URL is good once; unknown tokens, bad protocols and plain requests are refused") {
    auto url = exec_url(f, id, {"true"}, {});
    {
      spdy_command s(url, {});
      REQUIRE(s.wait_done());
    }
    spdy_client again(url, remotecommand_protocols);
    CHECK(again.response().status == 404);
    spdy_client unknown(url.substr(0, url.rfind('/')) + "/not-a-token", remotecommand_protocols);
    CHECK(unknown.response().status == 404);

    spdy_client wrong_protocol(exec_url(f, id, {"true"}, {}), {"v99.channel.k8s.io"});
    CHECK(wrong_protocol.response().status == 400);
    CHECK(wrong_protocol.response().body.find("v99.channel.k8s.io") != std::string::npos);

    http_response plain;
    std::string rest;
    int fd = http_exchange(exec_url(f, id, {"true"}, {}), "GET", {}, plain, rest);
    CHECK(plain.status == 400);
    if (fd >= 0) ::close(fd);
  }

  SECTION("bad requests get a gRPC error naming what is wrong") {
    grpc::Status st;
    exec_url(f, id, {"true"}, {false, true, true, true}, &st);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message().find("tty and stderr") != std::string::npos);
    exec_url(f, id, {}, {}, &st);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    exec_url(f, "no-such-container", {"true"}, {}, &st);
    CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
    REQUIRE(f.stop(id, 0).ok());
    exec_url(f, id, {"true"}, {}, &st);
    CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  }

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("exec over WebSocket: v5 close of stdin, v4 status, base64") {
  runtime_fixture f;
  auto [pod_config, pod, id] = f.run_pod_with("exec-ws", {"sleep", "300"});

  SECTION("v5: stdin closed with the close message, output and status") {
    io_flags io{true, true, true, false};
    websocket_client c(exec_url(f, id, {"cat"}, io), {"v5.channel.k8s.io", "v4.channel.k8s.io"});
    REQUIRE(c.response().status == 101);
    CHECK(c.subprotocol() == "v5.channel.k8s.io");
    c.send(0, "over websocket\n");
    c.send(255, std::string(1, '\0'));
    REQUIRE(c.wait([&] { return c.data.count(3) && c.closed; }));
    CHECK(c.data[1] == "over websocket\n");
    CHECK(nlohmann::json::parse(c.data[3])["status"] == "Success");
  }

  SECTION("v4: stdout, stderr and the exit code") {
    websocket_client c(exec_url(f, id, {"sh", "-c", "echo o; echo e >&2; exit 5"}, {}), {"v4.channel.k8s.io"});
    REQUIRE(c.response().status == 101);
    REQUIRE(c.wait([&] { return c.data.count(3) && c.closed; }));
    CHECK(c.data[1] == "o\n");
    CHECK(c.data[2] == "e\n");
    auto status = nlohmann::json::parse(c.data[3]);
    CHECK(status["details"]["causes"][0]["message"] == "5");
  }

  SECTION("base64.channel.k8s.io: text messages, payloads in base64") {
    websocket_client c(exec_url(f, id, {"echo", "hi there"}, {}), {"base64.channel.k8s.io"});
    REQUIRE(c.response().status == 101);
    REQUIRE(c.wait([&] { return c.closed; }));
    CHECK(c.data[1] == "hi there\n");
  }

  SECTION("an unknown subprotocol is refused") {
    websocket_client c(exec_url(f, id, {"true"}, {}), {"v9.channel.k8s.io"});
    CHECK(c.response().status == 400);
  }

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("a client that leaves mid-exec gets its command killed, and the server serves on") {
  runtime_fixture f;
  auto [pod_config, pod, id] = f.run_pod_with("exec-leave", {"sleep", "300"});

  for (bool websocket : {false, true}) {
    INFO((websocket ? "websocket" : "spdy"));
    auto url = exec_url(f, id, {"sleep", "1234"}, {});
    pid_t pid = 0;
    if (websocket) {
      websocket_client c(url, {"v4.channel.k8s.io"});
      REQUIRE(c.response().status == 101);
      pid = find_process("sleep 1234", 10s);
      REQUIRE(pid != 0);
      c.drop();
    } else {
      spdy_command s(url, {});
      pid = find_process("sleep 1234", 10s);
      REQUIRE(pid != 0);
      s.c.drop();
    }
    CHECK(process_gone(pid, 10s));
  }

  // A client that sends garbage after the upgrade is dropped; its command
  // never runs or is killed.
  {
    spdy_client c(exec_url(f, id, {"sleep", "4321"}, {}), remotecommand_protocols);
    REQUIRE(c.response().status == 101);
    c.open_stream({{"streamtype", "error"}});
    // A control frame of SPDY version 99, then noise.
    std::string garbage = {'\x80', '\x63', '\x00', '\x01', '\x00', '\x00', '\x00', '\x08'};
    for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) % 251);
    c.send_raw(garbage);
    CHECK(c.wait([&] { return c.eof; }, 10s));
  }
  CHECK(find_process("sleep 4321", 1s) == 0);

  spdy_command s(exec_url(f, id, {"echo", "still serving"}, {}), {});
  REQUIRE(s.wait_done());
  CHECK(s.c.data[s.out] == "still serving\n");
  CHECK(f.status(id).status().state() == v1::CONTAINER_RUNNING);

  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("attach: output to every client and the log, input, stdin_once, a terminal") {
  runtime_fixture f;
  auto pod_config = f.pod_config("attach");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto log = fs::path(pod_config.log_directory());
  // A container with stdin, running `script` after its first line.
  auto start_reading = [&](const std::string& name, const std::string& script, bool stdin_once, bool tty) {
    auto config = f.container_config(name, {"sh", "-c", "echo started; " + script});
    config.set_stdin(true);
    config.set_stdin_once(stdin_once);
    config.set_tty(tty);
    auto id = f.create_and_start(pod, pod_config, config);
    f.wait_log(log / (name + ".log"), "started");
    return id;
  };

  SECTION("input and output; a detach leaves the container running") {
    auto id = start_reading("echoer", "while read line; do echo \"got $line\"; done", false, false);

    io_flags io{true, true, true, false};
    {
      spdy_command s(attach_url(f, id, io), io);
      s.c.send_data(s.in, "hello\n");
      REQUIRE(s.c.wait([&] { return s.c.data[s.out].find("got hello") != std::string::npos; }));
      websocket_client w(attach_url(f, id, io), {"v4.channel.k8s.io"});
      REQUIRE(w.response().status == 101);
      w.wait([&] { return false; }, 200ms);  // the empty first message
      s.c.send_data(s.in, "both\n");
      REQUIRE(w.wait([&] { return w.data[1].find("got both") != std::string::npos; }));
      REQUIRE(s.c.wait([&] { return s.c.data[s.out].find("got both") != std::string::npos; }));
      s.c.drop();
    }
    CHECK(f.wait_log(log / "echoer.log", "got both").find("got hello") != std::string::npos);
    std::this_thread::sleep_for(200ms);
    CHECK(f.status(id).status().state() == v1::CONTAINER_RUNNING);

    // stdin without stdin_once: a client's end of input is not the container's.
    {
      spdy_command s(attach_url(f, id, io), io);
      s.c.send_data(s.in, "again\n", true);
      REQUIRE(s.c.wait([&] { return s.c.data[s.out].find("got again") != std::string::npos; }));
    }
    std::this_thread::sleep_for(200ms);
    CHECK(f.status(id).status().state() == v1::CONTAINER_RUNNING);
  }

  SECTION("stdin_once: the first client's end of input ends the container's") {
    auto id = start_reading("once", "cat; echo cat-ended", true, false);
    io_flags io{true, true, true, false};
    spdy_command s(attach_url(f, id, io), io);
    s.c.send_data(s.in, "once\n", true);
    REQUIRE(s.wait_done());
    CHECK(s.c.data[s.out] == "once\ncat-ended\n");
    CHECK(s.status()["status"] == "Success");
    auto st = f.wait_exited(id);
    CHECK(st.exit_code() == 0);
    CHECK(f.wait_log(log / "once.log", "cat-ended").find("stdout F once") != std::string::npos);
  }

  SECTION("a terminal container: resize, input, output on stdout") {
    auto id = start_reading("term", "while read line; do stty size; done", false, true);
    io_flags io{true, true, false, true};
    spdy_command s(attach_url(f, id, io), io);
    s.c.send_data(s.resize, R"({"Width":99,"Height":33})");
    std::this_thread::sleep_for(200ms);
    s.c.send_data(s.in, "\n");
    REQUIRE(s.c.wait([&] { return s.c.data[s.out].find("33 99") != std::string::npos; }));
  }

  f.remove_pod(pod);
  f.check_nothing_left();
}

namespace {

// An echo server on 127.0.0.1:`port` inside a network namespace, started
// with nsenter; killed by pid at the end. Each connection first gets
// `greeting`, then its own bytes back.
struct netns_echo_server {
  pid_t pid = -1;
  netns_echo_server(const fs::path& netns, int port, const std::string& greeting = "") {
    std::string script =
        "import socket, threading\n"
        "greeting = b'" + greeting + "'\n"
        "s = socket.socket()\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('127.0.0.1', " + std::to_string(port) + "))\n"
        "s.listen()\n"
        "def echo(c):\n"
        "    if greeting: c.sendall(greeting)\n"
        "    while True:\n"
        "        d = c.recv(65536)\n"
        "        if not d: break\n"
        "        c.sendall(d)\n"
        "    c.close()\n"
        "while True:\n"
        "    c, _ = s.accept()\n"
        "    threading.Thread(target=echo, args=(c,), daemon=True).start()\n";
    pid = ::fork();
    if (pid == 0) {
      std::string net = "--net=" + netns.string();
      ::execlp("nsenter", "nsenter", net.c_str(), "python3", "-c", script.c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~netns_echo_server() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

bool host_port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool open = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return open;
}

}  // namespace

TEST_CASE("port forward into the pod's network namespace, over SPDY and WebSocket") {
  runtime_fixture f;
  auto pod_config = f.pod_config("forward");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto netns = f.daemon.state() / "pods" / pod / "ns" / "net";
  REQUIRE(fs::exists(netns));
  constexpr int port = 18080;
  if (host_port_open(port)) {
    skip_case("something listens on 127.0.0.1:" + std::to_string(port) +
              " on the host: the check that the forward went into the pod is weaker");
  }
  netns_echo_server server(netns, port);
  // Wait until it listens (inside the pod: nothing on the host).
  for (int i = 0; i < 100; ++i) {
    auto url_probe = [&] {
      v1::PortForwardRequest req;
      req.set_pod_sandbox_id(pod);
      req.add_port(port);
      v1::PortForwardResponse resp;
      REQUIRE(f.client.runtime_call(&S::PortForward, req, &resp).ok());
      return resp.url();
    }();
    spdy_client c(url_probe, {"portforward.k8s.io"});
    REQUIRE(c.response().status == 101);
    auto err = c.open_stream({{"streamtype", "error"}, {"port", std::to_string(port)}, {"requestid", "0"}});
    auto data = c.open_stream({{"streamtype", "data"}, {"port", std::to_string(port)}, {"requestid", "0"}});
    c.wait([&] { return c.finished.count(err) || c.data[data].size() > 0; }, 300ms);
    if (!c.finished.count(err)) break;
    std::this_thread::sleep_for(100ms);
  }

  v1::PortForwardRequest req;
  req.set_pod_sandbox_id(pod);
  req.add_port(port);
  v1::PortForwardResponse resp;

  SECTION("SPDY: two connections at once, each echoed, each ended by the client") {
    REQUIRE(f.client.runtime_call(&S::PortForward, req, &resp).ok());
    spdy_client c(resp.url(), {"portforward.k8s.io"});
    REQUIRE(c.response().status == 101);
    CHECK(c.response().headers.at("x-stream-protocol-version") == "portforward.k8s.io");
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (int i = 0; i < 2; ++i) {
      auto rid = std::to_string(i);
      auto e = c.open_stream({{"streamtype", "error"}, {"port", std::to_string(port)}, {"requestid", rid}});
      auto d = c.open_stream({{"streamtype", "data"}, {"port", std::to_string(port)}, {"requestid", rid}});
      pairs.emplace_back(e, d);
    }
    c.send_data(pairs[0].second, "first\n");
    c.send_data(pairs[1].second, "second\n");
    REQUIRE(c.wait([&] { return c.data[pairs[0].second] == "first\n" && c.data[pairs[1].second] == "second\n"; }));
    c.send_data(pairs[0].second, std::string(200000, 'x'), true);
    REQUIRE(c.wait([&] { return c.finished.count(pairs[0].second) > 0; }));
    CHECK(c.data[pairs[0].second].size() == 6 + 200000);
    CHECK(c.data[pairs[0].first].empty());
    // The other connection is still up.
    c.send_data(pairs[1].second, "more\n", true);
    REQUIRE(c.wait([&] { return c.finished.count(pairs[1].second) > 0; }));
    CHECK(c.data[pairs[1].second] == "second\nmore\n");
  }

  SECTION("SPDY: a port nothing listens on is an error on the error stream") {
    REQUIRE(f.client.runtime_call(&S::PortForward, req, &resp).ok());
    spdy_client c(resp.url(), {"portforward.k8s.io"});
    REQUIRE(c.response().status == 101);
    auto e = c.open_stream({{"streamtype", "error"}, {"port", "18081"}, {"requestid", "0"}});
    c.open_stream({{"streamtype", "data"}, {"port", "18081"}, {"requestid", "0"}});
    REQUIRE(c.wait([&] { return c.finished.count(e) > 0; }));
    CHECK(c.data[e].find("error forwarding port 18081") != std::string::npos);
  }

  SECTION("WebSocket: the port first on both channels, then data both ways") {
    REQUIRE(f.client.runtime_call(&S::PortForward, req, &resp).ok());
    websocket_client c(resp.url() + "?port=" + std::to_string(port), {"v4.channel.k8s.io"});
    REQUIRE(c.response().status == 101);
    REQUIRE(c.wait([&] { return c.messages.size() >= 2; }));
    std::string port_bytes = {static_cast<char>(port & 0xff), static_cast<char>(port >> 8)};
    CHECK(c.messages[0] == std::make_pair(std::uint8_t{0}, port_bytes));
    CHECK(c.messages[1] == std::make_pair(std::uint8_t{1}, port_bytes));
    c.send(0, "over websocket\n");
    REQUIRE(c.wait([&] { return c.data[0] == port_bytes + "over websocket\n"; }));
    c.close();
    CHECK(c.wait([&] { return c.closed; }));
  }

  SECTION("a pod that does not exist is NOT_FOUND") {
    v1::PortForwardRequest bad;
    bad.set_pod_sandbox_id("no-such-pod");
    CHECK(f.client.runtime_call(&S::PortForward, bad, &resp).error_code() == grpc::StatusCode::NOT_FOUND);
  }

  CHECK_FALSE(host_port_open(port));
  if (std::getenv("RINGCRI_TEST_SHOW_LOG")) std::cout << f.daemon.log();
  f.remove_pod(pod);
  f.check_nothing_left();
}

TEST_CASE("port forward of several ports at once, over SPDY and WebSocket") {
  runtime_fixture f;
  auto pod_config = f.pod_config("forward-many");
  std::string pod;
  REQUIRE(f.run_pod(pod_config, &pod).ok());
  auto netns = f.daemon.state() / "pods" / pod / "ns" / "net";
  REQUIRE(fs::exists(netns));
  const std::vector<int> ports = {18082, 18083};
  for (int port : ports)
    if (host_port_open(port))
      skip_case("something listens on 127.0.0.1:" + std::to_string(port) +
                " on the host: the check that the forward went into the pod is weaker");
  // Each server greets with its own port: what a connection gets says
  // which port it reached.
  netns_echo_server first(netns, ports[0], "port " + std::to_string(ports[0]) + "\\n");
  netns_echo_server second(netns, ports[1], "port " + std::to_string(ports[1]) + "\\n");
  auto greeting = [](int port) { return "port " + std::to_string(port) + "\n"; };

  v1::PortForwardRequest req;
  req.set_pod_sandbox_id(pod);
  for (int port : ports) req.add_port(port);
  v1::PortForwardResponse resp;

  // Until both listen (inside the pod: nothing on the host).
  for (int i = 0; i < 100; ++i) {
    REQUIRE(f.client.runtime_call(&S::PortForward, req, &resp).ok());
    spdy_client c(resp.url(), {"portforward.k8s.io"});
    REQUIRE(c.response().status == 101);
    std::vector<std::uint32_t> data;
    for (std::size_t p = 0; p < ports.size(); ++p) {
      auto rid = std::to_string(p);
      c.open_stream(
          {{"streamtype", "error"}, {"port", std::to_string(ports[p])}, {"requestid", rid}});
      data.push_back(c.open_stream(
          {{"streamtype", "data"}, {"port", std::to_string(ports[p])}, {"requestid", rid}}));
    }
    if (c.wait(
            [&] {
              return c.data[data[0]] == greeting(ports[0]) && c.data[data[1]] == greeting(ports[1]);
            },
            300ms))
      break;
    std::this_thread::sleep_for(100ms);
  }

  SECTION("SPDY: one connection, a pair of streams per port, each reaching its own port") {
    REQUIRE(f.client.runtime_call(&S::PortForward, req, &resp).ok());
    spdy_client c(resp.url(), {"portforward.k8s.io"});
    REQUIRE(c.response().status == 101);
    // Two connections to each port, all open at once.
    struct conn {
      int port;
      std::uint32_t error, data;
    };
    std::vector<conn> conns;
    for (int i = 0; i < 4; ++i) {
      int port = ports[static_cast<std::size_t>(i % 2)];
      auto rid = std::to_string(i);
      auto e = c.open_stream(
          {{"streamtype", "error"}, {"port", std::to_string(port)}, {"requestid", rid}});
      auto d = c.open_stream(
          {{"streamtype", "data"}, {"port", std::to_string(port)}, {"requestid", rid}});
      conns.push_back({port, e, d});
    }
    for (std::size_t i = 0; i < conns.size(); ++i)
      c.send_data(conns[i].data, "to " + std::to_string(i) + "\n");
    auto all_echoed = [&] {
      for (std::size_t i = 0; i < conns.size(); ++i)
        if (c.data[conns[i].data] != greeting(conns[i].port) + "to " + std::to_string(i) + "\n")
          return false;
      return true;
    };
    REQUIRE(c.wait(all_echoed));
    for (const auto& k : conns) CHECK(c.data[k.error].empty());
    for (const auto& k : conns) c.send_data(k.data, "", true);
    REQUIRE(c.wait([&] {
      for (const auto& k : conns)
        if (!c.finished.count(k.data)) return false;
      return true;
    }));
  }

  SECTION("WebSocket: two ports in the query, a data and an error channel each") {
    REQUIRE(f.client.runtime_call(&S::PortForward, req, &resp).ok());
    websocket_client c(
        resp.url() + "?port=" + std::to_string(ports[0]) + "&port=" + std::to_string(ports[1]),
        {"v4.channel.k8s.io"});
    REQUIRE(c.response().status == 101);
    REQUIRE(c.wait([&] { return c.messages.size() >= 4; }));
    auto port_bytes = [](int port) {
      return std::string{static_cast<char>(port & 0xff), static_cast<char>(port >> 8)};
    };
    // Channels 0 and 1 are the first port's, 2 and 3 the second's; each
    // starts with its port.
    std::map<std::uint8_t, std::string> firsts;
    for (const auto& [channel, bytes] : c.messages)
      if (!firsts.count(channel)) firsts[channel] = bytes.substr(0, 2);
    CHECK(firsts[0] == port_bytes(ports[0]));
    CHECK(firsts[1] == port_bytes(ports[0]));
    CHECK(firsts[2] == port_bytes(ports[1]));
    CHECK(firsts[3] == port_bytes(ports[1]));
    c.send(0, "to the first\n");
    c.send(2, "to the second\n");
    REQUIRE(c.wait([&] {
      return c.data[0] == port_bytes(ports[0]) + greeting(ports[0]) + "to the first\n" &&
             c.data[2] == port_bytes(ports[1]) + greeting(ports[1]) + "to the second\n";
    }));
    CHECK(c.data[1] == port_bytes(ports[0]));
    CHECK(c.data[3] == port_bytes(ports[1]));
    c.close();
    CHECK(c.wait([&] { return c.closed; }));
  }

  for (int port : ports) CHECK_FALSE(host_port_open(port));
  f.remove_pod(pod);
  f.check_nothing_left();
}
