#pragma once
// Ctrl-C, SIGTERM and SIGHUP end a bench run the way a failure does: the
// runtime being measured is killed, so its CRI calls fail at once (the
// bench's client fails fast), the exception goes up through the suite and
// every destructor on the way stops what the run started (the runtimes and
// their pods, the registry, the CNI bridge, the node's network and cgroup
// layout). main then exits with 128 + the signal.
//
// Not a blocked mask and sigwait: a mask is inherited across fork and
// exec, and containerd gives its shims, runc and the containers the mask
// it started with; a handler is reset by exec. The handler writes the
// signal to a pipe; a thread of interrupt_watch reads it and does the rest.
// After the first signal the three are ignored (SIG_IGN, which the
// clean-up's own commands inherit): a second one, or a second Ctrl-C that
// reaches the whole process group, does not cut the clean-up short
// (SIGKILL still does).

#include <sys/types.h>

#include <stdexcept>
#include <string>
#include <thread>

namespace ringcri::bench {

// Installs the handlers for SIGINT, SIGTERM and SIGHUP and starts the
// thread that acts on them; the destructor stops the thread (the handlers
// stay: a signal after that is dropped, the process is ending anyway).
class interrupt_watch {
 public:
  interrupt_watch();
  ~interrupt_watch();
  interrupt_watch(const interrupt_watch&) = delete;
  interrupt_watch& operator=(const interrupt_watch&) = delete;

 private:
  std::thread thread_;
};

// Whether a signal asked the run to stop, and which.
bool interrupted();
int interrupt_signal();
const char* interrupt_signal_name();  // "SIGINT", ...

struct interrupted_error : std::runtime_error {
  interrupted_error() : std::runtime_error("interrupted") {}
};
// Throws interrupted_error once a signal asked the run to stop.
void throw_if_interrupted();

// While it lives, an interrupt SIGKILLs `pid`, a runtime daemon this bench
// started and is measuring, so every call to it fails. The owner reaps the
// pid only after this is gone (so the pid is never another process's).
class kill_on_interrupt {
 public:
  kill_on_interrupt(pid_t pid, std::string name);
  ~kill_on_interrupt();
  kill_on_interrupt(const kill_on_interrupt&) = delete;
  kill_on_interrupt& operator=(const kill_on_interrupt&) = delete;
};

}  // namespace ringcri::bench
