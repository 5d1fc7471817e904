// ringcri inspect ID: a pod's or container's durable record (records.proto,
// <root>/meta) as JSON, read beside the daemon without its lock
// (read_records_unlocked), and what the node shows of it: its cgroup
// directories, its process, its files. An id may be given by a prefix
// that only it has, as crictl takes them.
//
// Output:
//   {"kind": "pod" | "container",
//    "record": <the record, protobuf's JSON, field names as in records.proto;
//               a container's spec_json as the JSON it holds>,
//    "node": {...}}

#include <fcntl.h>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cri/context.hpp"
#include "cri/paths.hpp"
#include "cri/store/record_store.hpp"
#include "exec/cgroups/hierarchy.hpp"
#include "records.pb.h"

namespace ringcri::cli {

namespace fs = std::filesystem;
// In the order it is written: kind, record, node; a record's fields in
// records.proto's order.
using json = nlohmann::ordered_json;

namespace {

json record_json(const google::protobuf::Message& record) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = true;
  // A state of value 0 (SANDBOX_READY, CONTAINER_CREATED) and an exit
  // code 0 are said, not left out.
  options.always_print_primitive_fields = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(record, &text, options).ok()) return json();
  return json::parse(text, nullptr, false);
}

json path_json(const fs::path& path) {
  std::error_code ec;
  return {{"path", path.string()}, {"exists", fs::exists(path, ec)}};
}

// A namespace the pod holds by a bind mount of its nsfs file.
json namespace_json(const std::string& path) {
  struct statfs st {};
  const bool held = ::statfs(path.c_str(), &st) == 0 && st.f_type == NSFS_MAGIC;
  return {{"path", path}, {"held", held}};
}

// The directories of cgroup `path` in each hierarchy of the node.
json cgroup_json(const std::string& path) {
  json out = json::array();
  if (path.empty()) return out;
  auto cgroups = exec::cgroups::hierarchy::detect();
  if (!cgroups) return out;
  for (const auto& mount : cgroups->mounts())
    out.push_back(path_json(exec::cgroups::hierarchy::dir_of(mount, path)));
  return out;
}

json process_json(int pid, const std::string& cgroup) {
  json out = {{"pid", pid}};
  std::error_code ec;
  const fs::path proc = fs::path("/proc") / std::to_string(pid);
  out["running"] = fs::exists(proc, ec);
  if (!cgroup.empty() && out["running"]) {
    // The pid is ours only while it is in the cgroup: a pid is reused.
    bool in_cgroup = false;
    std::ifstream in(proc / "cgroup");
    for (std::string line; std::getline(in, line);) {
      auto at = line.find(':', line.find(':') + 1);
      if (at != std::string::npos && line.compare(at + 1, std::string::npos, cgroup) == 0)
        in_cgroup = true;
    }
    out["in_its_cgroup"] = in_cgroup;
  }
  return out;
}

template <class Record>
std::vector<Record> parsed(const std::vector<cri::store::record>& records) {
  std::vector<Record> out;
  for (const auto& r : records) {
    Record rec;
    if (rec.ParseFromString(r.bytes)) out.push_back(std::move(rec));
  }
  return out;
}

json pod_node(const config::config& cfg, const records::pod_sandbox& pod,
              const std::vector<records::container>& containers) {
  json node;
  node["pod_dir"] =
      path_json(pod.pod_dir().empty() ? cri::pod_dir_of(cfg, pod.id()) : fs::path(pod.pod_dir()));
  json namespaces = json::object();
  if (!pod.netns_path().empty()) namespaces["net"] = namespace_json(pod.netns_path());
  if (!pod.ipc_ns_path().empty()) namespaces["ipc"] = namespace_json(pod.ipc_ns_path());
  if (!pod.uts_ns_path().empty()) namespaces["uts"] = namespace_json(pod.uts_ns_path());
  node["namespaces"] = std::move(namespaces);
  node["cgroup"] = cgroup_json(pod.cgroup_path());
  if (pod.init_pid() > 0) node["init"] = process_json(pod.init_pid(), "");
  json members = json::array();
  for (const auto& c : containers) {
    if (c.pod_sandbox_id() != pod.id()) continue;
    members.push_back({{"id", c.id()},
                       {"name", c.config().metadata().name()},
                       {"state", runtime::v1::ContainerState_Name(c.state())}});
  }
  node["containers"] = std::move(members);
  return node;
}

json container_node(const config::config& cfg, const records::container& c,
                    const std::vector<records::pod_sandbox>& pods) {
  json node;
  if (c.pid() > 0) node["process"] = process_json(c.pid(), c.cgroup_path());
  node["cgroup"] = cgroup_json(c.cgroup_path());
  node["container_dir"] = path_json(cri::container_dir_of(cfg, c.id()));
  node["exit_file"] = path_json(cri::exit_path_of(cfg, c.id()));
  if (!c.log_path().empty()) node["log_file"] = path_json(c.log_path());
  for (const auto& pod : pods) {
    if (pod.id() != c.pod_sandbox_id()) continue;
    node["pod"] = {{"id", pod.id()},
                   {"name", pod.config().metadata().name()},
                   {"namespace", pod.config().metadata().namespace_()},
                   {"state", runtime::v1::PodSandboxState_Name(pod.state())}};
  }
  return node;
}

}  // namespace

int inspect_command(const effective_config& effective, const std::string& id) {
  const auto& cfg = effective.cfg;
  if (id.empty()) {
    std::fprintf(stderr, "ringcri: inspect needs an id or a prefix of one\n");
    return 2;
  }
  const fs::path meta = cfg.root_dir / "meta";
  auto pod_records = cri::store::read_records_unlocked(meta, cri::pods_kind);
  if (!pod_records) {
    std::fprintf(stderr, "ringcri: %s\n", pod_records.error().message().c_str());
    return 1;
  }
  auto container_records = cri::store::read_records_unlocked(meta, cri::containers_kind);
  if (!container_records) {
    std::fprintf(stderr, "ringcri: %s\n", container_records.error().message().c_str());
    return 1;
  }
  const auto pods = parsed<records::pod_sandbox>(*pod_records);
  const auto containers = parsed<records::container>(*container_records);

  std::vector<const records::pod_sandbox*> pod_matches;
  std::vector<const records::container*> container_matches;
  for (const auto& p : pods)
    if (p.id().starts_with(id)) pod_matches.push_back(&p);
  for (const auto& c : containers)
    if (c.id().starts_with(id)) container_matches.push_back(&c);

  const std::size_t matches = pod_matches.size() + container_matches.size();
  if (matches == 0) {
    std::fprintf(
        stderr,
        "ringcri: no pod or container has an id that is or starts with \"%s\" (records in %s)\n",
        id.c_str(), meta.c_str());
    return 1;
  }
  if (matches > 1) {
    std::string which;
    for (const auto* p : pod_matches)
      which += fmt::format("\n  pod {} ({}/{})", p->id(), p->config().metadata().namespace_(),
                           p->config().metadata().name());
    for (const auto* c : container_matches)
      which += fmt::format("\n  container {} ({}, pod {})", c->id(), c->config().metadata().name(),
                           c->pod_sandbox_id().substr(0, 12));
    std::fprintf(stderr, "ringcri: \"%s\" is ambiguous: %zu ids start with it:%s\n", id.c_str(),
                 matches, which.c_str());
    return 1;
  }

  json out;
  if (!pod_matches.empty()) {
    const auto& pod = *pod_matches.front();
    out["kind"] = "pod";
    out["record"] = record_json(pod);
    out["node"] = pod_node(cfg, pod, containers);
  } else {
    const auto& c = *container_matches.front();
    out["kind"] = "container";
    out["record"] = record_json(c);
    // The resolved spec, as the JSON it is rather than base64.
    if (auto spec = json::parse(c.spec_json(), nullptr, false); !spec.is_discarded())
      out["record"]["spec_json"] = std::move(spec);
    out["node"] = container_node(cfg, c, pods);
  }
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace ringcri::cli
