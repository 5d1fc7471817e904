#pragma once
// A listening socket's accept loop on the current reactor, for the
// daemon's servers (streaming, metrics, a socket-activated CRI socket):
// each connection goes to `on_connection`, which owns it; the loop ends
// when the listener is shut down or the reactor stops. Running out of
// fds or memory is logged and retried after a pause, not fatal.

#include <functional>

#include "reactor/task.hpp"

namespace ringcri::reactor {

// `what` names the server in the log; `flags` as accept4's. `on_connection`
// returns false to end the loop (the server stopped meanwhile).
task<void> accept_loop(int listener, const char* what, int flags, std::function<bool(int)> on_connection);

}  // namespace ringcri::reactor
