// Cache rules that need no server: argument checks, expiry arithmetic, incr's integer values
// and how many entries a cull removes. Unit-tested by test/unit without PostgreSQL.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cq::cache {

// Longest cache name and key, in bytes. Keys must fit a btree entry with room to spare.
constexpr size_t max_name_bytes = 63;
constexpr size_t max_key_bytes = 1024;
// Largest finite timeout accepted, in seconds (about 317 years).
constexpr double max_timeout_seconds = 1e10;

void check_name(const char* name, size_t len);
void check_key(const char* key, size_t len);
void check_limits(int64_t max_entries, int32_t cull_frequency);

// When an entry written now expires.
struct Expiry {
    enum Kind { at, never, not_kept } kind;
    int64_t at_us; // PostgreSQL timestamp (microseconds since 2000-01-01) when kind == at
};

// A timeout in seconds as given to set, add, touch: NULL never expires, zero or negative is
// not kept, +Infinity never expires, NaN and huge values are errors.
Expiry expiry_from_timeout(bool is_null, double seconds, int64_t now_us);

// Checks a cache's default timeout (the same rules; NULL means never expires).
void check_default_timeout(bool is_null, double seconds);

// Parses a value written by incr or by a client: an optional sign, then decimal digits.
int64_t parse_counter(const char* data, size_t len);

// value + delta, or an error when the sum leaves the bigint range.
int64_t add_counter(int64_t value, int64_t delta);

// How many live entries a cull removes from a cache holding total live entries: nothing while
// total fits, everything when cull_frequency is 0, else total / cull_frequency, and never less
// than what brings the cache back to max_entries.
int64_t cull_victims(int64_t total, int64_t max_entries, int32_t cull_frequency);

} // namespace cq::cache
