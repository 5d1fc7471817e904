#pragma once
// The sessions behind the streaming URLs, once the client connected and
// the protocol is settled: a command run in a container (exec), a
// container's own stdio (attach), and connections to ports inside a pod
// (port_forward.hpp).

#include "cri/context.hpp"
#include "stream/command_client.hpp"
#include "cri/streaming/request_cache.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri::streaming {

// Runs the command with the client's stdio (a pty with `tty`) and ends
// with its exit status on the error stream. A client that leaves gets the
// command killed.
reactor::task<void> serve_exec(context& ctx, const exec_request& req, stream::command_client& client);

// Streams the container's output from now on and forwards input; ends
// when the container exits or the client leaves (then it only detaches;
// with stdin_once the container's stdin is closed).
reactor::task<void> serve_attach(context& ctx, const attach_request& req, stream::command_client& client);

}  // namespace ringcri::cri::streaming
