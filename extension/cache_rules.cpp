// Cache rules that need no server (cq-no-postgres: also linked into the unit tests).
#include "cache_rules.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "errors.hpp"

namespace cq::cache {

void check_name(const char* name, size_t len)
{
    if (len == 0)
        throw Error(sqlstate::invalid_parameter_value, "cache name must not be empty");
    if (len > max_name_bytes)
        throw Error(sqlstate::string_data_right_truncation, "cache name is too long",
                    "A cache name has at most " + std::to_string(max_name_bytes) +
                        " bytes; this one has " + std::to_string(len) + ".");
    (void)name;
}

void check_key(const char* key, size_t len)
{
    if (len == 0)
        throw Error(sqlstate::invalid_parameter_value, "cache key must not be empty");
    if (len > max_key_bytes)
        throw Error(sqlstate::string_data_right_truncation, "cache key is too long",
                    "A cache key has at most " + std::to_string(max_key_bytes) +
                        " bytes; this one has " + std::to_string(len) + ".",
                    "Hash long keys on the client, as Django's KEY_FUNCTION can.");
    (void)key;
}

void check_limits(int64_t max_entries, int32_t cull_frequency)
{
    if (max_entries < 1)
        throw Error(sqlstate::invalid_parameter_value, "max_entries must be at least 1",
                    "max_entries was " + std::to_string(max_entries) + ".");
    if (cull_frequency < 0)
        throw Error(sqlstate::invalid_parameter_value, "cull_frequency must not be negative",
                    "cull_frequency was " + std::to_string(cull_frequency) + ".",
                    "Use 0 to empty the cache when it is full, or N to remove 1/N of it.");
}

namespace {

void check_timeout_value(double seconds)
{
    if (std::isnan(seconds))
        throw Error(sqlstate::invalid_parameter_value, "timeout must not be NaN", {},
                    "Use NULL for an entry that never expires.");
    if (std::isfinite(seconds) && seconds > max_timeout_seconds)
        throw Error(sqlstate::invalid_parameter_value, "timeout is too large",
                    "The largest timeout is 1e10 seconds.",
                    "Use NULL for an entry that never expires.");
}

} // namespace

Expiry expiry_from_timeout(bool is_null, double seconds, int64_t now_us)
{
    if (is_null)
        return {Expiry::never, 0};
    check_timeout_value(seconds);
    if (std::isinf(seconds))
        return {seconds > 0 ? Expiry::never : Expiry::not_kept, 0};
    if (seconds <= 0)
        return {Expiry::not_kept, 0};
    auto micros = static_cast<int64_t>(std::llround(seconds * 1e6));
    return {Expiry::at, now_us + std::max<int64_t>(micros, 1)};
}

void check_default_timeout(bool is_null, double seconds)
{
    if (!is_null)
        check_timeout_value(seconds);
}

int64_t parse_counter(const char* data, size_t len)
{
    auto not_integer = [&]() {
        return Error(sqlstate::invalid_text_representation, "cache value is not an integer",
                     "incr and decr work on values holding a decimal integer such as \"42\".");
    };
    size_t i = 0;
    bool negative = false;
    if (i < len && (data[i] == '-' || data[i] == '+')) {
        negative = data[i] == '-';
        i++;
    }
    if (i == len)
        throw not_integer();
    // Accumulate as a negative number so that the bigint minimum parses too.
    int64_t value = 0;
    for (; i < len; i++) {
        char c = data[i];
        if (c < '0' || c > '9')
            throw not_integer();
        int digit = c - '0';
        if (value < (std::numeric_limits<int64_t>::min() + digit) / 10)
            throw Error(sqlstate::numeric_value_out_of_range,
                        "cache value is out of range for bigint");
        value = value * 10 - digit;
    }
    if (!negative) {
        if (value == std::numeric_limits<int64_t>::min())
            throw Error(sqlstate::numeric_value_out_of_range,
                        "cache value is out of range for bigint");
        value = -value;
    }
    return value;
}

int64_t add_counter(int64_t value, int64_t delta)
{
    int64_t sum;
    if (__builtin_add_overflow(value, delta, &sum))
        throw Error(
            sqlstate::numeric_value_out_of_range, "cache value would be out of range for bigint",
            std::to_string(value) + " + " + std::to_string(delta) + " does not fit in a bigint.");
    return sum;
}

int64_t cull_victims(int64_t total, int64_t max_entries, int32_t cull_frequency)
{
    if (total <= max_entries)
        return 0;
    if (cull_frequency == 0)
        return total;
    return std::max(total / cull_frequency, total - max_entries);
}

} // namespace cq::cache
