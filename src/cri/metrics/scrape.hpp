#pragma once
// What /metrics answers: the counters and histograms the daemon keeps
// (metrics/daemon_metrics.hpp) and the gauges read at the scrape: pods and
// containers by state, images, layers and their bytes, the keeper (up,
// processes held, its memory and fds), and this process.

#include <string>

#include "cri/context.hpp"
#include "metrics/exposition.hpp"
#include "reactor/task.hpp"

namespace ringcri::cri {

reactor::task<std::string> scrape(context& ctx, metrics::text_format format);

}  // namespace ringcri::cri
