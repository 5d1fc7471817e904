#include "base/crash_point.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdlib>

namespace ringcri {

namespace {
constexpr std::size_t unarmed = static_cast<std::size_t>(-1);
std::size_t armed_index = unarmed;
std::size_t armed_nth = 1;
std::atomic<std::size_t> passes{0};
}  // namespace

#ifdef RINGCRI_CRASH_POINTS
void crash_point(crash_point_id id) {
  if (id.index != armed_index) return;
  if (passes.fetch_add(1) + 1 != armed_nth) return;
  ::kill(::getpid(), SIGKILL);
  ::pause();
}
#endif

bool arm_crash_point_from_environment(std::string_view& error) {
  const char* value = std::getenv("RINGCRI_CRASH_AT");
  if (value == nullptr || *value == 0) return true;
  std::string_view spec(value);
  std::string_view name = spec;
  std::size_t nth = 1;
  if (auto colon = spec.rfind(':'); colon != std::string_view::npos) {
    name = spec.substr(0, colon);
    auto digits = spec.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), nth);
    if (ec != std::errc() || end != digits.data() + digits.size() || nth == 0) {
      error = "RINGCRI_CRASH_AT: the count after ':' is not a positive number";
      return false;
    }
  }
  for (std::size_t i = 0; i < crash_point_names.size(); ++i) {
    if (crash_point_names[i] != name) continue;
    if (!crash_points_built()) {
      error = "RINGCRI_CRASH_AT: this build has no crash points (-Dcrash_points=false)";
      return false;
    }
    armed_index = i;
    armed_nth = nth;
    return true;
  }
  error = "RINGCRI_CRASH_AT names no crash point (ringcri --list-crash-points)";
  return false;
}

void disarm_crash_point() { armed_index = unarmed; }

bool crash_points_built() {
#ifdef RINGCRI_CRASH_POINTS
  return true;
#else
  return false;
#endif
}

}  // namespace ringcri
