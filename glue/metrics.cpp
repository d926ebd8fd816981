// The worker's figures and their text exposition (see metrics.hpp).
#include "metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cq::runner {

const std::vector<double>& WorkerMetrics::duration_buckets()
{
    // From a no-op handler to the longest queue timeout of the Django application (600 s).
    static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                2.5,   5,    10,    30,   60,  120,  300, 600};
    return buckets;
}

void WorkerMetrics::job_finished(const std::string& queue, const std::string& task,
                                 const char* outcome, std::optional<double> seconds)
{
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_[{queue, task, outcome}]++;
    if (!seconds)
        return;
    Histogram& histogram = durations_[{queue, task}];
    const auto& bounds = duration_buckets();
    if (histogram.counts.empty())
        histogram.counts.assign(bounds.size(), 0);
    auto bucket = std::lower_bound(bounds.begin(), bounds.end(), *seconds);
    if (bucket != bounds.end())
        histogram.counts[static_cast<size_t>(bucket - bounds.begin())]++;
    histogram.sum += *seconds;
    histogram.count++;
}

void WorkerMetrics::claimed(long long jobs)
{
    claims_++;
    claimed_jobs_ += static_cast<std::uint64_t>(std::max(0LL, jobs));
}

long long WorkerMetrics::jobs(const std::string& outcome) const
{
    std::lock_guard<std::mutex> lock(mutex_);
    long long total = 0;
    for (const auto& [key, count] : jobs_) {
        if (std::get<2>(key) == outcome)
            total += static_cast<long long>(count);
    }
    return total;
}

std::string label_value(const std::string& value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {

void family(std::string& out, const char* name, const char* type, const char* help)
{
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string queue_task(const std::string& queue, const std::string& task)
{
    return fmt::format("queue=\"{}\",task=\"{}\"", label_value(queue), label_value(task));
}

} // namespace

std::string WorkerMetrics::render() const
{
    // Copy under the lock, format outside it: a scrape holds up no job for long.
    std::map<Series, Histogram> durations;
    std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> jobs;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        durations = durations_;
        jobs = jobs_;
    }

    std::string out;
    family(out, "cachequeue_worker_job_duration_seconds", "histogram",
           "Time a handler took to run a job.");
    const auto& bounds = duration_buckets();
    for (const auto& [series, histogram] : durations) {
        std::string labels = queue_task(series.first, series.second);
        std::uint64_t cumulative = 0;
        for (size_t i = 0; i < bounds.size(); i++) {
            cumulative += histogram.counts[i];
            out +=
                fmt::format("cachequeue_worker_job_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                            labels, bounds[i], cumulative);
        }
        out += fmt::format("cachequeue_worker_job_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                           labels, histogram.count);
        out += fmt::format("cachequeue_worker_job_duration_seconds_sum{{{}}} {}\n", labels,
                           histogram.sum);
        out += fmt::format("cachequeue_worker_job_duration_seconds_count{{{}}} {}\n", labels,
                           histogram.count);
    }

    family(out, "cachequeue_worker_jobs_total", "counter", "Jobs finished, by outcome.");
    for (const auto& [key, count] : jobs) {
        out += fmt::format("cachequeue_worker_jobs_total{{{},outcome=\"{}\"}} {}\n",
                           queue_task(std::get<0>(key), std::get<1>(key)),
                           label_value(std::get<2>(key)), count);
    }

    family(out, "cachequeue_worker_claims_total", "counter", "Claim calls made.");
    out += fmt::format("cachequeue_worker_claims_total {}\n", claims_.load());
    family(out, "cachequeue_worker_claimed_jobs_total", "counter", "Jobs claimed.");
    out += fmt::format("cachequeue_worker_claimed_jobs_total {}\n", claimed_jobs_.load());
    family(out, "cachequeue_worker_reconnects_total", "counter",
           "Reconnections to the database after a lost connection.");
    out += fmt::format("cachequeue_worker_reconnects_total {}\n", reconnects_.load());
    family(out, "cachequeue_worker_running_jobs", "gauge", "Jobs whose handlers are running.");
    out += fmt::format("cachequeue_worker_running_jobs {}\n", running_.load());
    return out;
}

} // namespace cq::runner
