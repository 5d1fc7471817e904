// Attach: checks the request and answers with a one-time URL of the
// streaming server, where the container's stdio is streamed.

#include <fmt/format.h>

#include "cri/exec_target.hpp"
#include "cri/rpc/handlers.hpp"
#include "cri/streaming/server.hpp"

namespace ringcri::cri::rpc {

task<result<void>> attach(context& ctx, const v1::AttachRequest& req, v1::AttachResponse& resp) {
  if (req.tty() && req.stderr())
    co_return fail(error_kind::invalid_argument, "Attach: tty and stderr cannot both be true (a terminal has one output)");
  if (!req.stdin() && !req.stdout() && !req.stderr())
    co_return fail(error_kind::invalid_argument, "Attach: one of stdin, stdout or stderr must be set");
  auto c = running_container(ctx, req.container_id());
  if (!c) co_return tl::unexpected(c.error());
  if (req.stdin() && !c->config().stdin())
    co_return fail(error_kind::invalid_argument,
                   fmt::format("Attach: container \"{}\" was created without stdin, so there is none to attach to",
                               c->id()));

  streaming::attach_request stored;
  stored.container_id = c->id();
  stored.tty = c->config().tty();
  stored.stdin = req.stdin();
  stored.stdout = req.stdout();
  stored.stderr = req.stderr() && !stored.tty;
  auto url = ctx.streaming->url_for(std::move(stored));
  if (!url) co_return tl::unexpected(url.error());
  resp.set_url(*url);
  co_return result<void>{};
}

}  // namespace ringcri::cri::rpc
