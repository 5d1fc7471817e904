// The routing tables of the CRI services against api.proto: every RPC of
// RuntimeService and ImageService has exactly one row, with the RPC's own
// request and response types and kind, so an RPC added to api.proto that
// nobody routes fails here (and the daemon refuses to start with it).

#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>
#include <set>
#include <stdexcept>
#include <string>

#include "cri/image_service.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/runtime_service.hpp"

using namespace ringcri::cri;
namespace v1 = runtime::v1;
namespace pb = google::protobuf;

namespace {

const pb::ServiceDescriptor& service_named(const std::string& name) {
  const auto* s = pb::DescriptorPool::generated_pool()->FindServiceByName(name);
  REQUIRE(s);
  return *s;
}

const route* row_of(const std::vector<route>& table, const std::string& method) {
  const route* found = nullptr;
  for (const auto& r : table) {
    if (r.method != method) continue;
    CHECK_FALSE(found);  // one row per RPC
    found = &r;
  }
  return found;
}

void check_complete(const pb::ServiceDescriptor& service, const std::vector<route>& table) {
  for (int i = 0; i < service.method_count(); ++i) {
    const auto* m = service.method(i);
    INFO(service.full_name() << "/" << m->name());
    const route* r = row_of(table, m->name());
    REQUIRE(r);
    CHECK(r->request == m->input_type());
    CHECK(r->response == m->output_type());
    CHECK(r->server_streaming == m->server_streaming());
    CHECK_FALSE(m->client_streaming());
  }
  std::set<std::string> methods;
  for (int i = 0; i < service.method_count(); ++i) methods.insert(service.method(i)->name());
  for (const auto& r : table) {
    INFO("row " << r.method);
    CHECK(methods.count(std::string(r.method)) == 1);  // no row for an RPC api.proto lacks
  }
}

std::vector<route> without(std::vector<route> table, std::string_view method) {
  std::erase_if(table, [&](const route& r) { return r.method == method; });
  return table;
}

}  // namespace

TEST_CASE("every RuntimeService RPC of api.proto has one row of its types and kind") {
  check_complete(service_named(v1::RuntimeService::service_full_name()), runtime_service::routes());
}

TEST_CASE("every ImageService RPC of api.proto has one row of its types and kind") {
  check_complete(service_named(v1::ImageService::service_full_name()), image_service::routes());
}

TEST_CASE(
    "each row is registered at its RPC's place in api.proto, as gRPC's generated code numbers it") {
  const auto& service = service_named(v1::RuntimeService::service_full_name());
  auto table = runtime_service::routes();
  auto indices = method_indices(service.full_name(), table);
  REQUIRE(indices.size() == table.size());
  std::set<int> seen;
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO(table[i].method);
    CHECK(service.method(indices[i])->name() == table[i].method);
    seen.insert(indices[i]);
  }
  CHECK(seen.size() == static_cast<std::size_t>(service.method_count()));
}

TEST_CASE("a table that does not match api.proto is refused, naming each mismatch") {
  const std::string runtime = v1::RuntimeService::service_full_name();
  const std::string images = v1::ImageService::service_full_name();
  CHECK_NOTHROW(method_indices(runtime, runtime_service::routes()));
  CHECK_NOTHROW(method_indices(images, image_service::routes()));

  SECTION("an RPC nobody routes") {
    auto table = without(runtime_service::routes(), "PodSandboxStatus");
    CHECK_THROWS_WITH(method_indices(runtime, table),
                      Catch::Contains("routing table of runtime.v1.RuntimeService") &&
                          Catch::Contains("no row for PodSandboxStatus"));
  }
  SECTION("a row for an RPC api.proto lacks, or two rows for one") {
    auto table = runtime_service::routes();
    table.push_back(unary("Frobnicate", any_core{}, &rpc::version));
    table.push_back(unary("Version", any_core{}, &rpc::version));
    CHECK_THROWS_WITH(method_indices(runtime, table),
                      Catch::Contains("a row for Frobnicate, which api.proto does not have") &&
                          Catch::Contains("two rows for Version"));
  }
  SECTION("a row with another RPC's handler") {
    auto table = without(runtime_service::routes(), "StopPodSandbox");
    // (A pod_core row with it would not compile: StopContainerRequest names no pod.)
    table.push_back(unary("StopPodSandbox", any_core{}, &rpc::stop_container));
    CHECK_THROWS_WITH(method_indices(runtime, table),
                      Catch::Contains("StopPodSandbox takes runtime.v1.StopPodSandboxRequest") &&
                          Catch::Contains("runtime.v1.StopContainerRequest"));
  }
  SECTION("a unary row for a streaming RPC") {
    auto table = without(image_service::routes(), "StreamImages");
    table.push_back(
        not_built<v1::StreamImagesRequest, v1::StreamImagesResponse>("StreamImages", "not yet"));
    CHECK_THROWS_WITH(method_indices(images, table),
                      Catch::Contains("StreamImages is server-streaming, its row unary"));
  }
}
