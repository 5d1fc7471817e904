#include "net/native/loopback.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <net/if.h>

#include <nlohmann/json.hpp>

#include "base/unique_fd.hpp"
#include "net/native/pod_netns.hpp"
#include "net/netlink/links.hpp"
#include "net/netlink/netns.hpp"
#include "reactor/blocking.hpp"

namespace ringcri::net::native {

namespace {

namespace nl = netlink;

// A socket in the pod's namespace; nothing when the namespace is gone.
reactor::task<result<std::optional<nl::socket>>> pod_socket(const std::string& path) {
  auto fd = co_await open_netns(path);
  if (!fd) {
    if (fd.error().sys_errno() == ENOENT) co_return std::optional<nl::socket>();
    co_return tl::unexpected(std::move(fd.error()));
  }
  auto s = co_await nl::open_in_network_namespace(fd->get());
  if (!s) co_return tl::unexpected(std::move(s.error()));
  co_return std::optional<nl::socket>(std::move(*s));
}

}  // namespace

reactor::task<result<std::string>> loopback_add(const std::string& cni_version,
                                                const cni::attachment& pod,
                                                const std::string& prev_result) {
  auto s = co_await pod_socket(pod.netns_path);
  if (!s) co_return tl::unexpected(std::move(s.error()));
  if (!*s) co_return fail_errno(ENOENT, fmt::format("open netns \"{}\"", pod.netns_path));
  if (auto up = co_await (*s)->run(nl::set_up(nl::link_ref::by_name("lo"))); !up)
    co_return tl::unexpected(std::move(up.error()));
  if (!prev_result.empty()) co_return prev_result;
  nlohmann::ordered_json out;
  out["cniVersion"] = cni_version;
  out["interfaces"] = nlohmann::ordered_json::array(
      {{{"name", "lo"}, {"mac", "00:00:00:00:00:00"}, {"sandbox", pod.netns_path}}});
  bool has_version = cni_version.rfind("0.", 0) == 0;
  auto ip = [&](const char* version, const char* address) {
    nlohmann::ordered_json one;
    if (has_version) one["version"] = version;
    one["interface"] = 0;
    one["address"] = address;
    return one;
  };
  out["ips"] = nlohmann::ordered_json::array({ip("4", "127.0.0.1/8"), ip("6", "::1/128")});
  out["dns"] = nlohmann::ordered_json::object();
  co_return out.dump();
}

reactor::task<result<void>> loopback_del(const cni::attachment& pod) {
  if (pod.netns_path.empty()) co_return result<void>{};
  auto s = co_await pod_socket(pod.netns_path);
  if (!s) co_return tl::unexpected(std::move(s.error()));
  if (!*s) co_return result<void>{};
  co_return co_await (*s)->run(nl::set_up(nl::link_ref::by_name("lo"), false));
}

reactor::task<result<void>> loopback_check(const cni::attachment& pod) {
  auto s = co_await pod_socket(pod.netns_path);
  if (!s) co_return tl::unexpected(std::move(s.error()));
  if (!*s) co_return fail_errno(ENOENT, fmt::format("open netns \"{}\"", pod.netns_path));
  auto lo = co_await nl::get_link(**s, nl::link_ref::by_name("lo"));
  if (!lo) co_return tl::unexpected(std::move(lo.error()));
  if (!(lo->flags & IFF_UP))
    co_return fail(error_kind::failed_precondition, "loopback interface is down");
  co_return result<void>{};
}

}  // namespace ringcri::net::native
