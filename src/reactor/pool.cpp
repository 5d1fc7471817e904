#include "reactor/pool.hpp"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <exception>
#include <future>
#include <string>

#include <spdlog/spdlog.h>

namespace ringcri::reactor {

std::vector<unsigned> allowed_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cores;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cores.push_back(c);
  }
  if (cores.empty()) cores.push_back(0);
  return cores;
}

cpu_set_t process_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  ::sched_getaffinity(::getpid(), sizeof set, &set);
  return set;
}

reactor_pool::reactor_pool(pool_options options) {
  auto cores = allowed_cores();
  unsigned n = options.threads ? options.threads : static_cast<unsigned>(cores.size());
  for (unsigned i = 0; i < n; ++i) {
    auto s = std::make_unique<slot>();
    std::promise<std::unique_ptr<reactor>> ready;
    auto started = ready.get_future();
    unsigned core = cores[i % cores.size()];
    s->thread = std::thread([&ready, options, core, i] {
      if (options.pin) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(core, &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      }
      std::string name = "reactor-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      std::unique_ptr<reactor> r;
      try {
        // The ring is made on the thread that submits to it (SINGLE_ISSUER).
        r = std::make_unique<reactor>(options.ring);
      } catch (...) {
        ready.set_exception(std::current_exception());
        return;
      }
      reactor* raw = r.get();
      ready.set_value(std::move(r));
      raw->run();
    });
    try {
      s->r = started.get();
    } catch (...) {
      s->thread.join();
      stop();
      join();
      throw;
    }
    slots_.push_back(std::move(s));
  }
}

reactor_pool::~reactor_pool() {
  stop();
  join();
  slots_.clear();  // the reactors go only now, after their threads ended
}

namespace {

// Keeps `make` (often a lambda with captures the task refers to) alive for
// as long as the task it made runs.
task<void> run_made(std::function<task<void>()> make) { co_await make(); }

}  // namespace

void reactor_pool::spawn(unsigned core, std::function<task<void>()> make) {
  post(core, [make = std::move(make)]() mutable {
    reactor::current()->spawn(run_made(std::move(make)));
  });
}

void reactor_pool::stop() {
  for (auto& s : slots_)
    if (s->r) s->r->stop();
}

void reactor_pool::join() {
  for (auto& s : slots_)
    if (s->thread.joinable()) s->thread.join();
}

}  // namespace ringcri::reactor
