#pragma once
// Clients of the streaming server for the tests, speaking the wire
// formats kubelet's clients speak: an HTTP upgrade, then SPDY/3.1 streams
// or WebSocket channel messages. Blocking sockets with timeouts; framing
// from the project's SPDY codec and wslay (the WebSocket library).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "stream/spdy/decoder.hpp"
#include "stream/spdy/encoder.hpp"
#include "stream/spdy/frame.hpp"
#include "stream/websocket/connection.hpp"

namespace ringcri::testing {

namespace spdy = ::ringcri::stream::spdy;

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercased names
  std::string body;                            // what came after the head (errors)
};

// Sends `request_head` (ending in \r\n\r\n) to the server of `url` and reads
// the response head. Returns the connected socket (-1 on failure).
int http_exchange(const std::string& url, const std::string& method,
                  const std::vector<std::pair<std::string, std::string>>& headers, http_response& response,
                  std::string& rest);

// "http://127.0.0.1:1234/exec/abc" -> "/exec/abc"
std::string path_of(const std::string& url);

class spdy_client {
 public:
  // Upgrades with these X-Stream-Protocol-Version values. Check
  // response().status == 101 before using it.
  spdy_client(const std::string& url, const std::vector<std::string>& protocols);
  ~spdy_client();

  const http_response& response() const { return response_; }
  bool connected() const { return fd_ >= 0 && response_.status == 101; }

  std::uint32_t open_stream(const spdy::header_block& headers, bool fin = false);
  void send_data(std::uint32_t id, const std::string& data, bool fin = false);
  void reset(std::uint32_t id);
  // Bytes as they are, framed or not (a client that breaks the protocol).
  void send_raw(const std::string& bytes);
  // Closes the socket without a word (a client that vanishes).
  void drop();

  // Reads frames until done() or the timeout or the end of the connection.
  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  std::map<std::uint32_t, std::string> data;  // per stream, everything received
  std::set<std::uint32_t> finished;           // streams the server half-closed
  std::set<std::uint32_t> replied;            // SYN_REPLY received
  std::set<std::uint32_t> reset_by_server;
  bool goaway = false;
  bool eof = false;

 private:
  void send_frame(const spdy::frame& f);
  int fd_ = -1;
  http_response response_;
  std::string rest_;
  spdy::encoder encoder_;
  spdy::decoder decoder_;
  std::uint32_t next_id_ = 1;
};

class websocket_client {
 public:
  websocket_client(const std::string& url, const std::vector<std::string>& subprotocols);
  ~websocket_client();

  const http_response& response() const { return response_; }
  bool connected() const { return fd_ >= 0 && response_.status == 101; }
  std::string subprotocol() const;

  // A channel message (binary: the channel byte then the data; base64
  // subprotocols: the channel digit then base64).
  void send(std::uint8_t channel, const std::string& data);
  void close();
  void drop();

  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(20));

  std::vector<std::pair<std::uint8_t, std::string>> messages;  // decoded, in order
  std::map<std::uint8_t, std::string> data;                     // per channel, concatenated
  bool closed = false;  // a close frame came, or the connection ended
  bool eof = false;

 private:
  void flush();
  int fd_ = -1;
  http_response response_;
  std::unique_ptr<stream::websocket::connection> conn_;
  bool base64_ = false;
};

}  // namespace ringcri::testing
