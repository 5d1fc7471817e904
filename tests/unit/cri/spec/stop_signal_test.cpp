// The stop signal: request, image StopSignal in its several spellings, or
// SIGTERM.

#include "cri/spec/stop_signal.hpp"

#include <catch2/catch.hpp>
#include <csignal>

using namespace ringcri::cri::spec;
using json = nlohmann::json;

namespace {
json image(const std::string& stop) { return {{"config", {{"StopSignal", stop}}}}; }
}  // namespace

TEST_CASE("StopSignal spellings", "[stop_signal]") {
  CHECK(stop_signal_of(image("SIGQUIT")) == SIGQUIT);
  CHECK(stop_signal_of(image("QUIT")) == SIGQUIT);
  CHECK(stop_signal_of(image("sigquit")) == SIGQUIT);
  CHECK(stop_signal_of(image("3")) == SIGQUIT);
  CHECK(stop_signal_of(image("SIGWINCH")) == SIGWINCH);
  CHECK(stop_signal_of(image("SIGUSR1")) == SIGUSR1);
  CHECK(stop_signal_of(image(" SIGINT ")) == SIGINT);
  CHECK(stop_signal_of(image("SIGRTMIN+3")) == SIGRTMIN + 3);
  CHECK(stop_signal_of(image("RTMAX-1")) == SIGRTMAX - 1);
}

TEST_CASE("no or bad StopSignal: SIGTERM", "[stop_signal]") {
  CHECK(stop_signal_of(json::object()) == SIGTERM);
  CHECK(stop_signal_of(json{{"config", json::object()}}) == SIGTERM);
  CHECK(stop_signal_of(json{{"config", {{"StopSignal", nullptr}}}}) == SIGTERM);
  CHECK(stop_signal_of(image("")) == SIGTERM);
  CHECK(stop_signal_of(image("SIGNOPE")) == SIGTERM);
  CHECK(stop_signal_of(image("0")) == SIGTERM);
  CHECK(stop_signal_of(image("999")) == SIGTERM);
  CHECK(stop_signal_of(image("SIGRTMIN+999")) == SIGTERM);
  CHECK(stop_signal_of(json{{"config", {{"StopSignal", 3}}}}) == SIGTERM);
}

TEST_CASE("the request's stop_signal wins over the image's", "[stop_signal]") {
  CHECK(stop_signal_of(image("SIGQUIT"), runtime::v1::SIGNAL_SIGKILL) == SIGKILL);
  CHECK(stop_signal_of(image("SIGQUIT"), runtime::v1::SIGNAL_SIGCLD) == SIGCHLD);
  CHECK(stop_signal_of(image("SIGQUIT"), runtime::v1::SIGNAL_SIGIOT) == SIGABRT);
  CHECK(stop_signal_of(image("SIGQUIT"), runtime::v1::SIGNAL_RUNTIME_DEFAULT) == SIGQUIT);
}

TEST_CASE("parse_signal", "[stop_signal]") {
  CHECK(parse_signal("KILL") == SIGKILL);
  CHECK(parse_signal("SIGPOLL") == SIGIO);
  CHECK(!parse_signal("SIG"));
  CHECK(!parse_signal("-1"));
}
