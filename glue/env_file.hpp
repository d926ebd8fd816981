// Reads .env files the way django-environ's Env.read_env does, so that the runner sees the
// variables the Django application sees. docs/settings.md lists the rules.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "settings_error.hpp"

namespace cq::runner {

// One KEY=value line of a .env file.
struct EnvEntry {
    std::string key;
    std::string value;
    int line = 0;
};

struct EnvFile {
    // the path as given, used in messages and provenance
    std::string path;
    // in file order; when a key appears twice the later line wins, as in django-environ
    std::vector<EnvEntry> entries;
    // "FILE:LINE: ..." notes on lines read as django-environ reads them but likely not meant
    std::vector<std::string> warnings;
};

// Largest .env or QUEUE_CONFIG file read; a bigger one is surely the wrong file.
constexpr size_t max_settings_file_bytes = 1 << 20;

// Parses the text of a .env file; name stands for the file in messages. Throws
// SettingsError "NAME:LINE: ..." on a line django-environ would ignore or misread.
EnvFile parse_env_text(std::string_view text, const std::string& name);

// Reads and parses the .env file at path.
EnvFile read_env_file(const std::string& path);

// The whole content of a small file; SettingsError naming the path if it cannot be read,
// is a directory or is larger than max_settings_file_bytes.
std::string read_settings_file(const std::string& path);

// Whether something exists at path (a missing default .env is not an error).
bool path_exists(const std::string& path);

// A variable read as a bool by django-environ: a Python int is true unless zero, otherwise
// true, on, ok, y, yes or 1 in any case, ignoring surrounding whitespace; anything else false.
bool parse_env_bool(std::string_view value);

} // namespace cq::runner
