// Writing a pod's hostname, hosts and resolv.conf (see pod_files.hpp).

#include "exec/sandbox/pod_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>

#include "base/sys/atomic_file.hpp"
#include "base/unique_fd.hpp"

namespace ringcri::exec::sandbox {

namespace {

namespace fs = std::filesystem;

result<std::string> read_host_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail_errno(errno, fmt::format("read {}", path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return fail_errno(errno, fmt::format("read {}", path.string()));
  return std::move(out).str();
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

result<std::string> pod_hostname(const pod_files_request& req) {
  if (!req.hostname.empty()) return req.hostname;
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return fail_errno(errno, "read the host's name");
  return std::string(name);
}

}  // namespace

result<std::string> pod_hosts_content(const pod_files_request& req, const std::string& hostname) {
  if (req.host_network) return read_host_file(req.host_etc / "hosts");
  // What the kubelet writes for a pod with its own network namespace.
  std::string out =
      "# Kubernetes-managed hosts file.\n"
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  if (!hostname.empty())
    out += fmt::format("{}\t{}\n", req.ip.empty() ? "127.0.1.1" : req.ip, hostname);
  return out;
}

result<std::string> pod_resolv_conf_content(const pod_files_request& req) {
  // containerd's parseDNSOptions: search, nameservers, options.
  std::string out;
  if (req.has_dns_config) {
    if (!req.dns_searches.empty()) out += fmt::format("search {}\n", join(req.dns_searches, " "));
    for (const auto& server : req.dns_servers) out += fmt::format("nameserver {}\n", server);
    if (!req.dns_options.empty()) out += fmt::format("options {}\n", join(req.dns_options, " "));
  }
  // No DNS config, or an empty one: the host's, as containerd does.
  if (out.empty()) return read_host_file(req.host_etc / "resolv.conf");
  return out;
}

result<pod_files> write_pod_files(const fs::path& pod_dir, const pod_files_request& req) {
  auto context = [&](error e) {
    return tl::unexpected<error>(
        std::move(e).context(fmt::format("write pod files in {}", pod_dir.string())));
  };
  for (const auto& v : {req.hostname, req.ip})
    if (v.find_first_of(std::string_view("\n\t \0", 4)) != std::string::npos)
      return fail(error_kind::invalid_argument,
                  fmt::format("\"{}\" cannot go in a hosts file (blank or newline in it)", v));
  auto hostname = pod_hostname(req);
  if (!hostname) return context(hostname.error());
  auto hosts = pod_hosts_content(req, *hostname);
  if (!hosts) return context(hosts.error());
  auto resolv = pod_resolv_conf_content(req);
  if (!resolv) return context(resolv.error());

  unique_fd dir(::open(pod_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return context(error::from_errno(errno, fmt::format("open {}", pod_dir.string())));
  // Each replaced whole, so a reader (or a crash of the daemon) never sees
  // half a file; 0644 whatever the umask, for the containers' users. No
  // fsync: the pod dir lives under the state dir (/run, a tmpfs), gone at
  // reboot anyway.
  for (const auto& [name, content] :
       {std::pair<const char*, std::string>{"hostname", *hostname + "\n"},
        {"hosts", *hosts},
        {"resolv.conf", *resolv}}) {
    auto written = sys::write_file_atomic(dir.get(), pod_dir.native(), name, content, 0644,
                                          sys::durability::unsynced);
    if (!written) return context(written.error());
  }
  return pod_files{(pod_dir / "hostname").string(), (pod_dir / "hosts").string(),
                   (pod_dir / "resolv.conf").string()};
}

}  // namespace ringcri::exec::sandbox
