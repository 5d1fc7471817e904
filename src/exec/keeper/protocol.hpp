#pragma once
// The keeper's wire protocol: one JSON document per SOCK_SEQPACKET packet,
// fds beside it (fd_passing.hpp). This file is the encoding only.
//
//   request  {"id": N, "op": "create", ...args}       (+ fds)
//   reply    {"id": N, "result": {...}}            (+ fds)
//            {"id": N, "error": {"kind": "not_found", "errno": 2, "message": "..."}}
//   event    {"event": "exit", "container": id, "exit_code", "signal", "finished_at"}
//
// Where fds travel in either direction and are not all of one kind, the
// message names them in order: "fds": ["in", "out", "hangup"].
//
// A reply whose result says "more": true is followed by further packets
// with the same id (list() with more pidfds than one packet can carry).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "exec/keeper/client.hpp"

namespace ringcri::exec::keeper::protocol {

using json = nlohmann::json;

// Ops.
inline constexpr std::string_view op_create = "create";
inline constexpr std::string_view op_start = "start";
inline constexpr std::string_view op_pod_init = "pod_init";
inline constexpr std::string_view op_exec = "exec";
inline constexpr std::string_view op_reopen_log = "reopen_log";
inline constexpr std::string_view op_remove = "remove";
inline constexpr std::string_view op_list = "list";
inline constexpr std::string_view op_attach = "attach";
inline constexpr std::string_view op_close_stdin = "close_stdin";

std::string encode(const json& message);
// INVALID_ARGUMENT when the bytes are not one JSON object.
result<json> decode(std::string_view bytes);

json request(std::uint64_t id, std::string_view op, json args = json::object());
// A request's non-empty string argument, or INVALID_ARGUMENT naming it.
result<std::string> string_arg(const json& args, const char* name);
json reply(std::uint64_t id, json result);
json error_reply(std::uint64_t id, const error& e);

// The error of an error reply, as the keeper sent it.
json error_to_json(const error& e);
error error_from_json(const json& j);

// Wire names of error kinds ("not_found"); unknown names read as internal.
std::string_view kind_name(error_kind kind);
error_kind kind_from_name(std::string_view name);

// How a spawned child's failure (its report's errno) reads to the daemon.
error_kind kind_of_child_errno(int sys_errno);

json exit_event(const exit_status& status);
// The fields of an exit event or an exit record; `id` from "container" if present.
result<exit_status> exit_status_from_json(const json& j);

// What a create request carries: its container spec. INVALID_ARGUMENT
// naming what is wrong, never an exception.
result<container_spec> create_request_from_json(const json& args);

// What an exec request carries besides its fds.
struct exec_request {
  exec_spec spec;
  std::int64_t timeout_ms = 0;        // 0: none
  std::vector<std::string> fd_names;  // "in", "out", "err", "hangup", in fd order
};
result<exec_request> exec_request_from_json(const json& args);

// A list() entry without its pidfd (that travels as an fd).
json held_to_json(const held& h);
result<held> held_from_json(const json& j);

}  // namespace ringcri::exec::keeper::protocol
