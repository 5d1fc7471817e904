#pragma once
// Records for the state tests, built the way the handlers will build them.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "api.pb.h"
#include "cri/state/ids.hpp"
#include "records.pb.h"

namespace ringcri::cri::state::test {

using labels = std::initializer_list<std::pair<const char*, const char*>>;

inline records::pod_sandbox make_pod(const std::string& name, labels l = {},
                                     std::int64_t created_at = 0, const std::string& ns = "default",
                                     const std::string& uid = "uid-1", std::uint32_t attempt = 0) {
  records::pod_sandbox p;
  p.set_id(new_id());
  auto* md = p.mutable_config()->mutable_metadata();
  md->set_name(name);
  md->set_namespace_(ns);
  md->set_uid(uid);
  md->set_attempt(attempt);
  for (const auto& [k, v] : l) (*p.mutable_config()->mutable_labels())[k] = v;
  p.set_state(runtime::v1::SANDBOX_READY);
  p.set_created_at(created_at);
  return p;
}

inline records::container make_container(const records::pod_sandbox& pod, const std::string& name,
                                         labels l = {}, std::int64_t created_at = 0,
                                         std::uint32_t attempt = 0) {
  records::container c;
  c.set_id(new_id());
  c.set_pod_sandbox_id(pod.id());
  auto* md = c.mutable_config()->mutable_metadata();
  md->set_name(name);
  md->set_attempt(attempt);
  for (const auto& [k, v] : l) (*c.mutable_config()->mutable_labels())[k] = v;
  c.set_state(runtime::v1::CONTAINER_CREATED);
  c.set_created_at(created_at);
  return c;
}

// A record with the given id, for tests that need to choose ids.
inline records::pod_sandbox with_id(records::pod_sandbox p, std::string id) {
  p.set_id(std::move(id));
  return p;
}

inline records::container with_id(records::container c, std::string id) {
  c.set_id(std::move(id));
  return c;
}

}  // namespace ringcri::cri::state::test
