// Crash safety: a child process writes records as fast as it can and
// reports each acknowledged put on a pipe; the parent SIGKILLs it at a
// random moment, reopens the store and checks every record is whole and no
// older than what was acknowledged for its key.
//
// SIGKILL keeps the page cache, so this proves atomicity and ordering at
// any instant of a process crash; what fsync adds against power loss is
// not something a test in a VM can cut.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "cri/store/record_store.hpp"
#include "reactor/ops.hpp"
#include "reactor/reactor.hpp"
#include "reactor/when_all.hpp"
#include "store_support.hpp"

using namespace ringcri::reactor;
namespace io = ringcri::reactor;
using ringcri::cri::store::record_store;
using namespace store_test;
using namespace std::chrono_literals;

namespace {

constexpr int key_count = 50;
constexpr int workers = 8;  // puts in flight in the child

// --- the child ---------------------------------------------------------------

struct writer_state {
  record_store& store;
  int ack_fd;
  std::uint64_t next_version;
  std::mt19937_64 rng;
};

[[noreturn]] void die(const char* what, const std::string& why) {
  std::fprintf(stderr, "crash_test child: %s: %s\n", what, why.c_str());
  ::_exit(3);
}

task<void> worker(writer_state& w) {
  std::uniform_int_distribution<int> key(0, key_count - 1);
  std::uniform_int_distribution<std::size_t> size(10, 20'000);
  for (;;) {
    // Version, bytes and the put's entry happen with no suspension between
    // them, so versions of a key enter the store in increasing order.
    std::string id = "k" + std::to_string(key(w.rng));
    std::uint64_t version = ++w.next_version;
    std::string bytes = make_sample(id, version, size(w.rng), w.rng);
    auto written = co_await w.store.put("pods", id, std::move(bytes));
    if (!written) die("put", written.error().message());
    // One line per ack, under PIPE_BUF: the pipe takes it whole or not.
    std::string line = id + " " + std::to_string(version) + "\n";
    auto sent = co_await io::write(w.ack_fd, std::as_bytes(std::span(line)));
    if (!sent || *sent != static_cast<int>(line.size())) die("ack", "short write");
  }
}

[[noreturn]] void run_child(const fs::path& dir, std::size_t journal_bytes, int ack_fd,
                            std::uint64_t first_version, std::uint64_t seed) {
  try {
    reactor r;
    auto store = record_store::open(dir, {"pods"}, journal_bytes);
    if (!store) die("open", store.error().message());
    writer_state w{**store, ack_fd, first_version, std::mt19937_64(seed)};
    r.block_on([](writer_state& w) -> task<void> {
      std::vector<task<void>> all;
      for (int i = 0; i < workers; ++i) all.push_back(worker(w));
      co_await when_all(std::move(all));
    }(w));
  } catch (const std::exception& e) {
    die("exception", e.what());
  }
  ::_exit(4);  // the workers never end
}

// --- the parent --------------------------------------------------------------

// Reads "key version" lines from `fd` until `deadline` (or EOF when
// `deadline` is empty), keeping the highest version per key.
void read_acks(int fd, std::string& pending, std::map<std::string, std::uint64_t>& acked,
               std::size_t& count, std::optional<std::chrono::steady_clock::time_point> deadline) {
  char buf[65536];
  for (;;) {
    if (deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EOF: the child is gone
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t eol;
    while ((eol = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, eol);
      pending.erase(0, eol + 1);
      auto space = line.find(' ');
      std::string key = line.substr(0, space);
      std::uint64_t version = std::stoull(line.substr(space + 1));
      auto& best = acked[key];
      if (version > best) best = version;
      ++count;
    }
  }
}

}  // namespace

TEST_CASE("SIGKILL at any moment leaves only whole records, none older than acknowledged") {
  // The default journal, and one of 64 KiB that fills every few batches,
  // so that kills land in checkpoints too.
  const std::size_t journal_bytes = GENERATE(as<std::size_t>{}, 1024 * 1024, 64 * 1024);
  INFO("journal of " << journal_bytes << " bytes");
  temp_dir dir;
  const std::uint64_t seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> delay_ms(1, 50);

  std::map<std::string, std::uint64_t> acked;  // highest acknowledged version per key
  std::size_t acks = 0, temps_left = 0, rounds_with_temps = 0, records = 0;
  constexpr int rounds = 30;
  auto started = std::chrono::steady_clock::now();

  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    int pipe_fds[2];
    REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
    // Each round's versions are above every earlier round's.
    const std::uint64_t first_version = static_cast<std::uint64_t>(round) * 100'000'000;
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(pipe_fds[0]);
      run_child(dir.path, journal_bytes, pipe_fds[1], first_version,
                seed + static_cast<std::uint64_t>(round));
    }
    ::close(pipe_fds[1]);

    std::string pending;
    read_acks(pipe_fds[0], pending, acked, acks,
              std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms(rng)));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    // Acks the child sent before it died are still in the pipe.
    read_acks(pipe_fds[0], pending, acked, acks, std::nullopt);
    ::close(pipe_fds[0]);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("child status " << status);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);

    std::size_t temps = fs::exists(dir.path / "pods") ? temp_files_in(dir.path / "pods") : 0;
    temps_left += temps;
    if (temps > 0) ++rounds_with_temps;

    auto store = record_store::open(dir.path, {"pods"}, journal_bytes);
    REQUIRE(store);
    CHECK(temp_files_in(dir.path / "pods") == 0);
    auto loaded = (*store)->load("pods");
    REQUIRE(loaded);
    std::map<std::string, std::uint64_t> on_disk;
    for (const auto& rec : *loaded) {
      auto s = check_sample(rec.bytes);
      INFO("record " << rec.id << " of " << rec.bytes.size() << " bytes");
      REQUIRE(s);  // whole, never torn or mixed
      CHECK(s->key == rec.id);
      on_disk[rec.id] = s->version;
    }
    for (const auto& [key, version] : acked) {
      INFO("key " << key << " acknowledged at version " << version);
      REQUIRE(on_disk.count(key) == 1);
      CHECK(on_disk[key] >= version);
    }
    records = loaded->size();
    // The store is closed (and its lock dropped) before the next fork.
  }

  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  WARN("journal of " << journal_bytes << " bytes: " << rounds << " kills in " << took << " s: " << acks << " acknowledged puts, " << records
              << " records at the end, " << temps_left << " temp files left by kills in "
              << rounds_with_temps << " rounds (deleted by open)");
  CHECK(acks > 0);
}
