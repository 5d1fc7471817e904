#pragma once
// What the sandbox tests share: a root check, a temp dir, and ways to
// look at a namespace from outside.

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/skip.hpp"

namespace sandbox_test {

namespace fs = std::filesystem;

// Exits 77 (skipped) with the reason when not root.
inline void need_root(const char* why) {
  if (::geteuid() != 0) ringcri::testing::skip_binary(std::string("needs root to ") + why);
}

// A fresh directory under /tmp, removed with what is in it at the end.
struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/ringcri-sandbox-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The mount points at or under `dir` in this process's mount table.
inline std::string mounts_under(const fs::path& dir) {
  std::istringstream in(read_file("/proc/self/mountinfo"));
  std::string line, found;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string a, b, c, root, mp;
    f >> a >> b >> c >> root >> mp;
    if (mp == dir.string() || mp.rfind(dir.string() + "/", 0) == 0) found += mp + "\n";
  }
  return found;
}

// Runs a shell command; its stdout, and its exit status in *status.
inline std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  if (status) *status = st;
  return out;
}

// Runs `fn` in a forked child that first joins the namespace in `ns_file`
// (setns with `nstype`), and returns what fn returned (a string sent back
// through a pipe). The test process itself never changes namespace.
template <class Fn>
std::string in_namespace(const std::string& ns_file, int nstype, Fn fn) {
  int p[2];
  if (::pipe(p) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    std::string answer;
    int fd = ::open(ns_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, nstype) != 0)
      answer = "setns failed: " + std::string(std::strerror(errno));
    else
      answer = fn();
    ssize_t w = ::write(p[1], answer.data(), answer.size());
    ::_exit(w < 0 ? 1 : 0);
  }
  ::close(p[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

}  // namespace sandbox_test
