// SettingsError and the helpers that keep messages printable.
#include "settings_error.hpp"

#include <cstdio>

namespace cq::runner {

SettingsError::SettingsError(const std::string& message) : std::runtime_error(printable(message))
{}

std::string printable(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (byte < 0x20 || byte == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", byte);
            out += hex;
        } else {
            out += c;
        }
    }
    return out;
}

std::string in_quotes(std::string_view text, size_t max_bytes)
{
    bool cut = text.size() > max_bytes;
    if (cut) {
        size_t end = max_bytes;
        // do not split a UTF-8 sequence: back off over continuation bytes
        while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80)
            --end;
        text = text.substr(0, end);
    }
    return "\"" + printable(text) + (cut ? "...\"" : "\"");
}

} // namespace cq::runner
