#pragma once
// The CRI server's in-memory view of every pod sandbox and container: their
// records, ids (with prefix lookup), unique names, and the pod -> containers
// relation. No I/O: persisting records is the store's job, and the handlers
// call both.
//
// Thread-safe: one std::shared_mutex guards everything; reads share it,
// changes take it alone. Every record handed out is a copy, so callers never
// hold a reference into the state.
//
// Invariants kept here:
//   - ids are full ids (64 lowercase hex digits), unique per kind;
//   - every live pod holds its pod name key, every live container its
//     container name key (see name_keys.hpp);
//   - a container's pod exists for as long as the container does;
//   - state changes follow transitions.hpp.

#include <cstddef>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api.pb.h"
#include "base/error.hpp"
#include "cri/state/id_index.hpp"
#include "cri/state/ids.hpp"
#include "cri/state/name_registry.hpp"
#include "records.pb.h"

namespace ringcri::cri::state {

class runtime_state {
 public:
  // Edits a record. It runs under the state's exclusive lock, so it must be
  // quick, must not block, and must not call back into this runtime_state
  // (that deadlocks): compute what it writes before calling. It may change
  // any field except the id, the pod id, the state and config.metadata;
  // changing those is refused (INTERNAL) and nothing is applied. It edits a
  // draft: if it throws, nothing is applied either.
  using pod_edit = std::function<void(records::pod_sandbox&)>;
  using container_edit = std::function<void(records::container&)>;

  runtime_state();
  runtime_state(const runtime_state&) = delete;
  runtime_state& operator=(const runtime_state&) = delete;

  // ---- pod sandboxes ----

  // Adds a new pod and reserves its name key. Errors:
  //   INVALID_ARGUMENT: id not a full id, config.metadata missing,
  //                     config.metadata.name empty, state not a known value;
  //   ALREADY_EXISTS:   the id exists, or the name key is held (the message
  //                     names the holder's id).
  result<void> add_pod(records::pod_sandbox pod);

  // The full id of the one pod `id_or_prefix` names. INVALID_ARGUMENT if
  // empty or ambiguous, NOT_FOUND (`pod sandbox "abc" not found`) if none.
  result<sandbox_id> resolve_pod(std::string_view id_or_prefix) const;

  // A copy of the pod's record; nullopt if unknown. Exact id only.
  std::optional<records::pod_sandbox> get_pod(const sandbox_id& id) const;

  // Moves the pod to state `to` (see transitions.hpp) and lets `also` edit
  // other fields, all at once. Returns the new record. NOT_FOUND if unknown,
  // FAILED_PRECONDITION if the transition is illegal.
  result<records::pod_sandbox> update_pod(const sandbox_id& id, runtime::v1::PodSandboxState to,
                                          const pod_edit& also = {});

  // Edits fields without changing the state (IPs, namespace paths once
  // they exist). Returns the new record; NOT_FOUND if unknown.
  result<records::pod_sandbox> amend_pod(const sandbox_id& id, const pod_edit& edit);

  // Removes the pod and frees its name. false if unknown. FAILED_PRECONDITION
  // while the pod still has containers: remove them first.
  result<bool> remove_pod(const sandbox_id& id);

  // Pods passing `filter` (null: all), oldest first. See filters.hpp.
  std::vector<records::pod_sandbox> list_pods(const runtime::v1::PodSandboxFilter* filter) const;

  // ---- containers ----

  // Adds a new container to its pod and reserves its name key. Errors:
  //   INVALID_ARGUMENT:    id not a full id, config.metadata missing,
  //                        config.metadata.name empty, state not a known value;
  //   NOT_FOUND:           no pod has the exact id c.pod_sandbox_id();
  //   FAILED_PRECONDITION: the pod is not SANDBOX_READY;
  //   ALREADY_EXISTS:      the id exists, or the name key is held.
  result<void> add_container(records::container c);

  // As resolve_pod, for containers.
  result<container_id> resolve_container(std::string_view id_or_prefix) const;

  std::optional<records::container> get_container(const container_id& id) const;

  // As update_pod, for containers. Also FAILED_PRECONDITION for CREATED ->
  // RUNNING when the pod is not SANDBOX_READY, checked in the same critical
  // section, so a container can never start in a pod being stopped.
  result<records::container> update_container(const container_id& id,
                                              runtime::v1::ContainerState to,
                                              const container_edit& also = {});

  // As amend_pod, for containers.
  result<records::container> amend_container(const container_id& id, const container_edit& edit);

  // Removes the container and frees its name; false if unknown. The state
  // is not checked: stopping it first is the caller's business.
  bool remove_container(const container_id& id);

  // The pod's containers, oldest first; empty if the pod is unknown.
  std::vector<records::container> containers_of(const sandbox_id& pod) const;

  // Containers passing `filter` (null: all), oldest first. See filters.hpp.
  std::vector<records::container> list_containers(const runtime::v1::ContainerFilter* filter) const;

  // ---- start-up ----

  // Put back records read from disk, in any state, reserving their names.
  // Same checks as add_*, except that a restored container's pod may be in
  // any state (it must have been restored first: NOT_FOUND otherwise). A
  // name clash names both ids: `restore pod sandbox "<new>": pod sandbox
  // name "x" is reserved for "<old>"`.
  result<void> restore_pod(records::pod_sandbox pod);
  result<void> restore_container(records::container c);

  std::size_t pod_count() const;
  std::size_t container_count() const;

 private:
  struct pod_entry {
    records::pod_sandbox record;
    std::string name_key;
    std::unordered_set<container_id> containers;
  };
  struct container_entry {
    records::container record;
    std::string name_key;
  };

  result<void> insert_pod(records::pod_sandbox pod);
  result<void> insert_container(records::container c, bool require_ready_pod);

  mutable std::shared_mutex mu_;
  std::unordered_map<sandbox_id, pod_entry> pods_;
  std::unordered_map<container_id, container_entry> containers_;
  id_index pod_ids_;
  id_index container_ids_;
  name_registry pod_names_;
  name_registry container_names_;
};

}  // namespace ringcri::cri::state
