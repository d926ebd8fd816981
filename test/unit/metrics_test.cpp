// Unit tests of the worker's metrics: counting, histogram buckets, the text exposition.
#include <catch2/catch.hpp>

#include <string>

#include "metrics.hpp"

using cq::runner::label_value;
using cq::runner::WorkerMetrics;

namespace {

bool has_line(const std::string& text, const std::string& line)
{
    return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

} // namespace

TEST_CASE("label values escape backslash, quote and newline", "[metrics]")
{
    CHECK(label_value("email") == "email");
    CHECK(label_value("a\"b") == "a\\\"b");
    CHECK(label_value("a\\b") == "a\\\\b");
    CHECK(label_value("a\nb") == "a\\nb");
    CHECK(label_value("caché") == "caché");
}

TEST_CASE("an empty worker exposes its families and zero counters", "[metrics]")
{
    WorkerMetrics metrics;
    std::string text = metrics.render();
    CHECK(has_line(text, "# TYPE cachequeue_worker_job_duration_seconds histogram"));
    CHECK(has_line(text, "# TYPE cachequeue_worker_jobs_total counter"));
    CHECK(has_line(text, "cachequeue_worker_claims_total 0"));
    CHECK(has_line(text, "cachequeue_worker_claimed_jobs_total 0"));
    CHECK(has_line(text, "cachequeue_worker_reconnects_total 0"));
    CHECK(has_line(text, "cachequeue_worker_running_jobs 0"));
    CHECK(text.find("cachequeue_worker_jobs_total{") == std::string::npos);
}

TEST_CASE("jobs are counted by queue, task and outcome", "[metrics]")
{
    WorkerMetrics metrics;
    metrics.job_finished("email", "send_email", "succeeded", 0.02);
    metrics.job_finished("email", "send_email", "succeeded", 0.03);
    metrics.job_finished("email", "send_email", "failed", 0.5);
    metrics.job_finished("report", "nope", "no_handler", std::nullopt);
    metrics.claimed(3);
    metrics.claimed(0);
    metrics.reconnected();
    metrics.job_started();
    std::string text = metrics.render();
    CHECK(has_line(text, "cachequeue_worker_jobs_total{queue=\"email\",task=\"send_email\","
                         "outcome=\"succeeded\"} 2"));
    CHECK(has_line(text, "cachequeue_worker_jobs_total{queue=\"email\",task=\"send_email\","
                         "outcome=\"failed\"} 1"));
    CHECK(has_line(text, "cachequeue_worker_jobs_total{queue=\"report\",task=\"nope\","
                         "outcome=\"no_handler\"} 1"));
    CHECK(has_line(text, "cachequeue_worker_claims_total 2"));
    CHECK(has_line(text, "cachequeue_worker_claimed_jobs_total 3"));
    CHECK(has_line(text, "cachequeue_worker_reconnects_total 1"));
    CHECK(has_line(text, "cachequeue_worker_running_jobs 1"));
    CHECK(metrics.jobs("succeeded") == 2);
    CHECK(metrics.jobs("released") == 0);
    // A job that never ran is counted, but not observed in the histogram.
    CHECK(text.find("task=\"nope\",le=") == std::string::npos);
}

TEST_CASE("the duration histogram is cumulative, a value on a bound counts in it", "[metrics]")
{
    WorkerMetrics metrics;
    metrics.job_finished("q", "t", "succeeded", 0.01); // exactly on le="0.01"
    metrics.job_finished("q", "t", "succeeded", 0.2);
    metrics.job_finished("q", "t", "timed_out", 700); // beyond the last bound
    std::string text = metrics.render();
    const std::string bucket =
        "cachequeue_worker_job_duration_seconds_bucket{queue=\"q\",task=\"t\",";
    CHECK(has_line(text, bucket + "le=\"0.005\"} 0"));
    CHECK(has_line(text, bucket + "le=\"0.01\"} 1"));
    CHECK(has_line(text, bucket + "le=\"0.25\"} 2"));
    CHECK(has_line(text, bucket + "le=\"600\"} 2"));
    CHECK(has_line(text, bucket + "le=\"+Inf\"} 3"));
    CHECK(
        has_line(text, "cachequeue_worker_job_duration_seconds_count{queue=\"q\",task=\"t\"} 3"));
    CHECK(has_line(text,
                   "cachequeue_worker_job_duration_seconds_sum{queue=\"q\",task=\"t\"} 700.21"));
}
