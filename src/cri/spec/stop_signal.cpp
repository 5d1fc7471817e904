#include "cri/spec/stop_signal.hpp"

#include <csignal>
#include <string>

namespace ringcri::cri::spec {

namespace {

struct named_signal {
  std::string_view name;  // without "SIG"
  int number;
};

// Linux's names, with the aliases CRI's Signal enum also spells (CLD, IOT,
// POLL).
constexpr named_signal signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

std::optional<int> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::optional<int> parse_signal(std::string_view name) {
  while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.remove_prefix(1);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
  if (auto n = parse_number(name)) {
    if (*n >= 1 && *n <= SIGRTMAX) return n;
    return std::nullopt;
  }
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view s = upper;
  if (s.substr(0, 3) == "SIG") s.remove_prefix(3);
  for (const auto& sig : signals)
    if (sig.name == s) return sig.number;
  // Real-time signals: RTMIN, RTMIN+n, RTMAX, RTMAX-n.
  auto realtime = [&](std::string_view base, int base_number, char sign) -> std::optional<int> {
    if (s.substr(0, base.size()) != base) return std::nullopt;
    std::string_view rest = s.substr(base.size());
    if (rest.empty()) return base_number;
    if (rest[0] != sign) return std::nullopt;
    auto off = parse_number(rest.substr(1));
    if (!off) return std::nullopt;
    int n = sign == '+' ? base_number + *off : base_number - *off;
    if (n < SIGRTMIN || n > SIGRTMAX) return std::nullopt;
    return n;
  };
  if (auto n = realtime("RTMIN", SIGRTMIN, '+')) return n;
  if (auto n = realtime("RTMAX", SIGRTMAX, '-')) return n;
  return std::nullopt;
}

int stop_signal_of(const nlohmann::json& image_config, runtime::v1::Signal requested) {
  if (requested != runtime::v1::SIGNAL_RUNTIME_DEFAULT) {
    // SIGNAL_SIGQUIT -> "SIGQUIT".
    std::string_view name = runtime::v1::Signal_Name(requested);
    if (name.substr(0, 7) == "SIGNAL_") name.remove_prefix(7);
    if (auto n = parse_signal(name)) return *n;
  }
  if (image_config.is_object()) {
    auto c = image_config.find("config");
    if (c != image_config.end() && c->is_object()) {
      auto s = c->find("StopSignal");
      if (s != c->end() && s->is_string())
        if (auto n = parse_signal(s->get_ref<const std::string&>())) return *n;
    }
  }
  return SIGTERM;
}

}  // namespace ringcri::cri::spec
