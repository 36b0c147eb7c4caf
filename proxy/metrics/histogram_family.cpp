#include "metrics/histogram_family.hpp"

#include <algorithm>
#include <limits>

namespace oi::metrics {

histogram_family::histogram_family(std::string name, std::string help, std::vector<double> bounds,
                                   std::string label_name, std::vector<std::string> label_values)
    : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)),
      label_name_(std::move(label_name))
{
    if (label_name_.empty()) {
        label_values.assign(1, std::string());
    }
    for (std::string& value : label_values) {
        series_.push_back(std::make_unique<series>(std::move(value), bounds_.size() + 1));
    }
}

void histogram_family::observe(std::size_t index, double value) noexcept
{
    if (index >= series_.size()) {
        return;
    }
    series& s = *series_[index];

    // Prometheus buckets are "less than or equal to" their upper bound.
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    const auto bucket = static_cast<std::size_t>(it - bounds_.begin());

    s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    s.sum.fetch_add(value, std::memory_order_relaxed);
}

std::vector<prometheus::MetricFamily> histogram_family::Collect() const
{
    prometheus::MetricFamily family;
    family.name = name_;
    family.help = help_;
    family.type = prometheus::MetricType::Histogram;

    for (const auto& s : series_) {
        prometheus::ClientMetric metric;
        if (!label_name_.empty()) {
            metric.label.push_back({label_name_, s->label_value});
        }

        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= bounds_.size(); ++i) {
            cumulative += s->buckets[i].load(std::memory_order_relaxed);
            const double bound =
                i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity();
            metric.histogram.bucket.push_back({cumulative, bound});
        }
        metric.histogram.sample_count = cumulative;
        metric.histogram.sample_sum = s->sum.load(std::memory_order_relaxed);

        family.metric.push_back(std::move(metric));
    }

    std::vector<prometheus::MetricFamily> out;
    out.push_back(std::move(family));
    return out;
}

std::vector<double> latency_buckets()
{
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> store_buckets()
{
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

} // namespace oi::metrics
