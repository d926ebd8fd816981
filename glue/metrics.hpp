// The figures of one `cachequeue worker`, and their Prometheus text exposition (version
// 0.0.4), as served at /metrics (metrics_server.hpp). The names are agreed with the
// extension's cachequeue.metrics(); docs/worker.md lists them.
//
// The worker's threads update it (short critical sections, or atomics); the metrics server's
// thread renders it. Nothing here needs a database.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace cq::runner {

class WorkerMetrics
{
public:
    // The upper bounds of the job duration histogram, in seconds (+Inf follows).
    static const std::vector<double>& duration_buckets();

    // A job's outcome (succeeded, failed, timed_out, no_handler, released, lease_lost), and
    // the seconds its handler ran when it ran (observed in the duration histogram).
    void job_finished(const std::string& queue, const std::string& task, const char* outcome,
                      std::optional<double> seconds);
    // One claim call that returned this many jobs.
    void claimed(long long jobs);
    void reconnected() { reconnects_++; }
    // A handler starts or stops running a job.
    void job_started() { running_++; }
    void job_stopped() { running_--; }

    // Jobs counted with this outcome, over every queue and task.
    long long jobs(const std::string& outcome) const;

    // The exposition: HELP and TYPE lines, then the samples, ending with a newline.
    std::string render() const;

private:
    struct Histogram {
        std::vector<std::uint64_t> counts; // per bucket, not cumulative
        double sum = 0;
        std::uint64_t count = 0;
    };
    using Series = std::pair<std::string, std::string>; // queue, task

    mutable std::mutex mutex_;
    std::map<Series, Histogram> durations_;
    std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> jobs_;
    std::atomic<std::uint64_t> claims_{0}, claimed_jobs_{0}, reconnects_{0};
    std::atomic<int> running_{0};
};

// A label value as the text format writes it between double quotes (\\, \" and \n escaped).
std::string label_value(const std::string& value);

} // namespace cq::runner
