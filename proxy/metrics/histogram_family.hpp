#pragma once

// A Prometheus histogram family whose `observe` is lock-free. prometheus-cpp 1.0's Histogram
// takes a mutex on every Observe; this one keeps one atomic counter per bucket and an atomic sum,
// so request threads never wait on each other or on a scrape.
//
// Owner: `metrics`. All series (one per label value, or a single unlabelled one) are created at
// construction; `observe` may then be called from any thread. `Collect` reads the atomics without
// stopping writers, so a scrape may see a sum and a count that differ by the observations in
// flight, which Prometheus tolerates. Errors: none; an out-of-range series index is ignored.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace oi::metrics {

class histogram_family final : public prometheus::Collectable {
public:
    /// `bounds`: strictly increasing upper bounds; the `+Inf` bucket is implicit. With an empty
    /// `label_name` the family has one unlabelled series (index 0) and `label_values` is ignored.
    histogram_family(std::string name, std::string help, std::vector<double> bounds,
                     std::string label_name = {}, std::vector<std::string> label_values = {});

    void observe(std::size_t series, double value) noexcept;

    [[nodiscard]] std::size_t series_count() const noexcept { return series_.size(); }

    [[nodiscard]] std::vector<prometheus::MetricFamily> Collect() const override;

private:
    struct series {
        series(std::string label, std::size_t bucket_count)
            : label_value(std::move(label)), buckets(bucket_count)
        {}
        std::string label_value;
        std::vector<std::atomic<std::uint64_t>> buckets; // bounds_.size() + 1, not cumulative
        std::atomic<double> sum{0.0};
    };

    std::string name_;
    std::string help_;
    std::vector<double> bounds_;
    std::string label_name_;
    std::vector<std::unique_ptr<series>> series_;
};

/// Upper bounds in seconds for request and upstream latencies: 5 ms to 60 s.
[[nodiscard]] std::vector<double> latency_buckets();
/// Upper bounds in seconds for store round trips: 0.5 ms to 2.5 s.
[[nodiscard]] std::vector<double> store_buckets();

} // namespace oi::metrics
