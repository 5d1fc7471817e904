// JSON encoding of the keeper's requests, replies and events. Parsing never
// throws out of this file: a malformed message is an error result.

#include "exec/keeper/protocol.hpp"

#include <fmt/format.h>

#include <cerrno>

namespace ringcri::exec::keeper::protocol {

std::string encode(const json& message) {
  // Replace bad UTF-8 (a child's message may carry any bytes) instead of throwing.
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

result<json> decode(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(error_kind::invalid_argument,
                fmt::format("keeper message is not a JSON object ({} bytes)", bytes.size()));
  }
  return j;
}

json request(std::uint64_t id, std::string_view op, json args) {
  if (!args.is_object()) args = json::object();
  args["id"] = id;
  args["op"] = op;
  return args;
}

result<std::string> string_arg(const json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end() || !it->is_string() || it->get<std::string>().empty()) {
    return fail(error_kind::invalid_argument, fmt::format("keeper request without \"{}\"", name));
  }
  return it->get<std::string>();
}

json reply(std::uint64_t id, json result) {
  return json{{"id", id}, {"result", std::move(result)}};
}

json error_reply(std::uint64_t id, const error& e) {
  return json{{"id", id}, {"error", error_to_json(e)}};
}

json error_to_json(const error& e) {
  return json{{"kind", kind_name(e.kind())}, {"errno", e.sys_errno()}, {"message", e.message()}};
}

error error_from_json(const json& j) {
  if (!j.is_object()) return error(error_kind::internal, "keeper sent a malformed error");
  std::string kind = j.value("kind", std::string("internal"));
  int sys_errno = j.value("errno", 0);
  std::string message = j.value("message", std::string("keeper sent an error without a message"));
  return error(kind_from_name(kind), std::move(message), sys_errno);
}

namespace {

struct kind_entry {
  error_kind kind;
  std::string_view name;
};

constexpr kind_entry kind_names[] = {
    {error_kind::internal, "internal"},
    {error_kind::invalid_argument, "invalid_argument"},
    {error_kind::not_found, "not_found"},
    {error_kind::already_exists, "already_exists"},
    {error_kind::failed_precondition, "failed_precondition"},
    {error_kind::unavailable, "unavailable"},
    {error_kind::deadline_exceeded, "deadline_exceeded"},
    {error_kind::cancelled, "cancelled"},
    {error_kind::unimplemented, "unimplemented"},
    {error_kind::resource_exhausted, "resource_exhausted"},
    {error_kind::permission_denied, "permission_denied"},
};

}  // namespace

std::string_view kind_name(error_kind kind) {
  for (const auto& e : kind_names) {
    if (e.kind == kind) return e.name;
  }
  return "internal";
}

error_kind kind_from_name(std::string_view name) {
  for (const auto& e : kind_names) {
    if (e.name == name) return e.kind;
  }
  return error_kind::internal;
}

error_kind kind_of_child_errno(int sys_errno) {
  switch (sys_errno) {
    case ENOENT:
      return error_kind::not_found;
    case EACCES:
    case EPERM:
      return error_kind::permission_denied;
    case EINVAL:
      return error_kind::invalid_argument;
    default:
      return error_kind::internal;
  }
}

json exit_event(const exit_status& status) {
  return json{{"event", "exit"},
              {"container", status.id},
              {"exit_code", status.exit_code},
              {"signal", status.signal},
              {"finished_at", status.finished_at}};
}

result<exit_status> exit_status_from_json(const json& j) {
  if (!j.is_object() || !j.contains("exit_code")) {
    return fail(error_kind::invalid_argument, "exit status without exit_code");
  }
  try {
    exit_status s;
    s.id = j.value("container", std::string());
    s.exit_code = j.at("exit_code").get<int>();
    s.signal = j.value("signal", 0);
    s.finished_at = j.value("finished_at", std::int64_t{0});
    return s;
  } catch (const json::exception& e) {
    return fail(error_kind::invalid_argument, fmt::format("malformed exit status: {}", e.what()));
  }
}

json held_to_json(const held& h) {
  json j{{"id", h.id},
         {"pid", h.pid},
         {"started", h.started},
         {"started_at", h.started_at},
         {"exited", h.exited}};
  if (h.exited) {
    j["exit_code"] = h.exit.exit_code;
    j["signal"] = h.exit.signal;
    j["finished_at"] = h.exit.finished_at;
  }
  return j;
}

result<held> held_from_json(const json& j) {
  try {
    held h;
    h.id = j.at("id").get<std::string>();
    h.pid = j.value("pid", -1);
    h.started = j.value("started", false);
    h.started_at = j.value("started_at", std::int64_t{0});
    h.exited = j.value("exited", false);
    if (h.exited) {
      h.exit.id = h.id;
      h.exit.exit_code = j.value("exit_code", 0);
      h.exit.signal = j.value("signal", 0);
      h.exit.finished_at = j.value("finished_at", std::int64_t{0});
    }
    return h;
  } catch (const json::exception& e) {
    return fail(error_kind::invalid_argument, fmt::format("malformed list entry: {}", e.what()));
  }
}

}  // namespace ringcri::exec::keeper::protocol
