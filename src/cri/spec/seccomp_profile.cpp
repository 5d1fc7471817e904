#include "cri/spec/seccomp_profile.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "exec/spec_json.hpp"

namespace ringcri::cri::spec {

result<exec::seccomp_spec> parse_seccomp_profile(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(error_kind::invalid_argument, "is not JSON");
  // get<unsigned>() of a float out of range is undefined behaviour; no
  // field of a profile is a float.
  if (exec::holds_float(j))
    return fail(error_kind::invalid_argument,
                "is not an OCI seccomp profile: a number that is not an integer");
  exec::seccomp_spec s;
  try {
    s.default_action = j.at("defaultAction").get<std::string>();
    s.default_errno_ret = j.value("defaultErrnoRet", static_cast<std::uint32_t>(EPERM));
    for (const auto& rule : j.value("syscalls", nlohmann::json::array())) {
      exec::seccomp_rule r;
      if (rule.contains("names")) r.names = rule.at("names").get<std::vector<std::string>>();
      if (rule.contains("name")) r.names.push_back(rule.at("name").get<std::string>());
      r.action = rule.at("action").get<std::string>();
      r.errno_ret = rule.value("errnoRet", static_cast<std::uint32_t>(EPERM));
      for (const auto& a : rule.value("args", nlohmann::json::array())) {
        exec::seccomp_arg arg;
        arg.index = a.at("index").get<unsigned>();
        arg.value = a.at("value").get<std::uint64_t>();
        arg.value_two = a.value("valueTwo", std::uint64_t{0});
        arg.op = a.at("op").get<std::string>();
        r.args.push_back(std::move(arg));
      }
      s.syscalls.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(error_kind::invalid_argument,
                fmt::format("is not an OCI seccomp profile: {}", e.what()));
  }
  return s;
}

}  // namespace ringcri::cri::spec
