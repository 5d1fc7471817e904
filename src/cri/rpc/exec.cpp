// Exec: checks the request and answers with a one-time URL of the
// streaming server, where the command runs once the client connects.

#include <fmt/format.h>

#include "cri/exec_target.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/streaming/server.hpp"

namespace ringcri::cri::rpc {

task<result<void>> exec(context& ctx, const v1::ExecRequest& req, v1::ExecResponse& resp) {
  if (req.cmd().empty()) co_return fail(error_kind::invalid_argument, "Exec: cmd is empty");
  if (req.tty() && req.stderr())
    co_return fail(error_kind::invalid_argument, "Exec: tty and stderr cannot both be true (a terminal has one output)");
  if (!req.stdin() && !req.stdout() && !req.stderr())
    co_return fail(error_kind::invalid_argument, "Exec: one of stdin, stdout or stderr must be set");
  auto c = running_container(ctx, req.container_id());
  if (!c) co_return tl::unexpected(c.error());

  streaming::exec_request stored;
  stored.container_id = c->id();
  stored.cmd.assign(req.cmd().begin(), req.cmd().end());
  stored.tty = req.tty();
  stored.stdin = req.stdin();
  stored.stdout = req.stdout();
  stored.stderr = req.stderr();
  auto url = ctx.streaming->url_for(std::move(stored));
  if (!url) co_return tl::unexpected(url.error());
  resp.set_url(*url);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
