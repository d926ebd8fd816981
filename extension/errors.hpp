// Errors raised by cachequeue's C++ code, with the SQLSTATE each one reaches the user as.
//
// This header includes nothing from PostgreSQL, so code that only validates or computes can
// throw these and be unit-tested without a server. The error boundary (boundary.hpp) turns
// them into PostgreSQL errors.
#pragma once

#include <stdexcept>
#include <string>

namespace cq {

// SQLSTATEs as five-character codes; the boundary converts them with MAKE_SQLSTATE.
namespace sqlstate {
constexpr const char* null_value_not_allowed = "22004";
constexpr const char* invalid_parameter_value = "22023";
constexpr const char* string_data_right_truncation = "22001";
constexpr const char* numeric_value_out_of_range = "22003";
constexpr const char* invalid_text_representation = "22P02";
constexpr const char* array_subscript_error = "2202E";
constexpr const char* undefined_object = "42704";
constexpr const char* no_data_found = "P0002";
constexpr const char* program_limit_exceeded = "54000";
constexpr const char* internal_error = "XX000";
// cachequeue's own: the lease token given is not the job's current lease.
constexpr const char* lease_lost = "QL001";
} // namespace sqlstate

// A user-facing error: primary message, optional detail and hint, and its SQLSTATE.
class Error : public std::runtime_error
{
public:
    Error(const char* code, std::string message, std::string detail = {}, std::string hint = {})
        : std::runtime_error(message), code_(code), detail_(std::move(detail)),
          hint_(std::move(hint))
    {}

    const char* code() const { return code_; }
    const std::string& detail() const { return detail_; }
    const std::string& hint() const { return hint_; }

private:
    const char* code_;
    std::string detail_;
    std::string hint_;
};

// The error for an argument that must not be NULL ("<what> must not be NULL").
[[noreturn]] inline void null_argument(const char* what)
{
    throw Error(sqlstate::null_value_not_allowed, std::string(what) + " must not be NULL");
}

} // namespace cq
