#include "cri/state/runtime_state.hpp"

#include <fmt/format.h>

#include <mutex>
#include <utility>

#include "cri/state/filters.hpp"
#include "cri/state/name_keys.hpp"
#include "cri/state/transitions.hpp"

namespace ringcri::cri::state {

using runtime::v1::ContainerState;
using runtime::v1::PodSandboxState;

namespace {

tl::unexpected<error> pod_not_found(std::string_view id) {
  return fail(error_kind::not_found, fmt::format("pod sandbox \"{}\" not found", id));
}

tl::unexpected<error> container_not_found(std::string_view id) {
  return fail(error_kind::not_found, fmt::format("container \"{}\" not found", id));
}

result<void> validate_pod(const records::pod_sandbox& pod) {
  if (!is_full_id(pod.id()))
    return fail(error_kind::invalid_argument,
                fmt::format("pod sandbox id \"{}\" is not {} lowercase hex digits", pod.id(),
                            full_id_length));
  if (!pod.config().has_metadata())
    return fail(error_kind::invalid_argument, "config.metadata is required");
  if (pod.config().metadata().name().empty())
    return fail(error_kind::invalid_argument, "config.metadata.name is required");
  if (!runtime::v1::PodSandboxState_IsValid(pod.state()))
    return fail(error_kind::invalid_argument, fmt::format("pod sandbox \"{}\" has unknown state {}",
                                                          pod.id(), static_cast<int>(pod.state())));
  return {};
}

result<void> validate_container(const records::container& c) {
  if (!is_full_id(c.id()))
    return fail(
        error_kind::invalid_argument,
        fmt::format("container id \"{}\" is not {} lowercase hex digits", c.id(), full_id_length));
  if (c.pod_sandbox_id().empty())
    return fail(error_kind::invalid_argument,
                fmt::format("container \"{}\": pod_sandbox_id is required", c.id()));
  if (!c.config().has_metadata())
    return fail(error_kind::invalid_argument, "config.metadata is required");
  if (c.config().metadata().name().empty())
    return fail(error_kind::invalid_argument, "config.metadata.name is required");
  if (!runtime::v1::ContainerState_IsValid(c.state()))
    return fail(error_kind::invalid_argument, fmt::format("container \"{}\" has unknown state {}",
                                                          c.id(), static_cast<int>(c.state())));
  return {};
}

bool same_metadata(const runtime::v1::PodSandboxMetadata& a,
                   const runtime::v1::PodSandboxMetadata& b) {
  return a.name() == b.name() && a.uid() == b.uid() && a.namespace_() == b.namespace_() &&
         a.attempt() == b.attempt();
}

bool same_metadata(const runtime::v1::ContainerMetadata& a,
                   const runtime::v1::ContainerMetadata& b) {
  return a.name() == b.name() && a.attempt() == b.attempt();
}

// `current` in state `to`, edited by `edit`, if the edit kept what it may
// not change. The edit works on a draft (one copy of the record), so a
// refused or throwing edit leaves `current` as it was.
result<records::pod_sandbox> edited(const records::pod_sandbox& current, PodSandboxState to,
                                    const runtime_state::pod_edit& edit) {
  records::pod_sandbox draft = current;
  draft.set_state(to);
  if (edit) edit(draft);
  if (draft.id() != current.id() || draft.state() != to || !draft.config().has_metadata() ||
      !same_metadata(draft.config().metadata(), current.config().metadata()))
    return fail(error_kind::internal,
                fmt::format("edit of pod sandbox \"{}\" changed its id, state or metadata; "
                            "not applied",
                            current.id()));
  return draft;
}

result<records::container> edited(const records::container& current, ContainerState to,
                                  const runtime_state::container_edit& edit) {
  records::container draft = current;
  draft.set_state(to);
  if (edit) edit(draft);
  if (draft.id() != current.id() || draft.pod_sandbox_id() != current.pod_sandbox_id() ||
      draft.state() != to || !draft.config().has_metadata() ||
      !same_metadata(draft.config().metadata(), current.config().metadata()))
    return fail(error_kind::internal,
                fmt::format("edit of container \"{}\" changed its id, pod, state or metadata; "
                            "not applied",
                            current.id()));
  return draft;
}

}  // namespace

runtime_state::runtime_state()
    : pod_ids_("pod sandbox"),
      container_ids_("container"),
      pod_names_("pod sandbox"),
      container_names_("container") {}

// ---- pod sandboxes ----

result<void> runtime_state::insert_pod(records::pod_sandbox pod) {
  if (auto ok = validate_pod(pod); !ok) return ok;
  sandbox_id id{pod.id()};
  std::string key = pod_name_key(pod.config().metadata());

  std::unique_lock lock(mu_);
  if (pods_.contains(id))
    return fail(error_kind::already_exists,
                fmt::format("pod sandbox \"{}\" already exists", id.value));
  if (auto ok = pod_names_.reserve(key, id.value); !ok) return ok;
  if (auto ok = pod_ids_.add(id.value); !ok) {
    pod_names_.release(key);
    return ok;
  }
  // Moves the record in: no copy on the RunPodSandbox path.
  pods_.emplace(std::move(id), pod_entry{std::move(pod), std::move(key), {}});
  return {};
}

result<void> runtime_state::add_pod(records::pod_sandbox pod) { return insert_pod(std::move(pod)); }

result<void> runtime_state::restore_pod(records::pod_sandbox pod) {
  std::string id = pod.id();
  auto ok = insert_pod(std::move(pod));
  if (!ok) ok.error().context(fmt::format("restore pod sandbox \"{}\"", id));
  return ok;
}

result<sandbox_id> runtime_state::resolve_pod(std::string_view id_or_prefix) const {
  std::shared_lock lock(mu_);
  auto full = pod_ids_.resolve(id_or_prefix);
  if (!full) return tl::unexpected(std::move(full.error()));
  return sandbox_id{std::move(*full)};
}

std::optional<records::pod_sandbox> runtime_state::get_pod(const sandbox_id& id) const {
  std::shared_lock lock(mu_);
  auto it = pods_.find(id);
  if (it == pods_.end()) return std::nullopt;
  return it->second.record;  // copy: callers get a snapshot, never a reference under the lock
}

result<records::pod_sandbox> runtime_state::update_pod(const sandbox_id& id, PodSandboxState to,
                                                       const pod_edit& also) {
  std::unique_lock lock(mu_);
  auto it = pods_.find(id);
  if (it == pods_.end()) return pod_not_found(id.value);
  pod_entry& entry = it->second;
  if (auto ok = check_pod_transition(id, entry.record.state(), to); !ok)
    return tl::unexpected(std::move(ok.error()));
  if (!also) {
    entry.record.set_state(to);
    return entry.record;
  }
  auto next = edited(entry.record, to, also);
  if (!next) return next;
  entry.record = std::move(*next);
  return entry.record;
}

result<records::pod_sandbox> runtime_state::amend_pod(const sandbox_id& id, const pod_edit& edit) {
  std::unique_lock lock(mu_);
  auto it = pods_.find(id);
  if (it == pods_.end()) return pod_not_found(id.value);
  pod_entry& entry = it->second;
  auto next = edited(entry.record, entry.record.state(), edit);
  if (!next) return next;
  entry.record = std::move(*next);
  return entry.record;
}

result<bool> runtime_state::remove_pod(const sandbox_id& id) {
  std::unique_lock lock(mu_);
  auto it = pods_.find(id);
  if (it == pods_.end()) return false;
  if (std::size_t n = it->second.containers.size(); n != 0)
    return fail(error_kind::failed_precondition,
                fmt::format("pod sandbox \"{}\" still has {} container{}; remove them first",
                            id.value, n, n == 1 ? "" : "s"));
  pod_names_.release(it->second.name_key);
  pod_ids_.remove(id.value);
  pods_.erase(it);
  return true;
}

std::vector<records::pod_sandbox> runtime_state::list_pods(
    const runtime::v1::PodSandboxFilter* filter) const {
  std::vector<records::pod_sandbox> out;
  {
    std::shared_lock lock(mu_);
    pod_query q = make_pod_query(filter, pod_ids_);
    if (q.matches_none) return out;
    if (q.id) {
      auto it = pods_.find(*q.id);
      if (it != pods_.end() && matches(q, it->second.record)) out.push_back(it->second.record);
    } else {
      // One copy per pod listed: kubelet relists often, but pods are few.
      for (const auto& [id, entry] : pods_)
        if (matches(q, entry.record)) out.push_back(entry.record);
    }
  }
  sort_for_listing(out);
  return out;
}

// ---- containers ----

result<void> runtime_state::insert_container(records::container c, bool require_ready_pod) {
  if (auto ok = validate_container(c); !ok) return ok;
  container_id id{c.id()};
  sandbox_id pod_id{c.pod_sandbox_id()};

  std::unique_lock lock(mu_);
  auto pod = pods_.find(pod_id);
  if (pod == pods_.end()) return pod_not_found(pod_id.value);
  if (require_ready_pod && pod->second.record.state() != runtime::v1::SANDBOX_READY)
    return fail(
        error_kind::failed_precondition,
        fmt::format("pod sandbox \"{}\" is in {} state, cannot add container \"{}\"", pod_id.value,
                    state_name(pod->second.record.state()), c.config().metadata().name()));
  if (containers_.contains(id))
    return fail(error_kind::already_exists,
                fmt::format("container \"{}\" already exists", id.value));
  std::string key =
      container_name_key(c.config().metadata(), pod->second.record.config().metadata());
  if (auto ok = container_names_.reserve(key, id.value); !ok) return ok;
  if (auto ok = container_ids_.add(id.value); !ok) {
    container_names_.release(key);
    return ok;
  }
  pod->second.containers.insert(id);
  // Moves the record in: no copy on the CreateContainer path.
  containers_.emplace(std::move(id), container_entry{std::move(c), std::move(key)});
  return {};
}

result<void> runtime_state::add_container(records::container c) {
  return insert_container(std::move(c), true);
}

result<void> runtime_state::restore_container(records::container c) {
  std::string id = c.id();
  auto ok = insert_container(std::move(c), false);
  if (!ok) ok.error().context(fmt::format("restore container \"{}\"", id));
  return ok;
}

result<container_id> runtime_state::resolve_container(std::string_view id_or_prefix) const {
  std::shared_lock lock(mu_);
  auto full = container_ids_.resolve(id_or_prefix);
  if (!full) return tl::unexpected(std::move(full.error()));
  return container_id{std::move(*full)};
}

std::optional<records::container> runtime_state::get_container(const container_id& id) const {
  std::shared_lock lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return std::nullopt;
  return it->second.record;  // copy, as get_pod
}

result<records::container> runtime_state::update_container(const container_id& id,
                                                           ContainerState to,
                                                           const container_edit& also) {
  std::unique_lock lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return container_not_found(id.value);
  container_entry& entry = it->second;
  ContainerState from = entry.record.state();
  if (auto ok = check_container_transition(id, from, to); !ok)
    return tl::unexpected(std::move(ok.error()));
  if (from == runtime::v1::CONTAINER_CREATED && to == runtime::v1::CONTAINER_RUNNING) {
    // The pod exists while the container does (remove_pod refuses otherwise).
    const auto& pod = pods_.at(sandbox_id{entry.record.pod_sandbox_id()}).record;
    if (pod.state() != runtime::v1::SANDBOX_READY)
      return fail(error_kind::failed_precondition,
                  fmt::format("pod sandbox \"{}\" is in {} state, cannot start container \"{}\"",
                              pod.id(), state_name(pod.state()), id.value));
  }
  if (!also) {
    entry.record.set_state(to);
    return entry.record;
  }
  auto next = edited(entry.record, to, also);
  if (!next) return next;
  entry.record = std::move(*next);
  return entry.record;
}

result<records::container> runtime_state::amend_container(const container_id& id,
                                                          const container_edit& edit) {
  std::unique_lock lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return container_not_found(id.value);
  container_entry& entry = it->second;
  auto next = edited(entry.record, entry.record.state(), edit);
  if (!next) return next;
  entry.record = std::move(*next);
  return entry.record;
}

bool runtime_state::remove_container(const container_id& id) {
  std::unique_lock lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return false;
  if (auto pod = pods_.find(sandbox_id{it->second.record.pod_sandbox_id()}); pod != pods_.end())
    pod->second.containers.erase(id);
  container_names_.release(it->second.name_key);
  container_ids_.remove(id.value);
  containers_.erase(it);
  return true;
}

std::vector<records::container> runtime_state::containers_of(const sandbox_id& pod) const {
  std::vector<records::container> out;
  {
    std::shared_lock lock(mu_);
    auto it = pods_.find(pod);
    if (it == pods_.end()) return out;
    out.reserve(it->second.containers.size());
    for (const container_id& id : it->second.containers) out.push_back(containers_.at(id).record);
  }
  sort_for_listing(out);
  return out;
}

std::vector<records::container> runtime_state::list_containers(
    const runtime::v1::ContainerFilter* filter) const {
  std::vector<records::container> out;
  {
    std::shared_lock lock(mu_);
    container_query q = make_container_query(filter, container_ids_, pod_ids_);
    if (q.matches_none) return out;
    auto consider = [&](const records::container& c) {
      if (matches(q, c)) out.push_back(c);  // one copy per container listed
    };
    if (q.id) {
      if (auto it = containers_.find(*q.id); it != containers_.end()) consider(it->second.record);
    } else if (q.pod) {
      if (auto pod = pods_.find(*q.pod); pod != pods_.end())
        for (const container_id& id : pod->second.containers) consider(containers_.at(id).record);
    } else {
      for (const auto& [id, entry] : containers_) consider(entry.record);
    }
  }
  sort_for_listing(out);
  return out;
}

std::size_t runtime_state::pod_count() const {
  std::shared_lock lock(mu_);
  return pods_.size();
}

std::size_t runtime_state::container_count() const {
  std::shared_lock lock(mu_);
  return containers_.size();
}

}  // namespace ringcri::cri::state
