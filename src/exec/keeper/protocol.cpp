// JSON encoding of the keeper's requests, replies and events. Parsing never
// throws out of this file: a malformed message is an error result.

#include "exec/keeper/protocol.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "exec/spec_json.hpp"

namespace ringcri::exec::keeper::protocol {

namespace {

// Fields of one message read without throwing: a field's value when it is
// there with the JSON type of T (an integer that fits T), the fallback
// when it is absent or null, and otherwise the fallback too, with the
// first such field kept as the message's error. json::value() would throw
// on a wrong type, and convert a float of any size to an integer, which
// out of range is undefined behaviour.
class field_reader {
 public:
  explicit field_reader(const json& j) : j_(j) {}

  template <class T>
  T get(const char* key, T fallback) {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return fallback;
    if constexpr (std::is_same_v<T, bool>) {
      if (it->is_boolean()) return it->template get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      if (it->is_number_unsigned()) {
        if (auto v = it->template get<std::uint64_t>(); std::in_range<T>(v))
          return static_cast<T>(v);
      } else if (it->is_number_integer()) {
        if (auto v = it->template get<std::int64_t>(); std::in_range<T>(v))
          return static_cast<T>(v);
      }
    } else {
      if (it->is_string()) return it->template get<std::string>();
    }
    if (!wrong_) wrong_ = key;
    return fallback;
  }

  // The first field of the wrong type or range, or nullptr.
  const char* wrong() const { return wrong_; }

 private:
  const json& j_;
  const char* wrong_ = nullptr;
};

// The spec a request carries: INVALID_ARGUMENT, not an exception, for
// one that is missing, of the wrong shape, or holds a float.
template <class Spec>
result<Spec> spec_arg(const json& args, std::string_view what) {
  auto it = args.find("spec");
  if (it == args.end())
    return fail(error_kind::invalid_argument, fmt::format("{} without \"spec\"", what));
  if (holds_float(*it))
    return fail(error_kind::invalid_argument,
                fmt::format("malformed {}: a number that is not an integer", what));
  try {
    return it->template get<Spec>();
  } catch (const json::exception& e) {
    return fail(error_kind::invalid_argument, fmt::format("malformed {}: {}", what, e.what()));
  }
}

}  // namespace

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
  field_reader f(j);
  std::string kind = f.get("kind", std::string("internal"));
  int sys_errno = f.get("errno", 0);
  std::string message = f.get("message", std::string("keeper sent an error without a message"));
  if (f.wrong())
    return error(error_kind::internal,
                 fmt::format("keeper sent a malformed error (field \"{}\")", f.wrong()));
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

result<container_spec> create_request_from_json(const json& args) {
  return spec_arg<container_spec>(args, "container spec");
}

result<exec_request> exec_request_from_json(const json& args) {
  auto spec = spec_arg<exec_spec>(args, "exec request");
  if (!spec) return tl::unexpected(std::move(spec.error()));
  exec_request r{std::move(*spec), 0, {}};
  field_reader f(args);
  r.timeout_ms = f.get("timeout_ms", std::int64_t{0});
  if (auto it = args.find("fds"); it != args.end() && !it->is_null()) {
    if (!it->is_array())
      return fail(error_kind::invalid_argument, "malformed exec request: \"fds\" is not a list");
    for (const auto& name : *it) {
      if (!name.is_string())
        return fail(error_kind::invalid_argument,
                    "malformed exec request: \"fds\" holds a non-string");
      r.fd_names.push_back(name.get<std::string>());
    }
  }
  if (f.wrong())
    return fail(error_kind::invalid_argument,
                fmt::format("malformed exec request: field \"{}\"", f.wrong()));
  return r;
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
  field_reader f(j);
  exit_status s{f.get("container", std::string()), f.get("exit_code", 0), f.get("signal", 0),
                f.get("finished_at", std::int64_t{0})};
  if (f.wrong())
    return fail(error_kind::invalid_argument,
                fmt::format("malformed exit status: field \"{}\"", f.wrong()));
  return s;
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
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
    return fail(error_kind::invalid_argument, "malformed list entry: no id");
  field_reader f(j);
  held h;
  h.id = j["id"].get<std::string>();
  h.pid = f.get("pid", pid_t{-1});
  h.started = f.get("started", false);
  h.started_at = f.get("started_at", std::int64_t{0});
  h.exited = f.get("exited", false);
  if (h.exited) {
    h.exit.id = h.id;
    h.exit.exit_code = f.get("exit_code", 0);
    h.exit.signal = f.get("signal", 0);
    h.exit.finished_at = f.get("finished_at", std::int64_t{0});
  }
  if (f.wrong())
    return fail(error_kind::invalid_argument,
                fmt::format("malformed list entry {}: field \"{}\"", h.id, f.wrong()));
  return h;
}

}  // namespace ringcri::exec::keeper::protocol
