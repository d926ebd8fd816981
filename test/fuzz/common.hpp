// What the settings fuzz targets share: a check that aborts (a finding) when it fails.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace cq::fuzz {

inline void require(bool ok, const char* what, const std::string& detail = {})
{
    if (!ok) {
        std::fprintf(stderr, "fuzz check failed: %s: %s\n", what, detail.c_str());
        std::abort();
    }
}

// a SettingsError message must print on one line
inline void require_one_line(const std::string& message)
{
    for (char c : message)
        require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control character in message",
                message);
}

} // namespace cq::fuzz
