#include "cri/state/filters.hpp"

#include <algorithm>

namespace ringcri::cri::state {

namespace {

label_selector copy_selector(const label_map& m) {
  label_selector out(m.begin(), m.end());
  std::sort(out.begin(), out.end());  // deterministic, and cheap: selectors are tiny
  return out;
}

// The full id `prefix` names, or nullopt when it names none or several.
std::optional<std::string> resolve_or_none(const id_index& index, const std::string& prefix) {
  auto full = index.resolve(prefix);
  if (!full) return std::nullopt;
  return std::move(*full);
}

}  // namespace

bool labels_match(const label_selector& selector, const label_map& labels) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

pod_query make_pod_query(const runtime::v1::PodSandboxFilter* filter, const id_index& pods) {
  pod_query q;
  if (filter == nullptr) return q;
  if (!filter->id().empty()) {
    if (auto full = resolve_or_none(pods, filter->id()))
      q.id = sandbox_id{std::move(*full)};
    else
      q.matches_none = true;
  }
  if (filter->has_state()) q.state = filter->state().state();
  q.labels = copy_selector(filter->label_selector());
  return q;
}

container_query make_container_query(const runtime::v1::ContainerFilter* filter,
                                     const id_index& containers, const id_index& pods) {
  container_query q;
  if (filter == nullptr) return q;
  if (!filter->id().empty()) {
    if (auto full = resolve_or_none(containers, filter->id()))
      q.id = container_id{std::move(*full)};
    else
      q.matches_none = true;
  }
  if (!filter->pod_sandbox_id().empty()) {
    if (auto full = resolve_or_none(pods, filter->pod_sandbox_id()))
      q.pod = sandbox_id{std::move(*full)};
    else
      q.matches_none = true;
  }
  if (filter->has_state()) q.state = filter->state().state();
  q.labels = copy_selector(filter->label_selector());
  return q;
}

bool matches(const pod_query& q, const records::pod_sandbox& pod) {
  if (q.matches_none) return false;
  if (q.id && pod.id() != q.id->value) return false;
  if (q.state && pod.state() != *q.state) return false;
  return labels_match(q.labels, pod.config().labels());
}

bool matches(const container_query& q, const records::container& c) {
  if (q.matches_none) return false;
  if (q.id && c.id() != q.id->value) return false;
  if (q.pod && c.pod_sandbox_id() != q.pod->value) return false;
  if (q.state && c.state() != *q.state) return false;
  return labels_match(q.labels, c.config().labels());
}

namespace {

template <class Record>
void sort_records(std::vector<Record>& v) {
  std::sort(v.begin(), v.end(), [](const Record& a, const Record& b) {
    if (a.created_at() != b.created_at()) return a.created_at() < b.created_at();
    return a.id() < b.id();
  });
}

}  // namespace

void sort_for_listing(std::vector<records::pod_sandbox>& pods) { sort_records(pods); }
void sort_for_listing(std::vector<records::container>& containers) { sort_records(containers); }

}  // namespace ringcri::cri::state
