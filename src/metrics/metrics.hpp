#pragma once
// The daemon's metrics, as a scrape reads them: families of series, each a
// number or a histogram, gathered from every collector of a registry at
// the moment of the scrape. Instruments (instruments.hpp) are collectors
// that keep their own counts; a collector can also read its values at the
// scrape (node_gauges.cpp reads the pods and the keeper then).

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ringcri::metrics {

enum class metric_type { counter, gauge, histogram };

using label_set = std::vector<std::pair<std::string, std::string>>;

// Counts per bucket (not cumulative), the last one above every bound.
struct histogram_reading {
  std::span<const double> bounds;
  std::vector<std::uint64_t> counts;
  double sum = 0;
};

struct series {
  label_set labels;
  double value = 0;                             // counter or gauge
  std::optional<histogram_reading> histogram;   // histogram
};

// A counter's name is given without its `_total` suffix: the exposition
// adds it where the format wants it.
struct family {
  std::string name;
  std::string help;
  std::string unit;  // "seconds", "bytes" or empty; the name ends with it
  metric_type type = metric_type::gauge;
  std::vector<metrics::series> series;
};

using collector = std::function<void(std::vector<family>&)>;

class registry {
 public:
  void add(collector c);
  // Every collector's families, in the order the collectors were added.
  std::vector<family> collect() const;

 private:
  mutable std::mutex mutex_;
  std::vector<collector> collectors_;
};

// The daemon's registry: what /metrics serves.
registry& default_registry();

}  // namespace ringcri::metrics
