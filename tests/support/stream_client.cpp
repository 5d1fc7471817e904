#include "support/stream_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/base64.hpp"
#include "stream/websocket/handshake.hpp"

namespace ringcri::testing {

namespace ws = ringcri::stream::websocket;

namespace {

int connect_to(const std::string& url) {
  // http://HOST:PORT/...
  auto host_start = url.find("://") + 3;
  auto path_start = url.find('/', host_start);
  auto hostport = url.substr(host_start, path_start - host_start);
  auto colon = hostport.rfind(':');
  std::string host = hostport.substr(0, colon);
  int port = std::stoi(hostport.substr(colon + 1));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

// Reads what is there within `timeout`: >0 bytes, 0 end of file, -1 nothing yet.
ssize_t read_some(int fd, char* buf, std::size_t size, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return -1;
  ssize_t n = ::recv(fd, buf, size, 0);
  return n < 0 ? 0 : n;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}


}  // namespace

std::string path_of(const std::string& url) {
  auto host_start = url.find("://") + 3;
  return url.substr(url.find('/', host_start));
}

int http_exchange(const std::string& url, const std::string& method,
                  const std::vector<std::pair<std::string, std::string>>& headers, http_response& response,
                  std::string& rest) {
  int fd = connect_to(url);
  if (fd < 0) return -1;
  std::string head = method + " " + path_of(url) + " HTTP/1.1\r\nHost: localhost\r\n";
  for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
  head += "\r\n";
  write_all(fd, head);
  std::string got;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = read_some(fd, buf, sizeof buf, std::chrono::milliseconds(200));
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  auto end = got.find("\r\n\r\n");
  if (end == std::string::npos) {
    ::close(fd);
    return -1;
  }
  std::string head_text = got.substr(0, end);
  rest = got.substr(end + 4);
  auto first_line_end = head_text.find("\r\n");
  auto status_line = head_text.substr(0, first_line_end);
  response.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
  std::size_t pos = first_line_end == std::string::npos ? head_text.size() : first_line_end + 2;
  while (pos < head_text.size()) {
    auto eol = head_text.find("\r\n", pos);
    if (eol == std::string::npos) eol = head_text.size();
    auto line = head_text.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers[lower(line.substr(0, colon))] = value;
    }
    pos = eol + 2;
  }
  if (response.status != 101) {
    // An error response: read its body until the server closes.
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = read_some(fd, buf, sizeof buf, std::chrono::milliseconds(200));
      if (n == 0) break;
      if (n > 0) rest.append(buf, static_cast<std::size_t>(n));
    }
    response.body = rest;
    rest.clear();
  }
  return fd;
}

// ---- SPDY ----

spdy_client::spdy_client(const std::string& url, const std::vector<std::string>& protocols) {
  std::vector<std::pair<std::string, std::string>> headers = {{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}};
  for (const auto& p : protocols) headers.emplace_back("X-Stream-Protocol-Version", p);
  fd_ = http_exchange(url, "POST", headers, response_, rest_);
  if (!rest_.empty()) decoder_.feed(rest_);
}

spdy_client::~spdy_client() { drop(); }

void spdy_client::drop() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void spdy_client::send_frame(const spdy::frame& f) {
  std::string bytes;
  encoder_.encode(f, bytes);
  write_all(fd_, bytes);
}

std::uint32_t spdy_client::open_stream(const spdy::header_block& headers, bool fin) {
  spdy::syn_stream syn;
  syn.stream_id = next_id_;
  next_id_ += 2;
  syn.headers = headers;
  syn.fin = fin;
  send_frame(syn);
  return syn.stream_id;
}

void spdy_client::send_data(std::uint32_t id, const std::string& payload, bool fin) {
  spdy::data d;
  d.stream_id = id;
  d.fin = fin;
  d.payload = payload;
  send_frame(d);
}

void spdy_client::send_raw(const std::string& bytes) { write_all(fd_, bytes); }

void spdy_client::reset(std::uint32_t id) {
  spdy::rst_stream r;
  r.stream_id = id;
  r.status = 5;  // CANCEL
  send_frame(r);
}

bool spdy_client::wait(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    for (;;) {
      auto next = decoder_.next();
      if (!next || !*next) break;
      auto& f = **next;
      if (auto* d = std::get_if<spdy::data>(&f)) {
        data[d->stream_id] += d->payload;
        if (d->fin) finished.insert(d->stream_id);
      } else if (auto* r = std::get_if<spdy::syn_reply>(&f)) {
        replied.insert(r->stream_id);
        if (r->fin) finished.insert(r->stream_id);
      } else if (auto* rst = std::get_if<spdy::rst_stream>(&f)) {
        reset_by_server.insert(rst->stream_id);
      } else if (std::holds_alternative<spdy::goaway>(f)) {
        goaway = true;
      }
    }
    if (done()) return true;
    if (eof || fd_ < 0 || std::chrono::steady_clock::now() > deadline) return done();
    ssize_t n = read_some(fd_, buf, sizeof buf, std::chrono::milliseconds(50));
    if (n == 0) eof = true;
    if (n > 0) decoder_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

// ---- WebSocket ----

websocket_client::websocket_client(const std::string& url, const std::vector<std::string>& subprotocols) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
      {"Sec-WebSocket-Key", ws::make_client_key()}};
  std::string list;
  for (const auto& p : subprotocols) list += (list.empty() ? "" : ", ") + p;
  if (!list.empty()) headers.emplace_back("Sec-WebSocket-Protocol", list);
  std::string rest;
  fd_ = http_exchange(url, "GET", headers, response_, rest);
  conn_ = std::make_unique<ws::connection>(ws::connection::role::client);
  base64_ = subprotocol().find("base64.") != std::string::npos;
  if (!rest.empty()) (void)conn_->feed(rest);
}

websocket_client::~websocket_client() { drop(); }

std::string websocket_client::subprotocol() const {
  auto it = response_.headers.find("sec-websocket-protocol");
  return it == response_.headers.end() ? std::string{} : it->second;
}

void websocket_client::drop() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void websocket_client::flush() {
  auto out = conn_->take_output();
  if (!out.empty() && fd_ >= 0) write_all(fd_, out);
}

void websocket_client::send(std::uint8_t channel, const std::string& payload) {
  if (base64_) conn_->send(ws::opcode::text, std::string(1, static_cast<char>('0' + channel)) + base64_encode(payload));
  else conn_->send(ws::opcode::binary, std::string(1, static_cast<char>(channel)) + payload);
  flush();
}

void websocket_client::close() {
  conn_->close(1000);
  flush();
}

bool websocket_client::wait(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    while (auto m = conn_->next_message()) {
      if (m->op == ws::opcode::close) {
        closed = true;
        continue;
      }
      if (m->op != ws::opcode::binary && m->op != ws::opcode::text) continue;
      if (m->payload.empty()) continue;
      std::uint8_t channel = static_cast<std::uint8_t>(m->payload[0]);
      std::string body = m->payload.substr(1);
      if (base64_) {
        channel = static_cast<std::uint8_t>(channel - '0');
        body = base64_decode(body).value_or(std::string{});
      }
      messages.emplace_back(channel, body);
      data[channel] += body;
    }
    flush();
    if (done()) return true;
    if (eof || fd_ < 0 || std::chrono::steady_clock::now() > deadline) return done();
    ssize_t n = read_some(fd_, buf, sizeof buf, std::chrono::milliseconds(50));
    if (n == 0) {
      eof = true;
      closed = true;
    }
    if (n > 0) (void)conn_->feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

}  // namespace ringcri::testing
