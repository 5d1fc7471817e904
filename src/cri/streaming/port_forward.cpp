#include "cri/streaming/port_forward.hpp"

#include <sys/socket.h>

#include <array>
#include <charconv>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "stream/output_pump.hpp"
#include "cri/streaming/pod_socket.hpp"
#include "stream/spdy_session.hpp"
#include "stream/upgrade.hpp"
#include "stream/websocket_session.hpp"
#include "reactor/condition.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"

namespace ringcri::cri::streaming {

// The streaming protocols this session speaks.
using namespace ::ringcri::stream;

namespace io = reactor;

namespace {

constexpr std::array<std::string_view, 1> spdy_protocols = {"portforward.k8s.io"};
constexpr std::array<std::string_view, 6> websocket_protocols = {
    "v4.portforward.k8s.io", "portforward.k8s.io",    "v4.channel.k8s.io",
    "v4.base64.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io"};

// Data a client sends before its connection to the pod is up is kept up
// to this much; past it the forward fails.
constexpr std::size_t max_early = 1u << 20;

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::string forward_error(std::uint16_t port, const std::string& pod_id, const error& e) {
  return fmt::format("error forwarding port {} to pod {}, uid : {}", port, pod_id, e.message());
}

// The pod's network namespace, or "" for a host-network pod.
std::string netns_of(context& ctx, const std::string& pod_id) {
  auto pod = ctx.state.get_pod(state::sandbox_id{pod_id});
  return pod ? pod->netns_path() : std::string{};
}

// One forwarded connection: the pod's socket, and what each side has done.
struct forward {
  std::uint16_t port = 0;
  unique_fd socket;
  bool connected = false;
  bool failed = false;
  bool client_done = false;  // the client ended its data (FIN, reset, left)
  std::string early;         // client data before the connection was up

  // Client data for the pod.
  reactor::task<void> to_pod(std::string_view data) {
    if (failed || client_done) co_return;
    if (!connected) {
      if (early.size() + data.size() > max_early) failed = true;
      else early.append(data);
      co_return;
    }
    auto written = co_await write_all(socket.get(), data);
    if (!written) failed = true;
  }
  // Connects to the port in `netns`, then sends what the client sent
  // meanwhile (and its end, if it came).
  reactor::task<result<void>> connect(std::string netns) {
    auto made = co_await connect_in_pod(netns, port);
    if (!made) {
      failed = true;
      co_return tl::unexpected(made.error());
    }
    socket = std::move(*made);
    connected = true;
    if (!early.empty()) {
      std::string pending = std::move(early);
      early.clear();
      auto written = co_await write_all(socket.get(), pending);
      if (!written) failed = true;
    }
    if (client_done) ::shutdown(socket.get(), SHUT_WR);
    co_return result<void>{};
  }
  void end_from_client() {
    client_done = true;
    if (connected) ::shutdown(socket.get(), SHUT_WR);
  }
};

// ---- SPDY ----

class spdy_port_forward final : private spdy_session::handler {
 public:
  spdy_port_forward(context& ctx, const port_forward_request& req, int fd, std::string already_read)
      : ctx_(ctx), req_(req), session_(fd, std::move(already_read)) {}

  reactor::task<void> serve() {
    auto ended = co_await session_.run(*this);
    spdlog::debug("msg=\"port-forward connection ended\" pod={} error=\"{}\"", req_.pod_id,
                  ended ? std::string("none") : ended.error().message());
    gone_ = true;
    gone_cancel_.cancel();
    for (auto& [id, p] : pairs_)
      if (p->f.connected) ::shutdown(p->f.socket.get(), SHUT_RDWR);
    changed_.notify_all();
    while (running_ > 0) co_await changed_.wait();
    co_await session_.close();
  }

 private:
  struct pair {
    std::string request_id;
    std::uint32_t data_id = 0;
    std::uint32_t error_id = 0;
    bool started = false;
    forward f;
  };

  bool on_stream(const spdy::syn_stream& syn) override {
    const std::string* type = spdy::find_header(syn.headers, "streamtype");
    const std::string* port_text = spdy::find_header(syn.headers, "port");
    if (!type || (*type != "data" && *type != "error") || !port_text) return false;
    auto port = parse_port(*port_text);
    if (!port) return false;
    std::string request_id;
    if (const std::string* rid = spdy::find_header(syn.headers, "requestid")) request_id = *rid;
    else request_id = std::to_string(*type == "error" ? syn.stream_id : syn.stream_id - 2);  // old clients

    auto& slot = pairs_[request_id];
    if (!slot) {
      slot = std::make_unique<pair>();
      slot->request_id = request_id;
      slot->f.port = *port;
    }
    pair& p = *slot;
    std::uint32_t& id = *type == "data" ? p.data_id : p.error_id;
    if (id != 0) return false;
    id = syn.stream_id;
    by_stream_[syn.stream_id] = &p;
    if (p.data_id && p.error_id && !p.started) {
      p.started = true;
      ++running_;
      reactor::reactor::current()->spawn(run(p));
    }
    return true;
  }

  reactor::task<void> on_data(std::uint32_t stream_id, std::string_view data) override {
    auto it = by_stream_.find(stream_id);
    if (it == by_stream_.end() || it->second->data_id != stream_id) co_return;
    co_await it->second->f.to_pod(data);
  }

  void on_end(std::uint32_t stream_id) override {
    auto it = by_stream_.find(stream_id);
    if (it == by_stream_.end() || it->second->data_id != stream_id) return;
    it->second->f.end_from_client();
    changed_.notify_all();
  }

  void on_reset(std::uint32_t stream_id) override {
    auto it = by_stream_.find(stream_id);
    if (it == by_stream_.end()) return;
    forward& f = it->second->f;
    f.client_done = true;
    if (f.connected) ::shutdown(f.socket.get(), SHUT_RDWR);
    changed_.notify_all();
  }

  reactor::task<void> run(pair& p) {
    std::string netns = netns_of(ctx_, req_.pod_id);
    auto connected = co_await p.f.connect(netns);
    if (!connected) {
      auto message = forward_error(p.f.port, req_.pod_id, connected.error());
      spdlog::debug("msg=\"port-forward failed\" pod={} port={} error=\"{}\"", req_.pod_id, p.f.port,
                    connected.error().message());
      (void)co_await session_.send_data(p.error_id, message, true);
      (void)co_await session_.send_data(p.data_id, {}, true);
    } else {
      output_sink to_client = [&](std::string_view d) { return session_.send_data(p.data_id, d); };
      co_await pump_output(p.f.socket.get(), to_client, gone_cancel_);
      // The pod closed its side: end ours, and wait for the client's.
      (void)co_await session_.send_data(p.data_id, {}, true);
      (void)co_await session_.send_data(p.error_id, {}, true);
      while (!p.f.client_done && !gone_) co_await changed_.wait();
    }
    by_stream_.erase(p.data_id);
    by_stream_.erase(p.error_id);
    std::string request_id = p.request_id;
    pairs_.erase(request_id);  // frees p
    --running_;
    changed_.notify_all();
  }

  context& ctx_;
  port_forward_request req_;
  spdy_session session_;
  std::map<std::string, std::unique_ptr<pair>> pairs_;
  std::map<std::uint32_t, pair*> by_stream_;
  int running_ = 0;
  bool gone_ = false;
  io::cancellation gone_cancel_;
  io::condition changed_;
};

// ---- WebSocket ----

class websocket_port_forward final : private websocket_session::handler {
 public:
  websocket_port_forward(context& ctx, const port_forward_request& req, std::vector<std::uint16_t> ports, int fd,
                         std::string already_read, bool base64)
      : ctx_(ctx), req_(req), session_(fd, std::move(already_read), base64) {
    for (auto port : ports) {
      auto f = std::make_unique<forward>();
      f->port = port;
      forwards_.push_back(std::move(f));
    }
  }

  reactor::task<void> serve() {
    for (std::size_t i = 0; i < forwards_.size(); ++i) {
      std::uint16_t port = forwards_[i]->port;
      std::array<char, 2> le = {static_cast<char>(port & 0xff), static_cast<char>(port >> 8)};
      std::string_view bytes(le.data(), le.size());
      (void)co_await session_.send(static_cast<std::uint8_t>(2 * i), bytes);
      (void)co_await session_.send(static_cast<std::uint8_t>(2 * i + 1), bytes);
    }
    auto reader = [&]() -> reactor::task<void> {
      (void)co_await session_.run(*this);
      gone_.cancel();
      for (auto& f : forwards_) {
        f->client_done = true;
        if (f->connected) ::shutdown(f->socket.get(), SHUT_RDWR);
      }
    };
    auto forwards = [&]() -> reactor::task<void> {
      for (std::size_t i = 0; i < forwards_.size(); ++i) {
        ++running_;
        reactor::reactor::current()->spawn(run(i));
      }
      while (running_ > 0) co_await done_.wait();
      co_await session_.close();
    };
    co_await io::when_all(reader(), forwards());
  }

 private:
  reactor::task<void> on_message(std::uint8_t channel, std::string_view data) override {
    std::size_t i = channel / 2;
    if (channel % 2 != 0 || i >= forwards_.size()) co_return;
    co_await forwards_[i]->to_pod(data);
  }

  reactor::task<void> run(std::size_t i) {
    forward& f = *forwards_[i];
    std::string netns = netns_of(ctx_, req_.pod_id);
    auto connected = co_await f.connect(netns);
    if (!connected) {
      auto message = forward_error(f.port, req_.pod_id, connected.error());
      (void)co_await session_.send(static_cast<std::uint8_t>(2 * i + 1), message);
    } else {
      output_sink to_client = [&](std::string_view d) { return session_.send(static_cast<std::uint8_t>(2 * i), d); };
      co_await pump_output(f.socket.get(), to_client, gone_);
    }
    --running_;
    done_.notify_all();
  }

  context& ctx_;
  port_forward_request req_;
  websocket_session session_;
  std::vector<std::unique_ptr<forward>> forwards_;
  int running_ = 0;
  io::cancellation gone_;
  io::condition done_;
};

}  // namespace

reactor::task<void> serve_port_forward(context& ctx, const port_forward_request& req, int fd, const http_request& http,
                                       std::string already_read) {
  switch (upgrade_of(http)) {
    case upgrade_kind::spdy: {
      auto protocol = co_await upgrade_to_spdy(fd, http, spdy_protocols, false);
      if (!protocol) co_return;
      spdy_port_forward pf(ctx, req, fd, std::move(already_read));
      co_await pf.serve();
      co_return;
    }
    case upgrade_kind::websocket: {
      std::vector<std::uint16_t> ports;
      for (const auto& value : http.query_values("port")) {
        std::string_view rest = value;
        while (!rest.empty()) {
          auto comma = rest.find(',');
          auto port = parse_port(rest.substr(0, comma));
          if (!port) {
            auto message = fmt::format("unable to parse \"{}\" as a port", value);
            (void)co_await write_error_response(fd, 400, "Bad Request", message);
            co_return;
          }
          ports.push_back(*port);
          if (comma == std::string_view::npos) break;
          rest.remove_prefix(comma + 1);
        }
      }
      if (ports.empty()) ports = req.ports;
      if (ports.empty()) {
        (void)co_await write_error_response(fd, 400, "Bad Request", "query parameter \"port\" is required");
        co_return;
      }
      auto protocol = co_await upgrade_to_websocket(fd, http, websocket_protocols);
      if (!protocol) co_return;
      bool base64 = protocol->find("base64.") != std::string::npos;
      websocket_port_forward pf(ctx, req, std::move(ports), fd, std::move(already_read), base64);
      co_await pf.serve();
      co_return;
    }
    case upgrade_kind::none:
      break;
  }
  (void)co_await write_error_response(fd, 400, "Bad Request",
                                      "expected an upgrade to SPDY/3.1 or websocket (Connection: Upgrade)");
}

}  // namespace ringcri::cri::streaming
