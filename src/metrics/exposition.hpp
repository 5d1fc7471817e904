#pragma once
// The text a scrape gets: OpenMetrics 1.0 when the scraper asks for it
// (Prometheus does, in its Accept header), else Prometheus' text format
// 0.0.4. The two differ in how counters are named in TYPE lines, in UNIT
// lines and in the closing "# EOF".

#include <span>
#include <string>
#include <string_view>

#include "metrics/metrics.hpp"

namespace ringcri::metrics {

enum class text_format { openmetrics, prometheus };

// Picks the format an Accept header asks for.
text_format format_for(std::string_view accept);
std::string_view content_type(text_format f);

std::string render(std::span<const family> families, text_format f);

}  // namespace ringcri::metrics
