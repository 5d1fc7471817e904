// user_namespace_of and check_container_user_namespace: which options make
// a pod user namespace, and each refusal the CRI specifies, with the field
// and the value in its message.

#include "cri/spec/user_namespace.hpp"

#include <catch2/catch.hpp>

namespace v1 = runtime::v1;
namespace spec = ringcri::cri::spec;

namespace {

v1::NamespaceOption with_userns(v1::NamespaceMode mode,
                                std::vector<std::array<std::uint32_t, 3>> maps) {
  v1::NamespaceOption ns;
  auto* u = ns.mutable_userns_options();
  u->set_mode(mode);
  for (const auto& [container, host, length] : maps)
    for (auto* m : {u->add_uids(), u->add_gids()}) {
      m->set_container_id(container);
      m->set_host_id(host);
      m->set_length(length);
    }
  return ns;
}

std::string refusal(const v1::NamespaceOption& ns) {
  auto r = spec::user_namespace_of(ns);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == ringcri::error_kind::invalid_argument);
  return r.error().message();
}

}  // namespace

TEST_CASE("no userns options, or mode NODE, is the host's user namespace") {
  auto none = spec::user_namespace_of(v1::NamespaceOption{});
  REQUIRE(none);
  CHECK_FALSE(*none);
  auto node = spec::user_namespace_of(with_userns(v1::NODE, {}));
  REQUIRE(node);
  CHECK_FALSE(*node);
}

TEST_CASE("mode POD with one mapping each gives the pod's maps") {
  auto pod = spec::user_namespace_of(with_userns(v1::POD, {{0, 1000, 100000}}));
  REQUIRE(pod);
  REQUIRE(*pod);
  REQUIRE((*pod)->uids.size() == 1);
  CHECK((*pod)->uids[0].host_id == 1000);
  CHECK((*pod)->uids[0].size == 100000);
  CHECK((*pod)->gids[0].container_id == 0);
}

TEST_CASE("the refusals name the field and the value") {
  CHECK_THAT(refusal(with_userns(v1::POD, {{0, 1000, 100000}, {0, 2000, 100000}})),
             Catch::Contains("userns_options.uids") && Catch::Contains("got 2"));
  CHECK_THAT(refusal(with_userns(v1::POD, {{1, 1000, 100000}})),
             Catch::Contains("container id 0 is not mapped") && Catch::Contains("container_id: 1"));
  CHECK_THAT(refusal(with_userns(v1::POD, {})), Catch::Contains("got 0"));
  CHECK_THAT(refusal(with_userns(v1::POD, {{0, 1000, 0}})), Catch::Contains("length is 0"));
  CHECK_THAT(refusal(with_userns(v1::POD, {{0, 4294967000u, 100000}})), Catch::Contains("last id"));
  CHECK_THAT(refusal(with_userns(v1::CONTAINER, {})),
             Catch::Contains("mode CONTAINER is not supported"));
  CHECK_THAT(refusal(with_userns(v1::TARGET, {})), Catch::Contains("mode TARGET is not supported"));
  CHECK_THAT(refusal(with_userns(v1::NODE, {{0, 1000, 10}})),
             Catch::Contains("mode NODE takes no mappings"));
  auto host_net = with_userns(v1::POD, {{0, 1000, 100000}});
  host_net.set_network(v1::NODE);
  CHECK_THAT(refusal(host_net), Catch::Contains("namespace_options.network NODE"));
  auto host_pid = with_userns(v1::POD, {{0, 1000, 100000}});
  host_pid.set_pid(v1::NODE);
  CHECK_THAT(refusal(host_pid), Catch::Contains("namespace_options.pid NODE"));
}

TEST_CASE("a container asks for its pod's user namespace or for nothing") {
  auto pod = with_userns(v1::POD, {{0, 1000, 100000}});
  CHECK(spec::check_container_user_namespace(v1::NamespaceOption{}, pod));
  CHECK(spec::check_container_user_namespace(pod, pod));
  CHECK_FALSE(spec::check_container_user_namespace(with_userns(v1::POD, {{0, 5000, 100000}}), pod));
  CHECK_FALSE(spec::check_container_user_namespace(with_userns(v1::NODE, {}), pod));
  CHECK(spec::check_container_user_namespace(with_userns(v1::NODE, {}), v1::NamespaceOption{}));
  CHECK_FALSE(spec::check_container_user_namespace(pod, v1::NamespaceOption{}));
}
