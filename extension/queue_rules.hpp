// Queue rules that need no server: argument checks and the retry backoff. Unit-tested by
// test/unit without PostgreSQL.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cq::queue {

// Longest queue name, in bytes: the notification channel "cachequeue_<name>" must fit in an
// identifier (63 bytes).
constexpr size_t max_name_bytes = 52;
// Most jobs one claim may take.
constexpr int32_t max_batch_size = 1000;
// Longest queue timeout (lease), in microseconds: one day.
constexpr int64_t max_timeout_us = int64_t(24) * 3600 * 1000000;
// The longest retry_in a worker may ask for, in microseconds: ten years.
constexpr int64_t max_retry_in_us = int64_t(3650) * 24 * 3600 * 1000000;
// The longest delay before a retry, in seconds: one hour.
constexpr double max_backoff_seconds = 3600;

void check_name(const char* name, size_t len);
void check_task(const char* task, size_t len);
void check_max_retries(int32_t max_retries);
void check_timeout(int64_t microseconds);
void check_batch_size(int32_t batch_size);
void check_retry_in(int64_t microseconds);

// Seconds to wait before attempt number attempt + 1, after attempt (from 1) failed:
// 2^attempt seconds capped at an hour, times a jitter factor between 0.75 and 1.25 taken
// from unit, a number in [0, 1).
double backoff_seconds(int32_t attempt, double unit);

} // namespace cq::queue
