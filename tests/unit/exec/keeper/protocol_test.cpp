// The keeper's wire format: messages encode and decode to the same values,
// errors keep their kind, errno and message, and fds travel with packets.

#include "exec/keeper/protocol.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "exec/keeper/fd_passing.hpp"
#include "exec/spec_json.hpp"
#include "reactor/reactor.hpp"
#include "support/io_checks.hpp"

namespace io = ringcri::reactor;
namespace protocol = ringcri::exec::keeper::protocol;
using nlohmann::json;
using ringcri::error;
using ringcri::error_kind;
using ringcri::unique_fd;
using ringcri::exec::keeper::packet;

TEST_CASE("a create request round-trips with its container spec") {
  ringcri::exec::container_spec spec;
  spec.id = "c1";
  spec.process.args = {"/bin/sh", "-c", "echo hi"};
  spec.process.oom_score_adj = 5;
  spec.rootfs.lowers = {"/l1", "/l2"};
  spec.log_path = "/var/log/pods/x/c/0.log";
  spec.exit_path = "/run/ringcri/c1/exit";
  spec.stdin_open = true;

  json args{{"spec", spec}};
  auto bytes = protocol::encode(protocol::request(42, protocol::op_create, std::move(args)));
  auto back = protocol::decode(bytes);
  REQUIRE(back);
  CHECK((*back)["id"] == 42);
  CHECK((*back)["op"] == "create");
  auto spec2 = (*back)["spec"].get<ringcri::exec::container_spec>();
  CHECK(spec2.id == "c1");
  CHECK(spec2.process.args == spec.process.args);
  CHECK(spec2.process.oom_score_adj == 5);
  CHECK(spec2.rootfs.lowers == spec.rootfs.lowers);
  CHECK(spec2.log_path == spec.log_path);
  CHECK(spec2.exit_path == spec.exit_path);
  CHECK(spec2.stdin_open);
}

TEST_CASE("an error reply keeps the kind, errno and message") {
  error e(error_kind::not_found, "mount /proc: No such file or directory", ENOENT);
  auto back = protocol::decode(protocol::encode(protocol::error_reply(7, e)));
  REQUIRE(back);
  CHECK((*back)["id"] == 7);
  error e2 = protocol::error_from_json((*back)["error"]);
  CHECK(e2.kind() == error_kind::not_found);
  CHECK(e2.sys_errno() == ENOENT);
  CHECK(e2.message() == "mount /proc: No such file or directory");
  CHECK((*back)["error"]["kind"] == "not_found");
}

TEST_CASE("every error kind survives the wire") {
  for (auto k :
       {error_kind::internal, error_kind::invalid_argument, error_kind::not_found,
        error_kind::already_exists, error_kind::failed_precondition, error_kind::unavailable,
        error_kind::deadline_exceeded, error_kind::cancelled, error_kind::unimplemented,
        error_kind::resource_exhausted, error_kind::permission_denied}) {
    CHECK(protocol::kind_from_name(protocol::kind_name(k)) == k);
  }
  CHECK(protocol::kind_from_name("no such kind") == error_kind::internal);
}

TEST_CASE("a child's errno maps to an error kind") {
  CHECK(protocol::kind_of_child_errno(ENOENT) == error_kind::not_found);
  CHECK(protocol::kind_of_child_errno(EACCES) == error_kind::permission_denied);
  CHECK(protocol::kind_of_child_errno(EPERM) == error_kind::permission_denied);
  CHECK(protocol::kind_of_child_errno(EINVAL) == error_kind::invalid_argument);
  CHECK(protocol::kind_of_child_errno(EBUSY) == error_kind::internal);
  CHECK(protocol::kind_of_child_errno(0) == error_kind::internal);
}

TEST_CASE("an exit event round-trips") {
  ringcri::exec::keeper::exit_status s{"abc", 137, 9, 1795403045123456789};
  auto j = protocol::decode(protocol::encode(protocol::exit_event(s)));
  REQUIRE(j);
  CHECK((*j)["event"] == "exit");
  auto back = protocol::exit_status_from_json(*j);
  REQUIRE(back);
  CHECK(back->id == "abc");
  CHECK(back->exit_code == 137);
  CHECK(back->signal == 9);
  CHECK(back->finished_at == 1795403045123456789);
}

TEST_CASE("list entries round-trip, exited or not") {
  ringcri::exec::keeper::held running;
  running.id = "r";
  running.pid = 10;
  running.started = true;
  running.started_at = 5;
  auto r = protocol::held_from_json(protocol::held_to_json(running));
  REQUIRE(r);
  CHECK(r->id == "r");
  CHECK(r->pid == 10);
  CHECK(r->started);
  CHECK(r->started_at == 5);
  CHECK_FALSE(r->exited);

  ringcri::exec::keeper::held gone;
  gone.id = "g";
  gone.exited = true;
  gone.exit = {"g", 3, 0, 99};
  auto g = protocol::held_from_json(protocol::held_to_json(gone));
  REQUIRE(g);
  CHECK(g->exited);
  CHECK(g->exit.exit_code == 3);
  CHECK(g->exit.finished_at == 99);
}

TEST_CASE("malformed bytes are an error, not an exception") {
  CHECK_FALSE(protocol::decode("{not json"));
  CHECK_FALSE(protocol::decode("[1,2]"));
  CHECK_FALSE(protocol::exit_status_from_json(json{{"signal", 1}}));
  CHECK_FALSE(protocol::held_from_json(json{{"pid", 1}}));
}

// Regression (keeper-error-kind-not-string, found by the keeper_protocol
// fuzz target): json::value() threw type_error out of error_from_json on a
// reply whose error had a field of the wrong type, ending the daemon's
// keeper reader.
TEST_CASE("keeper-error-kind-not-string: an error reply of the wrong shape reads as malformed") {
  for (const char* reply : {R"({"kind": 2})", R"({"kind": "not_found", "errno": "ENOENT"})",
                            R"({"message": ["a"]})", R"({"errno": 1e300})"}) {
    INFO(reply);
    error e = protocol::error_from_json(json::parse(reply));
    CHECK(e.kind() == error_kind::internal);
    CHECK_THAT(e.message(), Catch::Contains("malformed error"));
  }
}

// Regression (exit-code-float-out-of-range): a float field was converted to
// int with json's get<int>(), undefined behaviour out of int's range; a
// number of the wrong type or range is now an error naming the field.
TEST_CASE("exit-code-float-out-of-range: exit statuses and list entries take only integers "
          "that fit") {
  for (const char* status : {R"({"exit_code": 1e300})", R"({"exit_code": 1.5})",
                             R"({"exit_code": 4294967296})", R"({"exit_code": 0, "signal": -1e20})",
                             R"({"exit_code": 0, "finished_at": 18446744073709551615})",
                             R"({"exit_code": 0, "container": 7})"}) {
    INFO(status);
    auto s = protocol::exit_status_from_json(json::parse(status));
    REQUIRE_FALSE(s);
    CHECK(s.error().kind() == error_kind::invalid_argument);
  }
  for (const char* entry : {R"({"id": "a", "pid": 1e300})", R"({"id": "a", "started": 1})",
                            R"({"id": "a", "exited": true, "exit_code": -1e300})",
                            R"({"id": 5})"}) {
    INFO(entry);
    auto h = protocol::held_from_json(json::parse(entry));
    REQUIRE_FALSE(h);
    CHECK(h.error().kind() == error_kind::invalid_argument);
  }
  auto fine = protocol::exit_status_from_json(
      json::parse(R"({"exit_code": -2147483648, "signal": null, "finished_at": -5})"));
  REQUIRE(fine);
  CHECK(fine->exit_code == -2147483648);
  CHECK(fine->signal == 0);
  CHECK(fine->finished_at == -5);
}

// Regression (exec-timeout-float-out-of-range, found by the keeper_protocol
// fuzz target): the exec handler read timeout_ms with json::value(), which
// converts a float to int64 with undefined behaviour out of range; the same
// held for every integer field of a container or exec spec.
TEST_CASE("exec-timeout-float-out-of-range: create and exec requests refuse floats") {
  json spec = ringcri::exec::exec_spec{"c1", {}, {}};
  auto exec = protocol::exec_request_from_json(
      json{{"spec", spec}, {"timeout_ms", 2.2e19}, {"fds", {"in", "out"}}});
  REQUIRE_FALSE(exec);
  CHECK(exec.error().kind() == error_kind::invalid_argument);

  auto bad_spec = spec;
  bad_spec["process"]["user"]["uid"] = 1e300;
  auto bad = protocol::exec_request_from_json(json{{"spec", bad_spec}});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("not an integer"));

  json container = ringcri::exec::container_spec{};
  container["devices"] = json::array({{{"path", "/dev/null"}, {"major", -1e300}}});
  auto create = protocol::create_request_from_json(json{{"spec", container}});
  REQUIRE_FALSE(create);
  CHECK(create.error().kind() == error_kind::invalid_argument);

  for (const char* args : {R"({})", R"({"spec": "not a spec"})", R"({"spec": {"container_id": 7}})",
                           R"({"spec": {}, "fds": "in"})", R"({"spec": {}, "fds": [1]})",
                           R"({"spec": {}, "timeout_ms": "soon"})"}) {
    INFO(args);
    CHECK_FALSE(protocol::exec_request_from_json(json::parse(args)));
  }

  auto fine = protocol::exec_request_from_json(
      json{{"spec", spec}, {"timeout_ms", 5000}, {"fds", {"in", "out", "hangup"}}});
  REQUIRE(fine);
  CHECK(fine->spec.container_id == "c1");
  CHECK(fine->timeout_ms == 5000);
  CHECK(fine->fd_names == std::vector<std::string>{"in", "out", "hangup"});
}

TEST_CASE("a packet carries its fds to the peer") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  unique_fd a(sv[0]), b(sv[1]);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  unique_fd pipe_read(p[0]), pipe_write(p[1]);

  io::reactor r;
  auto got = r.block_on(
      [](int a, int b, int pr, int pw) -> io::task<ringcri::result<std::optional<packet>>> {
        std::string msg = protocol::encode(json{{"id", 1}, {"result", {{"pid", 5}}}});
        std::vector<int> fds{pr, pw};
        auto sent = co_await ringcri::exec::keeper::send_packet(a, std::move(msg), std::move(fds));
        CO_REQUIRE(sent);
        io::cancellation never;
        co_return co_await ringcri::exec::keeper::recv_packet(b, never);
      }(a.get(), b.get(), pipe_read.get(), pipe_write.get()));
  REQUIRE(got);
  REQUIRE(got->has_value());
  packet& pk = **got;
  auto j = protocol::decode(pk.data);
  REQUIRE(j);
  CHECK((*j)["result"]["pid"] == 5);
  REQUIRE(pk.fds.size() == 2);
  // The received fds are new descriptors of the same pipe, close-on-exec.
  CHECK(pk.fds[0].get() != pipe_read.get());
  CHECK((::fcntl(pk.fds[0].get(), F_GETFD) & FD_CLOEXEC) != 0);
  REQUIRE(::write(pk.fds[1].get(), "x", 1) == 1);
  char c = 0;
  REQUIRE(::read(pipe_read.get(), &c, 1) == 1);
  CHECK(c == 'x');
  REQUIRE(::write(pipe_write.get(), "y", 1) == 1);
  REQUIRE(::read(pk.fds[0].get(), &c, 1) == 1);
  CHECK(c == 'y');
}

TEST_CASE("a closed peer reads as the end, and packets keep their boundaries") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  unique_fd a(sv[0]), b(sv[1]);
  io::reactor r;
  r.block_on([](int a, int b) -> io::task<void> {
    std::string big(100'000, 'q');
    std::string m1 = protocol::encode(json{{"x", big}});
    std::string m2 = protocol::encode(json{{"y", 2}});
    std::vector<int> no_fds;
    CO_REQUIRE(co_await ringcri::exec::keeper::send_packet(a, m1, no_fds));
    CO_REQUIRE(co_await ringcri::exec::keeper::send_packet(a, m2, no_fds));
    ::shutdown(a, SHUT_WR);
    io::cancellation never;
    auto p1 = co_await ringcri::exec::keeper::recv_packet(b, never);
    REQUIRE(p1);
    REQUIRE(p1->has_value());
    CHECK((*p1)->data == m1);
    CHECK((*p1)->fds.empty());
    auto p2 = co_await ringcri::exec::keeper::recv_packet(b, never);
    REQUIRE(p2);
    REQUIRE(p2->has_value());
    CHECK((*p2)->data == m2);
    auto p3 = co_await ringcri::exec::keeper::recv_packet(b, never);
    REQUIRE(p3);
    CHECK_FALSE(p3->has_value());
  }(a.get(), b.get()));
}

TEST_CASE("a receive waiting for a packet ends when cancelled") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  unique_fd a(sv[0]), b(sv[1]);
  io::reactor r;
  auto got = r.block_on([](int b) -> io::task<ringcri::result<std::optional<packet>>> {
    io::cancellation c;
    auto cancel_soon = [](io::cancellation& c) -> io::task<void> {
      co_await io::yield_now{};
      c.cancel();
    };
    io::reactor::current()->spawn(cancel_soon(c));
    co_return co_await ringcri::exec::keeper::recv_packet(b, c);
  }(b.get()));
  REQUIRE_FALSE(got);
  CHECK(got.error().sys_errno() == ECANCELED);
}

TEST_CASE("a request's string argument is taken, or refused naming it when missing or empty") {
  json args{{"container", "c1"}, {"empty", ""}, {"number", 3}};
  auto id = protocol::string_arg(args, "container");
  REQUIRE(id);
  CHECK(*id == "c1");
  for (const char* name : {"empty", "number", "missing"}) {
    INFO(name);
    auto bad = protocol::string_arg(args, name);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind() == error_kind::invalid_argument);
    CHECK(bad.error().message().find(name) != std::string::npos);
  }
}
