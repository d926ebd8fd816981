// The one error type of the runner's settings, and helpers that keep its messages on one line.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace cq::runner {

// A configuration mistake the user can fix: one line naming the file and line, the variable
// or the option, never a password.
class SettingsError : public std::runtime_error
{
public:
    explicit SettingsError(const std::string& message);
};

// text with control characters written as \n, \t or \xNN, so it prints on one line
std::string printable(std::string_view text);

// text in double quotes for a message: printable, and cut to max_bytes with "..."
std::string in_quotes(std::string_view text, size_t max_bytes = 60);

} // namespace cq::runner
