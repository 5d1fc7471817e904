#include "cri/spec/user_namespace.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>

namespace ringcri::cri::spec {

namespace {

namespace v1 = ::runtime::v1;

error invalid(std::string message) {
  return error(error_kind::invalid_argument, std::move(message));
}

result<std::vector<sys::id_mapping>> mappings_of(
    const google::protobuf::RepeatedPtrField<v1::IDMapping>& in, const char* field) {
  const std::string name = fmt::format("namespace_options.userns_options.{}", field);
  if (in.size() != 1)
    return tl::unexpected(
        invalid(fmt::format("{}: exactly one mapping is supported, got {}", name, in.size())));
  const v1::IDMapping& m = in[0];
  const std::string shown = fmt::format("{{container_id: {}, host_id: {}, length: {}}}",
                                        m.container_id(), m.host_id(), m.length());
  if (m.length() == 0)
    return tl::unexpected(invalid(fmt::format("{} {}: the length is 0", name, shown)));
  if (m.container_id() != 0)
    return tl::unexpected(invalid(fmt::format("{} {}: container id 0 is not mapped", name, shown)));
  if (std::uint64_t{m.host_id()} + m.length() > std::uint64_t{UINT32_MAX})
    return tl::unexpected(invalid(fmt::format("{} {}: the range passes the last id", name, shown)));
  return std::vector<sys::id_mapping>{{m.container_id(), m.host_id(), m.length()}};
}

bool same_mappings(const google::protobuf::RepeatedPtrField<v1::IDMapping>& a,
                   const google::protobuf::RepeatedPtrField<v1::IDMapping>& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i)
    if (a[i].container_id() != b[i].container_id() || a[i].host_id() != b[i].host_id() ||
        a[i].length() != b[i].length())
      return false;
  return true;
}

}  // namespace

result<std::optional<pod_user_namespace>> user_namespace_of(const v1::NamespaceOption& options) {
  if (!options.has_userns_options()) return std::nullopt;
  const v1::UserNamespace& u = options.userns_options();
  switch (u.mode()) {
    case v1::NODE:
      if (u.uids_size() != 0 || u.gids_size() != 0)
        return tl::unexpected(
            invalid(fmt::format("namespace_options.userns_options: mode NODE takes no mappings, "
                                "got {} uid and {} gid mappings",
                                u.uids_size(), u.gids_size())));
      return std::nullopt;
    case v1::POD:
      break;
    default:
      return tl::unexpected(invalid(fmt::format(
          "namespace_options.userns_options.mode {} is not supported (POD or NODE)",
          v1::NamespaceMode_Name(u.mode()).empty() ? std::to_string(u.mode())
                                                   : v1::NamespaceMode_Name(u.mode()))));
  }
  auto uids = mappings_of(u.uids(), "uids");
  if (!uids) return tl::unexpected(uids.error());
  auto gids = mappings_of(u.gids(), "gids");
  if (!gids) return tl::unexpected(gids.error());
  const std::pair<const char*, v1::NamespaceMode> shared[] = {
      {"network", options.network()}, {"pid", options.pid()}, {"ipc", options.ipc()}};
  for (const auto& [name, mode] : shared)
    if (mode == v1::NODE)
      return tl::unexpected(invalid(fmt::format(
          "namespace_options.{} NODE with userns_options.mode POD: a pod in its own user namespace "
          "cannot share the host's {} namespace",
          name, name)));
  return pod_user_namespace{std::move(*uids), std::move(*gids)};
}

result<void> check_container_user_namespace(const v1::NamespaceOption& container,
                                            const v1::NamespaceOption& pod) {
  if (!container.has_userns_options()) return {};
  const v1::UserNamespace& c = container.userns_options();
  const v1::UserNamespace& p = pod.userns_options();  // the default (POD, no maps) when absent
  const bool pod_node = !pod.has_userns_options() || p.mode() == v1::NODE;
  const bool container_node = c.mode() == v1::NODE && c.uids_size() == 0 && c.gids_size() == 0;
  if (pod_node && container_node) return {};
  if (c.mode() == p.mode() && same_mappings(c.uids(), p.uids()) &&
      same_mappings(c.gids(), p.gids()))
    return {};
  return fail(
      error_kind::invalid_argument,
      fmt::format("namespace_options.userns_options (mode {}, {} uid and {} gid mappings) differ "
                  "from the pod's: a container joins its pod's user namespace",
                  v1::NamespaceMode_Name(c.mode()), c.uids_size(), c.gids_size()));
}

}  // namespace ringcri::cri::spec
