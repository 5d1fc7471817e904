#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>

namespace ringcri::metrics {

namespace {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

// A bucket bound as OpenMetrics writes it canonically: "1.0", "0.005".
std::string bound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}.0", static_cast<long long>(v));
  return fmt::format("{}", v);
}

void append_labels(std::string& out, const label_set& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    fmt::format_to(std::back_inserter(out), "{}=\"{}\"", k, escape_label_value(v));
  }
  if (!le.empty()) {
    if (!first) out += ',';
    fmt::format_to(std::back_inserter(out), "le=\"{}\"", le);
  }
  out += '}';
}

std::string_view type_name(metric_type t) {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "unknown";
}

}  // namespace

text_format format_for(std::string_view accept) {
  return accept.find("application/openmetrics-text") != std::string_view::npos ? text_format::openmetrics
                                                                               : text_format::prometheus;
}

std::string_view content_type(text_format f) {
  return f == text_format::openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                       : "text/plain; version=0.0.4; charset=utf-8";
}

std::string render(std::span<const family> families, text_format f) {
  std::string out;
  out.reserve(families.size() * 512);
  for (const auto& fam : families) {
    // Prometheus' format names a counter's family by its sample name.
    std::string declared = fam.name;
    if (fam.type == metric_type::counter && f == text_format::prometheus) declared += "_total";
    fmt::format_to(std::back_inserter(out), "# TYPE {} {}\n", declared, type_name(fam.type));
    if (f == text_format::openmetrics && !fam.unit.empty())
      fmt::format_to(std::back_inserter(out), "# UNIT {} {}\n", declared, fam.unit);
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n", declared, escape_help(fam.help));
    for (const auto& s : fam.series) {
      if (fam.type == metric_type::histogram && s.histogram) {
        const auto& h = *s.histogram;
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < h.counts.size(); ++i) {
          cumulative += h.counts[i];
          out += fam.name;
          out += "_bucket";
          append_labels(out, s.labels, i < h.bounds.size() ? bound(h.bounds[i]) : "+Inf");
          fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
        }
        out += fam.name;
        out += "_sum";
        append_labels(out, s.labels);
        fmt::format_to(std::back_inserter(out), " {}\n", number(h.sum));
        out += fam.name;
        out += "_count";
        append_labels(out, s.labels);
        fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
        continue;
      }
      out += fam.name;
      if (fam.type == metric_type::counter) out += "_total";
      append_labels(out, s.labels);
      fmt::format_to(std::back_inserter(out), " {}\n", number(s.value));
    }
  }
  if (f == text_format::openmetrics) out += "# EOF\n";
  return out;
}

}  // namespace ringcri::metrics
