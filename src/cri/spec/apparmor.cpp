#include "cri/spec/apparmor.hpp"

#include <fmt/format.h>

#include <fstream>
#include <string>

namespace ringcri::cri::spec {

namespace {

error refused(std::string_view profile) {
  return error(
      error_kind::invalid_argument,
      node_has_apparmor()
          ? fmt::format("AppArmor profile \"{}\": ringcri does not apply AppArmor "
                        "profiles; use runtime/default or unconfined",
                        profile)
          : fmt::format("AppArmor profile \"{}\": AppArmor is not enabled on this node", profile));
}

}  // namespace

bool node_has_apparmor() {
  std::ifstream in("/sys/module/apparmor/parameters/enabled");
  std::string v;
  return in && std::getline(in, v) && v.rfind("Y", 0) == 0;
}

result<void> check_apparmor(const runtime::v1::SecurityProfile* profile,
                            std::string_view old_name) {
  using runtime::v1::SecurityProfile;
  if (profile) {
    switch (profile->profile_type()) {
      case SecurityProfile::RuntimeDefault:
      case SecurityProfile::Unconfined:
        return {};
      case SecurityProfile::Localhost:
        return tl::unexpected(refused(fmt::format("localhost/{}", profile->localhost_ref())));
      default:
        return fail(error_kind::invalid_argument,
                    fmt::format("AppArmor profile type {} is not known",
                                static_cast<int>(profile->profile_type())));
    }
  }
  if (old_name.empty() || old_name == "runtime/default" || old_name == "unconfined") return {};
  if (old_name.rfind("localhost/", 0) == 0) return tl::unexpected(refused(old_name));
  return fail(error_kind::invalid_argument,
              fmt::format("AppArmor profile \"{}\" is not known (runtime/default, unconfined or "
                          "localhost/<name>)",
                          old_name));
}

}  // namespace ringcri::cri::spec
