// The keeper's wire protocol (exec/keeper/protocol): one packet as either
// side may receive it, read as the request handlers read their arguments
// (container and exec specs, exec_spec.hpp) and as the daemon reads
// replies and events. Nothing throws out of the parsing, nothing is
// undefined, and what parses encodes and parses back to the same thing.

#include <cstdint>
#include <string>
#include <vector>

#include "exec/keeper/protocol.hpp"
#include "exec/spec_json.hpp"
#include "fuzz_check.hpp"

using namespace ringcri;
using namespace ringcri::exec;
using namespace ringcri::exec::keeper;
using json = nlohmann::json;

namespace {

// A spec that parses goes to JSON and back unchanged.
void check_round_trip(const container_spec& spec) {
  json encoded = spec;
  auto again = protocol::create_request_from_json(json{{"spec", encoded}});
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(json(*again) == encoded);
}

void check_round_trip(const exec_spec& spec) {
  json encoded = spec;
  auto again = protocol::exec_request_from_json(json{{"spec", encoded}});
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(json(again->spec) == encoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto message = protocol::decode(fuzz::as_text(data, size));
  if (!message) {
    FUZZ_CHECK(message.error().kind() == error_kind::invalid_argument);
    return 0;
  }
  const json& j = *message;
  FUZZ_CHECK(j.is_object());
  auto round = protocol::decode(protocol::encode(j));
  FUZZ_CHECK(round.has_value() && *round == j);

  // The keeper's side: a request's arguments.
  for (const char* name : {"container", "pod", "op"}) {
    auto arg = protocol::string_arg(j, name);
    if (arg) FUZZ_CHECK(!arg->empty());
  }
  if (auto spec = protocol::create_request_from_json(j); spec) {
    check_round_trip(*spec);
  } else {
    FUZZ_CHECK(spec.error().kind() == error_kind::invalid_argument);
  }
  if (auto exec = protocol::exec_request_from_json(j); exec) {
    auto timeout = j.find("timeout_ms");
    if (timeout != j.end() && timeout->is_number_integer())
      FUZZ_CHECK(*timeout == exec->timeout_ms);
    else
      FUZZ_CHECK(exec->timeout_ms == 0);
    check_round_trip(exec->spec);
  } else {
    FUZZ_CHECK(exec.error().kind() == error_kind::invalid_argument);
  }

  // The daemon's side: replies, errors, exit events, list entries.
  if (auto status = protocol::exit_status_from_json(j); status) {
    auto again = protocol::exit_status_from_json(protocol::exit_event(*status));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->id == status->id && again->exit_code == status->exit_code &&
               again->signal == status->signal && again->finished_at == status->finished_at);
  }
  if (auto h = protocol::held_from_json(j); h) {
    auto again = protocol::held_from_json(protocol::held_to_json(*h));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->id == h->id && again->pid == h->pid && again->started == h->started &&
               again->started_at == h->started_at && again->exited == h->exited);
  }
  auto e = protocol::error_from_json(j.contains("error") ? j["error"] : j);
  auto again = protocol::error_from_json(protocol::error_to_json(e));
  FUZZ_CHECK(again.kind() == e.kind() && again.message() == e.message() &&
             again.sys_errno() == e.sys_errno());
  return 0;
}
