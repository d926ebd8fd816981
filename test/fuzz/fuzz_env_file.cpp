// libFuzzer target: .env text through the reader, then its variables through resolution and
// the description. Only SettingsError may escape the parsers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "env_file.hpp"
#include "common.hpp"
#include "settings.hpp"

using namespace cq::runner;
using cq::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string text(reinterpret_cast<const char*>(data), size);
    parse_env_bool(text);

    EnvFile file;
    try {
        file = parse_env_text(text, ".env");
    } catch (const SettingsError& e) {
        cq::fuzz::require_one_line(e.what());
        return 0;
    }

    // the file's variables as the environment of a resolution (no file is read: the folder
    // does not exist, and QUEUE_CONFIG_FILE could name a device that never ends)
    std::map<std::string, std::string> env;
    for (const EnvEntry& entry : file.entries) {
        require(!entry.key.empty() && entry.line > 0, "entry without key or line");
        require(entry.value.find('\0') == std::string::npos, "NUL in a value", entry.key);
        env[entry.key] = entry.value;
    }
    env.erase("QUEUE_CONFIG_FILE");
    ResolveOptions options;
    options.cwd = "/nonexistent/cachequeue-fuzz";
    try {
        Settings settings = resolve_settings(options, env);
        std::string text_form = describe(settings);
        describe_json(settings).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        conninfo_string(settings);
        // the description does not depend on the secrets
        Settings other = settings;
        for (ConnKeyword& keyword : other.connection)
            if (is_secret_keyword(keyword.keyword))
                keyword.value += "x";
        require(describe(other) == text_form, "describe shows a secret");
    } catch (const SettingsError& e) {
        cq::fuzz::require_one_line(e.what());
    }
    return 0;
}
