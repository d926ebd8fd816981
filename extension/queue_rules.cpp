// Queue rules that need no server (cq-no-postgres: also linked into the unit tests).
#include "queue_rules.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "errors.hpp"

namespace cq::queue {

void check_name(const char* name, size_t len)
{
    if (len == 0)
        throw Error(sqlstate::invalid_parameter_value, "queue name must not be empty");
    if (len > max_name_bytes)
        throw Error(sqlstate::string_data_right_truncation, "queue name is too long",
                    "A queue name has at most " + std::to_string(max_name_bytes) +
                        " bytes; this one has " + std::to_string(len) + ".");
    (void)name;
}

void check_task(const char* task, size_t len)
{
    if (len == 0)
        throw Error(sqlstate::invalid_parameter_value, "task name must not be empty");
    if (len > 200)
        throw Error(sqlstate::string_data_right_truncation, "task name is too long",
                    "A task name has at most 200 bytes.");
    (void)task;
}

void check_max_retries(int32_t max_retries)
{
    if (max_retries < 0 || max_retries > 1000)
        throw Error(sqlstate::invalid_parameter_value, "max_retries must be between 0 and 1000",
                    "max_retries was " + std::to_string(max_retries) + ".");
}

void check_timeout(int64_t microseconds)
{
    if (microseconds <= 0)
        throw Error(sqlstate::invalid_parameter_value, "queue timeout must be positive", {},
                    "The timeout is the lease a claim gives a worker, such as '30 s'.");
    if (microseconds > max_timeout_us)
        throw Error(sqlstate::invalid_parameter_value, "queue timeout is too long",
                    "The longest timeout is one day; long jobs keep their lease with "
                    "job_heartbeat.");
}

void check_batch_size(int32_t batch_size)
{
    if (batch_size < 1 || batch_size > max_batch_size)
        throw Error(sqlstate::invalid_parameter_value,
                    "batch_size must be between 1 and " + std::to_string(max_batch_size),
                    "batch_size was " + std::to_string(batch_size) + ".");
}

void check_retry_in(int64_t microseconds)
{
    if (microseconds < 0)
        throw Error(sqlstate::invalid_parameter_value, "retry_in must not be negative");
    if (microseconds > max_retry_in_us)
        throw Error(sqlstate::invalid_parameter_value, "retry_in is too long",
                    "The longest retry_in is ten years.",
                    "Cancel the job with job_cancel instead.");
}

double backoff_seconds(int32_t attempt, double unit)
{
    double base = std::ldexp(1.0, std::clamp(attempt, 0, 30));
    base = std::min(base, max_backoff_seconds);
    return base * (0.75 + 0.5 * std::clamp(unit, 0.0, 1.0));
}

} // namespace cq::queue
