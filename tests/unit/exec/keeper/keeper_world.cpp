// The keeper tests' world: image, state dir, keeper_host, outside checks.

#include "keeper_world.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

namespace keeper_test {

namespace {

void skip_unless_able() {
  auto skip = [](const char* why) {
    std::printf("SKIP: %s\n", why);
    std::fflush(stdout);
    std::_Exit(77);
  };
  if (::geteuid() != 0) skip("the keeper's end-to-end tests need root");
  if (slurp("/proc/filesystems").find("\toverlay\n") == std::string::npos) {
    skip("overlayfs is not available");
  }
  if (::access("/bin/busybox", X_OK) != 0) skip("no /bin/busybox (Debian's busybox-static)");
}

fs::path keeper_host() {
  if (const char* env = std::getenv("RINGCRI_KEEPER_HOST")) return env;
  return fs::read_symlink("/proc/self/exe").parent_path() / "keeper_host";
}

}  // namespace

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool process_gone(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return true;
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

world::world() {
  skip_unless_able();
  // The keepers this test starts are detached from it, but become its
  // children again, so it reaps them: the machine's init may not.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  char tmpl[] = "/tmp/ringcri-keeper-XXXXXX";
  REQUIRE(::mkdtemp(tmpl));
  dir_ = tmpl;
  fs::path lower = dir_ / "image";
  for (const char* d : {"/bin", "/proc", "/dev", "/tmp", "/etc"})
    fs::create_directories(lower.string() + d);
  if (::link("/bin/busybox", (lower / "bin/busybox").c_str()) != 0) {
    fs::copy_file("/bin/busybox", lower / "bin/busybox");
  }
  for (const char* applet :
       {"sh", "cat", "echo", "sleep", "true", "touch", "ls", "tty", "stty", "seq"}) {
    fs::create_symlink("busybox", lower / "bin" / applet);
  }
  opts.state_dir = dir_ / "state";
  opts.binary = keeper_host();
  opts.log_level = "debug";
}

world::~world() {
  // Whatever the test left: the keeper's children first (a container's
  // init takes its pid namespace with it), then the keeper.
  pid_t pid = keeper_pid();
  if (pid > 0 && !process_gone(pid)) {
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
      std::istringstream children(slurp(task.path() / "children"));
      pid_t child;
      while (children >> child) ::kill(child, SIGKILL);
    }
    ::kill(pid, SIGKILL);
    eventually([pid] { return process_gone(pid); }, 10s);
  }
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

pid_t world::keeper_pid() const {
  std::string s = slurp(opts.state_dir / "keeper.lock");
  return s.empty() ? -1 : static_cast<pid_t>(std::stol(s));
}

std::string world::keeper_log() const { return slurp(opts.state_dir / "keeper.log"); }

ringcri::exec::container_spec world::spec(const std::string& id,
                                          std::vector<std::string> args) const {
  ringcri::exec::container_spec s;
  s.id = id;
  fs::path base = dir_ / "containers" / id;
  s.rootfs.lowers = {(dir_ / "image").string()};
  s.rootfs.upper = (base / "upper").string();
  s.rootfs.work = (base / "work").string();
  s.rootfs.target = (base / "rootfs").string();
  for (const auto& d : {s.rootfs.upper, s.rootfs.work, s.rootfs.target}) fs::create_directories(d);
  s.process.args = std::move(args);
  s.process.env = {"PATH=/bin"};
  s.namespaces = {{"mount", ""}, {"pid", ""}, {"ipc", ""}, {"uts", ""}};
  s.mounts = {{"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
              {"/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755", "size=64k"}}};
  s.devices = {{"/dev/null", 'c', 1, 3, 0666, 0, 0}};
  s.log_path = (dir_ / "logs" / id / "0.log").string();
  s.exit_path = (base / "exit").string();
  return s;
}

ringcri::exec::exec_spec world::exec_spec(const std::string& id,
                                          std::vector<std::string> args) const {
  ringcri::exec::exec_spec e;
  e.container_id = id;
  e.process.args = std::move(args);
  e.process.env = {"PATH=/bin"};
  return e;
}

const keeper::exit_status* exits::find(const std::string& id) const {
  for (const auto& e : seen) {
    if (e.id == id) return &e;
  }
  return nullptr;
}

io::task<std::unique_ptr<keeper::client>> connect(const keeper::options& opts, exits* ex) {
  auto c = co_await keeper::client::connect(opts);
  INFO((c ? std::string() : c.error().message()));
  REQUIRE(c);
  if (ex) (*c)->on_exit([ex](const keeper::exit_status& e) { ex->seen.push_back(e); });
  co_return std::move(*c);
}

std::vector<std::string> log_lines(const fs::path& path) {
  static const std::regex line(
      R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z (stdout|stderr) ([FP]) ([^\n]*)$)");
  std::vector<std::string> out;
  std::istringstream in(slurp(path));
  std::string l;
  while (std::getline(in, l)) {
    std::smatch m;
    INFO(l);
    REQUIRE(std::regex_match(l, m, line));
    out.push_back(m[1].str() + " " + m[2].str() + " " + m[3].str());
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace keeper_test
