// turns: exclusive turns of a key one at a time and in order, shared ones
// together, a waiting exclusive turn ahead of later shared ones, keys
// forgotten once free.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "reactor/reactor.hpp"
#include "reactor/turns.hpp"
#include "reactor/when_all.hpp"

using namespace ringcri::reactor;

namespace {

// Takes a turn, notes when it holds it, lets the others run `hold` times,
// notes when it gives it back.
task<void> take(turns& t, bool exclusive, std::string key, std::string name, int hold,
                std::vector<std::string>& log) {
  auto asked = exclusive ? t.exclusive(key) : t.shared(key);
  auto turn = co_await asked;
  log.push_back(name + "+");
  for (int i = 0; i < hold; ++i) co_await yield_now{};
  log.push_back(name + "-");
}

}  // namespace

TEST_CASE("exclusive turns of one key run one at a time, in the order asked") {
  reactor r;
  turns t;
  std::vector<std::string> log;
  r.block_on(when_all(take(t, true, "pod", "a", 3, log), take(t, true, "pod", "b", 3, log),
                      take(t, true, "pod", "c", 1, log)));
  CHECK(log == std::vector<std::string>{"a+", "a-", "b+", "b-", "c+", "c-"});
  CHECK(t.busy_keys() == 0);
}

TEST_CASE("shared turns run together; other keys are not held up") {
  reactor r;
  turns t;
  std::vector<std::string> log;
  r.block_on(when_all(take(t, false, "pod", "a", 3, log), take(t, false, "pod", "b", 3, log),
                      take(t, true, "other", "x", 1, log)));
  // Both shared turns are held before either is given back.
  auto at = [&](const std::string& e) { return std::find(log.begin(), log.end(), e) - log.begin(); };
  CHECK(at("b+") < at("a-"));
  CHECK(at("x+") < at("a-"));
  CHECK(t.busy_keys() == 0);
}

TEST_CASE("an exclusive turn waits for the shared ones and holds back those asked after it") {
  reactor r;
  turns t;
  std::vector<std::string> log;
  r.block_on(when_all(take(t, false, "pod", "s1", 3, log), take(t, true, "pod", "x", 2, log),
                      take(t, false, "pod", "s2", 1, log)));
  CHECK(log == std::vector<std::string>{"s1+", "s1-", "x+", "x-", "s2+", "s2-"});
  CHECK(t.busy_keys() == 0);
}

TEST_CASE("a turn given back early by moving it away frees the key for the next") {
  reactor r;
  turns t;
  std::vector<std::string> log;
  auto early = [](turns& t, std::vector<std::string>& log) -> task<void> {
    auto asked = t.exclusive("k");
    auto held = co_await asked;
    log.push_back("early+");
    { auto gone = std::move(held); }
    log.push_back("early released");
    co_await yield_now{};
    co_await yield_now{};
    log.push_back("early end");
  };
  r.block_on(when_all(early(t, log), take(t, true, "k", "next", 0, log)));
  auto at = [&](const std::string& e) { return std::find(log.begin(), log.end(), e) - log.begin(); };
  CHECK(at("next+") < at("early end"));
  CHECK(t.busy_keys() == 0);
}
