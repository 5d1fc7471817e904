#pragma once
// CRI List filters (ListPodSandbox, ListContainers), applied the way
// containerd applies them: every field set must match (AND); an unset field
// matches everything.
//
// - id: a full id or a prefix of one. A prefix that names no object, or
//   more than one, matches nothing (an empty list, not an error).
// - state: the object's state equals it.
// - pod_sandbox_id (containers): as id, resolved against the pods.
// - label_selector: every key=value is among the object's labels, with
//   exactly that value.
//
// Resolving prefixes needs the id indexes, so a filter is first made into a
// query (under runtime_state's lock), then matched against each record.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api.pb.h"
#include "cri/state/id_index.hpp"
#include "cri/state/ids.hpp"
#include "records.pb.h"

namespace ringcri::cri::state {

using label_map = google::protobuf::Map<std::string, std::string>;
using label_selector = std::vector<std::pair<std::string, std::string>>;

// Whether `labels` has every key of `selector` with the same value.
bool labels_match(const label_selector& selector, const label_map& labels);

// A PodSandboxFilter with its id prefix resolved.
struct pod_query {
  bool matches_none = false;     // the id prefix resolved to no single pod
  std::optional<sandbox_id> id;  // only this pod
  std::optional<runtime::v1::PodSandboxState> state;
  label_selector labels;
};

// A ContainerFilter with its id and pod id prefixes resolved.
struct container_query {
  bool matches_none = false;
  std::optional<container_id> id;
  std::optional<sandbox_id> pod;  // only containers of this pod
  std::optional<runtime::v1::ContainerState> state;
  label_selector labels;
};

// `filter` may be null: everything matches.
pod_query make_pod_query(const runtime::v1::PodSandboxFilter* filter, const id_index& pods);
container_query make_container_query(const runtime::v1::ContainerFilter* filter,
                                     const id_index& containers, const id_index& pods);

bool matches(const pod_query& q, const records::pod_sandbox& pod);
bool matches(const container_query& q, const records::container& c);

// List order: oldest first (created_at), ties broken by id, so repeated
// lists of the same objects come back in the same order.
void sort_for_listing(std::vector<records::pod_sandbox>& pods);
void sort_for_listing(std::vector<records::container>& containers);

}  // namespace ringcri::cri::state
